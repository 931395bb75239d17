"""An endpoint's image rules, a prepared payload, and how services count its size."""

from __future__ import annotations

import base64
import hashlib
import urllib.parse
from dataclasses import dataclass, field

__all__ = ["ImageLimits", "PreparedImage", "encoded_size", "FORMAT_ALIASES"]

# PIL format name -> the names services use in their docs.
FORMAT_ALIASES = {
    "JPEG": "JPEG",
    "MPO": "JPEG",
    "PNG": "PNG",
    "BMP": "BMP",
    "GIF": "GIF",
    "WEBP": "WEBP",
    "TIFF": "TIFF",
}


@dataclass(frozen=True)
class ImageLimits:
    """Image rules of one endpoint, restated from its docs.

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

    Made by :func:`vislab.images.prepare_image`; every parameter is kept as the attribute of
    the same name.

    Parameters
    ----------
    id : str
        The caller's identifier (path as given, URL, or an explicit key).
    data : bytes
        Encoded image file bytes (not base64).
    format : str
        PIL format of ``data``.
    width, height : int
        Pixel size of ``data`` (after EXIF orientation).
    note : str, default ""
        What was changed to fit the rules ("" when the original bytes are sent).
    sha256 : str, optional
        Hex SHA-256 of ``data``; computed when not given (the reply cache keys on it).

    Examples
    --------
    >>> p = PreparedImage("a", b"\\x89PNG", "PNG", 1, 1)
    >>> p.b64(), p.sha256[:8]
    ('iVBORw==', '0f4636c7')
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
        """The payload as the base64 text services expect (no data-URI header).

        Returns
        -------
        str
            ``data`` in standard base64 (ASCII), without line breaks.

        Examples
        --------
        >>> PreparedImage("a", b"GIF89a", "GIF", 1, 1).b64()
        'R0lGODlh'
        """
        return base64.b64encode(self.data).decode("ascii")


def encoded_size(data: bytes, counts: str = "base64") -> int:
    """Size of a payload as a service counts it.

    Parameters
    ----------
    data : bytes
        The image file bytes.
    counts : {"raw", "base64", "base64+urlencode"}, default "base64"
        How the service measures it: the file bytes, their base64 text, or that text
        URL-encoded (``+``, ``/`` and ``=`` become three characters each).

    Returns
    -------
    int
        The size in bytes that the endpoint's ``max_encoded_bytes`` limit is compared with.

    Examples
    --------
    >>> encoded_size(b"abc"), encoded_size(b"abc", "raw")
    (4, 3)
    >>> data = bytes([251, 255])                       # base64 "+/8=": 3 characters to escape
    >>> encoded_size(data, "base64"), encoded_size(data, "base64+urlencode")
    (4, 10)
    """
    if counts == "raw":
        return len(data)
    b64 = base64.b64encode(data)
    if counts == "base64":
        return len(b64)
    return len(urllib.parse.quote_plus(b64.decode("ascii")))
