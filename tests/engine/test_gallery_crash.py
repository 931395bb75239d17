"""A process killed (SIGKILL) in the middle of a bulk add loses no committed entry.

A child process adds images to a real SQLite gallery in a temp folder, printing each
``cont_sign`` once ``Gallery.add`` has returned (i.e. once the transaction is committed).
The parent kills it with SIGKILL at a random moment, three times over on the same file, then
reopens the store: it must pass SQLite's integrity check, hold every reported entry, hold no
half-written row, and answer searches.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from vislab.engine.gallery import Gallery, ImageFeatures

DIM = 1280

CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    from vislab.engine.gallery import Gallery, ImageFeatures

    path, seed = sys.argv[1], int(sys.argv[2])
    rng = np.random.default_rng(seed)
    g = Gallery("similar", path=path)
    i = 0
    while True:
        v = rng.standard_normal({dim}).astype(np.float32)
        sign = f"{{seed}},{{i}}"
        f = ImageFeatures(sign, v / np.linalg.norm(v), int(rng.integers(2**63)), i)
        # A long brief makes each row span several pages, so a kill can land mid-row.
        g.add(f, brief=f'{{{{"seed": {{seed}}, "i": {{i}}}}}}'.ljust(250, "."), tags=[1 + i % 7])
        print(sign, flush=True)
        i += 1
    """
).format(dim=DIM)


def _run_and_kill(path, seed: int, rng) -> list[str]:
    """Start a bulk add, SIGKILL it after a random number of commits; return what it reported."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    reported: list[str] = []
    target = int(rng.integers(150, 400))
    deadline = time.monotonic() + 120
    try:
        while len(reported) < target:
            line = proc.stdout.readline()
            if not line:
                pytest.fail(f"child stopped early: {proc.stderr.read()[-2000:]}")
            reported.append(line.strip())
            assert time.monotonic() < deadline, "child too slow"
        # Let it run on a little (random microseconds) so the kill hits mid-transaction at
        # varying points, not always right after a print.
        time.sleep(float(rng.uniform(0, 0.01)))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    # Lines written before the kill but not yet read are committed entries too.
    reported += [s.strip() for s in proc.stdout.read().splitlines() if s.strip()]
    proc.stdout.close()
    proc.stderr.close()
    return reported


@pytest.mark.slow
def test_sigkill_during_bulk_add_loses_no_committed_entry(tmp_path):
    path = tmp_path / "crash.sqlite"
    rng = np.random.default_rng(12345)
    committed: list[str] = []
    for seed in range(3):
        committed += _run_and_kill(path, seed, rng)
        # After every kill the file opens, passes the integrity check and holds every entry.
        with sqlite3.connect(path) as con:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            stored = {s for (s,) in con.execute("SELECT cont_sign FROM entries")}
        assert set(committed) <= stored
        # Only an add in flight at a kill (committed, not yet printed) can be stored unreported.
        assert len(stored) - len(set(committed)) <= seed + 1

    with sqlite3.connect(path) as con:
        rows = con.execute(
            "SELECT cont_sign, brief, tag1, length(embedding), phash, dhash FROM entries"
        ).fetchall()
    for sign, brief, tag1, emb_len, ph, dh in rows:
        seed, i = (int(x) for x in sign.split(","))
        assert brief.startswith(f'{{"seed": {seed}, "i": {i}}}') and len(brief) == 250
        assert tag1 == 1 + i % 7 and emb_len == 2 * DIM and dh == i and ph is not None

    g = Gallery("similar", path=path)
    assert g.count() == len(rows) >= len(committed)
    probe = np.random.default_rng(99).standard_normal(DIM).astype(np.float32)
    probe /= np.linalg.norm(probe)
    result = g.search(ImageFeatures("1,1", probe, 0, 0), tags=[3], rn=1000)
    assert result.hits and all(h.tags == (3,) for h in result.hits)
    # The store keeps working: adds after the crashes commit as usual.
    g.add(ImageFeatures("9,9", probe, 0, 0), brief="after")
    assert g.search(ImageFeatures("1,1", probe, 0, 0), rn=1).hits[0].brief == "after"
    g.close()
