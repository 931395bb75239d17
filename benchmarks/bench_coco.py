"""Benchmark: vislab.evaluate.coco_eval against pycocotools and faster-coco-eval, same run.

A COCO-val-sized set is built by replicating the real COCO 2014 fixture (100 images, 839
objects) 50 times with jittered boxes: 5,000 images, ~42,000 true boxes, and ~100 detections
per image (the fixture's own detections, jittered near-duplicates of true boxes and background
boxes with low scores) — about 500,000 detections.  All three evaluators get the same data and
must print the same 12 numbers.  A second part times a threshold sweep over 1,000,000
detections: build once, then per-query time of ``Sweep.at``.

Run: ``python benchmarks/bench_coco.py [--images 5000] [--skip-pycocotools] [--repeat 3]``
(needs ``../shared/fixtures/detection/`` or VISLAB_FIXTURES; pycocotools and
faster-coco-eval from the ``test`` extra).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def fixtures_dir() -> Path:
    env = os.environ.get("VISLAB_FIXTURES")
    if env:
        return Path(env) / "detection" if (Path(env) / "detection").is_dir() else Path(env)
    return HERE.parent / ".." / "shared" / "fixtures" / "detection"


def build_dataset(n_images: int = 5000, dets_per_image: int = 100, seed: int = 0):
    """COCO-format truth dict and results list of about ``n_images`` images."""
    base = fixtures_dir() / "cocoapi-val2014-100"
    gt = json.loads((base / "instances_val2014_100.json").read_text())
    res = json.loads((base / "instances_val2014_fakebbox100_results.json").read_text())
    rng = np.random.default_rng(seed)
    cat_ids = [c["id"] for c in gt["categories"]]
    imgs = gt["images"]
    anns_by_img: dict[int, list] = {}
    for a in gt["annotations"]:
        anns_by_img.setdefault(a["image_id"], []).append(a)
    res_by_img: dict[int, list] = {}
    for r in res:
        res_by_img.setdefault(r["image_id"], []).append(r)
    reps = int(np.ceil(n_images / len(imgs)))
    images, anns, results = [], [], []
    ann_id = 1
    for rep in range(reps):
        for img in imgs:
            if len(images) >= n_images:
                break
            new_id = rep * 1_000_000 + img["id"]
            images.append({**img, "id": new_id})
            W, H = img["width"], img["height"]
            truth = []
            for a in anns_by_img.get(img["id"], []):
                x, y, w, h = a["bbox"]
                s = rng.uniform(0.95, 1.05)
                b = [x + rng.normal(0, 1), y + rng.normal(0, 1), w * s, h * s]
                b = [round(float(v), 2) for v in b]
                truth.append((b, a["category_id"]))
                anns.append(
                    {
                        "id": ann_id,
                        "image_id": new_id,
                        "category_id": a["category_id"],
                        "bbox": b,
                        "area": float(a["area"]) * s * s,
                        "iscrowd": a["iscrowd"],
                    }
                )
                ann_id += 1
            dets = []
            for r in res_by_img.get(img["id"], []):
                x, y, w, h = r["bbox"]
                dets.append(
                    (
                        [x + rng.normal(0, 2), y + rng.normal(0, 2), w, h],
                        r["category_id"],
                        r["score"],
                    )
                )
            # Near-duplicates of true boxes: the bulk of what a real detector returns.
            present = [c for _, c in truth] or cat_ids[:3]
            while len(dets) < dets_per_image * 0.45 and truth:
                b, c = truth[rng.integers(len(truth))]
                x, y, w, h = b
                j = rng.normal(0, 0.08, 4) * [w, h, w, h]
                c2 = c if rng.random() < 0.8 else present[rng.integers(len(present))]
                dets.append(
                    (
                        [x + j[0], y + j[1], max(w + j[2], 1), max(h + j[3], 1)],
                        c2,
                        float(rng.beta(2, 2)),
                    )
                )
            # Background boxes with low scores, from the classes of the image and a few others.
            while len(dets) < dets_per_image:
                w, h = rng.uniform(8, W / 2), rng.uniform(8, H / 2)
                x, y = rng.uniform(0, W - w), rng.uniform(0, H - h)
                c = (
                    present[rng.integers(len(present))]
                    if rng.random() < 0.6
                    else cat_ids[rng.integers(len(cat_ids))]
                )
                dets.append(([x, y, w, h], c, float(rng.beta(1, 6))))
            for b, c, sc in dets:
                results.append(
                    {
                        "image_id": new_id,
                        "category_id": int(c),
                        "bbox": [round(float(v), 2) for v in b],
                        "score": round(float(sc), 3),
                    }
                )
    gt_out = {"images": images, "annotations": anns, "categories": gt["categories"]}
    return gt_out, results


def load_or_build(n_images: int, *, seed: int = 0):
    """The benchmark set, cached under benchmarks/_data/ (ignored by git)."""
    cache = HERE / "_data" / f"coco_bench_{n_images}_{seed}.json"
    if cache.exists():
        blob = json.loads(cache.read_text())
        return blob["gt"], blob["results"]
    gt, results = build_dataset(n_images, seed=seed)
    cache.parent.mkdir(exist_ok=True)
    cache.write_text(json.dumps({"gt": gt, "results": results}))
    return gt, results


def run_cocoapi(gt_dict, results, module: str):
    """Time pycocotools or faster-coco-eval from in-memory dicts to the 12 numbers."""
    if module == "pycocotools":
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
    else:
        from faster_coco_eval import COCO
        from faster_coco_eval import COCOeval_faster as COCOeval
    # loadRes and evaluate edit the dicts they get: hand each run fresh copies (not timed).
    gt_copy, res_copy = copy.deepcopy(gt_dict), copy.deepcopy(results)
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = gt_copy
        gt.createIndex()
        dt = gt.loadRes(res_copy)
        ev = COCOeval(gt, dt, "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return time.perf_counter() - t0, np.asarray(ev.stats, dtype=float)


def run_vislab(gt_dict, results):
    """Time vislab from the same dicts: read into frames, then coco_eval.

    Returns (total seconds, seconds in coco_eval alone, stats).
    """
    from vislab.datasets import read_coco, read_coco_results
    from vislab.evaluate import coco_eval

    t0 = time.perf_counter()
    truth = read_coco(gt_dict, image="id")
    pred = read_coco_results(results, truth)
    t1 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # classes with detections but no truth: reported only
        result = coco_eval(truth, pred)
    t2 = time.perf_counter()
    return t2 - t0, t2 - t1, result.stats.to_numpy()


def bench_sweep(n: int = 1_000_000, queries: int = 20_000, seed: int = 0):
    """Threshold sweep over ``n`` detections: build once, then time queries."""
    from vislab.evaluate import Sweep

    rng = np.random.default_rng(seed)
    # Part 1: the Sweep structure alone (scores, outcomes, 80 classes).
    scores = np.round(rng.random(n), 4)
    tp = rng.random(n) < 0.4
    labels = rng.integers(0, 80, n).astype(str)
    t0 = time.perf_counter()
    sweep = Sweep.from_arrays(scores, tp=tp, n_pos=int(tp.sum() * 1.2), labels=labels)
    build = time.perf_counter() - t0
    thr = rng.random(queries)
    t0 = time.perf_counter()
    for t in thr:
        sweep._curve.count1(t)  # the binary search itself
    raw = (time.perf_counter() - t0) / queries
    t0 = time.perf_counter()
    for t in thr[:2000]:
        sweep.at(t)  # as a widget calls it: a labelled Series
    series = (time.perf_counter() - t0) / 2000
    t0 = time.perf_counter()
    for t in thr[:2000]:
        sweep.at(t, label="7")
    per_class = (time.perf_counter() - t0) / 2000
    return build, raw, series, per_class, len(sweep.overall)


def bench_detection_sweep(gt_dict, results, copies: int = 2):
    """threshold_sweep (COCO matching at IoU 0.5 + sort) on ``copies`` x the benchmark set."""

    from vislab.datasets import read_coco, read_coco_results
    from vislab.evaluate import threshold_sweep

    truth = read_coco(gt_dict, image="id")
    pred = read_coco_results(results, truth)
    truths, preds = [], []
    for c in range(copies):
        truths.append(truth.assign(image=truth["image"] + c * 10**9, id=truth["id"] + c * 10**9))
        preds.append(pred.assign(image=pred["image"] + c * 10**9))
    truth_n = pd.concat(truths, ignore_index=True)
    pred_n = pd.concat(preds, ignore_index=True)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sweep = threshold_sweep(truth_n, pred_n, iou=0.5)
    build = time.perf_counter() - t0
    thr = np.random.default_rng(1).random(2000)
    t0 = time.perf_counter()
    for t in thr:
        sweep.at(t)
    query = (time.perf_counter() - t0) / len(thr)
    return len(pred_n), build, query


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=3, help="runs of vislab and faster-coco-eval")
    ap.add_argument("--skip-pycocotools", action="store_true")
    ap.add_argument("--sweep-size", type=int, default=1_000_000)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    gt, results = load_or_build(args.images)
    print(
        f"data: {len(gt['images'])} images, {len(gt['annotations'])} truth boxes, "
        f"{len(results)} detections (ready in {time.perf_counter() - t0:.1f} s)"
    )

    times: dict[str, list[float]] = {
        "vislab": [],
        "vislab coco_eval only": [],
        "faster-coco-eval": [],
        "pycocotools": [],
    }
    stats = {}
    for _ in range(args.repeat):
        total, core, stats["vislab"] = run_vislab(gt, results)
        times["vislab"].append(total)
        times["vislab coco_eval only"].append(core)
        t, stats["faster-coco-eval"] = run_cocoapi(gt, results, "faster-coco-eval")
        times["faster-coco-eval"].append(t)
    if not args.skip_pycocotools:
        t, stats["pycocotools"] = run_cocoapi(gt, results, "pycocotools")
        times["pycocotools"].append(t)

    print("\nCOCO bbox evaluation (best of runs; from in-memory COCO dicts to the 12 numbers)")
    for name, ts in times.items():
        if ts:
            print(f"  {name:<24} {min(ts):8.2f} s   (runs: {', '.join(f'{v:.2f}' for v in ts)})")
    fast = min(times["faster-coco-eval"])
    print(
        f"  ratio vislab / faster-coco-eval = {min(times['vislab']) / fast:.3f}"
        f"   (coco_eval only: {min(times['vislab coco_eval only']) / fast:.3f})"
    )
    # The noisy machine's figure: each vislab run against the faster-coco-eval run next to it.
    paired = [v / f for v, f in zip(times["vislab"], times["faster-coco-eval"], strict=True)]
    paired_core = [
        v / f
        for v, f in zip(times["vislab coco_eval only"], times["faster-coco-eval"], strict=True)
    ]
    print(
        f"  median of paired runs          = {np.median(paired):.3f}"
        f"   (coco_eval only: {np.median(paired_core):.3f}; load {os.getloadavg()[0]:.1f})"
    )
    if times["pycocotools"]:
        print(
            f"  ratio vislab / pycocotools      = "
            f"{min(times['vislab']) / times['pycocotools'][0]:.3f}"
        )
    names = list(stats)
    print("\n  AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl")
    for name in names:
        print(f"  {name:<17}" + " ".join(f"{v:.6f}" for v in stats[name]))
    for other in names[1:]:
        diff = np.abs(stats["vislab"] - stats[other]).max()
        print(f"  max |vislab - {other}| = {diff:.3g}")

    build, raw, series, per_class, rows = bench_sweep(args.sweep_size)
    print(f"\nSweep of {args.sweep_size:,} detections (80 classes, {rows:,} distinct thresholds)")
    print(f"  build (sort + cumulative counts, overall and per class): {build:.3f} s")
    print(
        f"  query: binary search {raw * 1e6:.2f} us; sweep.at(t) as a Series "
        f"{series * 1e6:.1f} us; sweep.at(t, label=...) {per_class * 1e6:.1f} us"
    )
    n, build, query = bench_detection_sweep(
        gt, results, copies=max(1, round(args.sweep_size / max(len(results), 1)))
    )
    print(
        f"threshold_sweep on {n:,} real-shaped detections (matching at IoU 0.5 + sort): "
        f"build {build:.2f} s, sweep.at(t) {query * 1e6:.1f} us per query"
    )


if __name__ == "__main__":
    main()
