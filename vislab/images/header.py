"""An image's size and format from its header alone: nothing is decoded."""

from __future__ import annotations

import io

from PIL import Image

from vislab.errors import InvalidImage
from vislab.images.limits import FORMAT_ALIASES

__all__ = ["read_header"]


def _header_beyond_pil_guard(data: bytes) -> tuple[int, int, str]:
    """Size and format of an image PIL's own guard refuses to open (over ~179 Mpx).

    PIL checks the size inside ``Image.open``, after the format's opener has read the header;
    calling the openers directly reads the same header without that check (nothing is
    decoded), so a bomb is refused with its real size rather than as unreadable.
    """
    Image.init()
    for fmt in Image.ID:
        factory, accept = Image.OPEN[fmt]
        if accept is not None and not accept(data[:16]):
            continue
        try:
            img = factory(io.BytesIO(data), None)
        except Exception:
            continue
        width, height = img.size
        return int(width), int(height), FORMAT_ALIASES.get(img.format or "", img.format or "")
    raise InvalidImage("not a readable image", rule="decode")


def read_header(data: bytes) -> tuple[int, int, str]:
    """Width, height and format of image bytes, from the header alone (nothing decoded).

    Checking the size first is what keeps a decompression bomb (a 1.5 MB PNG of
    20000 x 20000 px) from being decoded at all.  EXIF orientation is not applied: a rotated
    photo's sides are swapped, which changes no side or aspect rule.

    Parameters
    ----------
    data : bytes
        An encoded image file; only its header is read.

    Returns
    -------
    width, height : int
        Pixel size as stored (before EXIF orientation), also for images larger than PIL's own
        decompression-bomb limit.
    format : str
        The file's format as services name it (``"JPEG"``, ``"PNG"`` ...).

    Raises
    ------
    vislab.errors.InvalidImage
        Rule ``"decode"`` when the bytes are not an image.

    Examples
    --------
    >>> buf = io.BytesIO(); Image.new("RGB", (32, 16), "blue").save(buf, "PNG")
    >>> read_header(buf.getvalue())
    (32, 16, 'PNG')
    """
    failure = None
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            fmt = FORMAT_ALIASES.get(img.format or "", img.format or "")
    except Image.DecompressionBombError:
        return _header_beyond_pil_guard(data)
    except Exception as exc:
        failure = exc
    if failure is not None:
        raise InvalidImage("not a readable image", rule="decode")
    return int(width), int(height), fmt
