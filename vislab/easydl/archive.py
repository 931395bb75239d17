"""Zip archives in, safely: EasyDL's upload format is a zip, and a zip is hostile input.

Import (:func:`extract_zip`) reads the central directory first and refuses the whole archive,
before one byte is written, when any entry breaks a rule of :class:`ArchiveLimits`:

* a path that is absolute (``/etc/x``, ``C:\\x``, ``\\\\host\\share``), holds a ``..``
  component (``../../.bashrc``: "zip-slip"; ``\\`` counts as a separator, as Windows tools
  read it) or a NUL character;
* a symbolic link, device, FIFO or socket entry (only regular files and folders are extracted);
* an encrypted entry, or one whose compression method Python cannot read;
* two entries that land on one path (``a.jpg`` twice, or a file ``a`` beside a folder ``a/``);
* more entries than ``max_entries``; a declared size above ``max_entry_bytes`` for one entry or
  ``max_total_bytes`` for all; a compression ratio above ``max_ratio`` for an entry of at least
  ``ratio_min_bytes`` (declared), or for the archive as a whole: the zip bomb rules.

Extraction then writes regular files only, each created new (``O_EXCL | O_NOFOLLOW``) under an
empty target folder, streaming with a running byte count that stops at the caps even if an
entry's data were longer than it declared (Python's reader already stops at the declared size
and checks the CRC).  Junk that archivers add — ``__MACOSX/``, ``._*``, ``.DS_Store``,
``Thumbs.db``, ``desktop.ini`` — is checked like everything else but not extracted.

Names without the zip's UTF-8 flag are what Windows archivers write in the local code page;
they are read as UTF-8 when they decode as UTF-8, else as GBK (Chinese Windows, where most
EasyDL zips are made), else as CP437 (the zip standard's default).

The way out, split into several archives within EasyDL's budgets, is
:func:`vislab.easydl.archive_writer.write_archives`.
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

from vislab.errors import VislabError

__all__ = ["ArchiveError", "ArchiveLimits", "ZipEntry", "inspect_zip", "extract_zip"]

_GiB = 1024**3
_MiB = 1024**2
_JUNK_DIRS = ("__MACOSX",)
_JUNK_FILES = (".DS_Store", "Thumbs.db", "desktop.ini")
_DRIVE = re.compile(r"^[A-Za-z]:")
_CHUNK = 1024 * 1024


class ArchiveError(VislabError, ValueError):
    """A zip archive was refused (nothing of it was extracted) or could not be written.

    Parameters
    ----------
    message : str
        What is wrong and what to do.
    rule : str
        ``"not_a_zip"``, ``"path"``, ``"link"``, ``"special"``, ``"encrypted"``, ``"method"``,
        ``"duplicate"``, ``"entries"``, ``"entry_size"``, ``"total_size"``, ``"ratio"``,
        ``"corrupt"``, ``"target"`` (the folder to extract into is not empty) or ``"budget"``
        (one member alone is larger than an archive may be).
    archive : str, optional
        The zip file.
    entry : str, optional
        The offending entry's name as stored.
    limit, value : optional
        The rule's limit and what the archive has.

    Examples
    --------
    >>> err = ArchiveError("refused", rule="path", entry="../x")
    >>> err.rule, err.entry
    ('path', '../x')
    """

    def __init__(self, message, *, rule, archive=None, entry=None, limit=None, value=None):
        super().__init__(message)
        self.rule = rule
        self.archive = None if archive is None else str(archive)
        self.entry = entry
        self.limit = limit
        self.value = value


@dataclass(frozen=True)
class ArchiveLimits:
    """Caps that make a zip archive safe to extract.

    The defaults fit EasyDL's own limits with room to spare: a zip holds at most 100,000
    images (plus one annotation file each for detection) and 5 GB, and JPEG or PNG files do
    not compress, so an honest dataset zip has a ratio near 1 (XML and JSON annotations reach
    10-30).

    Parameters
    ----------
    max_entries : int, default 250_000
        Entries in the central directory (files and folders).
    max_total_bytes : int, default 6 GiB
        Sum of the declared uncompressed sizes (and of the bytes actually written).
    max_entry_bytes : int, default 512 MiB
        Declared uncompressed size of one entry (a COCO JSON of a large set is ~100 MB).
    max_ratio : float, default 100
        Uncompressed / compressed size, per entry and for the whole archive.
    ratio_min_bytes : int, default 1 MiB
        Entries smaller than this (declared) are not held to ``max_ratio``: a small text file
        of repeated bytes compresses 100-fold and harms no one.

    Examples
    --------
    >>> ArchiveLimits().max_total_bytes == 6 * 1024**3
    True
    >>> ArchiveLimits(max_entries=10).max_entries
    10
    """

    max_entries: int = 250_000
    max_total_bytes: int = 6 * _GiB
    max_entry_bytes: int = 512 * _MiB
    max_ratio: float = 100.0
    ratio_min_bytes: int = 1 * _MiB


@dataclass(frozen=True)
class ZipEntry:
    """One file of an archive that passed :func:`inspect_zip`.

    Attributes
    ----------
    name : str
        The safe relative path (``/``-separated, decoded, no ``.`` or empty components).
    info : zipfile.ZipInfo
        The entry as stored.
    junk : bool
        An archiver's side file (``__MACOSX/``, ``.DS_Store``...) that is not extracted.

    Examples
    --------
    >>> ZipEntry("cat/1.jpg", zipfile.ZipInfo("cat/1.jpg"), False).name
    'cat/1.jpg'
    """

    name: str
    info: zipfile.ZipInfo
    junk: bool


def _decoded_name(info: zipfile.ZipInfo) -> str:
    name = info.filename
    if info.flag_bits & 0x800:  # the UTF-8 flag: zipfile decoded it right
        return name
    try:
        raw = name.encode("cp437")
    except UnicodeEncodeError:
        return name
    for codec in ("utf-8", "gbk"):
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    return name


def _safe_parts(name: str, archive, raw: str) -> list[str]:
    def refuse(why):
        raise ArchiveError(
            f"{archive}: entry {raw!r} {why}; the archive was refused and nothing was "
            "extracted. Re-create the zip from the dataset folder itself (relative paths only)",
            rule="path",
            archive=archive,
            entry=raw,
        )

    if "\x00" in name:
        refuse("holds a NUL character")
    text = name.replace("\\", "/")
    if text.startswith("/") or _DRIVE.match(text):
        refuse("is an absolute path")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if ".." in parts:
        refuse("climbs out of the target folder with '..'")
    return parts


def _kind(info: zipfile.ZipInfo) -> str:
    mode = (info.external_attr >> 16) & 0xFFFF
    fmt = stat.S_IFMT(mode)
    if fmt == stat.S_IFLNK:
        return "link"
    if fmt and fmt not in (stat.S_IFREG, stat.S_IFDIR):
        return "special"
    return "dir" if info.is_dir() else "file"


def _open_zip(path) -> zipfile.ZipFile:
    p = Path(path)
    try:
        st = p.stat()
    except OSError as exc:
        raise FileNotFoundError(f"cannot open the archive {p}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise ArchiveError(
            f"{p} is not a regular file; pass a .zip file", rule="not_a_zip", archive=p
        )
    try:
        return zipfile.ZipFile(p)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise ArchiveError(
            f"{p} is not a readable zip archive ({exc}); re-create it", rule="not_a_zip", archive=p
        ) from None


def inspect_zip(path, *, limits: ArchiveLimits | None = None) -> list[ZipEntry]:
    """Check every entry of a zip from its central directory, without extracting anything.

    Parameters
    ----------
    path : str or Path
        The zip file.
    limits : ArchiveLimits, optional
        Default :class:`ArchiveLimits`.

    Returns
    -------
    list of ZipEntry
        The files (not the folders) in archive order.

    Raises
    ------
    ArchiveError
        The first rule an entry breaks (see the module notes); ``FileNotFoundError`` when the
        file does not exist.

    Examples
    --------
    >>> import io, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.zip"
    >>> with zipfile.ZipFile(p, "w") as z:
    ...     z.writestr("cat/1.jpg", b"x"); z.writestr("../evil", b"y")
    >>> inspect_zip(p)
    Traceback (most recent call last):
    ...
    vislab.easydl.archive.ArchiveError: ...a.zip: entry '../evil' climbs out of the target folder with '..'; the archive was refused and nothing was extracted. Re-create the zip from the dataset folder itself (relative paths only)
    """
    limits = limits or ArchiveLimits()
    with _open_zip(path) as zf:
        infos = zf.infolist()
    archive_bytes = Path(path).stat().st_size
    if len(infos) > limits.max_entries:
        raise ArchiveError(
            f"{path} has {len(infos)} entries, more than the {limits.max_entries} allowed "
            "(ArchiveLimits.max_entries); split the dataset into several zips",
            rule="entries",
            archive=path,
            limit=limits.max_entries,
            value=len(infos),
        )
    entries, seen_files, seen_dirs = [], {}, set()
    total = 0
    for info in infos:
        raw = info.filename
        parts = _safe_parts(_decoded_name(info), path, raw)
        kind = _kind(info)
        if kind in ("link", "special"):
            what = "a symbolic link" if kind == "link" else "a device, FIFO or socket"
            raise ArchiveError(
                f"{path}: entry {raw!r} is {what}; only regular files are accepted. Zip the "
                "files themselves (zip without --symlinks)",
                rule=kind,
                archive=path,
                entry=raw,
            )
        if info.flag_bits & 0x1:
            raise ArchiveError(
                f"{path}: entry {raw!r} is encrypted; zip it without a password",
                rule="encrypted",
                archive=path,
                entry=raw,
            )
        if info.compress_type not in (
            zipfile.ZIP_STORED,
            zipfile.ZIP_DEFLATED,
            zipfile.ZIP_BZIP2,
            zipfile.ZIP_LZMA,
        ):
            raise ArchiveError(
                f"{path}: entry {raw!r} uses compression method {info.compress_type}, which "
                "cannot be read; re-create the zip with the standard (deflate) method",
                rule="method",
                archive=path,
                entry=raw,
                value=info.compress_type,
            )
        if not parts:
            continue
        for i in range(1, len(parts)):
            seen_dirs.add("/".join(parts[:i]))
        name = "/".join(parts)
        if kind == "dir":
            seen_dirs.add(name)
            continue
        if name in seen_files:
            raise ArchiveError(
                f"{path}: entries {seen_files[name]!r} and {raw!r} both land on {name!r}; "
                "remove one",
                rule="duplicate",
                archive=path,
                entry=raw,
            )
        seen_files[name] = raw
        size = info.file_size
        if size > limits.max_entry_bytes:
            raise ArchiveError(
                f"{path}: entry {raw!r} declares {size} bytes, more than the "
                f"{limits.max_entry_bytes} allowed for one file (ArchiveLimits.max_entry_bytes)",
                rule="entry_size",
                archive=path,
                entry=raw,
                limit=limits.max_entry_bytes,
                value=size,
            )
        ratio = size / max(info.compress_size, 1)
        if size >= limits.ratio_min_bytes and ratio > limits.max_ratio:
            raise ArchiveError(
                f"{path}: entry {raw!r} expands {ratio:.0f}-fold ({info.compress_size} -> "
                f"{size} bytes), more than the {limits.max_ratio:g} allowed "
                "(ArchiveLimits.max_ratio): a zip bomb, refused",
                rule="ratio",
                archive=path,
                entry=raw,
                limit=limits.max_ratio,
                value=ratio,
            )
        total += size
        if total > limits.max_total_bytes:
            raise ArchiveError(
                f"{path} declares more than {limits.max_total_bytes} bytes in all "
                "(ArchiveLimits.max_total_bytes); split the dataset into several zips",
                rule="total_size",
                archive=path,
                entry=raw,
                limit=limits.max_total_bytes,
                value=total,
            )
        junk = parts[0] in _JUNK_DIRS or parts[-1] in _JUNK_FILES or parts[-1].startswith("._")
        entries.append(ZipEntry(name, info, junk))
    clash = sorted(seen_dirs & set(seen_files))
    if clash:
        raise ArchiveError(
            f"{path}: {clash[0]!r} is both a file and a folder; remove one",
            rule="duplicate",
            archive=path,
            entry=clash[0],
        )
    if total >= limits.ratio_min_bytes and total / max(archive_bytes, 1) > limits.max_ratio:
        raise ArchiveError(
            f"{path} expands {total / max(archive_bytes, 1):.0f}-fold in all ({archive_bytes} "
            f"-> {total} bytes), more than {limits.max_ratio:g} (ArchiveLimits.max_ratio): a "
            "zip bomb, refused",
            rule="ratio",
            archive=path,
            limit=limits.max_ratio,
            value=total / archive_bytes,
        )
    return entries


def _empty_target(target: Path, archive) -> None:
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise ArchiveError(
            f"cannot extract {archive} into {target}: it is not a folder",
            rule="target",
            archive=archive,
        )
    if target.exists() and any(target.iterdir()):
        raise ArchiveError(
            f"cannot extract {archive} into {target}: the folder is not empty (an existing "
            "file or link there could be overwritten or followed); pass a new or empty folder",
            rule="target",
            archive=archive,
        )
    target.mkdir(parents=True, exist_ok=True)


def extract_zip(path, target, *, limits: ArchiveLimits | None = None) -> list[Path]:
    """Extract a zip safely into an empty folder (see the module notes for every rule).

    Parameters
    ----------
    path : str or Path
        The zip file.
    target : str or Path
        A folder that does not exist yet or is empty.
    limits : ArchiveLimits, optional

    Returns
    -------
    list of Path
        The files written, in archive order (junk entries are not written).

    Raises
    ------
    ArchiveError
        The archive breaks a rule (nothing is written), the target is not empty, or an
        entry's data is corrupt (what was written so far stays, under ``target``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with zipfile.ZipFile(d / "a.zip", "w") as z:
    ...     z.writestr("cat/1.jpg", b"x"); z.writestr("__MACOSX/cat/._1.jpg", b"y")
    >>> [p.relative_to(d / "out").as_posix() for p in extract_zip(d / "a.zip", d / "out")]
    ['cat/1.jpg']
    """
    limits = limits or ArchiveLimits()
    entries = inspect_zip(path, limits=limits)
    target = Path(target)
    _empty_target(target, path)
    root = target.resolve()
    written, total = [], 0
    with _open_zip(path) as zf:
        for entry in entries:
            if entry.junk:
                continue
            dest = root.joinpath(*entry.name.split("/"))
            dest.parent.mkdir(parents=True, exist_ok=True)
            # Every folder on the way was made here (links are never extracted), so the
            # resolved parent must still lie under the target; checked anyway.
            if not dest.parent.resolve().is_relative_to(root):
                raise ArchiveError(
                    f"{path}: {entry.name!r} would land outside {target}",
                    rule="path",
                    archive=path,
                    entry=entry.info.filename,
                )
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
            try:
                with (
                    zf.open(entry.info) as src,
                    os.fdopen(os.open(dest, flags, 0o644), "wb") as dst,
                ):
                    left = min(entry.info.file_size, limits.max_entry_bytes)
                    while chunk := src.read(_CHUNK):
                        left -= len(chunk)
                        total += len(chunk)
                        if left < 0 or total > limits.max_total_bytes:
                            raise ArchiveError(
                                f"{path}: entry {entry.info.filename!r} holds more data than "
                                "it declares; refused",
                                rule="entry_size",
                                archive=path,
                                entry=entry.info.filename,
                            )
                        dst.write(chunk)
            except (
                zipfile.BadZipFile,
                zipfile.LargeZipFile,
                EOFError,
                OSError,
                NotImplementedError,
                RuntimeError,
            ) as exc:
                raise ArchiveError(
                    f"{path}: entry {entry.info.filename!r} is corrupt ({exc}); re-create the zip",
                    rule="corrupt",
                    archive=path,
                    entry=entry.info.filename,
                ) from None
            written.append(dest)
    return written
