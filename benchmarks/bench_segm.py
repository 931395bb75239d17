"""Benchmark: ``coco_eval(iou_type="segm")`` beside faster-coco-eval (and pycocotools), same run.

Data: the real COCO 2014 fixture ``cocoapi-val2014-100`` (100 images, 839 objects: 830 polygon
objects, 9 crowd RLE regions) with cocoapi's ``fakesegm100`` mask results (734 compressed
RLEs), optionally replicated ``--reps`` times under new image ids (the same masks, so the
numbers stay those of the fixture).  Every evaluator gets the same data and must print the
same 12 numbers; the script fails if vislab's differ from pycocotools' at all.

Two timings per evaluator (wall and CPU time), medians of ``--repeat`` interleaved rounds;
the ratios are medians of the per-round ratios:

* **eval**: the evaluation from loaded data — vislab's ``coco_eval`` on the frames of
  ``read_coco`` / ``read_coco_results``; faster-coco-eval's and pycocotools' ``COCOeval``
  ``evaluate(); accumulate(); summarize()`` on loaded ``COCO`` objects.  Both sides rasterise
  the truth polygons inside this step.
* **end to end**: from the parsed JSON dicts to the numbers (reading included).

Target: vislab / faster-coco-eval <= 1.0 (eval), equal numbers.

Run: ``python benchmarks/bench_segm.py [--reps 1] [--repeat 5] [--skip-pycocotools]``
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
import statistics
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def fixtures_dir() -> Path:
    env = os.environ.get("VISLAB_FIXTURES")
    if env:
        return Path(env) / "detection" if (Path(env) / "detection").is_dir() else Path(env)
    return HERE.parent / ".." / "shared" / "fixtures" / "detection"


def build_dataset(reps: int = 1):
    """The fixture's truth dict and segm results, replicated ``reps`` times."""
    base = fixtures_dir() / "cocoapi-val2014-100"
    gt = json.loads((base / "instances_val2014_100.json").read_text())
    res = json.loads((base / "instances_val2014_fakesegm100_results.json").read_text())
    if reps == 1:
        return gt, res
    images, anns, results = [], [], []
    for rep in range(reps):
        off = rep * 10_000_000
        images += [{**i, "id": i["id"] + off} for i in gt["images"]]
        anns += [
            {**a, "id": a["id"] + off, "image_id": a["image_id"] + off} for a in gt["annotations"]
        ]
        results += [{**r, "image_id": r["image_id"] + off} for r in res]
    return {**gt, "images": images, "annotations": anns}, results


def _cocoapi_objects(module: str, gt_dict, results):
    if module == "faster_coco_eval":
        from faster_coco_eval import COCO
        from faster_coco_eval import COCOeval_faster as COCOeval
    else:
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = copy.deepcopy(gt_dict)
        gt.createIndex()
        dt = gt.loadRes(copy.deepcopy(results))
    return gt, dt, COCOeval


def _cocoapi_eval(gt, dt, cls) -> np.ndarray:
    with contextlib.redirect_stdout(io.StringIO()):
        ev = cls(gt, dt, "segm")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return np.asarray(ev.stats, dtype=float)


def run_cocoapi(module: str, gt_dict, results):
    """One run: (eval wall s, eval CPU s, end-to-end wall s, stats)."""
    gd, rs = copy.deepcopy(gt_dict), copy.deepcopy(results)  # loadRes edits its input
    t0 = time.perf_counter()
    gt, dt, cls = _cocoapi_objects(module, gd, rs)
    t1, c1 = time.perf_counter(), time.process_time()
    stats = _cocoapi_eval(gt, dt, cls)
    t2, c2 = time.perf_counter(), time.process_time()
    return t2 - t1, c2 - c1, t2 - t0, stats


def run_vislab(gt_dict, results):
    """One run: (eval wall s, eval CPU s, end-to-end wall s, stats)."""
    from vislab.datasets import read_coco, read_coco_results
    from vislab.evaluate import coco_eval

    t0 = time.perf_counter()
    truth = read_coco(gt_dict, image="id")
    pred = read_coco_results(results, truth)
    t1, c1 = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # labels without truth: reported, not an error
        stats = coco_eval(truth, pred, iou_type="segm").stats.to_numpy()
    t2, c2 = time.perf_counter(), time.process_time()
    return t2 - t1, c2 - c1, t2 - t0, stats


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=1, help="copies of the 100-image fixture")
    ap.add_argument("--repeat", type=int, default=5, help="runs per evaluator (median)")
    ap.add_argument("--skip-pycocotools", action="store_true")
    args = ap.parse_args(argv)
    gt, res = build_dataset(args.reps)
    print(
        f"segm: {len(gt['images'])} images, {len(gt['annotations'])} truth objects, "
        f"{len(res)} mask results; medians of {args.repeat} runs"
    )
    runs: dict[str, list] = {"vislab": [], "faster-coco-eval": []}
    if not args.skip_pycocotools:
        runs["pycocotools"] = []
    # Interleaved, one run of each per round, so that all see the same machine load; the
    # ratios are medians of the per-round ratios.
    for rnd in range(args.repeat):
        runs["vislab"].append(run_vislab(gt, res))
        runs["faster-coco-eval"].append(run_cocoapi("faster_coco_eval", gt, res))
        if "pycocotools" in runs and rnd < 3:  # slow: three rounds are enough
            runs["pycocotools"].append(run_cocoapi("pycocotools", gt, res))
    stats = {name: r[-1][3] for name, r in runs.items()}
    ref = stats.get("pycocotools", stats["faster-coco-eval"])
    print(
        f"{'evaluator':<18} {'eval s':>8} {'eval CPU s':>11} {'end-to-end s':>13} {'max |diff|':>11}"
    )
    for name, r in runs.items():
        med = [statistics.median(x[i] for x in r) for i in range(3)]
        diff = np.abs(stats[name] - ref).max()
        print(f"{name:<18} {med[0]:8.3f} {med[1]:11.3f} {med[2]:13.3f} {diff:11.2e}")
    mine, peer = runs["vislab"], runs["faster-coco-eval"]

    def ratio(i):
        return statistics.median(a[i] / b[i] for a, b in zip(mine, peer, strict=True))

    print(
        f"vislab / faster-coco-eval (median of per-round ratios): eval {ratio(0):.2f} "
        f"(target <= 1.0), eval CPU {ratio(1):.2f}, end to end {ratio(2):.2f}"
    )
    print("AP (segm):", " ".join(f"{v:.6f}" for v in stats["vislab"]))
    # Equal means equal to pycocotools (faster-coco-eval itself differs from it by 1e-16).
    tol = 0.0 if "pycocotools" in runs else 1e-12
    if np.abs(stats["vislab"] - ref).max() > tol:
        print("FAIL: vislab's numbers differ from the reference")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
