"""Benchmark: how fast the ThresholdTuner follows a slider, with 1,000,000 detections.

Two numbers, each against a named peer measured in the same run:

1. **Threshold -> metrics.**  Median time from setting ``tuner.threshold`` to the updated
   numbers: the page's metrics table (set synchronously) and the state's numbers
   (``tuner.state.point()``); browser paint excluded.  Also shown: the same step when the
   pandas frame ``tuner.metrics`` is built by reading it.  The tuner answers from the sweep
   built once (binary search, O(log N)).  Peers: recounting the matched outcomes with numpy
   masks at each threshold (O(N)), and matching again from scratch with
   ``match_detections(score_threshold=t)`` (what a tool without a sweep does).  Target: the
   step <= 1.0 x the numpy recount, timed interleaved with it.  Measured inside a running
   asyncio loop, as in the Jupyter kernel, so figure redraws are debounced exactly as there.
2. **12-image grid redraw.**  The tuner's grid reuses one figure and its artists; redrawing a
   page swaps data and encodes a JPEG.  Timed for a threshold change (same page) and for a new
   page (thumbnails read from JPEG files on disk the first time).  Peer: a fresh matplotlib
   figure with 12 ``imshow`` axes and one ``Rectangle`` per box, saved as PNG (the usual way).
   Target: <= 300 ms.

Run: ``python benchmarks/bench_widgets.py [--detections 1000000] [--queries 200]``
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def build_detections(n_det: int, *, per_image: int = 100, seed: int = 0):
    """``n_det`` detections over ``n_det / per_image`` images of 640x480, vectorised.

    Each image has 4-12 true objects; each object gets a well-placed box most of the time,
    plus jittered duplicates and background boxes with low scores fill up to ``per_image``.
    """
    rng = np.random.default_rng(seed)
    n_img = max(1, n_det // per_image)
    labels = np.array(["person", "cat", "cup", "rocket", "coin"], dtype=object)
    n_obj = rng.integers(4, 13, n_img)
    img_of_obj = np.repeat(np.arange(n_img), n_obj)
    m = len(img_of_obj)
    w = rng.uniform(30, 200, m)
    h = rng.uniform(30, 200, m)
    x = rng.uniform(0, 640 - w)
    y = rng.uniform(0, 480 - h)
    obj_label = labels[rng.integers(0, len(labels), m)]
    names = np.array([f"img{i:06d}.jpg" for i in range(n_img)], dtype=object)
    truth = pd.DataFrame(
        {"image": names[img_of_obj], "label": obj_label, "x": x, "y": y, "w": w, "h": h}
    )
    # Hits: 85% of objects, jittered, high scores.
    hit = rng.random(m) < 0.85
    k = int(hit.sum())
    hx = x[hit] + rng.normal(0, 0.06, k) * w[hit]
    hy = y[hit] + rng.normal(0, 0.06, k) * h[hit]
    hits = pd.DataFrame(
        {
            "image": names[img_of_obj[hit]],
            "label": np.where(rng.random(k) < 0.92, obj_label[hit], labels[rng.integers(0, 5, k)]),
            "score": rng.beta(8, 2, k),
            "x": hx,
            "y": hy,
            "w": w[hit] * np.exp(rng.normal(0, 0.06, k)),
            "h": h[hit] * np.exp(rng.normal(0, 0.06, k)),
        }
    )
    # Background boxes fill each image up to per_image, low scores.
    n_bg = n_det - k
    bg_img = rng.integers(0, n_img, n_bg)
    bw = rng.uniform(15, 150, n_bg)
    bh = rng.uniform(15, 150, n_bg)
    background = pd.DataFrame(
        {
            "image": names[bg_img],
            "label": labels[rng.integers(0, 5, n_bg)],
            "score": rng.beta(1.5, 6, n_bg),
            "x": rng.uniform(0, 640 - bw),
            "y": rng.uniform(0, 480 - bh),
            "w": bw,
            "h": bh,
        }
    )
    pred = pd.concat([hits, background], ignore_index=True)
    pred["score"] = pred["score"].round(6)
    return pred, truth


def photo_files(folder: Path, n: int = 24) -> list[Path]:
    """Real-looking sample pictures (vislab.datasets.samples) written as JPEG files."""
    from PIL import Image

    from vislab.datasets.samples import sample_detections

    sample = sample_detections(n, size=(480, 360), seed=1, failed=0)
    paths = []
    for name, pixels in sample.images.items():
        path = folder / name
        Image.fromarray(pixels).save(path, quality=90)
        paths.append(path)
    return paths


def median_ms(samples) -> float:
    return statistics.median(samples) * 1000


def bench_threshold(tuner, pred, truth, *, queries: int, seed: int = 1):
    """Per slider position, interleaved (the machine is shared: ratios stay fair under load):
    the tuner's step, the same step plus building the ``.metrics`` frame, and the peer."""
    from vislab.evaluate import match_detections

    rng = np.random.default_rng(seed)
    thresholds = rng.uniform(0.05, 0.95, queries)
    # Peer 1: recount the matched outcomes with numpy masks (O(N) per query).
    m = tuner.sweep.matches_at(-np.inf)
    score = m["score"].to_numpy()
    is_tp = (m["match"] == "tp").to_numpy()
    is_fp = (m["match"] == "fp").to_numpy()
    n_pos = tuner.sweep.n_pos
    times, with_frame, recount = [], [], []

    async def drag():
        for t in thresholds:
            # The tuner: set the threshold; the page's table is updated synchronously and the
            # numbers are read back from the state (what a person and a program read).
            start = time.perf_counter()
            tuner.threshold = float(t)
            _ = tuner.state.point()["precision"]
            times.append(time.perf_counter() - start)
            # The same step, plus the pandas frame ``tuner.metrics`` built on reading it.
            start = time.perf_counter()
            tuner.threshold = float(t) + 1e-9
            _ = tuner.metrics.loc["all", "precision"]
            with_frame.append(time.perf_counter() - start)
            start = time.perf_counter()
            keep = score >= t
            tp = int((is_tp & keep).sum())
            fp = int((is_fp & keep).sum())
            _ = (tp / max(tp + fp, 1), tp / n_pos)
            recount.append(time.perf_counter() - start)
        tuner._redraw.cancel()

    asyncio.run(drag())
    # Check: the tuner's numbers are the sweep's, and the page shows them.
    last = thresholds[-1] + 1e-9
    assert tuner.metrics.loc["all", "tp"] == tuner.sweep.at(last)["tp"]
    assert f'data-value="{float(tuner.sweep.at(last)["precision"])!r}"' in tuner._table.value
    # Peer 2: match again at each threshold (a handful: it is slow).
    rematch = []
    for t in thresholds[:3]:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            match_detections(truth, pred, score_threshold=float(t))
        rematch.append(time.perf_counter() - start)
    return times, with_frame, recount, rematch


