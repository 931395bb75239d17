"""The metadata store of a gallery: one SQLite file, one committed transaction per change.

One row per stored image: ``cont_sign`` (unique), ``brief``, two category slots, pHash,
dHash, the backbone embedding (float16), the picture-book page views (float16), the fabric
texture descriptor (float32) and the same-image verification thumbnail.  The database runs
in WAL mode and **every add, update and delete is one committed transaction**: a process
killed in the middle of a bulk add loses only the image being added, never a committed one,
and never leaves a half-written row (a row is one ``INSERT``).

``synchronous=NORMAL`` is the default: in WAL mode a commit is then safe against the process
dying (SIGKILL, a crashed kernel of a notebook) — the WAL is in the OS page cache and is
replayed on the next open — and only an operating-system crash or power cut can lose the last
few commits (the file still stays consistent).  ``FULL`` adds an ``fsync`` per add, which costs
more than the rest of an add on many disks; pass ``durable=True`` when that trade is wanted.

:class:`MetadataStore` is the protocol the gallery facade uses; :class:`SQLiteStore` is the
implementation.  A vector database backend would keep this store (it is the record of truth
the index is rebuilt from) or implement the same protocol.

Examples
--------
>>> import tempfile, pathlib
>>> store = SQLiteStore(pathlib.Path(tempfile.mkdtemp()) / "g.sqlite", product="similar")
>>> row = StoredRow("1,2", "b", (3, 0), 5, 6, np.ones(4, np.float32))
>>> store.insert(row), store.count(), store.get("1,2").slots
(1, 1, (3, None))
>>> store.close()
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from vislab.engine.errors import ItemExists, ItemNotFound
from vislab.engine.gallery.records import GalleryEntry
from vislab.engine.hashing import to_int64
from vislab.engine.paths import open_sqlite
from vislab.errors import InvalidParameter

__all__ = ["MetadataStore", "SQLiteStore", "StoredRow", "Columns"]

_SCHEMA_VERSION = "1"


@dataclass(frozen=True, eq=False)
class StoredRow:
    """One image as the store writes it (vectors already float16-rounded float32).

    Examples
    --------
    >>> StoredRow("1,2", "", (0, 0), 0, 0, np.zeros(2, np.float32)).views is None
    True
    """

    cont_sign: str
    brief: str
    slots: tuple[int, int]
    phash: int
    dhash: int
    embedding: np.ndarray
    views: np.ndarray | None = None
    texture: np.ndarray | None = None
    thumb: bytes | None = None
    added: float = 0.0


@dataclass(frozen=True, eq=False)
class Columns:
    """Every stored row, column by column, in id order (what an index is built from).

    Examples
    --------
    >>> Columns.empty(n_views=1).ids.size
    0
    """

    ids: np.ndarray
    signs: list
    briefs: list
    tags: np.ndarray
    phash: np.ndarray
    dhash: np.ndarray
    vectors: np.ndarray  # (n, V, D) float16
    texture: np.ndarray | None

    @classmethod
    def empty(cls, n_views: int) -> Columns:
        return cls(np.zeros(0, np.int64), [], [], np.zeros((0, 2), np.int32),
                   np.zeros(0, np.uint64), np.zeros(0, np.uint64),
                   np.zeros((0, n_views, 0), np.float16), None)  # fmt: skip


@runtime_checkable
class MetadataStore(Protocol):
    """What the gallery facade needs from its record of stored images.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> isinstance(SQLiteStore(pathlib.Path(tempfile.mkdtemp()) / "x.sqlite"), MetadataStore)
    True
    """

    lock: threading.RLock

    def dim(self) -> int | None: ...

    def insert(self, row: StoredRow) -> int: ...

    def update(self, cont_sign: str, *, brief: str | None, slots) -> tuple[int, GalleryEntry]: ...

    def delete(self, cont_signs: Sequence[str]) -> list[tuple[str, int]]: ...

    def get(self, cont_sign: str) -> GalleryEntry | None: ...

    def list(self, *, offset: int = 0, limit: int | None = None) -> list[GalleryEntry]: ...

    def count(self) -> int: ...

    def thumbs(self, ids: Sequence[int]) -> dict[int, bytes]: ...

    def columns(self, n_views: int, with_texture: bool) -> Columns: ...

    def changed_elsewhere(self) -> bool: ...

    def close(self) -> None: ...


def _blob16(v: np.ndarray) -> bytes:
    return np.ascontiguousarray(v, dtype="<f2").tobytes()


def _entry(sign, brief, t1, t2, added) -> GalleryEntry:
    return GalleryEntry(sign, brief, (t1 or None, t2 or None), added)


class SQLiteStore:
    """A gallery's SQLite file (WAL); every change is one committed transaction.

    Parameters
    ----------
    path : path-like
        The file (created with its folder when missing).
    product : str, default "similar"
        Recorded in a new file; opening a file of another product fails.
    durable : bool, default False
        ``synchronous=FULL`` (an fsync per commit: survives power loss) instead of ``NORMAL``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> store = SQLiteStore(pathlib.Path(tempfile.mkdtemp()) / "g.sqlite", product="materiel")
    >>> store.count(), store.dim()
    (0, None)
    """

    def __init__(self, path: str | os.PathLike, *, product: str = "similar",
                 durable: bool = False):  # fmt: skip
        self.path = Path(path)
        self.product = product
        self.lock = threading.RLock()
        self._conn = open_sqlite(self.path, what=f"{product} gallery", timeout=30.0,
                                 isolation_level=None, check_same_thread=False)
        # 16 KiB pages hold six 1280-d float16 rows; with the default 4 KiB one 2.6 KB row
        # fills a page and a third of the file is slack.  Only takes effect on a new file.
        self._conn.execute("PRAGMA page_size=16384")
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        self._dim: int | None = None  # once set, a file's width never changes
        self._init_schema()
        self._data_version = self._read_data_version()

    def _init_schema(self) -> None:
        with self._transaction():
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            # AUTOINCREMENT: ids are never reused after a delete, so an id names one stored
            # image for the life of the file.
            self._conn.execute(
                """CREATE TABLE IF NOT EXISTS entries (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    cont_sign TEXT NOT NULL UNIQUE,
                    brief TEXT NOT NULL,
                    tag1 INTEGER NOT NULL DEFAULT 0,
                    tag2 INTEGER NOT NULL DEFAULT 0,
                    phash INTEGER NOT NULL,
                    dhash INTEGER NOT NULL,
                    embedding BLOB NOT NULL,
                    views BLOB,
                    texture BLOB,
                    thumb BLOB,
                    added REAL NOT NULL)"""
            )
            meta = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
            if not meta:
                self._conn.executemany(
                    "INSERT INTO meta VALUES (?, ?)",
                    [("schema_version", _SCHEMA_VERSION), ("product", self.product),
                     ("embedding_dtype", "float16")],
                )  # fmt: skip
            elif meta.get("product") != self.product:
                raise InvalidParameter(
                    f"{self.path} is a {meta.get('product')!r} gallery, not {self.product!r}",
                    name="product",
                )

    class _Tx:
        def __init__(self, store: SQLiteStore):
            self.store = store

        def __enter__(self):
            self.store.lock.acquire()
            try:
                self.store._conn.execute("BEGIN IMMEDIATE")
            except BaseException:
                self.store.lock.release()
                raise
            return self.store._conn

        def __exit__(self, exc_type, exc, tb):
            conn = self.store._conn
            try:
                if exc_type is None:
                    conn.execute("COMMIT")
                elif conn.in_transaction:
                    conn.execute("ROLLBACK")
            finally:
                self.store.lock.release()
            return False

    def _transaction(self) -> SQLiteStore._Tx:
        return SQLiteStore._Tx(self)

    # -- the protocol -------------------------------------------------------------------------

    def dim(self) -> int | None:
        """Width of the stored embeddings (None before the first add)."""
        if self._dim is None:
            with self.lock:
                row = self._conn.execute("SELECT value FROM meta WHERE key = 'dim'").fetchone()
            self._dim = int(row[0]) if row else None
        return self._dim

    def insert(self, row: StoredRow) -> int:
        """Store one image; return its id.  Raises ItemExists for a stored ``cont_sign``."""
        emb = np.asarray(row.embedding, np.float32).ravel()
        try:
            with self._transaction() as conn:
                dim = self.dim()
                if dim is None:
                    conn.execute("INSERT INTO meta VALUES ('dim', ?)", (str(emb.size),))
                elif dim != emb.size:
                    raise InvalidParameter(f"embedding has {emb.size} values, the gallery "
                                           f"holds {dim}", name="embedding")  # fmt: skip
                cur = conn.execute(
                    "INSERT INTO entries (cont_sign, brief, tag1, tag2, phash, dhash, embedding,"
                    " views, texture, thumb, added) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (row.cont_sign, row.brief, row.slots[0], row.slots[1], to_int64(row.phash),
                     to_int64(row.dhash), _blob16(emb),
                     None if row.views is None else _blob16(row.views),
                     None if row.texture is None
                     else np.asarray(row.texture, np.float32).tobytes(),
                     row.thumb, row.added or time.time()),
                )  # fmt: skip
                return int(cur.lastrowid)
        except sqlite3.IntegrityError:
            with self.lock:
                existing = self._conn.execute(
                    "SELECT brief FROM entries WHERE cont_sign = ?", (row.cont_sign,)
                ).fetchone()
            raise ItemExists(row.cont_sign, existing[0] if existing else None) from None

    def update(self, cont_sign: str, *, brief: str | None, slots) -> tuple[int, GalleryEntry]:
        """Change the brief and/or slots; ``slots`` items: an int sets, 0 clears, None keeps.

        Returns the row's id and the entry after the change.  Raises ItemNotFound.
        """
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT id, brief, tag1, tag2, added FROM entries WHERE cont_sign = ?",
                (cont_sign,),
            ).fetchone()
            if row is None:
                raise ItemNotFound([cont_sign])
            row_id, b, t1, t2, added = row
            b = b if brief is None else brief
            if slots is not None:
                t1 = t1 if slots[0] is None else slots[0]
                t2 = t2 if slots[1] is None else slots[1]
            conn.execute(
                "UPDATE entries SET brief = ?, tag1 = ?, tag2 = ? WHERE id = ?",
                (b, t1, t2, row_id),
            )
        return row_id, _entry(cont_sign, b, t1, t2, added)

    def delete(self, cont_signs: Sequence[str]) -> list[tuple[str, int]]:
        """Delete images; return ``(cont_sign, id)`` of those that were stored.

        Raises ItemNotFound when none was.
        """
        found = []
        with self._transaction() as conn:
            for s in cont_signs:
                row = conn.execute("SELECT id FROM entries WHERE cont_sign = ?", (s,)).fetchone()
                if row is not None:
                    conn.execute("DELETE FROM entries WHERE id = ?", (row[0],))
                    found.append((s, int(row[0])))
        if not found:
            raise ItemNotFound(cont_signs)
        return found

    def get(self, cont_sign: str) -> GalleryEntry | None:
        """The stored entry with this signature, or None."""
        with self.lock:
            row = self._conn.execute(
                "SELECT cont_sign, brief, tag1, tag2, added FROM entries WHERE cont_sign = ?",
                (cont_sign,),
            ).fetchone()
        return None if row is None else _entry(*row)

    def list(self, *, offset: int = 0, limit: int | None = None) -> list[GalleryEntry]:
        """Stored entries in the order they were added."""
        with self.lock:
            rows = self._conn.execute(
                "SELECT cont_sign, brief, tag1, tag2, added FROM entries ORDER BY id"
                " LIMIT ? OFFSET ?",
                (-1 if limit is None else int(limit), int(offset)),
            ).fetchall()
        return [_entry(*r) for r in rows]

    def count(self) -> int:
        """Number of stored images."""
        with self.lock:
            return self._conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0]

    def thumbs(self, ids: Sequence[int]) -> dict[int, bytes]:
        """Verification thumbnails of rows by id (rows without one are left out)."""
        ids = list(ids)
        if not ids:
            return {}
        with self.lock:
            marks = ",".join("?" * len(ids))
            rows = self._conn.execute(
                f"SELECT id, thumb FROM entries WHERE id IN ({marks}) AND thumb IS NOT NULL", ids
            ).fetchall()
        return dict(rows)

    def columns(self, n_views: int, with_texture: bool) -> Columns:
        """Every row, column by column, in id order (float16 vectors as stored)."""
        views = "views" if n_views > 1 else "NULL"
        texture = "texture" if with_texture else "NULL"
        with self.lock:
            dim = self.dim() or 0
            rows = self._conn.execute(
                "SELECT id, cont_sign, brief, tag1, tag2, phash, dhash, embedding,"
                f" {views}, {texture} FROM entries ORDER BY id"
            ).fetchall()
        n = len(rows)
        if not n:
            return Columns.empty(n_views)
        cols = list(zip(*rows, strict=True))
        # Fresh memory is slow to touch on a busy machine: no copy beyond the joined blobs.
        vectors = np.frombuffer(b"".join(cols[7]), "<f2").reshape(n, 1, dim)
        if n_views > 1:
            views = np.frombuffer(b"".join(cols[8]), "<f2").reshape(n, n_views - 1, dim)
            vectors = np.concatenate((vectors, views), axis=1)
        tex = None
        if with_texture:
            tex = np.frombuffer(b"".join(cols[9]), np.float32).reshape(n, -1)
        return Columns(
            ids=np.asarray(cols[0], np.int64),
            signs=list(cols[1]),
            briefs=list(cols[2]),
            tags=np.stack((np.asarray(cols[3], np.int32), np.asarray(cols[4], np.int32)), 1),
            # SQLite integers are signed: the same 64 bits read back as unsigned hashes.
            phash=np.asarray(cols[5], np.int64).view(np.uint64),
            dhash=np.asarray(cols[6], np.int64).view(np.uint64),
            vectors=vectors,
            texture=tex,
        )

    def _read_data_version(self) -> int:
        return self._conn.execute("PRAGMA data_version").fetchone()[0]

    def changed_elsewhere(self) -> bool:
        """Whether another connection (another process) changed the file since last asked."""
        with self.lock:
            version = self._read_data_version()
            changed = version != self._data_version
            self._data_version = version
        return changed

    def checkpoint(self) -> None:
        """Fold the WAL into the main file (the benchmark measures the file size after it)."""
        with self.lock:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        """Close the connection."""
        with self.lock:
            self._conn.close()
