"""Batch throughput against `vislab serve`: vislab's QPS-limited batch vs the official SDK.

Starts `vislab serve` (a real subprocess on 127.0.0.1), then sends the same 400 real JPEGs
(scikit-image photos, resized and re-encoded into distinct files) three ways:

1. ``ImageClassify(qps=20, max_workers=8).advanced_general(images)``: achieved requests/s
   divided by 20 (target >= 0.9: the limiter should use the budget, not waste it);
2. the same without a QPS limit, to show the transport's own ceiling on this machine;
3. the official ``baidu-aip`` SDK in a plain ``for`` loop (what a notebook user writes), for
   the ratio vislab / SDK.

Run: ``.venv/bin/python benchmarks/bench_transport.py [--n 400] [--qps 20]``
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.conftest import ServeProcess, point_at  # noqa: E402  (real `vislab serve`)


def make_images(n: int, folder: Path) -> list[Path]:
    from skimage import data

    photos = [data.chelsea(), data.coffee(), data.astronaut(), data.rocket()]
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        img = Image.fromarray(photos[i % len(photos)])
        scale = rng.uniform(0.6, 1.0)
        img = img.resize((int(img.width * scale), int(img.height * scale)))
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=int(rng.integers(80, 95)))
        path = folder / f"img_{i:04d}.jpg"
        path.write_bytes(buf.getvalue())
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--qps", type=float, default=20.0)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()

    from aip import AipImageClassify

    from vislab import baidu

    key, secret = "bench-key", "bench-secret"
    server = ServeProcess(env={**os.environ, "VISLAB_SERVE_API_KEY": key,
                               "VISLAB_SERVE_SECRET_KEY": secret})
    try:
        with tempfile.TemporaryDirectory() as tmp:
            paths = make_images(args.n, Path(tmp))
            print(f"{len(paths)} JPEGs, {sum(p.stat().st_size for p in paths) / 2**20:.1f} MiB, "
                  f"server {server.url}, {os.cpu_count()} cores")

            limited, free, sdk_rates = [], [], []
            # Client CPU per request (this process only; the server is a subprocess): the
            # part of a request the client owns, which the machine's load does not inflate.
            free_cpu, sdk_cpu = [], []
            for _ in range(args.repeats):
                client = baidu.ImageClassify(key, secret, base_url=server.url, qps=args.qps,
                                             max_workers=8, progress=False)
                t0 = time.perf_counter()
                df = client.advanced_general(paths)
                dt = time.perf_counter() - t0
                assert df["error_code"].isna().all(), df["error_msg"].dropna().head()
                limited.append(len(paths) / dt)

                client = baidu.ImageClassify(key, secret, base_url=server.url, max_workers=4,
                                             progress=False)
                t0, c0 = time.perf_counter(), time.process_time()
                client.advanced_general(paths)
                free.append(len(paths) / (time.perf_counter() - t0))
                free_cpu.append((time.process_time() - c0) / len(paths))

                sdk = point_at(AipImageClassify("bench", key, secret), server.url)
                t0, c0 = time.perf_counter(), time.process_time()
                for p in paths:
                    reply = sdk.advancedGeneral(p.read_bytes())
                    assert "error_code" not in reply, reply
                sdk_rates.append(len(paths) / (time.perf_counter() - t0))
                sdk_cpu.append((time.process_time() - c0) / len(paths))

            lim, fr, sd = (statistics.median(v) for v in (limited, free, sdk_rates))
            print(f"vislab qps={args.qps:g} max_workers=8 : {lim:6.2f} req/s  "
                  f"-> achieved/limit = {lim / args.qps:.3f} (target >= 0.9)")
            print(f"vislab no limit, max_workers=4    : {fr:6.2f} req/s")
            print(f"official SDK, plain loop          : {sd:6.2f} req/s")
            print(f"ratio vislab(qps={args.qps:g}) / SDK loop : {lim / sd:.2f}")
            print(f"ratio vislab(no limit) / SDK loop : {fr / sd:.2f}")
            print(f"client CPU per request: vislab {statistics.median(free_cpu) * 1e3:.2f} ms, "
                  f"SDK {statistics.median(sdk_cpu) * 1e3:.2f} ms")  # fmt: skip
            print("load average (1 / 5 / 15 min): "
                  + " / ".join(f"{x:.2f}" for x in os.getloadavg()))  # fmt: skip
    finally:
        server.stop()


if __name__ == "__main__":
    main()
