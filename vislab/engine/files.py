"""The backbone over image files: decoding overlapped with inference on the machine's cores.

:meth:`Backbone.forward_files <vislab.engine.backbone.Backbone.forward_files>` (and
``probabilities_files`` / ``embed_files``) run here. A camera JPEG costs about as much CPU to
decode as the network costs to classify it, so for folders of photos the decoding matters as
much as the model. Two things make this path fast:

Decoding
    A JPEG is decoded straight at the smallest DCT scale (1/2, 1/4 or 1/8, libjpeg's
    ``Image.draft``) whose shorter side still covers the 256 px the 224/256 centre crop needs,
    so a 3000x2000 photo is decoded to 750x500 and never exists at full size. EXIF orientation
    and colour modes are handled as :func:`vislab.images.decode_pixels` (the emulator's
    decoder) handles them. The crop, the resize and the normalisation then match
    :meth:`Backbone.preprocess` exactly, writing into the batch tensor in place. With
    ``draft=False`` (and for every non-JPEG file) the file is decoded at full size by
    ``decode_pixels`` itself, so the result equals ``embed(decode_pixels(...))`` bit for bit.
    Draft decoding is a DCT-domain downscale before the bilinear resize, so its embeddings
    differ slightly from full-size decoding (cosine > 0.99 on the test photos, same top-1).

Scheduling
    The cores are split rather than shared: decode workers (half the cores) decode the next
    two batches while onnxruntime runs the current one in a *lean* session with the other
    cores' worth of intra-op threads (one on a 2-core machine). On 2 cores this beats giving
    both onnxruntime threads and both decode threads all the cores: two intra-op threads that
    share cores with decoding wait for each other at every operator, and idle ones spin on
    the core the decoder needs. When the decoder is ahead (the next batch is already decoded,
    e.g. small JPEGs) or has nothing left to do (the last batch), the batch runs with all
    intra-op threads instead, in a session whose idle threads sleep rather than spin-wait
    (spinning threads take the cores a decoder or another process needs, and on a busy
    machine make two threads slower than one); when the decoder is behind, the calling thread
    decodes the not-yet-started images of the batch it waits for. Sessions with different
    thread counts give bit-identical outputs (tested), so which one ran a batch never shows.
    ``benchmarks/bench_backbone.py`` measures the result against the CPU-bound ceiling.
"""

from __future__ import annotations

import io
import math
import os
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageOps

from vislab.engine.preprocess import CROP_FRACTION, INPUT_SIZE, crop_box, normalise
from vislab.errors import InvalidImage
from vislab.images import decode_pixels, load_bytes

if TYPE_CHECKING:
    from vislab.engine.backbone import Backbone

# The centre crop keeps 224/256 of the shorter side, so a shorter side of 256 px still gives
# the 224 px input without upsampling.
DRAFT_MIN_SIDE = math.ceil(INPUT_SIZE / CROP_FRACTION)
# Batches being decoded while one runs: enough to keep the decoders busy across a forward.
LOOKAHEAD = 2
_JPEG_MAGIC = b"\xff\xd8\xff"


def _file_list(files) -> list:
    """One file (a path or bytes) or several -> list."""
    if isinstance(files, (str, bytes, bytearray, memoryview, os.PathLike)):
        return [files]
    return list(files)


def _ident(source, index: int) -> str:
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    return f"<bytes #{index}>"


def _read(source, ident: str) -> bytes:
    if isinstance(source, (str, os.PathLike)):
        # As a Path, "http://..." is not fetched: the engine reads local files only.
        return load_bytes(Path(os.fspath(source)), ident=ident)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return load_bytes(source, ident=ident)
    raise InvalidImage(
        f"cannot read a {type(source).__name__} as an image file; pass a path or bytes "
        "(arrays go to Backbone.forward / embed / probabilities)",
        rule="type",
        value=type(source).__name__,
        image=ident,
    )


def _open_rgb(source, *, draft: bool, index: int = 0) -> Image.Image:
    """Decoded RGB image of a file: see the module docstring for what ``draft`` changes."""
    ident = _ident(source, index)
    data = _read(source, ident)
    try:
        if not (draft and data[:3] == _JPEG_MAGIC):
            return Image.fromarray(decode_pixels(data)[0])
        image = Image.open(io.BytesIO(data))
        image.draft("RGB", (DRAFT_MIN_SIDE, DRAFT_MIN_SIDE))
        ImageOps.exif_transpose(image, in_place=True)
        image.load()
        # JPEGs are RGB, L or CMYK; decode_pixels turns the last two into RGB the same way.
        return image if image.mode == "RGB" else image.convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        # decode_pixels' own InvalidImage (a ValueError) says no more than this.
        detail = "" if isinstance(error, InvalidImage) else f" ({error})"
        raise InvalidImage(
            f"{ident} is not a readable image{detail}; check that the file is a complete image",
            rule="decode",
            image=ident,
        ) from None


