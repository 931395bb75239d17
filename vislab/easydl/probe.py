"""What a dataset knows about each image without decoding it: size, format, bytes or a reason.

:func:`probe` reads a file's header only (the first 64 KiB, more only when a JPEG keeps its
size marker behind a large EXIF block), through :func:`vislab.images.read_header`, so checking
100,000 images reads a few GB less than decoding them would.  The EXIF orientation is applied
to the size (a portrait phone photo stored sideways reports its upright width and height), so
sizes agree with the pixels :func:`load_pixels` returns and with the boxes drawn on them.

A file that cannot be read gets a reason instead (``error``): no such file, not a regular
file, empty, too large to read, or not an image.  Nothing here raises for a bad image: a
dataset keeps the row and :meth:`vislab.easydl.Dataset.check` reports it.
"""

from __future__ import annotations

import io
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from vislab.errors import InvalidImage
from vislab.images import MAX_READ_BYTES, array_to_pil, decode_pixels, read_header

__all__ = [
    "ImageInfo",
    "probe",
    "load_pixels",
    "source_bytes",
    "IMAGE_EXTENSIONS",
    "is_junk",
    "is_image_name",
]

#: File extensions read as images when a folder is scanned (EasyDL accepts the first four;
#: the others are read so that :meth:`~vislab.easydl.Dataset.check` can say why they fail).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")
_HEAD = 64 * 1024
_JUNK = {".DS_Store", "Thumbs.db", "desktop.ini"}
_ROTATED = {5, 6, 7, 8}  # EXIF orientations that swap width and height


@dataclass(frozen=True)
class ImageInfo:
    """An image's header facts, or the reason it has none.

    Attributes
    ----------
    width, height : float
        Pixels after the EXIF orientation (NaN when unreadable).
    format : str or None
        ``"JPEG"``, ``"PNG"``, ``"BMP"``...; ``None`` for in-memory arrays and unreadable files.
    bytes : float
        File size (NaN for arrays and missing files).
    error : str or None
        Why the image cannot be read, or ``None``.

    Examples
    --------
    >>> probe(np.zeros((20, 30, 3), np.uint8))
    ImageInfo(width=30.0, height=20.0, format=None, bytes=nan, error=None)
    """

    width: float
    height: float
    format: str | None
    bytes: float
    error: str | None = None


def is_junk(name: str) -> bool:
    """Whether a file name is an archiver's or a desktop's side file (never an image).

    Examples
    --------
    >>> is_junk(".DS_Store"), is_junk("._cat.jpg"), is_junk("cat.jpg")
    (True, True, False)
    """
    return name in _JUNK or name.startswith(".")


def is_image_name(name: str) -> bool:
    """Whether a file name has an image extension of :data:`IMAGE_EXTENSIONS`.

    Examples
    --------
    >>> is_image_name("a.JPG"), is_image_name("a.xml")
    (True, False)
    """
    return Path(name).suffix.lower() in IMAGE_EXTENSIONS


def _bad(reason: str, nbytes=np.nan) -> ImageInfo:
    return ImageInfo(np.nan, np.nan, None, float(nbytes), reason)


def _from_head(head: bytes, nbytes) -> ImageInfo:
    w, h, fmt = read_header(head)
    if fmt in ("JPEG", "WEBP", "TIFF"):
        try:
            with Image.open(io.BytesIO(head)) as img:
                if img.getexif().get(0x0112) in _ROTATED:
                    w, h = h, w
        except Exception:  # an unreadable EXIF block leaves the stored orientation
            pass
    return ImageInfo(float(w), float(h), fmt, float(nbytes))


def _probe_bytes(data: bytes, nbytes, more=None) -> ImageInfo:
    if not data:
        return _bad("empty file (0 bytes)", 0)
    try:
        return _from_head(data, nbytes)
    except InvalidImage:
        pass
    if more is not None:  # the size marker may lie behind a large EXIF block
        try:
            return _from_head(more(), nbytes)
        except InvalidImage:
            pass
    return _bad(
        "not a readable image (its header is not PNG, JPEG, BMP or another format Pillow reads)",
        nbytes,
    )


def probe(source) -> ImageInfo:
    """Header facts of a path, image bytes, a numpy array or a PIL image.

    Parameters
    ----------
    source : str, Path, bytes, numpy.ndarray or PIL.Image.Image

    Returns
    -------
    ImageInfo
        Never raises for a bad image: ``error`` says what is wrong.

    Examples
    --------
    >>> probe("/no/such.jpg").error
    'no such file'
    >>> buf = io.BytesIO(); Image.new("RGB", (40, 30)).save(buf, "PNG")
    >>> info = probe(buf.getvalue())
    >>> info.width, info.height, info.format
    (40.0, 30.0, 'PNG')
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        return _probe_bytes(data, len(data))
    if isinstance(source, np.ndarray):
        try:
            pil = array_to_pil(source, "array")
        except InvalidImage as exc:
            return _bad(str(exc))
        return ImageInfo(float(pil.width), float(pil.height), None, np.nan)
    if isinstance(source, Image.Image):
        return ImageInfo(float(source.width), float(source.height), source.format, np.nan)
    path = Path(source)
    try:
        st = path.stat()
    except FileNotFoundError:
        return _bad("no such file")
    except (OSError, ValueError) as exc:
        return _bad(f"cannot open it ({type(exc).__name__}: {exc})")
    if not stat.S_ISREG(st.st_mode):
        return _bad("not a regular file (a folder, device or FIFO)")
    if st.st_size > MAX_READ_BYTES:
        return _bad(f"{st.st_size} bytes, more than the {MAX_READ_BYTES} vislab reads", st.st_size)
    try:
        with open(path, "rb") as fh:
            head = fh.read(_HEAD)
    except OSError as exc:
        return _bad(f"cannot read it ({exc.strerror or exc})", st.st_size)
    more = (lambda: path.read_bytes()) if st.st_size > _HEAD else None
    return _probe_bytes(head, st.st_size, more)


def source_bytes(source) -> bytes:
    """The encoded bytes of a path or bytes source (arrays and PIL images are encoded as PNG).

    Raises :class:`~vislab.errors.InvalidImage` for a missing or unreadable file.

    Examples
    --------
    >>> source_bytes(np.zeros((2, 2), np.uint8))[:4]
    b'\\x89PNG'
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, (np.ndarray, Image.Image)):
        pil = array_to_pil(source, "array") if isinstance(source, np.ndarray) else source
        buf = io.BytesIO()
        pil.save(buf, "PNG")
        return buf.getvalue()
    from vislab.images.sources import read_file

    return read_file(os.fspath(source), ident=str(source))


def load_pixels(source, ident: str = "") -> np.ndarray:
    """Decode a source to uint8 RGB ``(H, W, 3)`` with the EXIF orientation applied.

    Raises :class:`~vislab.errors.InvalidImage` naming the image when it cannot be decoded.

    Examples
    --------
    >>> load_pixels(np.zeros((4, 6), bool)).shape
    (4, 6, 3)
    """
    if isinstance(source, np.ndarray):
        return np.asarray(array_to_pil(source, ident or "array").convert("RGB"))
    if isinstance(source, Image.Image):
        return np.asarray(source.convert("RGB"))
    try:
        pixels, _ = decode_pixels(source_bytes(source))
    except InvalidImage as exc:
        raise InvalidImage(
            f"{ident or source}: {exc}",
            rule=exc.rule,
            limit=exc.limit,
            value=exc.value,
            image=ident or None,
        ) from None
    return pixels
