"""Any image input -> validated, encoded payload for one endpoint.

Accepted inputs (:func:`expand_images`): a path (``str`` / ``pathlib.Path``), raw ``bytes``, a
PIL image, a numpy array (HxW grey, HxWx3 RGB or HxWx4 RGBA, uint8 or float in 0..1), an
``http(s)://`` URL, a glob pattern (``"photos/*.jpg"``), or many of those as a list, tuple,
pandas Series (the index is *not* used; the values are) or ``dict`` {identifier: image}.
A DataFrame column is passed as that Series: ``df["path"]``.

:func:`prepare_image` decodes, applies the EXIF orientation, normalises the pixel mode and
checks the endpoint's :class:`~vislab.catalogue.ImageLimits` (format, encoded size as that
service counts it, shortest / longest side, aspect ratio).  With ``fit=True`` (the default)
an image that is merely too large is shrunk and re-encoded instead of failing; an image that
cannot be fixed (too small, extreme aspect ratio, not an image) raises
:class:`~vislab.errors.InvalidImage` naming the rule, the limit and the value.

Decisions a user may want to know:

* Animated GIFs: the **first frame** is sent (re-encoded as PNG when the endpoint does not
  take GIF), and ``PreparedImage.note`` says so.
* 16-bit, CMYK, palette-with-transparency and other modes are converted to 8-bit RGB
  (transparent areas composited on white), because the services accept 8-bit colour only.
* Original bytes are sent untouched whenever they already pass every rule, so a re-run sends
  the same bytes (and hits the cache); anything converted is re-encoded as JPEG quality 95
  (or PNG for images with few colours).
"""

from __future__ import annotations

import base64
import glob
import hashlib
import io
import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from vislab.errors import InvalidImage

__all__ = [
    "ImageLimits",
    "PreparedImage",
    "expand_images",
    "load_bytes",
    "prepare_image",
    "encoded_size",
    "image_id",
    "decode_pixels",
    "read_header",
]

# Decompression bombs: a 4096x4096 limit per side is the largest any service allows; refuse to
# decode anything that would expand beyond ~25x that area before we can shrink it.
Image.MAX_IMAGE_PIXELS = 400_000_000

_GLOB_CHARS = set("*?[")
# PIL format name -> the names services use in their docs.
_FORMAT_ALIASES = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "BMP": "BMP", "GIF": "GIF",
                   "WEBP": "WEBP", "TIFF": "TIFF"}


@dataclass(frozen=True)
class ImageLimits:
    """Image rules of one endpoint, restated from its spec.

    Parameters
    ----------
    formats : tuple of str
        Accepted formats as PIL names (``"JPEG"``, ``"PNG"``, ``"BMP"``, ``"GIF"``).
    max_encoded_bytes : int
        Largest payload as the service counts it.
    counts : {"base64", "base64+urlencode", "raw"}
        How the service measures the payload.
    min_side, max_side : int
        Shortest side must be >= ``min_side``; longest side <= ``max_side`` (pixels).
    max_aspect : float or None
        Longest / shortest side must be <= this.

    Examples
    --------
    >>> lim = ImageLimits(formats=("JPEG", "PNG"), max_encoded_bytes=4 * 2**20)
    >>> lim.min_side, lim.max_side
    (15, 4096)
    """

    formats: tuple[str, ...] = ("JPEG", "PNG", "BMP")
    max_encoded_bytes: int = 4 * 1024 * 1024
    counts: str = "base64"
    min_side: int = 15
    max_side: int = 4096
    max_aspect: float | None = 3.0


@dataclass
class PreparedImage:
    """An image ready to send: the bytes and what we learnt on the way.

    Attributes
    ----------
    id : str
        The caller's identifier (path as given, URL, or an explicit key).
    data : bytes
        Encoded image file bytes (not base64).
    format : str
        PIL format of ``data``.
    width, height : int
        Pixel size of ``data`` (after EXIF orientation).
    note : str
        What was changed to fit the rules ("" when the original bytes are sent).
    """

    id: str
    data: bytes
    format: str
    width: int
    height: int
    note: str = ""
    sha256: str = field(default="", repr=False)

    def __post_init__(self):
        if not self.sha256:
            self.sha256 = hashlib.sha256(self.data).hexdigest()

    def b64(self) -> str:
        """The payload as the base64 text services expect (no data-URI header)."""
        return base64.b64encode(self.data).decode("ascii")


