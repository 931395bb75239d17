"""Benchmark: ``coco_eval(iou_type="segm")`` beside faster-coco-eval (and pycocotools), same run.

Data: the real COCO 2014 fixture ``cocoapi-val2014-100`` (100 images, 839 objects: 830 polygon
objects, 9 crowd RLE regions) with cocoapi's ``fakesegm100`` mask results (734 compressed
RLEs), optionally replicated ``--reps`` times under new image ids (the same masks, so the
numbers stay those of the fixture).  Every evaluator gets the same data and must print the
same 12 numbers; the script fails if vislab's differ from pycocotools' at all.

Two timings per evaluator, medians of ``--repeat`` runs:

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


def time_cocoapi(module: str, gt_dict, results, repeat: int):
    evals, ends, stats = [], [], None
    for _ in range(repeat):
        gd, rs = copy.deepcopy(gt_dict), copy.deepcopy(results)  # loadRes edits its input
        t0 = time.perf_counter()
        gt, dt, cls = _cocoapi_objects(module, gd, rs)
        t1 = time.perf_counter()
        stats = _cocoapi_eval(gt, dt, cls)
        t2 = time.perf_counter()
        evals.append(t2 - t1)
        ends.append(t2 - t0)
    return statistics.median(evals), statistics.median(ends), stats


def time_vislab(gt_dict, results, repeat: int):
    from vislab.datasets import read_coco, read_coco_results
    from vislab.evaluate import coco_eval

    evals, ends, stats = [], [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        truth = read_coco(gt_dict, image="id")
        pred = read_coco_results(results, truth)
        t1 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # labels without truth: reported, not an error
            stats = coco_eval(truth, pred, iou_type="segm").stats.to_numpy()
        t2 = time.perf_counter()
        evals.append(t2 - t1)
        ends.append(t2 - t0)
    return statistics.median(evals), statistics.median(ends), stats


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
    rows = {}
    # Interleaved: each evaluator sees the same machine load, one after the other.
    rows["vislab"] = time_vislab(gt, res, args.repeat)
    rows["faster-coco-eval"] = time_cocoapi("faster_coco_eval", gt, res, args.repeat)
    if not args.skip_pycocotools:
        rows["pycocotools"] = time_cocoapi("pycocotools", gt, res, args.repeat)
    ref = rows.get("pycocotools", rows["faster-coco-eval"])[2]
    peer_eval, peer_end, _ = rows["faster-coco-eval"]
    print(f"{'evaluator':<18} {'eval s':>8} {'end-to-end s':>13} {'max |diff|':>11}")
    for name, (ev, end, stats) in rows.items():
        print(f"{name:<18} {ev:8.3f} {end:13.3f} {np.abs(stats - ref).max():11.2e}")
    ratio_eval = rows["vislab"][0] / peer_eval
    ratio_end = rows["vislab"][1] / peer_end
    print(
        f"vislab / faster-coco-eval: eval {ratio_eval:.2f} (target <= 1.0), "
        f"end to end {ratio_end:.2f}"
    )
    print("AP (segm):", " ".join(f"{v:.6f}" for v in rows["vislab"][2]))
    # Equal means equal to pycocotools (faster-coco-eval itself differs from it by 1e-16).
    tol = 0.0 if "pycocotools" in rows else 1e-12
    if np.abs(rows["vislab"][2] - ref).max() > tol:
        print("FAIL: vislab's numbers differ from the reference")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
