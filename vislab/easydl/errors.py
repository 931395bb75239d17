"""The errors of :mod:`vislab.easydl` (beside :class:`vislab.easydl.archive.ArchiveError`)."""

from __future__ import annotations

from vislab.errors import VislabError

__all__ = ["DatasetError"]


class DatasetError(VislabError, ValueError):
    """A dataset cannot be built or used as asked (kind mismatch, unknown image, bad split).

    Examples
    --------
    >>> DatasetError("no such image 'x.jpg'").args[0]
    "no such image 'x.jpg'"
    """
