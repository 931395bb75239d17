"""Datasets out as zips within a budget: EasyDL takes at most 5 GB and 100,000 images per zip.

:func:`write_archives` splits members into several archives so that each stays within a byte
and an image budget.  Members are stored, not deflated (JPEG and PNG do not shrink), with a
fixed timestamp, so sizes are exact and the same dataset gives the same bytes.
"""

from __future__ import annotations

import os
import stat
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from vislab.easydl.archive import ArchiveError
from vislab.errors import InvalidParameter

__all__ = ["ArchiveMember", "write_archives"]

# Fixed member time: the same dataset gives byte-identical archives.
_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class ArchiveMember:
    """One file to write into an archive.

    Attributes
    ----------
    name : str
        Its path inside the archive (``/``-separated).
    size : int
        Its size in bytes (exact: the budget relies on it).
    read : callable
        Returns the bytes (called once, while writing, so a large dataset is never held in
        memory at once).
    image : bool
        Counts towards the image budget (annotation files do not).

    Examples
    --------
    >>> ArchiveMember("cat/1.jpg", 3, lambda: b"abc").image
    True
    """

    name: str
    size: int
    read: Callable[[], bytes]
    image: bool = True


def _member_cost(m: ArchiveMember) -> int:
    n = len(m.name.encode("utf-8"))
    # local header (30) + central header (46) + names + room for a zip64 extra in both.
    return 30 + 46 + 2 * n + 40 + m.size


def _groups(members: list[ArchiveMember], max_bytes: int, max_images: int):
    end = 22 + 56 + 20  # end of central directory + zip64 end record and locator
    groups, current, used, images = [], [], end, 0
    for m in members:
        cost = _member_cost(m)
        if cost + end > max_bytes:
            raise ArchiveError(
                f"{m.name} alone ({m.size} bytes) is larger than an archive may be "
                f"({max_bytes} bytes); raise max_bytes or shrink the file",
                rule="budget",
                entry=m.name,
                limit=max_bytes,
                value=m.size,
            )
        if current and (used + cost > max_bytes or images + m.image > max_images):
            groups.append(current)
            current, used, images = [], end, 0
        current.append(m)
        used += cost
        images += m.image
    if current or not groups:
        groups.append(current)
    return groups


def write_archives(
    members: Iterable[ArchiveMember],
    path,
    *,
    max_bytes: int = 5 * 1024**3,
    max_images: int = 100_000,
) -> list[Path]:
    """Write members into one zip, or several when one would exceed a budget.

    Members are packed in the order given (pass them grouped, e.g. by class folder, so an
    archive holds whole folders where it can).  Each archive is complete on its own; EasyDL
    merges same-named class folders of several zips.

    Parameters
    ----------
    members : iterable of ArchiveMember
    path : str or Path
        ``name.zip``: written as is when one archive suffices, else as ``name_part1.zip``,
        ``name_part2.zip``...  Each file is written beside its final name and renamed, so a
        failure leaves no half archive under that name.
    max_bytes : int, default 5 GiB
        Largest archive file.
    max_images : int, default 100_000
        Most image members per archive.

    Returns
    -------
    list of Path

    Raises
    ------
    ArchiveError
        One member alone is larger than ``max_bytes`` (rule ``"budget"``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> ms = [ArchiveMember(f"cat/{i}.jpg", 100, lambda: b"x" * 100) for i in range(3)]
    >>> [p.name for p in write_archives(ms, d / "cats.zip", max_images=2)]
    ['cats_part1.zip', 'cats_part2.zip']
    """
    members = list(members)
    if max_images < 1:
        raise InvalidParameter(
            f"max_images must be at least 1, got {max_images}", name="max_images"
        )
    path = Path(path)
    if path.suffix.lower() != ".zip":
        path = path.with_name(path.name + ".zip")
    groups = _groups(members, max_bytes, max_images)
    names = (
        [path]
        if len(groups) == 1
        else [path.with_name(f"{path.stem}_part{i}.zip") for i in range(1, len(groups) + 1)]
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    for group, out in zip(groups, names, strict=True):
        tmp = out.with_name(out.name + ".partial")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            for m in group:
                data = m.read()
                if len(data) != m.size:
                    raise ArchiveError(
                        f"{m.name} changed size while writing ({m.size} -> {len(data)} bytes)",
                        rule="budget",
                        entry=m.name,
                    )
                info = zipfile.ZipInfo(m.name, date_time=_EPOCH)
                info.external_attr = (stat.S_IFREG | 0o644) << 16
                zf.writestr(info, data)
        os.replace(tmp, out)
    return names
