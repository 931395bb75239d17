"""Where images come from: identifiers, batches, and bounded reads of files and URLs.

Rules a user may want to know:

* A string that names an existing file is that file, even when its name holds ``[``, ``*`` or
  ``?`` (``photo[1].jpg``); only a string naming no existing file is a glob pattern, and a
  :class:`pathlib.Path` is never globbed.
* Only regular files are read (a FIFO or a device would block or never end), and at most
  ``max_bytes`` of them (:data:`MAX_READ_BYTES` by default): a bigger file is refused, not read.
* A URL download has a byte cap and a wall-clock deadline (:data:`URL_DEADLINE`), so a server
  that drips one byte every few seconds cannot hold a batch.
"""

from __future__ import annotations

import glob
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from vislab.errors import InvalidImage
from vislab.images.arrays import array_to_pil
from vislab.images.download import DownloadError, download

__all__ = [
    "image_id",
    "expand_images",
    "load_bytes",
    "read_file",
    "fetch_url",
    "MAX_READ_BYTES",
    "URL_DEADLINE",
]

#: Largest file or download read by default (a camera JPEG is 5-20 MB; 64 MiB leaves room for
#: big PNGs that ``fit=True`` will shrink, and bounds what a wrong path can cost).
MAX_READ_BYTES = 64 * 1024 * 1024
#: Seconds a URL download may take in all (connect + every read).
URL_DEADLINE = 30.0

_GLOB_CHARS = set("*?[")


def image_id(source: Any, index: int) -> str:
    """The identifier a frame shows for ``source`` (paths and URLs as given).

    Parameters
    ----------
    source : object
        One image: a path (``str`` or ``Path``), URL, bytes, PIL image or array.
    index : int
        Its position in the batch, for sources that carry no name.

    Returns
    -------
    str
        The path or URL as given, else ``"image-<index>"``.

    Examples
    --------
    >>> image_id("photos/cat.jpg", 0), image_id(b"...", 3)
    ('photos/cat.jpg', 'image-3')
    """
    if isinstance(source, (str, Path)):
        return str(source)
    return f"image-{index}"


def _is_pattern(item: Any) -> bool:
    """A glob pattern: a string (never a Path) with glob characters naming no existing file."""
    if not isinstance(item, str) or item.startswith(("http://", "https://")):
        return False
    if not any(c in item for c in _GLOB_CHARS):
        return False
    try:
        return not os.path.exists(item)
    except (OSError, ValueError):  # a name too long for the OS is no file either
        return True


def _glob(pattern: str) -> list[tuple[str, str]]:
    matches = [m for m in sorted(glob.glob(pattern, recursive=True)) if os.path.isfile(m)]
    if not matches:
        raise InvalidImage(
            f"the pattern {pattern!r} matches no file; check the folder and extension",
            rule="missing",
            value=pattern,
        )
    return [(m, m) for m in matches]


def expand_images(images: Any) -> list[tuple[str, Any]]:
    """Turn any accepted input into a list of ``(identifier, source)`` pairs, in order.

    A single image gives a one-element list.  Glob patterns expand to the sorted matching
    files (a pattern that matches nothing raises :class:`InvalidImage` — an empty batch is
    almost always a typo).  Duplicated identifiers get ``#2``, ``#3`` suffixes so every input
    keeps its own row.

    Parameters
    ----------
    images : object
        One image (path, URL, bytes, PIL image, array), a glob pattern, a list or tuple of
        those (patterns expand in place), a pandas Series (its values; the index is not used)
        or a mapping ``{identifier: image}``.  A whole DataFrame is refused (``TypeError``):
        pass one of its columns.

    Returns
    -------
    list of (str, object)
        ``(identifier, source)`` per image, in input order; nothing is read yet.

    Examples
    --------
    >>> expand_images(["a.jpg", "b.jpg"])
    [('a.jpg', 'a.jpg'), ('b.jpg', 'b.jpg')]
    >>> expand_images({"cat": b"..."})
    [('cat', b'...')]
    >>> expand_images(["a.jpg", b"...", "a.jpg"])
    [('a.jpg', 'a.jpg'), ('image-1', b'...'), ('a.jpg#2', 'a.jpg')]
    """
    import pandas as pd  # local: keeps `vislab.images` importable by the pandas-free emulator

    if isinstance(images, pd.DataFrame):
        raise TypeError("pass one column of the DataFrame (e.g. df['path']), not the whole frame")
    if isinstance(images, Mapping):
        pairs = [(str(k), v) for k, v in images.items()]
    elif isinstance(images, pd.Series):
        pairs = [(image_id(v, i), v) for i, v in enumerate(images.tolist())]
    elif isinstance(images, (list, tuple)):
        pairs = []
        for i, item in enumerate(images):
            pairs.extend(_glob(item) if _is_pattern(item) else [(image_id(item, i), item)])
    elif _is_pattern(images):
        pairs = _glob(images)
    else:
        pairs = [(image_id(images, 0), images)]
    seen: dict[str, int] = {}
    out = []
    for key, src in pairs:
        n = seen.get(key, 0) + 1
        seen[key] = n
        out.append((key if n == 1 else f"{key}#{n}", src))
    return out


