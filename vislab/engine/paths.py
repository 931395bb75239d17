"""Where the local engine keeps its files: the vislab home folder.

The home folder is ``$VISLAB_HOME`` when that environment variable is set, otherwise
``~/.vislab``.  It holds, among others, the local image-search galleries::

    <home>/galleries/<product>/<name>.sqlite

The variable is read on every call (not cached at import) so a notebook or a test can point
vislab at another folder with ``os.environ["VISLAB_HOME"] = ...`` at any time.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from vislab.catalogue.baidu_image_search import PRODUCT_NAMES
from vislab.errors import InvalidParameter

__all__ = ["vislab_home", "gallery_path", "GALLERY_PRODUCTS"]

#: The image-search products a gallery can serve, as the catalogue declares them.
GALLERY_PRODUCTS: tuple[str, ...] = PRODUCT_NAMES

# A gallery name becomes a file name: keep it to characters that are safe on every
# filesystem and cannot climb out of the galleries folder.
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")


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
    if env:
        return Path(env).expanduser()
    return Path("~/.vislab").expanduser()


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
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise InvalidParameter(
            f"gallery name must be 1-128 letters, digits, '_', '-' or '.', got {name!r}",
            name="name",
        )
    base = Path(home).expanduser() if home is not None else vislab_home()
    return base / "galleries" / product / f"{name}.sqlite"
