"""Past one machine: Dask batch calls under one QPS limit, and Milvus Lite galleries.

Run with ``python benchmarks/bench_scale.py`` (``--help`` for options; the ``dask`` and
``milvus`` extras, and faiss from ``bench``).  In one run it measures:

dask, qps=20
    ``ImageClassify.logo_search`` (answered in ~2 ms, so the limit is what binds) on
    ``--requests`` noise images through a ``distributed.LocalCluster`` of 2 worker processes
    against ``vislab serve -v``: achieved rate / limit and the most requests in any 1-second
    window, from the send slots the scheduler leased
    (:meth:`vislab.batch.ClusterRateLimiter.sent_times`) and from the server's own request
    log (where the service counts).  Target: >= 0.9, at most qps + 1.
dask, no limit
    ``advanced_general`` on the local engine (CPU-bound: decode, backbone) over ``--images``
    photos: images/s with 2 worker processes (1 task thread and 1 engine thread each) vs the
    in-process batch (``max_workers=2``) in the same run, each after its model is loaded (on
    every worker); CPU seconds per image on each side (the figure a loaded machine does not
    change) and the cores each side kept busy.  Expect >= 1.5 on 2 idle cores.
milvus lite
    ``--vectors`` unit vectors of the backbone's width (1280) with two tags in 1..10: add
    throughput (rows/s) and the median latency of a top-300 search with a one-tag filter, for
    :class:`~vislab.engine.gallery.milvus.MilvusIndex` on a Milvus Lite file, the in-memory
    ``NumpyIndex`` and faiss ``IndexFlatIP`` (same vectors, same filter as an
    ``IDSelectorBatch``), interleaved query by query; top-300 overlap of Milvus with numpy.

Printed figures are medians and ratios against the peer measured in the same run; the machine
is shared, so absolute times are noisy.
"""

from __future__ import annotations

import argparse
import bisect
import datetime
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from vislab import baidu, batch  # noqa: E402
from vislab.engine.gallery.index import NumpyIndex  # noqa: E402
from vislab.engine.gallery.protocols import IndexItem, TagFilter  # noqa: E402
from vislab.engine.gallery.store import Columns  # noqa: E402
from vislab.scale.limiter import ClusterRateLimiter  # noqa: E402

DIM = 1280
KEYS = {"VISLAB_SERVE_API_KEY": "bench-ak", "VISLAB_SERVE_SECRET_KEY": "bench-sk"}


def _noise(folder: Path, count: int, seed: int) -> list[str]:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(count):
        path = folder / f"{i:05d}.png"
        Image.fromarray(rng.integers(0, 255, (48, 48, 3), dtype=np.uint8)).save(path)
        paths.append(str(path))
    return paths


def _serve(home: Path, log=subprocess.DEVNULL):
    env = {**os.environ, **KEYS, "VISLAB_HOME": str(home)}
    verbose = ["-v"] if log is not subprocess.DEVNULL else []
    proc = subprocess.Popen([sys.executable, "-m", "vislab", "serve", "--port", "0", *verbose],
                            stdout=subprocess.PIPE, stderr=log, text=True, env=env)  # fmt: skip
    url = re.search(r"http://127\.0\.0\.1:\d+", proc.stdout.readline()).group(0)
    return proc, url


def _logged_times(log_path: Path, path_end: str) -> list[float]:
    # `vislab serve -v` logs one line per request, with a millisecond time, as it answers.
    line = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) vislab\.serve POST (\S+) \d{3}$")
    out = []
    for text in log_path.read_text().splitlines():
        m = line.match(text)
        if m and m.group(2).endswith(path_end):
            when = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f")
            out.append(when.timestamp())
    return sorted(out)


def _most_in_one_second(times: list[float]) -> int:
    return max(bisect.bisect_right(times, t + 1.0 - 1e-9) - i for i, t in enumerate(times))