def bench_grid(tuner, files, *, repeats: int = 15):
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle
    from PIL import Image

    # Threshold change, same page (the thumbnails are cached after the first draw).
    tuner.page = 0
    tuner._draw_grid()
    same_page = []
    for t in np.linspace(0.3, 0.7, repeats):
        tuner.threshold = float(t)
        tuner._redraw.cancel()
        start = time.perf_counter()
        tuner._draw_grid()
        same_page.append(time.perf_counter() - start)
    # The other half of a debounced redraw: the curves with the moved operating point.
    curves = []
    for t in np.linspace(0.3, 0.7, repeats):
        tuner.threshold = float(t)
        tuner._redraw.cancel()
        start = time.perf_counter()
        tuner._draw_curves()
        curves.append(time.perf_counter() - start)
    # New pages: 12 pictures read from JPEG files the first time they are shown.
    tuner._source._cache.clear()
    new_page = []
    for page in range(1, repeats + 1):
        tuner.page = page
        tuner._redraw.cancel()
        start = time.perf_counter()
        tuner._draw_grid()
        new_page.append(time.perf_counter() - start)
    # Peer: a fresh figure per redraw, imshow + one Rectangle patch per box, PNG.
    keys = tuner.grid_images()
    peer = []
    for _ in range(max(3, repeats // 3)):
        start = time.perf_counter()
        fig = Figure(figsize=(10, 6.6), dpi=72)
        axes = fig.subplots(3, 4).ravel()
        for ax, key in zip(axes, keys, strict=False):
            tile = tuner.state.tiles_of.tile(key, tuner.threshold)
            ax.imshow(np.asarray(Image.open(files[hash(key) % len(files)])))
            for (x, y, w, h), c in zip(tile.boxes, tile.colors, strict=True):
                ax.add_patch(Rectangle((x, y), w, h, fill=False, edgecolor=c, lw=1.8))
            ax.set_axis_off()
            ax.set_title(tile.title, fontsize=8)
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        peer.append(time.perf_counter() - start)
    return same_page, new_page, peer, curves


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detections", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args(argv)

    from vislab.widgets import ThresholdTuner

    print(f"building {args.detections:,} detections ...", flush=True)
    pred, truth = build_detections(args.detections)
    print(
        f"  {len(pred):,} detections on {pred['image'].nunique():,} images, "
        f"{len(truth):,} true objects"
    )
    with tempfile.TemporaryDirectory() as tmp:
        files = photo_files(Path(tmp))
        images = {key: files[i % len(files)] for i, key in enumerate(pd.unique(truth["image"]))}
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tuner = ThresholdTuner(truth, pred, images=images, threshold=0.5, show_map=False)
        build = time.perf_counter() - start
        print(f"ThresholdTuner built in {build:.2f} s (sweep + outcome index, once)")

        times, with_frame, recount, rematch = bench_threshold(
            tuner, pred, truth, queries=args.queries
        )
        tuner_ms, frame_ms, recount_ms, rematch_ms = map(
            median_ms, (times, with_frame, recount, rematch)
        )
        print(
            "\nthreshold -> updated metrics (median over "
            f"{len(times)} slider positions, {len(pred):,} detections)"
        )
        print(
            f"  ThresholdTuner step (table + numbers)  {tuner_ms:8.2f} ms   target <= 1.0 x peer"
            f"  {'OK' if tuner_ms <= recount_ms else 'MISSED'}"
        )
        print(f"    p90                                 {np.percentile(times, 90) * 1000:8.2f} ms")
        print(
            f"    + building the .metrics frame         {frame_ms:8.2f} ms   "
            f"ratio to peer {frame_ms / recount_ms:.2f}"
        )
        core = []
        for t in np.linspace(0.05, 0.95, 50):
            start = time.perf_counter()
            tuner.sweep.values_at(float(t))
            core.append(time.perf_counter() - start)
        print(
            f"    of which Sweep.values_at (all + per class) {median_ms(core):5.2f} ms; the rest "
            "is the HTML table and the slider"
        )
        print(
            f"  peer: numpy recount of outcomes O(N)  {recount_ms:8.2f} ms   "
            f"ratio tuner/peer {tuner_ms / recount_ms:.2f}"
        )
        print(
            f"  peer: match_detections again         {rematch_ms:8.1f} ms   "
            f"ratio tuner/peer {tuner_ms / rematch_ms:.4f}"
        )

        same_page, new_page, peer, curves = bench_grid(tuner, files)
        same_ms, new_ms, peer_ms, curves_ms = map(median_ms, (same_page, new_page, peer, curves))
        print("\n12-image grid redraw (median)")
        print(
            f"  threshold change, same page           {same_ms:8.1f} ms   target <= 300 ms  "
            f"{'OK' if same_ms <= 300 else 'MISSED'}"
        )
        print(
            f"  new page (12 JPEGs read from disk)    {new_ms:8.1f} ms   target <= 300 ms  "
            f"{'OK' if new_ms <= 300 else 'MISSED'}"
        )
        print(
            f"  peer: new figure + patches, PNG        {peer_ms:8.1f} ms   "
            f"ratio tuner/peer {same_ms / peer_ms:.2f}"
        )
        print(
            f"  (curves with the moved operating point {curves_ms:7.1f} ms, drawn in the same "
            "debounced redraw)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