def decode_file(source, *, draft: bool = True) -> np.ndarray:
    """Decode an image file for classification or embeddings, JPEGs at a reduced DCT scale.

    Parameters
    ----------
    source : path-like or bytes
        An image file or its encoded bytes (any format Pillow reads).
    draft : bool, default True
        Decode a JPEG at the smallest of 1/2, 1/4, 1/8 scale whose shorter side stays >= 256
        px (what the centre crop needs). ``False`` decodes at full size, exactly as
        :func:`vislab.images.decode_pixels`.

    Returns
    -------
    numpy.ndarray
        ``(H, W, 3)`` ``uint8`` RGB, EXIF orientation applied.

    Raises
    ------
    vislab.errors.InvalidImage
        The file is missing, empty or not a readable image (``rule`` says which).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skimage import data
    >>> path = Path(tempfile.mkdtemp()) / "cat.jpg"
    >>> Image.fromarray(data.chelsea()).resize((1200, 800)).save(path, quality=90)
    >>> decode_file(path).shape, decode_file(path, draft=False).shape
    ((400, 600, 3), (800, 1200, 3))
    """
    return np.asarray(_open_rgb(source, draft=draft))


def prepare_file_into(out: np.ndarray, source, *, draft: bool = True, index: int = 0) -> None:
    """Decode, centre-crop, resize and normalise one file into ``out`` (``(3, 224, 224)``).

    The same pixels as ``Backbone.preprocess(decode_file(source, draft=draft))``, without the
    intermediate copies.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> out = np.empty((3, 224, 224), np.float32)
    >>> prepare_file_into(out, Path(tempfile.mkdtemp()) / "missing.jpg")
    Traceback (most recent call last):
    ...
    vislab.errors.InvalidImage: no such file: ...missing.jpg
    """
    image = _open_rgb(source, draft=draft, index=index)
    patch = image.crop(crop_box(image.height, image.width))
    normalise(np.asarray(patch.resize((INPUT_SIZE, INPUT_SIZE), Image.BILINEAR)), out=out)