def bench_qps(tmp: Path, requests: int, qps: float) -> None:
    paths = _noise(tmp / "noise", requests, seed=1)
    log_path = tmp / "serve.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed below
    proc, url = _serve(tmp / "serve-home", log)
    try:
        with batch.connect(n_workers=2, threads_per_worker=2, dashboard_address=None) as dc:
            client = baidu.ImageClassify(KEYS["VISLAB_SERVE_API_KEY"],
                                         KEYS["VISLAB_SERVE_SECRET_KEY"], base_url=url,
                                         qps=qps, progress=False)  # fmt: skip
            for address in dc.scheduler_info()["workers"]:  # client, token, connection first
                warm = client.logo_search(batch.from_paths(paths[:4], npartitions=1))
                dc.compute(warm, workers=[address]).result()
            t0 = time.time()
            df = client.logo_search(batch.from_paths(paths, npartitions=8)).compute()
            wall = time.time() - t0
            sent = ClusterRateLimiter(qps, name=client.backend, dask_client=dc).sent_times()
            sent = [t for t in sent if t >= t0]
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()
    rate = (len(sent) - 1) / (sent[-1] - sent[0])
    arrived = [t for t in _logged_times(log_path, "/v2/logo") if t >= t0]
    at_server = (len(arrived) - 1) / (arrived[-1] - arrived[0])
    print(f"dask qps={qps:g}, 2 workers, {len(df)} rows ({df['error_code'].notna().sum()} "
          f"errors) in {wall:.1f} s: leased {rate:.2f}/s = {rate / qps:.3f} of the limit, most "
          f"in 1 s {_most_in_one_second(sent)}; server log {at_server:.2f}/s = "
          f"{at_server / qps:.3f}, most in 1 s {_most_in_one_second(arrived)} (target >= 0.9, "
          f"at most limit + 1 = {qps + 1:g}); load average {os.getloadavg()[0]:.1f}")  # fmt: skip


