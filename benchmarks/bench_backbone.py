"""Backbone throughput: camera-size JPEGs end to end vs the model forward alone.

Run with ``python benchmarks/bench_backbone.py`` (``--help`` for options). It writes ~32 real
JPEGs of camera size (skimage photos upscaled to 3000x2000, flipped/cropped variants, quality
90) into ``benchmarks/_data/`` once, then measures in the same run:

forward
    ``Backbone.forward`` on tensors decoded and preprocessed beforehand: the ceiling.
end-to-end, sequential
    per batch: PIL decode with ``Image.draft`` (libjpeg's DCT scaling decodes straight to the
    smallest 1/2, 1/4 or 1/8 size whose shorter side still covers the 256 px the centre crop
    needs) + ``Backbone.preprocess`` + ``forward``, one after the other.
end-to-end, pipelined
    the same work, with decoding and preprocessing of the next batch running in a small
    thread pool while onnxruntime runs the current one (PIL and onnxruntime release the GIL).

Every mode classifies the same images with the same batch size; the modes are interleaved,
repeated, and the median images/s reported with the ratio end-to-end / forward (target >= 0.8),
plus decode+preprocess alone and the CPU-bound ceiling those two rates allow together.

What it showed on the 2-core (AVX-512) development machine: the forward pass runs at ~175-185
images/s when the machine is quiet, while libjpeg's entropy decoding of a 3000x2000 q90 JPEG
costs ~11-14 ms of one core even with DCT scaling, so decoding is the larger half of the
work. Both halves keep both cores busy, so end-to-end cannot beat 1 / (1/forward + 1/decode),
about half the forward rate; the pipelined mode reaches that ceiling and the 0.8 target is out
of reach for camera-size JPEGs here. On a busy machine onnxruntime's two intra-op threads
suffer most (each operator waits for its slower thread), so the ratio then looks better than
it is: compare runs on a quiet machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from vislab.engine.backbone import CROP_FRACTION, INPUT_SIZE, Backbone  # noqa: E402

DATA_DIR = REPO / "benchmarks" / "_data"
CAMERA_SIZE = (3000, 2000)
# The centre crop keeps 0.875 of the shorter side and must still be >= 224 px.
DRAFT_MIN_SIDE = int(np.ceil(INPUT_SIZE / CROP_FRACTION))


def make_dataset(
    count: int = 32, size: tuple[int, int] = CAMERA_SIZE, folder: Path | None = None
) -> list[Path]:
    """Write ``count`` JPEGs of ``size`` made from skimage photos (once; reused afterwards)."""
    from skimage import data

    folder = folder or DATA_DIR / f"{size[0]}x{size[1]}"
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"photo_{i:02d}.jpg" for i in range(count)]
    if all(p.exists() for p in paths):
        return paths
    sources = [
        data.astronaut(),
        data.chelsea(),
        data.coffee(),
        data.rocket(),
        data.stereo_motorcycle()[0],
        np.repeat(data.camera()[:, :, None], 3, axis=2),
        data.immunohistochemistry(),
        data.hubble_deep_field(),
    ]
    for i, path in enumerate(paths):
        photo = Image.fromarray(sources[i % len(sources)])
        variant = i // len(sources)
        if variant % 2:
            photo = photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        if variant >= 2:  # a different framing, so the copies are not pixel-identical
            w, h = photo.size
            photo = photo.crop((w // 10, h // 10, w, h))
        photo = photo.resize(size, Image.BICUBIC)
        photo.save(path, format="JPEG", quality=90)
    return paths


DECODE_OPTIONS = {"min_side": DRAFT_MIN_SIDE}


def decode(path: Path) -> np.ndarray:
    """Decode a JPEG at the smallest DCT scale that still serves the 224 px centre crop."""
    side = DECODE_OPTIONS["min_side"]
    with Image.open(path) as image:
        image.draft("RGB", (side, side))
        return np.asarray(image.convert("RGB"))


def batches(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def run_forward(backbone: Backbone, tensors: list[np.ndarray]) -> np.ndarray:
    return np.concatenate([backbone.forward(t, ("logits",))["logits"] for t in tensors])


def run_sequential(backbone: Backbone, groups: list[list[Path]]) -> np.ndarray:
    out = []
    for group in groups:
        tensor = backbone.preprocess([decode(p) for p in group])
        out.append(backbone.forward(tensor, ("logits",))["logits"])
    return np.concatenate(out)


def run_pipelined(backbone: Backbone, groups: list[list[Path]], pool: ThreadPoolExecutor):
    def prepare(group: list[Path]) -> np.ndarray:
        # one task per image so the pool's threads share a batch's decoding
        return backbone.preprocess(list(pool.map(decode, group)))

    out = []
    with ThreadPoolExecutor(max_workers=1) as feeder:
        pending = feeder.submit(prepare, groups[0])
        for nxt in [*groups[1:], None]:
            tensor = pending.result()
            if nxt is not None:
                pending = feeder.submit(prepare, nxt)
            out.append(backbone.forward(tensor, ("logits",))["logits"])
    return np.concatenate(out)


def run_decode_only(paths: list[Path], pool: ThreadPoolExecutor) -> np.ndarray:
    """Decode + preprocess on all pool threads, no network: the other half of the work."""
    from vislab.engine.backbone import _centre_crop_resize, _normalise

    return np.stack(
        list(pool.map(lambda p: _normalise(_centre_crop_resize(decode(p), INPUT_SIZE)), paths))
    )


def timed(fn, n_images: int) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return n_images / (time.perf_counter() - start), result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--size", default="3000x2000", help="JPEG size, WIDTHxHEIGHT")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--decode-threads", type=int, default=2)
    parser.add_argument(
        "--draft-min-side",
        type=int,
        default=DRAFT_MIN_SIDE,
        help="shorter side the JPEG DCT-scaled decode must keep (256 serves the 224 crop)",
    )
    args = parser.parse_args(argv)
    DECODE_OPTIONS["min_side"] = args.draft_min_side

    start = time.perf_counter()
    width, height = (int(v) for v in args.size.lower().split("x"))
    paths = make_dataset(args.images, (width, height))
    size_mb = sum(p.stat().st_size for p in paths) / 1e6
    print(
        f"data: {len(paths)} JPEGs {width}x{height} q90, {size_mb:.1f} MB, "
        f"ready in {time.perf_counter() - start:.1f}s ({paths[0].parent.relative_to(REPO)})"
    )
    backbone = Backbone(batch_size=args.batch)
    groups = batches(paths, args.batch)
    tensors = [backbone.preprocess([decode(p) for p in g]) for g in groups]
    decoded = decode(paths[0])
    print(
        f"backbone: {backbone!r}, intra-op threads "
        f"{backbone.session.get_session_options().intra_op_num_threads}; "
        f"draft decode {width}x{height} -> {decoded.shape[1]}x{decoded.shape[0]}"
    )

    # warm-up: first runs allocate onnxruntime's arenas and PIL's decoders
    run_forward(backbone, tensors)
    run_sequential(backbone, groups[:1])
    n = len(paths)
    with ThreadPoolExecutor(max_workers=args.decode_threads) as pool:
        run_pipelined(backbone, groups[:2], pool)
        modes = {
            "forward only (pre-decoded)": lambda: run_forward(backbone, tensors),
            "end-to-end sequential": lambda: run_sequential(backbone, groups),
            "end-to-end pipelined": lambda: run_pipelined(backbone, groups, pool),
            "decode+preprocess only": lambda: run_decode_only(paths, pool),
        }
        results = {}
        # interleave the modes, so a busy neighbour on the machine slows all of them alike
        rates: dict[str, list[float]] = {name: [] for name in modes}
        for _ in range(args.repeats):
            for name, fn in modes.items():
                rate, results[name] = timed(fn, n)
                rates[name].append(rate)
    medians = {name: statistics.median(r) for name, r in rates.items()}
    base = medians["forward only (pre-decoded)"]
    reference = results["forward only (pre-decoded)"].argmax(1)
    print(f"\n{n} images, batch {args.batch}, {args.repeats} repeats (median images/s):")
    for name, value in medians.items():
        spread = f"[{min(rates[name]):.1f} .. {max(rates[name]):.1f}]"
        line = f"  {name:28s} {value:7.1f} img/s  {spread:18s} ratio {value / base:.2f}"
        if results[name].ndim == 2:
            line += f"  same top-1 as forward: {bool((results[name].argmax(1) == reference).all())}"
        print(line)
    best = max(medians["end-to-end sequential"], medians["end-to-end pipelined"])
    decode_rate = medians["decode+preprocess only"]
    # Forward and decoding each keep both cores busy, so one image costs at least the sum of
    # their per-image times: the best any overlap can do.
    ceiling = 1 / (1 / base + 1 / decode_rate)
    print(f"\nend-to-end / forward = {best / base:.2f} (target >= 0.80)")
    print(
        f"CPU-bound ceiling for end-to-end on this machine: {ceiling:.1f} img/s "
        f"= ratio {ceiling / base:.2f}; pipelined reaches {best / ceiling:.0%} of it"
    )


if __name__ == "__main__":
    main()