def read_file(path: str | Path, *, ident: str, max_bytes: int = MAX_READ_BYTES) -> bytes:
    """The bytes of a regular file, at most ``max_bytes`` of them; InvalidImage otherwise.

    Examples
    --------
    >>> read_file("/dev/zero", ident="zero")
    Traceback (most recent call last):
    ...
    vislab.errors.InvalidImage: /dev/zero is not a regular file (a device, FIFO or socket); pass an image file
    """
    text = str(path)
    try:
        st = os.stat(Path(text).expanduser())
    except FileNotFoundError:
        raise InvalidImage(f"no such file: {text}", rule="missing", image=ident) from None
    except (OSError, ValueError) as exc:  # name too long, permission, embedded NUL...
        raise InvalidImage(
            f"cannot open {text[:120]}: {type(exc).__name__}: {exc}", rule="unreadable", image=ident
        ) from None
    if stat.S_ISDIR(st.st_mode):
        raise InvalidImage(
            f"{text} is a folder, not an image; pass a file or a pattern like "
            f"'{text.rstrip('/')}/*.jpg'",
            rule="not_a_file",
            image=ident,
        )
    if not stat.S_ISREG(st.st_mode):
        raise InvalidImage(
            f"{text} is not a regular file (a device, FIFO or socket); pass an image file",
            rule="not_a_file",
            image=ident,
        )
    if st.st_size > max_bytes:
        raise InvalidImage(
            f"{text} is {st.st_size} bytes, more than the {max_bytes} vislab "
            "reads; shrink it first",
            rule="file_size",
            limit=max_bytes,
            value=st.st_size,
            image=ident,
        )
    try:
        with open(Path(text).expanduser(), "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as exc:
        raise InvalidImage(f"cannot read {text}: {exc}", rule="unreadable", image=ident) from None
    if len(data) > max_bytes:  # it grew while we looked
        raise InvalidImage(
            f"{text} is more than {max_bytes} bytes", rule="file_size", limit=max_bytes, image=ident
        )
    return data


_DOWNLOAD_RULES = {
    "status": "url",
    "type": "url",
    "failed": "url",
    "size": "url_size",
    "timeout": "url_timeout",
}
_DOWNLOAD_ADVICE = {
    "status": "check the address",
    "type": "pass the image's own URL",
    "failed": "check the address and network",
    "size": "download and shrink it first",
    "timeout": "the host is too slow",
}


def fetch_url(
    url: str, *, ident: str, max_bytes: int = MAX_READ_BYTES, deadline: float = URL_DEADLINE
) -> bytes:
    """Download an image: http(s), at most ``max_bytes``, within ``deadline`` seconds in all.

    Examples
    --------
    >>> fetch_url("http://127.0.0.1:9/x.jpg", ident="x")
    Traceback (most recent call last):
    ...
    vislab.errors.InvalidImage: could not download http://127.0.0.1:9/x.jpg: ConnectionError; check the address and network
    """
    try:
        return download(url, max_bytes=max_bytes, deadline=deadline, images_only=True)
    except DownloadError as exc:
        raise InvalidImage(
            f"{exc}; {_DOWNLOAD_ADVICE[exc.kind]}",
            rule=_DOWNLOAD_RULES[exc.kind],
            value=exc.value,
            image=ident,
        ) from None


def load_bytes(
    source: Any, *, ident: str = "", max_bytes: int = MAX_READ_BYTES
) -> bytes | Image.Image:
    """Read a source into encoded bytes, or a PIL image for in-memory inputs.

    Parameters
    ----------
    source : object
        A path (``str`` or ``Path``; only regular files are read), an ``http(s)://`` URL
        (downloaded with a byte cap and the :data:`URL_DEADLINE`), bytes, a PIL image or a
        numpy array (converted by :func:`vislab.images.array_to_pil`).
    ident : str, optional
        The identifier named in errors; default :func:`image_id` of ``source``.
    max_bytes : int, default MAX_READ_BYTES
        Largest file or download read (64 MiB); a bigger one is refused, not read.

    Returns
    -------
    bytes or PIL.Image.Image
        The encoded file bytes (paths, URLs, bytes), or a PIL image (PIL images and arrays).

    Raises
    ------
    vislab.errors.InvalidImage
        For a missing file, a folder, a non-regular file, an empty or too large file, an
        unreachable URL, or a source of another type.

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
        return array_to_pil(source, ident)
    elif isinstance(source, (str, Path)):
        text = str(source)
        if isinstance(source, str) and text.startswith(("http://", "https://")):
            data = fetch_url(text, ident=ident, max_bytes=max_bytes)
        else:
            data = read_file(text, ident=ident, max_bytes=max_bytes)
    else:
        raise InvalidImage(
            f"cannot use a {type(source).__name__} as an image; pass a path, URL, bytes, "
            "PIL image or numpy array",
            rule="type",
            value=type(source).__name__,
            image=ident,
        )
    if not data:
        raise InvalidImage(f"{ident} is empty (0 bytes)", rule="empty", value=0, image=ident)
    return data