def _available_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def thread_split(intra_op_threads: int, cores: int | None = None) -> tuple[int, int]:
    """Decode workers and lean-session intra-op threads for streaming files.

    Parameters
    ----------
    intra_op_threads : int
        The main session's intra-op threads (the lean session never has more).
    cores : int, optional
        Cores to share; default the cores this process may run on.

    Returns
    -------
    tuple of int
        ``(decode_workers, lean_intra_op_threads)``: half the cores decode, the rest run the
        network.

    Examples
    --------
    >>> thread_split(2, cores=2)
    (1, 1)
    >>> thread_split(4, cores=8)
    (4, 4)
    """
    cores = cores or _available_cores()
    workers = max(1, cores // 2)
    return workers, max(1, min(intra_op_threads, cores - workers))


def _finish(futures: list[Future], fill, blocks: list[np.ndarray], start: int) -> None:
    """Wait for one batch; items no worker has started yet are prepared on this thread."""
    # From the back, while the workers take the batch from the front.
    for j in range(len(futures) - 1, -1, -1):
        if futures[j].cancel():
            fill(blocks[j], start + j)
    for future in futures:
        if not future.cancelled():
            future.result()


def run_files(
    backbone: Backbone, files: Sequence, outputs: Sequence[str], *, draft: bool = True
) -> dict[str, np.ndarray]:
    """Network outputs for image files, decoding overlapped with inference.

    The engine of :meth:`Backbone.forward_files <vislab.engine.backbone.Backbone.forward_files>`
    (which checks ``outputs``); see the module docstring for the schedule.

    Parameters
    ----------
    backbone : Backbone
    files : sequence of path-like or bytes
    outputs : sequence of str
        Network output names.
    draft : bool, default True
        See :func:`decode_file`.

    Returns
    -------
    dict of str to numpy.ndarray
        One array per output, one row per file, in order.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skimage import data
    >>> from vislab.engine.backbone import get_backbone
    >>> path = Path(tempfile.mkdtemp()) / "coffee.jpg"
    >>> Image.fromarray(data.coffee()).save(path)
    >>> out = run_files(get_backbone(), [path, path], ["logits"])
    >>> out["logits"].shape, out["logits"].argmax(1).tolist()
    ((2, 1000), [967, 967])
    """
    sources = _file_list(files)
    if not sources:
        raise ValueError("no files given")

    def fill(block: np.ndarray, index: int) -> None:
        prepare_file_into(block[0], sources[index], draft=draft, index=index)

    return run_prepared(backbone, len(sources), fill, outputs)


def run_prepared(
    backbone: Backbone,
    count: int,
    fill: Callable[[np.ndarray, int], None],
    outputs: Sequence[str],
    *,
    rows_per_item: int = 1,
    input_size: int = INPUT_SIZE,
    reduce: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]] | None = None,
) -> dict[str, np.ndarray]:
    """Network outputs for ``count`` items that ``fill`` prepares, on the schedule of
    :func:`run_files`.

    The public hook under :func:`run_files` for callers whose items are not plain files:
    training, for instance, feeds each image together with its mirror image
    (``rows_per_item=2``), from files or from pixels held in memory. ``fill(block, index)``
    writes item ``index``'s ``(rows_per_item, 3, 224, 224)`` normalised input into
    ``block`` (a view of the batch tensor); it runs on a decode worker, or on the calling
    thread when the workers are behind, so it must be thread-safe.

    Parameters
    ----------
    backbone : Backbone
    count : int
        Number of items (at least 1).
    fill : callable
        ``fill(block, index) -> None``, see above.
    outputs : sequence of str
        Network output names.
    rows_per_item : int, default 1
        Network inputs per item; batches hold ``max(1, batch_size // rows_per_item)`` items.
    input_size : int, default 224
        Side of the square inputs ``fill`` writes (``(rows_per_item, 3, input_size,
        input_size)`` blocks): the network is fully convolutional up to its pooling.
    reduce : callable, optional
        ``reduce(outputs) -> outputs`` applied to each batch's outputs (rows in batch order)
        before they are kept, e.g. to pool a large feature map so the whole run never holds it.

    Returns
    -------
    dict of str to numpy.ndarray
        One array per output, ``count * rows_per_item`` rows: item 0's rows, then item 1's...

    Examples
    --------
    >>> from skimage import data
    >>> from vislab.engine.backbone import get_backbone
    >>> from vislab.engine.preprocess import centre_crop_resize, normalise
    >>> cat = data.chelsea()
    >>> def fill(block, index):
    ...     normalise(centre_crop_resize(cat), out=block[0])
    ...     normalise(centre_crop_resize(np.ascontiguousarray(cat[:, ::-1])), out=block[1])
    >>> out = run_prepared(get_backbone(), 3, fill, ["logits"], rows_per_item=2)
    >>> out["logits"].shape, bool(np.array_equal(out["logits"][0], out["logits"][4]))
    ((6, 1000), True)
    """
    if count < 1:
        raise ValueError("no items given")
    names, rows = list(outputs), int(rows_per_item)
    per_batch = max(1, backbone.batch_size // rows)
    size = per_batch
    workers, lean_threads = thread_split(backbone.intra_op_threads)
    lean = backbone.session_with_threads(lean_threads)
    # Not spinning: the decoders may still be busy with a later batch (or other processes
    # share the cores); spinning intra-op threads would take their cores between operators.
    full = backbone.session_with_threads(backbone.intra_op_threads, spinning=False)
    inflight: deque[tuple[int, np.ndarray, list[np.ndarray], list[Future]]] = deque()
    chunks = []
    with ThreadPoolExecutor(workers, thread_name_prefix="vislab-decode") as pool:

        def submit(start: int) -> None:
            items = min(size, count - start)
            tensor = np.empty((items * rows, 3, input_size, input_size), np.float32)
            blocks = [tensor[j * rows : (j + 1) * rows] for j in range(items)]
            futures = [pool.submit(fill, blocks[j], start + j) for j in range(items)]
            inflight.append((start, tensor, blocks, futures))

        try:
            for start in range(0, min(count, LOOKAHEAD * size), size):
                submit(start)
            next_start = LOOKAHEAD * size
            while inflight:
                start, tensor, blocks, futures = inflight.popleft()
                _finish(futures, fill, blocks, start)
                if next_start < count:
                    submit(next_start)
                    next_start += size
                # The decoders still busy with the next batch: leave them their cores.
                decoding = bool(inflight) and not all(f.done() for f in inflight[0][3])
                session = lean if decoding else full
                outs = session.run(names, {"image": tensor})
                if reduce is not None:
                    done = reduce(dict(zip(names, outs, strict=True)))
                    outs = [done[name] for name in names]
                chunks.append(outs)
        except BaseException:
            for *_, futures in inflight:
                for future in futures:
                    future.cancel()
            raise
    return {
        name: np.concatenate([c[k] for c in chunks]) if len(chunks) > 1 else chunks[0][k]
        for k, name in enumerate(names)
    }
