"""The arrival rule of the cluster bucket (:func:`vislab.scale.limiter.lease_window`), run in
one process: threads lease slots, "send", and get replies after a latency that has a stall in
it; wherever a request arrives between its slot and its reply, no 1-second window holds more
than ``qps + 1`` of them."""

from __future__ import annotations

import bisect
import random
import statistics
import threading
import time
import uuid

from vislab.scale.limiter import lease_window


def _most_in_one_second(times):
    times = sorted(times)
    return max(bisect.bisect_right(times, t + 1.0 - 1e-9) - i for i, t in enumerate(times))


def _run(qps, count, latency, *, threads=4, lead=0.3):
    name = f"test-{uuid.uuid4().hex}"
    intervals = []
    lock = threading.Lock()
    done: list = []
    left = [count]

    def worker():
        while True:
            with lock:
                if left[0] == 0:
                    return
                left[0] -= 1
                report, done[:] = list(done), []
            while True:
                leased, wait, ticket = lease_window(name, qps, lead, report)
                report = []
                time.sleep(max(0.0, wait))
                if leased:
                    break
            slot = time.time()
            time.sleep(latency(slot))
            reply = time.time()
            with lock:
                done.append((ticket, reply))
                intervals.append((slot, reply))

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return intervals


def test_arrivals_anywhere_in_the_interval_stay_within_the_limit():
    qps, start = 40.0, time.time()

    def latency(now):
        # 2-8 ms, and requests sent during a 0.6-s stall are held until it ends.
        stall_from, stall_to = start + 1.0, start + 1.6
        if stall_from <= now < stall_to:
            return stall_to - now + 0.002
        return random.uniform(0.002, 0.008)

    intervals = _run(qps, 160, latency)
    assert len(intervals) == 160
    rng = random.Random(0)
    for placement in ("start", "end", "random"):
        arrivals = [
            s if placement == "start" else r if placement == "end" else rng.uniform(s, r)
            for s, r in intervals
        ]
        assert _most_in_one_second(arrivals) <= qps + 1, placement
    # After the stall the bucket goes back to the plain spacing.
    slots = sorted(s for s, _ in intervals)
    late = [s for s in slots if s > start + 2.7]  # a second after the stall: plain spacing
    assert len(late) > 10
    assert (len(late) - 1) / (late[-1] - late[0]) >= 0.9 * qps


def test_steady_state_is_the_plain_spacing():
    qps = 50.0
    intervals = _run(qps, 100, lambda now: 0.003)
    slots = sorted(s for s, _ in intervals)
    gaps = [b - a for a, b in zip(slots, slots[1:], strict=False)]
    # Replies well inside 1/qps: no slot is held back beyond the 20-ms spacing.
    assert abs(statistics.median(gaps) - 1.0 / qps) < 0.002
    assert (len(slots) - 1) / (slots[-1] - slots[0]) >= 0.9 * qps
