"""How a wire request travels, family-neutral: transports, auth, reply envelopes, retry policy.

* :class:`Transport` — anything with ``send(request) -> reply``: :class:`HttpTransport`
  (requests, one attempt, bounded in time and size), :class:`LocalTransport` (an in-process
  handler such as the emulator's), :class:`FunctionTransport` (a function, for tests);
* auth pieces — :class:`NoAuth`, :class:`BaiduTokenAuth` (OAuth token, refreshed on 110/111),
  :class:`BceAuth` (Baidu's per-request ``bce-auth-v1`` signature),
  :class:`EasTokenAuth` and :class:`EasHmacAuth` (PAI EAS);
* envelopes — :class:`BaiduEnvelope` (``error_code``), :class:`PaiEnvelope` (HTTP status and
  ``request_id``/``success``), :class:`GenericEnvelope` (``code == 10000``);
* :class:`RetryPolicy` (immutable, per family) and :class:`RateLimiter` (QPS).

The retry loop that puts them together is :class:`vislab.services.session.Session`.  This
package knows no emulator and no pandas.

Examples
--------
>>> from vislab.transport import FunctionTransport, WireRequest, json_reply
>>> t = FunctionTransport(lambda request: json_reply({"log_id": 1}))
>>> t.send(WireRequest("POST", "/x")).status
200
"""

from vislab.transport.auth import (
    TOKEN_PATH,
    Auth,
    BaiduTokenAuth,
    BceAuth,
    EasHmacAuth,
    EasTokenAuth,
    NoAuth,
    eas_signature,
)
from vislab.transport.envelopes import (
    BaiduEnvelope,
    Envelope,
    GenericEnvelope,
    PaiEnvelope,
    envelope_for,
)
from vislab.transport.http import HttpTransport, check_base_url
from vislab.transport.limiter import RateLimiter
from vislab.transport.local import FunctionTransport, LocalTransport, json_reply
from vislab.transport.retry import RetryPolicy
from vislab.transport.wire import Transport, WireReply, WireRequest, encode_body

__all__ = [
    "Transport",
    "WireRequest",
    "WireReply",
    "encode_body",
    "HttpTransport",
    "check_base_url",
    "LocalTransport",
    "FunctionTransport",
    "json_reply",
    "Auth",
    "NoAuth",
    "BaiduTokenAuth",
    "BceAuth",
    "EasTokenAuth",
    "EasHmacAuth",
    "eas_signature",
    "TOKEN_PATH",
    "Envelope",
    "BaiduEnvelope",
    "PaiEnvelope",
    "GenericEnvelope",
    "envelope_for",
    "RetryPolicy",
    "RateLimiter",
]