def image_id(source: Any, index: int) -> str:
    """The identifier a frame shows for ``source`` (paths and URLs as given).

    Examples
    --------
    >>> image_id("photos/cat.jpg", 0), image_id(b"...", 3)
    ('photos/cat.jpg', 'image-3')
    """
    if isinstance(source, (str, Path)):
        return str(source)
    return f"image-{index}"


def _looks_like_glob(text: str) -> bool:
    return any(c in text for c in _GLOB_CHARS) and not text.startswith(("http://", "https://"))


def expand_images(images: Any) -> list[tuple[str, Any]]:
    """Turn any accepted input into a list of ``(identifier, source)`` pairs, in order.

    A single image gives a one-element list.  Glob patterns expand to the sorted matching
    files (a pattern that matches nothing raises :class:`InvalidImage` — an empty batch is
    almost always a typo).  Duplicated identifiers get ``#2``, ``#3`` suffixes so every input
    keeps its own row.

    Examples
    --------
    >>> expand_images(["a.jpg", "b.jpg"])
    [('a.jpg', 'a.jpg'), ('b.jpg', 'b.jpg')]
    >>> expand_images({"cat": b"..."})
    [('cat', b'...')]
    """
    import pandas as pd  # local: keeps `vislab.images` importable by the pandas-free emulator

    if isinstance(images, pd.DataFrame):
        raise TypeError(
            "pass one column of the DataFrame (e.g. df['path']), not the whole frame"
        )
    if isinstance(images, Mapping):
        pairs = [(str(k), v) for k, v in images.items()]
    elif isinstance(images, pd.Series):
        pairs = [(image_id(v, i), v) for i, v in enumerate(images.tolist())]
    elif isinstance(images, (list, tuple)):
        pairs = []
        for i, item in enumerate(images):
            if isinstance(item, (str, Path)) and _looks_like_glob(str(item)):
                pairs.extend(expand_images(str(item)))
            else:
                pairs.append((image_id(item, i), item))
    elif isinstance(images, (str, Path)) and _looks_like_glob(str(images)):
        matches = sorted(glob.glob(str(images), recursive=True))
        matches = [m for m in matches if os.path.isfile(m)]
        if not matches:
            raise InvalidImage(
                f"the pattern {str(images)!r} matches no file; check the folder and extension",
                rule="missing", value=str(images),
            )
        pairs = [(m, m) for m in matches]
    else:
        pairs = [(image_id(images, 0), images)]
    seen: dict[str, int] = {}
    out = []
    for key, src in pairs:
        n = seen.get(key, 0) + 1
        seen[key] = n
        out.append((key if n == 1 else f"{key}#{n}", src))
    return out


def _fetch_url(url: str, *, timeout: float, max_bytes: int) -> bytes:
    import requests

    try:
        with requests.get(url, timeout=timeout, stream=True) as resp:
            if resp.status_code != 200:
                raise InvalidImage(
                    f"{url} answered HTTP {resp.status_code}; check the address",
                    rule="url", value=resp.status_code, image=url,
                )
            ctype = resp.headers.get("Content-Type", "")
            if ctype and not ctype.startswith(("image/", "application/octet-stream")):
                raise InvalidImage(
                    f"{url} is not an image (Content-Type {ctype!r}); pass the image's own URL",
                    rule="url", value=ctype, image=url,
                )
            chunks, total = [], 0
            for chunk in resp.iter_content(65536):
                total += len(chunk)
                if total > max_bytes:
                    raise InvalidImage(
                        f"{url} is larger than {max_bytes} bytes; download and shrink it first",
                        rule="encoded_size", limit=max_bytes, value=total, image=url,
                    )
                chunks.append(chunk)
            return b"".join(chunks)
    except requests.RequestException as exc:
        raise InvalidImage(
            f"could not download {url}: {type(exc).__name__}; check the address and network",
            rule="url", value=url, image=url,
        ) from None