def bench_throughput(tmp: Path, images: int) -> None:
    from PIL import Image
    from skimage import data

    folder = tmp / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    sources = [data.astronaut(), data.chelsea(), data.coffee(), data.rocket()]
    paths = []
    for i in range(images):
        path = folder / f"{i:04d}.jpg"
        # Distinct pictures: a different crop of one of the photos.
        img = sources[i % 4]
        y, x = (i * 7) % 40, (i * 11) % 40
        Image.fromarray(img[y : y + 300, x : x + 300]).save(path, quality=90)
        paths.append(str(path))
    client = baidu.ImageClassify(progress=False, max_workers=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client.advanced_general(paths[:4])  # the model loaded once before timing
        c0, t0 = _cpu(), time.perf_counter()
        local = client.advanced_general(paths)
        wall = time.perf_counter() - t0
        local_cpu = (_cpu() - c0) / images
        in_process = images / wall
        local_cores = local_cpu * images / wall
    with batch.connect(n_workers=2, threads_per_worker=1, dashboard_address=None) as dc:
        for address in dc.scheduler_info()["workers"]:  # every worker loads the model first
            warm = client.advanced_general(batch.from_paths(paths[:2], npartitions=1))
            dc.compute(warm, workers=[address]).result()
        w0, t0 = dc.run(_cpu), time.perf_counter()
        lazy = client.advanced_general(batch.from_paths(paths, npartitions=8))
        out = dc.compute(lazy).result()
        wall = time.perf_counter() - t0
        w1 = dc.run(_cpu)
        dask_cpu = sum(w1[k] - w0[k] for k in w0) / images
        on_dask = images / wall
    assert len(out) == len(local)
    print(f"dask no limit, {images} photos, local engine: 2 worker processes (1 engine thread "
          f"each) {on_dask:.1f} img/s vs in process (max_workers=2) {in_process:.1f} img/s: "
          f"ratio {on_dask / in_process:.2f} (expect >= 1.5 on 2 idle cores); CPU per image "
          f"{dask_cpu * 1000:.1f} vs {local_cpu * 1000:.1f} ms (ratio "
          f"{local_cpu / dask_cpu:.2f}); cores used {dask_cpu * on_dask:.2f} vs "
          f"{local_cores:.2f}; load average {os.getloadavg()[0]:.1f}")  # fmt: skip


def _cpu() -> float:
    # CPU seconds of this process, all its threads (user + system).
    t = os.times()
    return t.user + t.system


def _vectors(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((max(1, n // 50), DIM)).astype(np.float32)
    v = centres[rng.integers(0, len(centres), n)] + 0.5 * rng.standard_normal((n, DIM)).astype(
        np.float32
    )
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    tags = np.stack([rng.integers(1, 11, n), rng.integers(1, 11, n)], 1).astype(np.int32)
    return v.astype(np.float16).astype(np.float32), tags


def bench_milvus(tmp: Path, n: int, queries: int) -> None:
    import faiss

    from vislab.engine.gallery.milvus import MilvusIndex

    vectors, tags = _vectors(n, seed=2)
    ids = np.arange(1, n + 1, dtype=np.int64)
    cols = Columns(ids, [f"{i},{i}" for i in ids], [""] * n, tags, np.zeros(n, np.uint64),
                   np.zeros(n, np.uint64), vectors[:, None, :], None)  # fmt: skip
    t0 = time.perf_counter()
    mil = MilvusIndex(str(tmp / "galleries.db"), "bench", dim=DIM)
    mil.sync(cols)  # batched upserts of 4,096 rows
    mil_add = n / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    num = NumpyIndex()
    for i in range(n):
        num.add(IndexItem(int(ids[i]), cols.signs[i], "", tuple(tags[i]), 0, 0, vectors[i][None]))
    num_add = n / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    flat = faiss.IndexIDMap(faiss.IndexFlatIP(DIM))
    flat.add_with_ids(vectors, ids)
    faiss_add = n / (time.perf_counter() - t0)
    rng = np.random.default_rng(3)
    times = {"milvus": [], "numpy": [], "faiss": []}
    overlaps = []
    for _ in range(queries):
        q = vectors[rng.integers(n)] + 0.3 * rng.standard_normal(DIM).astype(np.float32)
        q /= np.linalg.norm(q)
        tag = int(rng.integers(1, 11))
        where = TagFilter((tag,))
        sel = ids[(tags[:, 0] == tag) | (tags[:, 1] == tag)]
        selector = faiss.IDSelectorBatch(sel)
        params = faiss.SearchParameters(sel=selector)
        t = time.perf_counter()
        got_m = mil.search(q, where=where, k=300)
        times["milvus"].append(time.perf_counter() - t)
        t = time.perf_counter()
        got_n = num.search(q, where=where, k=300)
        times["numpy"].append(time.perf_counter() - t)
        t = time.perf_counter()
        flat.search(q[None], 300, params=params)
        times["faiss"].append(time.perf_counter() - t)
        overlaps.append(len(set(got_m.ids.tolist()) & set(got_n.ids.tolist())) / 300)
    mil.close()
    med = {k: statistics.median(v) * 1000 for k, v in times.items()}
    print(
        f"milvus lite, {n:,} vectors x {DIM}: add {mil_add:,.0f} rows/s (numpy "
        f"{num_add:,.0f}, faiss {faiss_add:,.0f}: milvus/numpy {mil_add / num_add:.3f})"
    )
    print(f"  top-300 with a one-tag filter, median of {queries}: milvus {med['milvus']:.1f} ms, "
          f"numpy {med['numpy']:.1f} ms, faiss IndexFlatIP {med['faiss']:.1f} ms; "
          f"milvus/numpy {med['milvus'] / med['numpy']:.2f}, milvus/faiss "
          f"{med['milvus'] / med['faiss']:.2f}; overlap with numpy min {min(overlaps):.4f}")  # fmt: skip


def main(argv=None) -> int:
    """Run the benchmarks; figures on stdout.

    Examples
    --------
    >>> main(["--help"])  # doctest: +SKIP
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=420)
    parser.add_argument("--qps", type=float, default=20.0)
    parser.add_argument("--images", type=int, default=96)
    parser.add_argument("--vectors", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=15)
    parser.add_argument("--only", choices=("qps", "throughput", "milvus"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        if args.only in (None, "qps"):
            bench_qps(tmp, args.requests, args.qps)
        if args.only in (None, "throughput"):
            bench_throughput(tmp, args.images)
        if args.only in (None, "milvus"):
            bench_milvus(tmp, args.vectors, args.queries)
    return 0


if __name__ == "__main__":
    sys.exit(main())
