"""Where the local engine keeps its files: the vislab home folder.

The home folder is ``$VISLAB_HOME`` when that environment variable is set, otherwise
``~/.vislab``.  It holds, among others, the local image-search galleries::

    <home>/galleries/<product>/<name>.sqlite

The variable is read on every call (not cached at import) so a notebook or a test can point
vislab at another folder with ``os.environ["VISLAB_HOME"] = ...`` at any time.
"""

from __future__ import annotations

import errno
import os
import re
import sqlite3
from pathlib import Path

from vislab.catalogue.baidu_image_search import PRODUCT_NAMES
from vislab.errors import InvalidParameter, StorageError

__all__ = ["vislab_home", "gallery_path", "GALLERY_PRODUCTS", "ensure_dir", "open_sqlite"]

#: The image-search products a gallery can serve, as the catalogue declares them.
GALLERY_PRODUCTS: tuple[str, ...] = PRODUCT_NAMES

# A gallery name becomes a file name: keep it to characters that are safe on every
# filesystem and cannot climb out of the galleries folder.
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}")


def vislab_home() -> Path:
    """Return the vislab home folder (``$VISLAB_HOME`` or ``~/.vislab``); it is not created.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import os
    >>> old = os.environ.get("VISLAB_HOME")
    >>> os.environ["VISLAB_HOME"] = "/tmp/vislab-doc"
    >>> str(vislab_home())
    '/tmp/vislab-doc'
    >>> _ = os.environ.pop("VISLAB_HOME") if old is None else os.environ.update(VISLAB_HOME=old)
    """
    env = os.environ.get("VISLAB_HOME")
    home = Path(env).expanduser() if env else Path("~/.vislab").expanduser()
    try:
        is_file = home.exists() and not home.is_dir()
    except OSError as exc:  # a path too long to stat, say
        raise StorageError(f"VISLAB_HOME={str(home)[:120]!r} cannot be used: {exc.strerror}; "
                           "point it at a folder", path=home) from None
    if is_file:
        raise StorageError(f"VISLAB_HOME={str(home)!r} is a file, not a folder; point it at a "
                           "folder (vislab creates it if missing)", path=home)
    return home


def ensure_dir(path: str | os.PathLike, *, what: str = "folder") -> Path:
    """Create folder ``path`` (and its parents); a typed :class:`StorageError` if it cannot be.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "file"
    >>> _ = f.write_text("x")
    >>> ensure_dir(f / "sub", what="gallery folder")
    Traceback (most recent call last):
    ...
    vislab.errors.StorageError: cannot create the gallery folder .../file/sub: a part of the path is a file, not a folder
    """
    folder = Path(path)
    failure = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        failure = "a part of the path is a file, not a folder"
    except PermissionError:
        failure = "no permission to write there"
    except OSError as exc:
        failure = ("the path is too long for the filesystem" if exc.errno == errno.ENAMETOOLONG
                   else exc.strerror or str(exc))
    if failure is not None:
        shown = str(folder) if len(str(folder)) <= 160 else str(folder)[:157] + "..."
        raise StorageError(f"cannot create the {what} {shown}: {failure}", path=folder)
    return folder


def open_sqlite(path: str | os.PathLike, *, what: str, **connect) -> sqlite3.Connection:
    """Connect to a vislab SQLite file, its folder created; a damaged file is named.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> bad = pathlib.Path(tempfile.mkdtemp()) / "g.sqlite"
    >>> _ = bad.write_bytes(b"this is not a database" * 100)
    >>> open_sqlite(bad, what="gallery")
    Traceback (most recent call last):
    ...
    vislab.errors.StorageError: the gallery file .../g.sqlite is not a SQLite database (damaged or not vislab's); move it away and vislab starts a new one
    """
    file = Path(path)
    ensure_dir(file.parent, what=f"{what} folder")
    failure = None
    try:
        conn = sqlite3.connect(file, **connect)
        conn.execute("PRAGMA schema_version").fetchone()  # reads the header: fails if damaged
    except sqlite3.DatabaseError as exc:
        failure = exc
    if failure is not None:
        raise StorageError(f"the {what} file {file} is not a SQLite database (damaged or not "
                           "vislab's); move it away and vislab starts a new one", path=file)
    return conn


def gallery_path(
    product: str, name: str = "default", *, home: str | os.PathLike | None = None
) -> Path:
    """Return the SQLite file of gallery ``name`` of image-search ``product``.

    Parameters
    ----------
    product : {"same_hq", "similar", "product", "picturebook", "materiel"}
        An image-search product of the catalogue (:data:`GALLERY_PRODUCTS`).
    name : str, default "default"
        Gallery name: letters, digits, ``_``, ``-`` and ``.``, not starting with ``.``.
    home : path-like, optional
        Home folder to use instead of :func:`vislab_home`.

    Returns
    -------
    pathlib.Path
        ``<home>/galleries/<product>/<name>.sqlite`` (folders are not created here).

    Raises
    ------
    vislab.errors.InvalidParameter
        Unknown product or a name that is not a safe file name.

    Examples
    --------
    >>> gallery_path("similar", "posters", home="/data/vl").as_posix()
    '/data/vl/galleries/similar/posters.sqlite'
    """
    if product not in GALLERY_PRODUCTS:
        raise InvalidParameter(
            f"product must be one of {', '.join(GALLERY_PRODUCTS)}, got {product!r}",
            name="product",
        )
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise InvalidParameter(
            f"gallery name must be 1-128 letters, digits, '_', '-' or '.', got {name!r}",
            name="name",
        )
    base = Path(home).expanduser() if home is not None else vislab_home()
    return base / "galleries" / product / f"{name}.sqlite"