def load_bytes(source: Any, *, ident: str = "", timeout: float = 10.0) -> bytes | Image.Image:
    """Read a source into encoded bytes, or a PIL image for in-memory inputs.

    Raises :class:`InvalidImage` for a missing file, a directory, an empty file or an
    unreachable URL.

    Examples
    --------
    >>> load_bytes(b"\\x89PNG...")[:4]
    b'\\x89PNG'
    """
    ident = ident or image_id(source, 0)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, Image.Image):
        return source
    elif isinstance(source, np.ndarray):
        return _array_to_pil(source, ident)
    elif isinstance(source, (str, Path)):
        text = str(source)
        if text.startswith(("http://", "https://")):
            data = _fetch_url(text, timeout=timeout, max_bytes=64 * 2**20)
        else:
            path = Path(text).expanduser()
            if path.is_dir():
                raise InvalidImage(
                    f"{text} is a folder, not an image; pass a file or a pattern like "
                    f"'{text.rstrip('/')}/*.jpg'",
                    rule="not_a_file", image=ident,
                )
            if not path.exists():
                raise InvalidImage(f"no such file: {text}", rule="missing", image=ident)
            data = path.read_bytes()
    else:
        raise InvalidImage(
            f"cannot use a {type(source).__name__} as an image; pass a path, URL, bytes, "
            "PIL image or numpy array",
            rule="type", value=type(source).__name__, image=ident,
        )
    if not data:
        raise InvalidImage(f"{ident} is empty (0 bytes)", rule="empty", value=0, image=ident)
    return data


def _array_to_pil(arr: np.ndarray, ident: str) -> Image.Image:
    a = np.asarray(arr)
    if a.dtype.kind == "f":
        if np.nanmax(a) <= 1.0:
            a = a * 255.0
        a = np.clip(np.nan_to_num(a), 0, 255).astype(np.uint8)
    elif a.dtype == np.uint16:
        a = (a >> 8).astype(np.uint8)
    elif a.dtype != np.uint8:
        a = np.clip(a, 0, 255).astype(np.uint8)
    if a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (1, 3, 4)):
        return Image.fromarray(a.squeeze(-1) if a.ndim == 3 and a.shape[2] == 1 else a)
    raise InvalidImage(
        f"array of shape {arr.shape} is not an image; expected HxW, HxWx3 or HxWx4",
        rule="type", value=tuple(arr.shape), image=ident,
    )


def encoded_size(nbytes_or_data, counts: str = "base64") -> int:
    """Size of a payload as a service counts it.

    Parameters
    ----------
    nbytes_or_data : bytes
        The image file bytes.
    counts : {"raw", "base64", "base64+urlencode"}

    Examples
    --------
    >>> encoded_size(b"abc"), encoded_size(b"abc", "raw")
    (4, 3)
    """
    data = nbytes_or_data
    if counts == "raw":
        return len(data)
    b64 = base64.b64encode(data)
    if counts == "base64":
        return len(b64)
    return len(urllib.parse.quote_plus(b64.decode("ascii")))


def _to_rgb(img: Image.Image) -> tuple[Image.Image, str]:
    """8-bit RGB (or L) copy of ``img`` and a note of what changed."""
    mode = img.mode
    if mode in ("RGB", "L"):
        return img, ""
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        a = np.asarray(img, dtype=np.float64)
        hi = a.max() if a.size and a.max() > 255 else 255.0
        out = Image.fromarray((a / max(hi, 1.0) * 255.0).round().astype(np.uint8), "L")
        return out, f"converted {mode} (16-bit) to 8-bit"
    if mode == "P" and "transparency" in img.info or mode in ("RGBA", "LA", "PA"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB"), (
            f"composited {mode} transparency on white"
        )
    return img.convert("RGB"), f"converted {mode} to RGB"


def _orientation(img: Image.Image) -> int | None:
    try:
        return img.getexif().get(0x0112)
    except Exception:
        return None


def _encode(img: Image.Image, fmt: str, quality: int = 95) -> bytes:
    buf = io.BytesIO()
    if fmt == "JPEG":
        img.save(buf, "JPEG", quality=quality, optimize=True)
    else:
        img.save(buf, fmt)
    return buf.getvalue()


