"""One QPS limit for every worker of a Dask cluster: a token bucket kept on the scheduler.

A service's QPS limit is per account, so workers of one job (and jobs of one account) must
share one bucket.  The bucket lives in the **scheduler** process — not in an actor on a worker
— so a killed worker takes no limiter with it.  It is a lease scheme on ``distributed``'s
``Client.run_on_scheduler``: each :meth:`ClusterRateLimiter.acquire` asks the scheduler for the
next free send slot (:func:`lease_window`).  A slot at most ``lead`` seconds ahead is leased to
the caller, who sleeps until it and sends; a later one is not leased, the caller is told to ask
again — so a worker that dies or stalls holds at most ``lead`` seconds of slots, and the round
trip's latency is hidden behind the sleep.

**What the cloud counts is arrival, not sending.**  Spacing the sends ``1/qps`` apart (a bucket
of one token, as :class:`vislab.transport.RateLimiter` in one process) bounds the *sends* in any
1-second window, but a request reaches the service at some moment between its send and its
reply: a stalled network or server holds requests sent over a long time and lets them arrive
together.  (Measured: with send spacing alone, ``vislab serve`` on 2 loaded cores logged up to
36 requests in one second at ``qps=20``.)  So every lease is a **ticket** whose interval runs
from its slot until its reply (the worker reports the reply time with its next lease, or when
its partition ends; a ticket not yet reported counts as still in flight), and a slot ``s`` is
leased only if at most ``floor(qps)`` other intervals meet ``[s - 1, s]``.  Then *no 1-second
window, wherever the service places the arrival inside the interval, meets more than
``floor(qps) + 1`` requests* (the request whose slot is the latest of those meeting a window
saw them all when it was leased).  In steady state, with replies faster than ``1/qps``, this
is the plain spacing; after a stall the bucket waits until the held requests are answered and
a second has passed.  A ticket of a killed worker never reports: it counts as in flight for
:data:`STALE` seconds, then is dropped.

Measured (``tests/scale/test_dask_cluster.py``: 2 worker processes on 2 shared cores,
``qps=20``, 420 requests to ``vislab serve -v``): the server's own request log holds at most
``qps + 1`` requests in any 1-second window and the rate over the run is >= 0.9 of the limit.
The clocks: slots are the scheduler's ``time.time()``, replies the worker's; on one machine they
are one clock, on a cluster they must agree to well under ``1/qps`` (NTP does).
:meth:`ClusterRateLimiter.sent_times` returns the leased slots for checks.
"""

from __future__ import annotations

import collections
import math
import threading
import time

from vislab.errors import InvalidParameter

__all__ = ["ClusterRateLimiter", "AnsweredTransport", "lease_slot", "lease_window"]

# Where the buckets live on the scheduler object (one per name): [last slot, sent wall times].
_STATE = "_vislab_qps_buckets"
# Where the windows of :func:`lease_window` live (one per name): a :class:`_Window`.
_WINDOWS = "_vislab_qps_windows"
#: Wall-clock times of the last leased slots kept per bucket (for checks of the achieved rate).
HISTORY = 100_000
#: Seconds after which a ticket never reported (its worker died) stops counting as in flight.
STALE = 60.0


def _buckets(holder, key: str = _STATE) -> dict:
    buckets = getattr(holder, key, None)
    if buckets is None:
        buckets = {}
        setattr(holder, key, buckets)
    return buckets


