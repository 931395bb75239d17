"""Benchmark: the PAI family's local answers, each beside a named peer measured in the same run.

Three sections, each printing medians of ``--repeat`` interleaved rounds and the ratio of the
per-round ratios, with the load average (the machine is shared):

* **ocr** — text lines/s of ``vislab.engine.ocr.read_text`` beside ``rapidocr_onnxruntime``'s
  ``RapidOCR()`` (its defaults) called directly on the same rendered receipts
  (:func:`vislab.datasets.samples.receipt`, seeds ``0..--receipts-1``), given the BGR arrays it
  wants, image by image in alternating order; the texts must be equal. Target vislab /
  rapidocr >= 0.9.
* **segm** — ``coco_eval(iou_type="segm")`` beside faster-coco-eval's ``COCOeval`` on random
  masks (blobs of random size and place; detections are shifted, grown, shrunk copies plus
  false alarms, all as compressed RLE), through ``bench_segm``'s runners (imported, not
  copied); the 12 numbers must agree (to 1e-12; faster-coco-eval itself differs from
  pycocotools by ~1e-16) and, with ``--pycocotools``, equal pycocotools'. Target <= 1.0.
* **similarity** — ``vislab.pai.Client().image_similarity(a, b)`` for a batch of ``--pairs``
  pairs (real photos and edited copies) in process vs through a real ``vislab serve`` on
  127.0.0.1 (the same client with the server as endpoint); similarities must agree. Target
  HTTP / in-process time <= 1.3. Prints "skipped: vislab.pai not available" without the PAI
  client.

Run: ``python benchmarks/bench_pai.py [--only ocr,segm,similarity] [--repeat 3]
[--receipts 6] [--images 200] [--pairs 100] [--pycocotools]``
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # bench_segm, beside this file
sys.path.insert(0, str(HERE.parent))  # tests.conftest's real `vislab serve`


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def median_ratio(mine, peer) -> float:
    return statistics.median(a / b for a, b in zip(mine, peer, strict=True))


# -- OCR -------------------------------------------------------------------------------------


def bench_ocr(receipts: int, repeat: int) -> None:
    if importlib.util.find_spec("rapidocr_onnxruntime") is None:
        print("ocr: skipped: rapidocr-onnxruntime is not installed (pip install 'vislab[ocr]')")
        return
    from rapidocr_onnxruntime import RapidOCR

    from vislab.datasets.samples import receipt
    from vislab.engine import ocr

    images = [receipt(seed=seed).pixels for seed in range(receipts)]
    bgr = [np.ascontiguousarray(image[:, :, ::-1]) for image in images]
    direct = RapidOCR()
    ocr.read_text(images[0])  # both engines built and warm before timing
    direct(bgr[0])
    mine, peer = [], []
    texts_mine = texts_peer = None
    for rnd in range(repeat):
        # Image by image, the two engines alternating which goes first, so that both see the
        # same load (the machine is shared) and neither always runs on a warmer cache.
        read, raw = [], []
        t_mine = t_peer = 0.0
        for i, (image, image_bgr) in enumerate(zip(images, bgr, strict=True)):
            for who in ("mine", "peer") if (rnd + i) % 2 == 0 else ("peer", "mine"):
                t0 = time.perf_counter()
                if who == "mine":
                    read.append(ocr.read_text(image))
                    t_mine += time.perf_counter() - t0
                else:
                    raw.append(direct(image_bgr)[0] or [])
                    t_peer += time.perf_counter() - t0
        texts_mine = [[line.text for line in lines] for lines in read]
        texts_peer = [[text for _quad, text, _score in lines] for lines in raw]
        mine.append(sum(len(lines) for lines in read) / t_mine)
        peer.append(sum(len(lines) for lines in raw) / t_peer)
    n_lines = sum(len(t) for t in texts_mine)
    h, w = images[0].shape[:2]
    print(
        f"ocr: {receipts} receipts ({w}x{h}), {n_lines} lines, medians of {repeat} rounds, "
        f"load average {load_average()}"
    )
    print(f"  vislab.engine.ocr.read_text : {statistics.median(mine):7.2f} lines/s")
    print(f"  rapidocr RapidOCR() direct  : {statistics.median(peer):7.2f} lines/s")
    print(f"  vislab / rapidocr (median of per-round ratios): {median_ratio(mine, peer):.3f} "
          "(target >= 0.9)")  # fmt: skip
    if texts_mine != texts_peer:
        print("  FAIL: vislab's texts differ from rapidocr's")
        raise SystemExit(1)
    print("  texts equal: yes")


# -- segm ------------------------------------------------------------------------------------


def random_masks(n_images: int, *, seed: int = 0, size: int = 160):
    """COCO truth dict and segm results with random blob masks (compressed RLE)."""
    from pycocotools import mask as mask_utils

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]

    def blob(cx, cy, rx, ry):
        wobble = 1 + 0.25 * np.sin(np.arctan2(yy - cy, xx - cx) * rng.integers(2, 6))
        return ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= wobble

    def rle(m):
        encoded = mask_utils.encode(np.asfortranarray(m.astype(np.uint8)))
        return {"size": [size, size], "counts": encoded["counts"].decode("ascii")}

    cats = [{"id": c, "name": f"class{c}"} for c in (1, 2, 3)]
    images, anns, results = [], [], []
    for image_id in range(1, n_images + 1):
        images.append(
            {"id": image_id, "width": size, "height": size, "file_name": f"{image_id}.png"}
        )
        for _ in range(int(rng.integers(1, 6))):
            cx, cy = rng.uniform(20, size - 20, 2)
            rx, ry = rng.uniform(5, 40, 2)
            truth = blob(cx, cy, rx, ry)
            if not truth.any():
                continue
            cat = int(rng.integers(1, 4))
            area = float(truth.sum())
            ys, xs = np.nonzero(truth)
            bbox = [float(xs.min()), float(ys.min()), float(np.ptp(xs) + 1), float(np.ptp(ys) + 1)]
            anns.append({"id": len(anns) + 1, "image_id": image_id, "category_id": cat,
                         "segmentation": rle(truth), "area": area, "bbox": bbox,
                         "iscrowd": 0})  # fmt: skip
            if rng.uniform() < 0.85:  # found: shifted and grown or shrunk
                dx, dy = rng.normal(0, 3, 2)
                scale = rng.uniform(0.8, 1.25)
                found = blob(cx + dx, cy + dy, rx * scale, ry * scale)
                label = cat if rng.uniform() < 0.9 else int(rng.integers(1, 4))
                results.append({"image_id": image_id, "category_id": label,
                                "segmentation": rle(found),
                                "score": float(rng.uniform(0.3, 1.0))})  # fmt: skip
        for _ in range(int(rng.integers(0, 3))):  # false alarms
            cx, cy = rng.uniform(10, size - 10, 2)
            false = blob(cx, cy, *rng.uniform(4, 25, 2))
            results.append({"image_id": image_id, "category_id": int(rng.integers(1, 4)),
                            "segmentation": rle(false),
                            "score": float(rng.uniform(0.0, 0.6))})  # fmt: skip
    gt = {"images": images, "annotations": anns, "categories": cats}
    return gt, results


def bench_segm(n_images: int, repeat: int, with_pycocotools: bool) -> None:
    import bench_segm

    gt, res = random_masks(n_images)
    runs = {"vislab": [], "faster-coco-eval": []}
    if with_pycocotools:
        runs["pycocotools"] = []
    for rnd in range(repeat):
        runs["vislab"].append(bench_segm.run_vislab(gt, res))
        runs["faster-coco-eval"].append(bench_segm.run_cocoapi("faster_coco_eval", gt, res))
        if with_pycocotools and rnd == 0:  # slow, and only the reference numbers
            runs["pycocotools"].append(bench_segm.run_cocoapi("pycocotools", gt, res))
    print(
        f"segm: {n_images} images, {len(gt['annotations'])} truth masks, {len(res)} mask "
        f"results (random blobs, RLE), medians of {repeat} rounds, load average {load_average()}"
    )
    stats = {name: r[-1][3] for name, r in runs.items()}
    for name, r in runs.items():
        wall, cpu = (statistics.median(x[i] for x in r) for i in (0, 1))
        print(f"  {name:<17} eval {wall:7.3f} s   CPU {cpu:7.3f} s")
    mine, peer = runs["vislab"], runs["faster-coco-eval"]
    print(f"  vislab / faster-coco-eval (median of per-round ratios): eval {median_ratio([m[0] for m in mine], [p[0] for p in peer]):.2f} "
          f"(target <= 1.0), CPU {median_ratio([m[1] for m in mine], [p[1] for p in peer]):.2f}")  # fmt: skip
    diff = np.abs(stats["vislab"] - stats["faster-coco-eval"]).max()
    print(f"  max |vislab - faster-coco-eval| = {diff:.1e}; AP = {stats['vislab'][0]:.6f}")
    if diff > 1e-12:
        print("  FAIL: the numbers differ")
        raise SystemExit(1)
    if with_pycocotools:
        exact = np.abs(stats["vislab"] - stats["pycocotools"]).max()
        print(f"  max |vislab - pycocotools| = {exact:.1e}")
        if exact > 0:
            print("  FAIL: vislab differs from pycocotools")
            raise SystemExit(1)


# -- image similarity ------------------------------------------------------------------------


def similarity_pairs(n: int):
    """``n`` pairs: real photos (scikit-image) and edited copies (crop, brightness, JPEG)."""
    from PIL import Image, ImageEnhance
    from skimage import data

    photos = [
        data.chelsea(),
        data.coffee(),
        data.astronaut(),
        data.rocket(),
        data.hubble_deep_field(),
    ]
    rng = np.random.default_rng(0)
    a, b = {}, {}
    for i in range(n):
        photo = Image.fromarray(photos[i % len(photos)])
        side = int(rng.integers(200, 260))
        photo = photo.resize((side, side * photo.height // photo.width))
        w, h = photo.size
        dx, dy = int(rng.integers(0, w // 8)), int(rng.integers(0, h // 8))
        edited = photo.crop((dx, dy, w - dx // 2, h - dy // 2))
        edited = ImageEnhance.Brightness(edited).enhance(float(rng.uniform(0.8, 1.2)))
        buf = io.BytesIO()
        edited.save(buf, "JPEG", quality=int(rng.integers(60, 90)))
        a[f"a{i:03d}"] = np.asarray(photo)
        b[f"b{i:03d}"] = np.asarray(Image.open(buf).convert("RGB"))
    return a, b


def bench_similarity(n_pairs: int, repeat: int) -> None:
    if importlib.util.find_spec("vislab.pai") is None:
        print("similarity: skipped: vislab.pai not available")
        return
    from tests.conftest import ServeProcess
    from vislab import pai

    a, b = similarity_pairs(n_pairs)
    local = pai.Client(progress=False)
    local.image_similarity(dict(list(a.items())[:2]), dict(list(b.items())[:2]))  # warm
    server = ServeProcess()
    try:
        remote = pai.Client(server.url, progress=False)
        remote.image_similarity(dict(list(a.items())[:2]), dict(list(b.items())[:2]))
        inproc, http = [], []
        frames = {}
        for _ in range(repeat):
            t0 = time.perf_counter()
            frames["in process"] = local.image_similarity(a, b)
            t1 = time.perf_counter()
            frames["http"] = remote.image_similarity(a, b)
            t2 = time.perf_counter()
            inproc.append(t1 - t0)
            http.append(t2 - t1)
    finally:
        server.stop()
    print(
        f"similarity: {n_pairs} pairs (photos and edited copies) per batch, medians of {repeat} "
        f"rounds, load average {load_average()}"
    )
    for name, times in (("in process", inproc), ("vislab serve (HTTP)", http)):
        print(f"  {name:<20} {n_pairs / statistics.median(times):7.2f} pairs/s")
    print(f"  HTTP / in-process time (median of per-round ratios): {median_ratio(http, inproc):.2f} "
          "(target <= 1.3)")  # fmt: skip
    s_local = frames["in process"]["similarity"].to_numpy(dtype=float)
    s_http = frames["http"]["similarity"].to_numpy(dtype=float)
    if not np.allclose(s_local, s_http, atol=1e-6):
        print("  FAIL: similarities over HTTP differ from in process")
        raise SystemExit(1)
    print(f"  similarities equal: yes (median {np.median(s_local):.1f})")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="ocr,segm,similarity", help="comma-separated sections")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved rounds (median)")
    ap.add_argument("--receipts", type=int, default=6, help="receipts for the OCR section")
    ap.add_argument("--images", type=int, default=200, help="images for the segm section")
    ap.add_argument("--pairs", type=int, default=100, help="pairs per similarity batch")
    ap.add_argument("--pycocotools", action="store_true", help="also check pycocotools' numbers")
    args = ap.parse_args(argv)
    sections = {s.strip() for s in args.only.split(",") if s.strip()}
    print(f"{os.cpu_count()} cores, load average before {load_average()}")
    if "ocr" in sections:
        bench_ocr(args.receipts, args.repeat)
    if "segm" in sections:
        bench_segm(args.images, args.repeat, args.pycocotools)
    if "similarity" in sections:
        bench_similarity(args.pairs, args.repeat)
    print(f"load average after {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
