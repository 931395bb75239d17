"""An immutable retry policy, in the spirit of urllib3's ``Retry``: which failures, how often."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from vislab.errors import ServiceError, TransportError

__all__ = ["RetryPolicy"]


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait before sending a failed request again.

    Parameters
    ----------
    retries : int
        Extra attempts after the first.
    backoff : float
        Base delay in seconds: attempt *n* waits ``uniform(0, min(max_backoff, backoff * 2**n))``
        ("full jitter", so many clients that failed together do not retry together).
    max_backoff : float
    statuses : frozenset of int
        HTTP statuses worth retrying (the family's: Baidu retries every 5xx, PAI's client
        exactly 500).
    on_timeout : bool
        Retry timeouts and resets.  Never for a non-idempotent call whose request may have
        arrived (an add that timed out may have been stored).

    Codes a family's error table marks ``retry`` (Baidu's 1, 2, 4, 18, 282000, 336000, say)
    are retried whatever the HTTP status.

    Examples
    --------
    >>> from vislab.errors import TransportError
    >>> policy = RetryPolicy(retries=2, statuses=frozenset({500}))
    >>> timeout = TransportError("timeout", "no answer")
    >>> policy.should_retry(timeout, 0), policy.should_retry(timeout, 2)
    (True, False)
    >>> policy.should_retry(timeout, 0, idempotent=False)
    False
    >>> policy.with_(retries=0).retries
    0
    """

    retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0
    statuses: frozenset[int] = frozenset(range(500, 600))
    on_timeout: bool = True

    def with_(self, **changes) -> RetryPolicy:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def should_retry(self, error: ServiceError, attempt: int, *, idempotent: bool = True) -> bool:
        """Whether to send again after ``error`` on attempt ``attempt`` (0-based)."""
        if attempt >= self.retries:
            return False
        if isinstance(error, TransportError):
            if not self.on_timeout:
                return False
            return idempotent or not error.sent
        if not idempotent:
            # The service answered: a transient refusal (QPS, busy) did not store anything.
            return error.retryable
        if error.retryable:
            return True
        return isinstance(error.http_status, int) and error.http_status in self.statuses

    def delay(self, attempt: int) -> float:
        """Seconds to wait before attempt ``attempt + 1``."""
        return random.uniform(0, min(self.max_backoff, self.backoff * 2**attempt))
