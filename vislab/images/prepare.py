"""One image -> a payload that passes the endpoint's rules (or a typed, actionable refusal).

:func:`prepare_image` reads the source (bounded, see :mod:`vislab.images.sources`), checks the
pixel size **from the header before decoding anything**, decodes (JPEGs straight at a reduced
scale when they are to be shrunk anyway), applies the EXIF orientation, normalises the pixel
mode and checks the endpoint's :class:`~vislab.images.ImageLimits`.  With ``fit=True`` an
image that is merely too large is shrunk and re-encoded instead of failing — keeping its
aspect ratio at or below the original's, so an image that passed the aspect rule still passes
it; an image that cannot be fixed raises :class:`~vislab.errors.InvalidImage` naming the rule,
the limit and the value.

Bombs: an image whose header announces more than :data:`MAX_DECODE_PIXELS` pixels (after the
JPEG scale reduction) is refused without being decoded, and with ``fit=False`` anything longer
than the endpoint's ``max_side`` is refused from its header.  PIL's own process-wide
protection (``Image.MAX_IMAGE_PIXELS``) is left as PIL sets it.
"""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from vislab.errors import InvalidImage
from vislab.images.arrays import scale_bit_depth
from vislab.images.header import read_header
from vislab.images.limits import FORMAT_ALIASES, ImageLimits, PreparedImage, encoded_size
from vislab.images.sources import MAX_READ_BYTES, image_id, load_bytes

__all__ = ["prepare_image", "to_rgb", "MAX_DECODE_PIXELS"]

#: Most pixels vislab decodes for one image (50 Mpx: an 8660 x 5770 photo; ~150 MB as RGB).
MAX_DECODE_PIXELS = 50_000_000


def to_rgb(img: Image.Image) -> tuple[Image.Image, str]:
    """8-bit RGB (or L) copy of ``img`` and a note of what changed.

    16-bit images follow the bit-depth rule of :mod:`vislab.images.arrays`; transparency is
    composited on white.

    Examples
    --------
    >>> to_rgb(Image.new("RGBA", (4, 4)))[1]
    'composited RGBA transparency on white'
    """
    mode = img.mode
    if mode in ("RGB", "L"):
        return img, ""
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        a = np.asarray(img)
        if a.size and int(a.min()) < 0:
            a = np.clip(a, 0, None)
        out = Image.fromarray(scale_bit_depth(np.clip(a, 0, 65535)), "L")
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


def scaled_size(width: int, height: int, scale: float) -> tuple[int, int]:
    """``(width, height)`` times ``scale``, the short side rounded up so the aspect ratio never
    grows (a 6000 x 2000 image at 3:1 becomes 4096 x 1366, still within 3:1).

    Examples
    --------
    >>> scaled_size(6000, 2000, 4096 / 6000)
    (4096, 1366)
    """
    if width >= height:
        new_w = max(1, int(round(width * scale)))
        return new_w, min(new_w, max(1, math.ceil(height * scale - 1e-9)))
    new_h = max(1, int(round(height * scale)))
    return min(new_h, max(1, math.ceil(width * scale - 1e-9))), new_h


