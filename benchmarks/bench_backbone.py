"""Backbone throughput: camera-size JPEGs end to end vs the model forward alone.

Run with ``python benchmarks/bench_backbone.py`` (``--help`` for options). It writes ~32 real
JPEGs of camera size (skimage photos upscaled to 3000x2000, flipped/cropped variants, quality
90) into ``benchmarks/_data/`` once, then measures in the same run:

forward only
    ``session.run`` on tensors decoded and preprocessed beforehand, in each session
    configuration: the main one (all intra-op threads, spin-waiting: ``Backbone.forward``),
    the one ``forward_files`` uses when no decoding runs (all threads, not spinning) and the
    lean one it uses while decoding runs (one thread on 2 cores). The fastest of the three
    is the forward reference.
decode+preprocess only
    the per-image step of ``forward_files`` (the JPEG decoded at the smallest DCT scale whose
    shorter side still covers the 256 px the centre crop needs, 750x500 here; crop, resize,
    normalise into the batch tensor) on ``--decode-threads`` threads, no network.
end-to-end sequential
    per batch: decode each image, ``Backbone.preprocess``, ``forward``, one after the other.
end-to-end thread pool
    the pipeline this benchmark measured before: a pool of ``--decode-threads`` threads
    decodes the next batch while onnxruntime runs the current one with all its threads.
end-to-end forward_files
    ``Backbone.forward_files``, the library's path for files (:mod:`vislab.engine.files`):
    decoding on one core while the lean session runs on the other, the main session for the
    last batch, the calling thread helping the decoder when it waits.

Every mode classifies the same images with the same batch size, and every end-to-end mode
must give logits bit-identical to forward only (printed). The modes are interleaved and
repeated, and medians reported. Forward and decoding can each keep both cores busy, so
taking turns costs 1/forward + 1/decode per image: the CPU-bound ceiling
``1 / (1/forward + 1/decode)`` printed at the end. Target (issue 8): end-to-end >= 0.95 of it.
Splitting the cores (one decoding, one running the lean session) is not bound by it: one
intra-op thread does more work per core than two, so ``forward_files`` may reach past 100 %.
The machine is shared: quote medians over several runs, and the spread each run prints.

What it showed on the shared 2-core machine (load 9-15, so every rate is a fraction of a
quiet machine's: forward alone 13-22 img/s instead of ~112), 6 runs of the default 32 images:
forward_files reached 0.90 of the ceiling (median; 0.79-0.95), the previous thread-pool
pipeline 0.75 (0.71-0.79), forward_files / thread pool 1.06-1.35 (median 1.18). On that busy
machine one intra-op thread outran two (19 vs 13-14 img/s), so the lean session was the
reference. The 0.95 target was not reached there; on a quiet machine it was not measured.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from vislab.engine.backbone import INPUT_SIZE, Backbone  # noqa: E402
from vislab.engine.files import decode_file, prepare_file_into, thread_split  # noqa: E402

DATA_DIR = REPO / "benchmarks" / "_data"
CAMERA_SIZE = (3000, 2000)


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


def batches(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def run_forward(session, tensors: list[np.ndarray]) -> np.ndarray:
    return np.concatenate([session.run(["logits"], {"image": t})[0] for t in tensors])


def run_sequential(backbone: Backbone, groups: list[list[Path]]) -> np.ndarray:
    out = []
    for group in groups:
        tensor = backbone.preprocess([decode_file(p) for p in group])
        out.append(backbone.forward(tensor, ("logits",))["logits"])
    return np.concatenate(out)


def run_thread_pool(backbone: Backbone, groups: list[list[Path]], pool: ThreadPoolExecutor):
    """The previous pipeline: a pool decodes the next batch on all cores while onnxruntime
    runs the current one with all its intra-op threads."""

    def prepare(group: list[Path]) -> np.ndarray:
        # one task per image so the pool's threads share a batch's decoding
        return backbone.preprocess(list(pool.map(decode_file, group)))

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
    """Decode + preprocess on all pool threads, no network: the other half of the work.

    The per-image step is the one ``forward_files`` runs (decode, crop, resize, normalise
    into the batch tensor)."""
    tensor = np.empty((len(paths), 3, INPUT_SIZE, INPUT_SIZE), np.float32)
    list(pool.map(prepare_file_into, tensor, paths))
    return tensor


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
    parser.add_argument(
        "--decode-threads", type=int, default=2, help="threads of decode-only and the thread pool"
    )
    args = parser.parse_args(argv)

    start = time.perf_counter()
    width, height = (int(v) for v in args.size.lower().split("x"))
    paths = make_dataset(args.images, (width, height))
    size_mb = sum(p.stat().st_size for p in paths) / 1e6
    print(
        f"data: {len(paths)} JPEGs {width}x{height} q90, {size_mb:.1f} MB, "
        f"ready in {time.perf_counter() - start:.1f}s ({paths[0].parent.relative_to(REPO)})"
    )
    backbone = Backbone(batch_size=args.batch)
    workers, lean_threads = thread_split(backbone.intra_op_threads)
    lean = backbone.session_with_threads(lean_threads)
    sleepy = backbone.session_with_threads(backbone.intra_op_threads, spinning=False)
    groups = batches(paths, args.batch)
    tensors = [backbone.preprocess([decode_file(p) for p in g]) for g in groups]
    decoded = decode_file(paths[0])
    print(
        f"backbone: {backbone!r}, intra-op threads {backbone.intra_op_threads} "
        f"(lean session {lean_threads}, forward_files decode workers {workers}); "
        f"draft decode {width}x{height} -> {decoded.shape[1]}x{decoded.shape[0]}"
    )

    main_name = f"forward only, {backbone.intra_op_threads} threads"
    sleepy_name = f"forward only, {backbone.intra_op_threads} threads no spin"
    lean_name = f"forward only, {lean_threads} thread(s)"
    n = len(paths)
    with ThreadPoolExecutor(max_workers=args.decode_threads) as pool:
        modes = {
            main_name: lambda: run_forward(backbone.session, tensors),
            sleepy_name: lambda: run_forward(sleepy, tensors),
            lean_name: lambda: run_forward(lean, tensors),
            "end-to-end sequential": lambda: run_sequential(backbone, groups),
            "end-to-end thread pool": lambda: run_thread_pool(backbone, groups, pool),
            "end-to-end forward_files": lambda: backbone.forward_files(paths)["logits"],
            "decode+preprocess only": lambda: run_decode_only(paths, pool),
        }
        for name, session in ((sleepy_name, sleepy), (lean_name, lean)):
            if session is backbone.session:  # a 1-thread backbone has one configuration
                del modes[name]
        # warm-up: first runs allocate onnxruntime's arenas and PIL's decoders
        for fn in modes.values():
            fn()
        results = {}
        # interleave the modes, so a busy neighbour on the machine slows all of them alike
        rates: dict[str, list[float]] = {name: [] for name in modes}
        for _ in range(args.repeats):
            for name, fn in modes.items():
                rate, results[name] = timed(fn, n)
                rates[name].append(rate)
    medians = {name: statistics.median(r) for name, r in rates.items()}
    # The reference is the faster forward configuration, whichever that is.
    forward_name = max((main_name, sleepy_name, lean_name), key=lambda k: medians.get(k, 0.0))
    base = medians[forward_name]
    reference = results[main_name]
    print(f"\n{n} images, batch {args.batch}, {args.repeats} repeats (median images/s):")
    for name, value in medians.items():
        spread = f"[{min(rates[name]):.1f} .. {max(rates[name]):.1f}]"
        line = f"  {name:34s} {value:7.1f} img/s  {spread:18s} ratio {value / base:.2f}"
        if results[name].ndim == 2:
            line += f"  logits equal: {bool(np.array_equal(results[name], reference))}"
        print(line)
    decode_rate = medians["decode+preprocess only"]
    # Forward and decoding each keep both cores busy, so one image costs at least the sum of
    # their per-image times if they take turns: the ceiling for sharing the cores.
    ceiling = 1 / (1 / base + 1 / decode_rate)
    print(
        f"\nCPU-bound ceiling from {forward_name!r} and decode+preprocess: {ceiling:.1f} img/s "
        f"= ratio {ceiling / base:.2f} of forward"
    )
    for name in ("end-to-end thread pool", "end-to-end forward_files"):
        print(f"{name:26s} reaches {medians[name] / ceiling:.0%} of it (target >= 95%)")
    print("load average (1 / 5 / 15 min): " + " / ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
