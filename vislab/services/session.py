"""The one retry loop: auth, QPS limit, retries and reply decoding around a transport.

Every client sends through a :class:`Session`, whatever its family: the family's pieces
(auth kind, reply envelope, retry policy) come from its catalogue declaration, so adding a
family adds no retry loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

from vislab.errors import ServiceError
from vislab.transport import (
    BaiduEnvelope,
    Envelope,
    NoAuth,
    RateLimiter,
    RetryPolicy,
    Transport,
    WireRequest,
    encode_body,
)

__all__ = ["Session"]

log = logging.getLogger("vislab.services")


class Session:
    """Send wire requests with auth, a shared QPS limit and retries; decode the replies.

    Parameters
    ----------
    transport : Transport
        Where requests go (HTTP, the local emulator, a function).
    auth : Auth, optional
        Adds credentials to each attempt; its token fetch runs *inside* the retry loop, so a
        transient failure of the token endpoint is retried like any other.
    envelope : Envelope, optional
        The family's reply rules (default Baidu's).
    retry : RetryPolicy, optional
    qps : float, optional
        Requests per second shared by every thread using this session.

    Attributes
    ----------
    replies : int
        How many replies (of any status) the session has received: zero means nothing ever
        reached the service.

    Examples
    --------
    >>> from vislab.transport import FunctionTransport, json_reply
    >>> answers = iter([json_reply({"error_code": 18, "error_msg": "qps"}),
    ...                 json_reply({"log_id": 1, "result": []})])
    >>> from vislab.catalogue.baidu_codes import BAIDU_CODES
    >>> session = Session(FunctionTransport(lambda request: next(answers)),
    ...                   envelope=BaiduEnvelope(BAIDU_CODES),
    ...                   retry=RetryPolicy(backoff=0.01))
    >>> session.send("/rest/x", {"image": "aGk="})
    {'log_id': 1, 'result': []}
    """

    def __init__(
        self,
        transport: Transport,
        *,
        auth=None,
        envelope: Envelope | None = None,
        retry: RetryPolicy | None = None,
        qps: float | None = None,
    ):
        self.transport = transport
        self.auth = auth if auth is not None else NoAuth()
        self.envelope = envelope if envelope is not None else BaiduEnvelope()
        self.retry = retry if retry is not None else RetryPolicy()
        self.limiter = RateLimiter(qps)
        self.replies = 0
        self._count_lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"Session({self.transport!r}, auth={self.auth!r}, qps={self.limiter.qps}, "
            f"retries={self.retry.retries})"
        )

    def send(
        self, path: str, fields: Mapping[str, Any], *, body: str = "form", idempotent: bool = True
    ) -> dict:
        """POST ``fields`` to ``path`` (encoded as ``body``); return the reply JSON.

        Raises the typed :class:`~vislab.errors.ServiceError` of the last attempt.
        """
        payload, content_type = encode_body(fields, body)
        request = WireRequest("POST", path, payload, {"Content-Type": content_type})
        return self.request(request, idempotent=idempotent)

    def request(self, request: WireRequest, *, idempotent: bool = True) -> dict:
        """Send a ready :class:`~vislab.transport.WireRequest` with auth and retries."""
        attempt = 0
        refreshed = False
        while True:
            ready = request
            try:
                ready = self.auth.apply(request, self.transport)
                self.limiter.acquire()
                reply = self.transport.send(ready)
                with self._count_lock:
                    self.replies += 1
                return self.envelope.decode(reply)
            except ServiceError as exc:
                if not refreshed and self.auth.refresh_on(exc, ready):
                    refreshed = True
                    continue
                if not self.retry.should_retry(exc, attempt, idempotent=idempotent):
                    raise
                delay = self.retry.delay(attempt)
                log.info(
                    "retrying %s after %s (attempt %d, %.2fs)",
                    request.path,
                    exc.code,
                    attempt + 1,
                    delay,
                )
                attempt += 1
                time.sleep(delay)
