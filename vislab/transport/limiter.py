"""A token bucket shared by the threads of one client: the QPS limit."""

from __future__ import annotations

import threading
import time

__all__ = ["RateLimiter"]


class RateLimiter:
    """Token bucket shared by all threads: at most ``qps`` calls per second on average.

    The bucket holds ``burst`` tokens (default 1, i.e. evenly spaced calls — services count
    QPS per second window, and bursts are what trip Baidu's code 18).

    Examples
    --------
    >>> limiter = RateLimiter(qps=1000)
    >>> t0 = time.perf_counter()
    >>> for _ in range(10):
    ...     limiter.acquire()
    >>> time.perf_counter() - t0 < 1.0
    True
    """

    def __init__(self, qps: float | None, *, burst: int = 1):
        self.qps = qps
        self.burst = max(1, burst)
        self._tokens = float(self.burst)
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RateLimiter(qps={self.qps})"

    def acquire(self) -> None:
        if not self.qps:
            return
        while True:
            with self._lock:
                now = time.monotonic()
                self._tokens = min(self.burst, self._tokens + (now - self._last) * self.qps)
                self._last = now
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return
                wait = (1.0 - self._tokens) / self.qps
            time.sleep(wait)