def lease_slot(name: str, qps: float, lead: float, dask_scheduler=None) -> tuple[bool, float]:
    """Run *on the scheduler*: lease the next send slot of bucket ``name`` if it is near.

    Parameters
    ----------
    name : str
        The bucket (one per account and service: the client's ``backend``).
    qps : float
        The limit: slots are ``1/qps`` seconds apart.
    lead : float
        The furthest ahead a slot is leased, in seconds.
    dask_scheduler : distributed.Scheduler, optional
        Filled by ``Client.run_on_scheduler``; without it (one process) the buckets live on
        this function.

    Returns
    -------
    (bool, float)
        ``(True, wait)``: the slot is the caller's, send after ``wait`` seconds;
        ``(False, wait)``: nothing leased, ask again after ``wait`` seconds.

    Examples
    --------
    >>> lease_slot("doc-example", 10.0, 0.15)
    (True, 0.0)
    >>> leased, wait = lease_slot("doc-example", 10.0, 0.15)
    >>> leased, 0.05 < wait <= 0.1
    (True, True)
    >>> leased, wait = lease_slot("doc-example", 10.0, 0.15)  # 0.2 s ahead: too far
    >>> leased, 0.0 < wait <= 0.1
    (False, True)
    """
    holder = dask_scheduler if dask_scheduler is not None else lease_slot
    buckets = _buckets(holder)
    now = time.monotonic()
    # The scheduler runs this on its event loop, one call at a time: no lock is needed.
    last, sent = buckets.get(name) or (now - 1.0, collections.deque(maxlen=HISTORY))
    slot = max(now, last + 1.0 / qps)
    if slot - now > lead:
        return False, slot - now - lead
    buckets[name] = (slot, sent)
    sent.append(time.time() + (slot - now))
    return True, slot - now


class _Window:
    """One bucket of :func:`lease_window`: the last slot, open and recently answered tickets."""

    def __init__(self, now: float):
        self.last = now - 1.0
        self.next_ticket = 0
        self.open: dict[int, float] = {}  # ticket -> slot (leased, reply not yet reported)
        self.replies: collections.deque = collections.deque()  # reply times, oldest first
        self.sent: collections.deque = collections.deque(maxlen=HISTORY)

    def close(self, ticket: int, reply: float) -> None:
        slot = self.open.pop(int(ticket), None)
        if slot is not None:
            # Kept sorted: replies are reported almost in order; insort for the rest.
            reply = max(float(reply), slot)
            if not self.replies or reply >= self.replies[-1]:
                self.replies.append(reply)
            else:
                items = sorted([*self.replies, reply])
                self.replies = collections.deque(items)

    def forget_before(self, now: float) -> None:
        # A reply before now - 1 meets no window [s - 1, s] with s >= now.
        while self.replies and self.replies[0] < now - 1.0:
            self.replies.popleft()
        for ticket, slot in list(self.open.items()):
            if slot < now - STALE:
                del self.open[ticket]


def lease_window(name: str, qps: float, lead: float, done=(), lease: bool = True,
                 dask_scheduler=None) -> tuple[bool, float, int]:  # fmt: skip
    """Run *on the scheduler*: record answered tickets, then lease the next slot if it is near.

    A slot is at least ``1/qps`` after the previous one, and at most ``floor(qps)`` other
    tickets' intervals (slot to reply; an unanswered one is open) meet the second before it.

    Parameters
    ----------
    name : str
        The bucket (one per account and service: the client's ``backend``).
    qps : float
        The limit.
    lead : float
        The furthest ahead a slot is leased, in seconds (below 1).
    done : iterable of (int, float)
        ``(ticket, reply time)`` of requests answered since the caller's last lease.
    lease : bool, default True
        False: only record ``done`` (a partition's end), lease nothing.
    dask_scheduler : distributed.Scheduler, optional
        Filled by ``Client.run_on_scheduler``; without it (one process) the buckets live on
        this function.

    Returns
    -------
    (bool, float, int)
        ``(True, wait, ticket)``: the slot is the caller's, send after ``wait`` seconds and
        report ``ticket`` with its reply time; ``(False, wait, -1)``: ask again after ``wait``.

    Examples
    --------
    A limit of 2 per second: two quick requests, then a third that is still in flight holds
    the next slot back until it is answered.

    >>> leased, wait, first = lease_window("doc-window", 2.0, 0.9)
    >>> leased, wait
    (True, 0.0)
    >>> leased, wait, second = lease_window("doc-window", 2.0, 0.9, done=[(first, 0.0)])
    >>> leased, 0.4 < wait <= 0.5
    (True, True)
    >>> lease_window("doc-window", 2.0, 0.9)[0]  # the second is open: nothing before it ends
    False
    >>> lease_window("doc-window", 2.0, 0.9, [(second, 0.0)], lease=False)  # only reporting
    (False, 0.0, -1)
    """
    holder = dask_scheduler if dask_scheduler is not None else lease_slot
    buckets = _buckets(holder, _WINDOWS)
    now = time.time()
    bucket = buckets.get(name)
    if bucket is None:
        bucket = buckets[name] = _Window(now)
    for ticket, reply in done:
        bucket.close(ticket, reply)
    bucket.forget_before(now)
    if not lease:
        return False, 0.0, -1
    others = max(0, math.floor(qps))  # intervals that may meet [s - 1, s] beside the new one
    slot = max(now, bucket.last + 1.0 / qps)
    # Every open ticket meets the window (slot - 1 < now while lead < 1); answered ones do
    # while their reply is at or after slot - 1.
    meeting = [r for r in bucket.replies if r >= slot - 1.0]
    excess = len(bucket.open) + len(meeting) - others
    if excess > 0:
        if excess > len(meeting):  # too many still in flight: wait for a reply
            return False, min(0.05, 0.5 / qps), -1
        slot = max(slot, meeting[excess - 1] + 1.0 + 1e-6)
    if slot - now > lead:
        return False, slot - now - lead, -1
    ticket = bucket.next_ticket
    bucket.next_ticket += 1
    bucket.open[ticket] = slot
    bucket.last = slot
    bucket.sent.append(slot)
    return True, slot - now, ticket