def _open(data: bytes, ident: str, limits: ImageLimits, fit: bool) -> tuple[Image.Image, bool]:
    """Open and decode bytes, refusing bombs from the header before any pixel is decoded.

    Returns the image and whether it was decoded at a reduced JPEG scale."""
    try:
        img = Image.open(io.BytesIO(data))
        w, h = img.size
    except Image.DecompressionBombError:
        # PIL's own guard fires on open beyond ~179 Mpx; read the header without it.
        w, h, _ = read_header(data)
        raise InvalidImage(
            f"{ident} is {w}x{h} px ({w * h / 1e6:.0f} Mpx); vislab decodes at most "
            f"{MAX_DECODE_PIXELS / 1e6:.0f} Mpx per image (a decompression-bomb guard). "
            "Shrink it first.",
            rule="pixels",
            limit=MAX_DECODE_PIXELS,
            value=w * h,
            image=ident,
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        _decode_error(ident, data, exc)
    long_ = max(w, h)
    if not fit and long_ > limits.max_side:
        raise InvalidImage(
            f"{ident} is {w}x{h} px; longest side {long_} exceeds {limits.max_side} px. "
            "Pass fit=True to shrink it automatically.",
            rule="max_side",
            limit=limits.max_side,
            value=long_,
            image=ident,
        )
    reduced = False
    if img.format == "JPEG" and (long_ > limits.max_side or w * h > MAX_DECODE_PIXELS):
        # libjpeg decodes straight at 1/2, 1/4 or 1/8 scale: the largest reduction that still
        # covers the endpoint's longest side, more only if the decode would be too big.
        scale = 1
        while scale < 8 and long_ / (scale * 2) >= limits.max_side:
            scale *= 2
        while scale < 8 and (w / scale) * (h / scale) > MAX_DECODE_PIXELS:
            scale *= 2
        if scale > 1:
            img.draft("RGB", (math.ceil(w / scale), math.ceil(h / scale)))
            reduced = img.size != (w, h)
    dw, dh = img.size
    if dw * dh > MAX_DECODE_PIXELS:
        raise InvalidImage(
            f"{ident} is {w}x{h} px ({w * h / 1e6:.0f} Mpx); vislab decodes at most "
            f"{MAX_DECODE_PIXELS / 1e6:.0f} Mpx per image (a decompression-bomb guard). "
            "Shrink it first.",
            rule="pixels",
            limit=MAX_DECODE_PIXELS,
            value=w * h,
            image=ident,
        )
    try:
        img.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        _decode_error(ident, data, exc)
    return img, reduced


def _decode_error(ident: str, data: bytes, exc: Exception):
    if isinstance(exc, UnidentifiedImageError) or b"\0" not in data[:64]:
        what = "is not an image file (or not one PIL can read)"
    else:
        what = f"is a damaged image file ({exc})"
    raise InvalidImage(
        f"{ident} {what}; re-export it as JPEG or PNG", rule="decode", image=ident
    ) from None


def _loaded_pil(img: Image.Image, ident: str) -> Image.Image:
    """A caller's PIL image with its pixels loaded (a lazily opened file may be gone)."""
    try:
        img.load()
    except (OSError, ValueError, SyntaxError) as exc:
        raise InvalidImage(
            f"{ident}: the PIL image cannot be read ({type(exc).__name__}: "
            f"{exc}); its file may be closed or truncated",
            rule="decode",
            image=ident,
        ) from None
    if img.width == 0 or img.height == 0:
        raise InvalidImage(f"{ident} is an empty image (0 pixels)", rule="empty", image=ident)
    return img


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
    # Raw bytes never exceed the encoded count: without fit, more is refused unread.
    max_read = MAX_READ_BYTES if fit else limits.max_encoded_bytes + 1024
    loaded = load_bytes(source, ident=ident, max_bytes=max_read)
    original: bytes | None = None
    notes: list[str] = []
    if isinstance(loaded, Image.Image):
        img = _loaded_pil(loaded, ident)
        src_format = None
    else:
        original = loaded
        img, reduced = _open(loaded, ident, limits, fit)
        src_format = FORMAT_ALIASES.get(img.format or "", img.format)
        if getattr(img, "is_animated", False) and getattr(img, "n_frames", 1) > 1:
            img.seek(0)
            img = img.copy()
            notes.append("animated image: the first frame is used")
            original = None
        elif reduced:
            notes.append("decoded at reduced JPEG scale")
            original = None
    if _orientation(img) not in (1, None):
        try:
            img = ImageOps.exif_transpose(img)
            notes.append("applied EXIF orientation")
            original = None
        except Exception:  # a broken EXIF block must not lose the image
            pass
    rgb, note = to_rgb(img)
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
            rule="min_side",
            limit=limits.min_side,
            value=short,
            image=ident,
        )
    if limits.max_aspect is not None and long_ / short > limits.max_aspect:
        raise InvalidImage(
            f"{ident} is {w}x{h} px; aspect ratio {long_ / short:.1f}:1 exceeds "
            f"{limits.max_aspect:g}:1. Crop it closer to square.",
            rule="aspect_ratio",
            limit=limits.max_aspect,
            value=round(long_ / short, 3),
            image=ident,
        )
    if long_ > limits.max_side:
        if not fit:
            raise InvalidImage(
                f"{ident} is {w}x{h} px; longest side {long_} exceeds {limits.max_side} px. "
                "Pass fit=True to shrink it automatically.",
                rule="max_side",
                limit=limits.max_side,
                value=long_,
                image=ident,
            )
        new = scaled_size(w, h, limits.max_side / long_)
        if min(new) < limits.min_side:
            raise InvalidImage(
                f"{ident} cannot be shrunk to {limits.max_side} px without its short side "
                f"dropping below {limits.min_side} px",
                rule="aspect_ratio",
                limit=limits.max_aspect,
                value=round(long_ / short, 3),
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
                rule="format",
                limit=limits.formats,
                value=src_format,
                image=ident,
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
                rule="encoded_size",
                limit=limits.max_encoded_bytes,
                value=size,
                image=ident,
            )
        data, fmt, img = _shrink_to_fit(img, limits, ident)
        notes.append(f"shrunk to {img.size[0]}x{img.size[1]} to fit {limits.max_encoded_bytes} B")
    return PreparedImage(
        id=ident,
        data=data,
        format=fmt,
        width=img.size[0],
        height=img.size[1],
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
        new = scaled_size(*work.size, 0.75)
        if min(new) < limits.min_side:
            break
        work = work.resize(new, Image.Resampling.LANCZOS)
    raise InvalidImage(
        f"{ident} cannot be made smaller than {limits.max_encoded_bytes} bytes",
        rule="encoded_size",
        limit=limits.max_encoded_bytes,
        image=ident,
    )