def prepare_image(
    source: Any,
    limits: ImageLimits,
    *,
    ident: str | None = None,
    fit: bool = True,
) -> PreparedImage:
    """Decode, orient, normalise and validate one image against ``limits``.

    Parameters
    ----------
    source : path, URL, bytes, PIL.Image or numpy array
    limits : ImageLimits
        The target endpoint's rules.
    ident : str, optional
        Identifier used in messages and frames.
    fit : bool, default True
        Shrink / re-encode images that are too large or in a format the endpoint does not
        take, instead of failing.

    Returns
    -------
    PreparedImage

    Raises
    ------
    InvalidImage
        Naming the rule (``rule``), the limit (``limit``) and the image's value (``value``).

    Examples
    --------
    >>> from PIL import Image
    >>> p = prepare_image(Image.new("RGB", (640, 480), "red"), ImageLimits())
    >>> p.format, p.width, p.height
    ('JPEG', 640, 480)
    >>> prepare_image(Image.new("RGB", (10, 10)), ImageLimits())
    Traceback (most recent call last):
    ...
    vislab.errors.InvalidImage: image-0 is 10x10 px; its shortest side 10 is below the minimum 15 px. Use a larger image.
    """
    ident = ident or image_id(source, 0)
    loaded = load_bytes(source, ident=ident)
    original: bytes | None = None
    notes: list[str] = []
    if isinstance(loaded, Image.Image):
        img = loaded
        src_format = None
    else:
        original = loaded
        try:
            img = Image.open(io.BytesIO(loaded))
            img.load()
        except Image.DecompressionBombError:
            raise InvalidImage(
                f"{ident} has too many pixels to decode safely", rule="max_side", image=ident
            ) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            if isinstance(exc, UnidentifiedImageError) or b"\0" not in loaded[:64]:
                what = "is not an image file (or not one PIL can read)"
            else:
                what = f"is a damaged image file ({exc})"
            raise InvalidImage(
                f"{ident} {what}; re-export it as JPEG or PNG", rule="decode", image=ident
            ) from None
        src_format = _FORMAT_ALIASES.get(img.format or "", img.format)
        if getattr(img, "is_animated", False) and getattr(img, "n_frames", 1) > 1:
            img.seek(0)
            img = img.copy()
            notes.append("animated image: the first frame is used")
            original = None
    if _orientation(img) not in (1, None):
        try:
            img = ImageOps.exif_transpose(img)
            notes.append("applied EXIF orientation")
            original = None
        except Exception:  # a broken EXIF block must not lose the image
            pass
    rgb, note = _to_rgb(img)
    if note:
        notes.append(note)
        original = None
    img = rgb
    w, h = img.size
    short, long_ = min(w, h), max(w, h)
    if short < limits.min_side:
        raise InvalidImage(
            f"{ident} is {w}x{h} px; its shortest side {short} is below the minimum "
            f"{limits.min_side} px. Use a larger image.",
            rule="min_side", limit=limits.min_side, value=short, image=ident,
        )
    if limits.max_aspect is not None and long_ / short > limits.max_aspect:
        raise InvalidImage(
            f"{ident} is {w}x{h} px; aspect ratio {long_ / short:.1f}:1 exceeds "
            f"{limits.max_aspect:g}:1. Crop it closer to square.",
            rule="aspect_ratio", limit=limits.max_aspect, value=round(long_ / short, 3),
            image=ident,
        )
    if long_ > limits.max_side:
        if not fit:
            raise InvalidImage(
                f"{ident} is {w}x{h} px; longest side {long_} exceeds {limits.max_side} px. "
                "Pass fit=True to shrink it automatically.",
                rule="max_side", limit=limits.max_side, value=long_, image=ident,
            )
        scale = limits.max_side / long_
        new = (max(1, int(w * scale)), max(1, int(h * scale)))
        if min(new) < limits.min_side:
            raise InvalidImage(
                f"{ident} cannot be shrunk to {limits.max_side} px without its short side "
                f"dropping below {limits.min_side} px",
                rule="aspect_ratio", limit=limits.max_aspect, value=round(long_ / short, 3),
                image=ident,
            )
        img = img.resize(new, Image.Resampling.LANCZOS)
        notes.append(f"resized {w}x{h} to {new[0]}x{new[1]}")
        original = None
    if original is not None and src_format not in limits.formats:
        if not fit:
            raise InvalidImage(
                f"{ident} is {src_format}; this endpoint accepts {', '.join(limits.formats)}. "
                "Pass fit=True to re-encode it.",
                rule="format", limit=limits.formats, value=src_format, image=ident,
            )
        notes.append(f"re-encoded {src_format}")
        original = None
    if original is not None:
        data, fmt = original, src_format
    else:
        fmt = "JPEG" if "JPEG" in limits.formats else limits.formats[0]
        data = _encode(img, fmt)
    size = encoded_size(data, limits.counts)
    if size > limits.max_encoded_bytes:
        if not fit:
            raise InvalidImage(
                f"{ident} is {size} bytes as the service counts it ({limits.counts}); the "
                f"limit is {limits.max_encoded_bytes}. Pass fit=True to shrink it.",
                rule="encoded_size", limit=limits.max_encoded_bytes, value=size, image=ident,
            )
        data, fmt, img = _shrink_to_fit(img, limits, ident)
        notes.append(f"shrunk to {img.size[0]}x{img.size[1]} to fit {limits.max_encoded_bytes} B")
    return PreparedImage(
        id=ident, data=data, format=fmt, width=img.size[0], height=img.size[1],
        note="; ".join(notes),
    )