def sent_times(name: str, dask_scheduler=None) -> list[float]:
    """Run *on the scheduler*: the wall-clock times of bucket ``name``'s leased slots.

    Parameters
    ----------
    name : str
    dask_scheduler : distributed.Scheduler, optional

    Returns
    -------
    list of float

    Examples
    --------
    >>> _ = lease_slot("doc-times", 5.0, 1.0)
    >>> len(sent_times("doc-times"))
    1
    """
    holder = dask_scheduler if dask_scheduler is not None else lease_slot
    window = _buckets(holder, _WINDOWS).get(name)
    if window is not None:
        return list(window.sent)
    entry = _buckets(holder).get(name)
    return list(entry[1]) if entry else []


class ClusterRateLimiter:
    """A QPS limit shared by every process of a Dask cluster (the bucket is on the scheduler).

    It has the one method a :class:`~vislab.services.session.Session` calls on its limiter,
    :meth:`acquire`, so a client on a worker gets it by ``client.session.limiter = ...``;
    the reply time of each leased send is reported by :meth:`answered` (called by
    :class:`AnsweredTransport` around the session's transport) and travels with the next
    lease or :meth:`flush`.  :mod:`vislab.scale.dask_calls` sets both up for every worker's
    client.

    Parameters
    ----------
    qps : float
        Requests per second for the whole cluster.
    name : str
        The bucket: limiters with the same name share it (one per account and service).
    dask_client : distributed.Client, optional
        Default: the current client (found on first use; inside a task, the worker's).
    lead : float, optional
        The furthest ahead a send slot is leased, in seconds (default: 8 slots, at least
        0.25 s — enough to hide a round trip slowed by a loaded machine — and at most 0.9 s).

    Examples
    --------
    >>> ClusterRateLimiter(20, name="baidu.image_classify@local#0")
    ClusterRateLimiter(qps=20, name='baidu.image_classify@local#0')
    """

    def __init__(self, qps: float, *, name: str, dask_client=None, lead: float | None = None):
        if not qps or qps <= 0:
            raise InvalidParameter(f"qps must be above 0, got {qps!r}", name="qps")
        self.qps = qps
        self.name = name
        # Below 1 s: an open ticket must meet the second before any slot it could hold back.
        self.lead = min(float(lead) if lead is not None else max(0.25, 8.0 / qps), 0.9)
        self._client = dask_client
        self._local = threading.local()  # the ticket of this thread's current send
        self._done: list[tuple[int, float]] = []  # answered tickets not yet reported
        self._done_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ClusterRateLimiter(qps={self.qps}, name={self.name!r})"

    def __getstate__(self):
        # A client object does not travel between processes: each one finds its own.
        state = {**self.__dict__, "_client": None}
        for private in ("_local", "_done", "_done_lock"):
            state.pop(private)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._local = threading.local()
        self._done = []
        self._done_lock = threading.Lock()

    def _take_done(self) -> list[tuple[int, float]]:
        with self._done_lock:
            done, self._done = self._done, []
        return done

    def answered(self) -> None:
        """Record that this thread's leased send has its reply (or failed) now.

        Returns
        -------
        None

        Examples
        --------
        >>> limiter = ClusterRateLimiter(5, name="nothing-leased")
        >>> limiter.answered()  # no lease in this thread: nothing to record
        >>> limiter.flush()
        """
        ticket = getattr(self._local, "ticket", None)
        if ticket is not None:
            self._local.ticket = None
            with self._done_lock:
                self._done.append((ticket, time.time()))

    def flush(self) -> None:
        """Report the answered sends now (a partition's end: no later lease may carry them).

        Returns
        -------
        None

        Examples
        --------
        >>> ClusterRateLimiter(5, name="nothing-to-flush").flush()
        """
        done = self._take_done()
        if done:
            self._dask_client().run_on_scheduler(
                lease_window, self.name, float(self.qps), self.lead, done, False
            )

    def _dask_client(self):
        if self._client is None:
            from distributed import get_client

            self._client = get_client()
        return self._client

    def acquire(self) -> None:
        """Wait for a send slot of the cluster-wide bucket leased to this caller.

        Returns
        -------
        None

        Examples
        --------
        >>> from distributed import Client  # doctest: +SKIP
        >>> with Client(processes=False) as c:  # doctest: +SKIP
        ...     ClusterRateLimiter(5, name="x", dask_client=c).acquire()
        """
        client = self._dask_client()
        while True:
            done = self._take_done()
            try:
                leased, wait, ticket = client.run_on_scheduler(
                    lease_window, self.name, float(self.qps), self.lead, done
                )
            except BaseException:
                with self._done_lock:  # not reported: keep them for the next call
                    self._done[:0] = done
                raise
            if leased:
                self._local.ticket = ticket
            if wait > 0:
                time.sleep(wait)
            if leased:
                return

    def sent_times(self) -> list[float]:
        """Wall-clock times (``time.time()``) of the slots leased so far, oldest first.

        Kept on the scheduler (the last :data:`HISTORY`) for every limiter of this name: the
        achieved rate of a run is ``len(times) / (times[-1] - times[0])``.

        Returns
        -------
        list of float

        Examples
        --------
        >>> from distributed import Client  # doctest: +SKIP
        >>> with Client(processes=False) as c:  # doctest: +SKIP
        ...     limiter = ClusterRateLimiter(5, name="y", dask_client=c)
        ...     limiter.acquire()
        ...     len(limiter.sent_times())
        1
        """
        return self._dask_client().run_on_scheduler(sent_times, self.name)


class AnsweredTransport:
    """A transport that tells a :class:`ClusterRateLimiter` when each leased send is answered.

    Wraps the session's transport on a worker (everything else is the wrapped transport's).

    Parameters
    ----------
    transport : Transport
    limiter : ClusterRateLimiter

    Examples
    --------
    >>> from vislab.transport import FunctionTransport, WireRequest, json_reply
    >>> limiter = ClusterRateLimiter(5, name="doc-answered")
    >>> t = AnsweredTransport(FunctionTransport(lambda r: json_reply({})), limiter)
    >>> t.send(WireRequest("POST", "/x")).status, len(t.requests)
    (200, 1)
    """

    def __init__(self, transport, limiter: ClusterRateLimiter):
        self._transport = transport
        self._limiter = limiter

    def __getattr__(self, name):
        return getattr(self._transport, name)

    def __repr__(self) -> str:
        return repr(self._transport)

    def send(self, request):
        try:
            return self._transport.send(request)
        finally:
            self._limiter.answered()