def _shrink_to_fit(img: Image.Image, limits: ImageLimits, ident: str):
    fmt = "JPEG" if "JPEG" in limits.formats else limits.formats[0]
    work = img
    for _ in range(12):
        for quality in (90, 80, 70):
            data = _encode(work, fmt, quality)
            if encoded_size(data, limits.counts) <= limits.max_encoded_bytes:
                return data, fmt, work
            if fmt != "JPEG":
                break
        w, h = work.size
        new = (int(w * 0.75), int(h * 0.75))
        if min(new) < limits.min_side:
            break
        work = work.resize(new, Image.Resampling.LANCZOS)
    raise InvalidImage(
        f"{ident} cannot be made smaller than {limits.max_encoded_bytes} bytes",
        rule="encoded_size", limit=limits.max_encoded_bytes, image=ident,
    )


def read_header(data: bytes) -> tuple[int, int, str]:
    """Width, height and format of image bytes, from the header alone (nothing decoded).

    Checking the size first is what keeps a decompression bomb (a 1.5 MB PNG of
    20000 x 20000 px) from being decoded at all.  EXIF orientation is not applied: a rotated
    photo's sides are swapped, which changes no side or aspect rule.

    Raises :class:`InvalidImage` (rule ``"decode"``) when the bytes are not an image.

    Examples
    --------
    >>> import io
    >>> buf = io.BytesIO(); Image.new("RGB", (32, 16), "blue").save(buf, "PNG")
    >>> read_header(buf.getvalue())
    (32, 16, 'PNG')
    """
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            fmt = _FORMAT_ALIASES.get(img.format or "", img.format or "")
    except Exception:
        raise InvalidImage("not a readable image", rule="decode") from None
    return int(width), int(height), fmt


def decode_pixels(data: bytes) -> tuple[np.ndarray, str]:
    """Decode image bytes to an RGB uint8 array (EXIF orientation applied) and its format.

    Used by the emulator, which receives the bytes a client sent.  Raises
    :class:`InvalidImage` (rule ``"decode"``) when the bytes are not a readable image.

    Examples
    --------
    >>> import io
    >>> buf = io.BytesIO(); Image.new("RGB", (32, 16), "blue").save(buf, "PNG")
    >>> pixels, fmt = decode_pixels(buf.getvalue())
    >>> pixels.shape, fmt
    ((16, 32, 3), 'PNG')
    """
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except Exception:
        raise InvalidImage("not a readable image", rule="decode") from None
    fmt = _FORMAT_ALIASES.get(img.format or "", img.format or "")
    if getattr(img, "is_animated", False):
        img.seek(0)
        img = img.copy()
    try:
        img = ImageOps.exif_transpose(img)
    except Exception:
        pass
    rgb, _ = _to_rgb(img)
    return np.asarray(rgb.convert("RGB")), fmt
