"""The client's own record of what it stored in image-search galleries (cloud or local).

Baidu image search has no list or export call: what a gallery holds is known only to whoever
kept the ``cont_sign`` of every add.  :class:`Ledger` keeps that record in a SQLite file
(default ``<VISLAB_HOME>/ledger.sqlite``), one row per added image: where it went (``target``:
``"local"`` or the service URL and a hash of the API key), the product, ``cont_sign``,
``brief``, tags, the SHA-256 of the bytes sent, the caller's identifier and the time.  A
delete marks the row (``deleted``) rather than removing it, so the client can drop deleted
images from search results while the cloud still returns them (up to ~4 h).

An add made by a Dask partition also records its ``job`` (the run and partition number): when
Dask runs the partition again (its worker was killed), the add of the same bytes under the same
identifier is answered from this row instead of being sent twice (:mod:`vislab.scale.dask_calls`).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from vislab.engine.paths import open_sqlite

__all__ = ["Ledger"]


class Ledger:
    """A SQLite record of gallery adds, updates and deletes.

    Parameters
    ----------
    path : path-like
        The SQLite file (created with its folder).

    Examples
    --------
    >>> import tempfile, os
    >>> led = Ledger(os.path.join(tempfile.mkdtemp(), "ledger.sqlite"))
    >>> led.record_add("local", "similar", "1,2", brief="b", tags="1", sha256="ab")
    >>> led.find("local", "similar", sha256="ab")["cont_sign"]
    '1,2'
    >>> led.mark_deleted("local", "similar", cont_signs=["1,2"])
    >>> led.deleted("local", "similar")
    {'1,2'}
    """

    def __init__(self, path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn = open_sqlite(self.path, what="ledger", timeout=30.0, isolation_level=None,
                                 check_same_thread=False)  # fmt: skip
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute(
            """CREATE TABLE IF NOT EXISTS adds (
                target TEXT NOT NULL, product TEXT NOT NULL, cont_sign TEXT NOT NULL,
                brief TEXT, tags TEXT, sha256 TEXT, image TEXT, added REAL NOT NULL,
                deleted REAL,
                PRIMARY KEY (target, product, cont_sign))"""
        )
        self._conn.execute("CREATE INDEX IF NOT EXISTS adds_sha ON adds (target, product, sha256)")
        columns = {row[1] for row in self._conn.execute("PRAGMA table_info(adds)")}
        if "job" not in columns:  # a ledger written before Dask runs recorded their job
            self._conn.execute("ALTER TABLE adds ADD COLUMN job TEXT")

    def __repr__(self) -> str:
        return f"Ledger({str(self.path)!r})"

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def record_add(self, target, product, cont_sign, *, brief=None, tags=None, sha256=None,
                   image=None, job=None) -> None:  # fmt: skip
        """Record a successful add (a re-added, once deleted image gets a fresh row)."""
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO adds (target, product, cont_sign, brief, tags, sha256,"
                " image, added, deleted, job) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)",
                (target, product, cont_sign, brief, tags, sha256, image, time.time(), job),
            )

    def set_image(self, target, product, cont_sign, image) -> None:
        """Remember the caller's identifier of a stored image."""
        with self._lock:
            self._conn.execute(
                "UPDATE adds SET image = ? WHERE target = ? AND product = ? AND cont_sign = ?",
                (image, target, product, cont_sign),
            )

    def find(self, target, product, *, sha256=None, cont_sign=None) -> dict | None:
        """The live (not deleted) row with these bytes or this signature, or ``None``."""
        col, value = ("sha256", sha256) if sha256 is not None else ("cont_sign", cont_sign)
        with self._lock:
            cur = self._conn.execute(
                f"SELECT * FROM adds WHERE target = ? AND product = ? AND {col} = ?"
                " AND deleted IS NULL ORDER BY added DESC LIMIT 1",
                (target, product, value),
            )
            row = cur.fetchone()
            names = [d[0] for d in cur.description]
        return dict(zip(names, row, strict=True)) if row else None

    def update(self, target, product, cont_sign, *, brief=None, tags=None) -> None:
        """Record an update of brief and/or tags."""
        with self._lock:
            if brief is not None:
                self._conn.execute(
                    "UPDATE adds SET brief = ? WHERE target = ? AND product = ? AND cont_sign = ?",
                    (brief, target, product, cont_sign),
                )
            if tags is not None:
                self._conn.execute(
                    "UPDATE adds SET tags = ? WHERE target = ? AND product = ? AND cont_sign = ?",
                    (tags, target, product, cont_sign),
                )

    def mark_deleted(self, target, product, *, cont_signs=(), sha256=None) -> None:
        """Mark images deleted (by signature, or by the bytes that were added)."""
        now = time.time()
        with self._lock:
            self._conn.execute("BEGIN")
            for sign in cont_signs:
                self._conn.execute(
                    "UPDATE adds SET deleted = ? WHERE target = ? AND product = ?"
                    " AND cont_sign = ? AND deleted IS NULL",
                    (now, target, product, sign),
                )
            if sha256 is not None:
                self._conn.execute(
                    "UPDATE adds SET deleted = ? WHERE target = ? AND product = ?"
                    " AND sha256 = ? AND deleted IS NULL",
                    (now, target, product, sha256),
                )
            self._conn.execute("COMMIT")

    def deleted(self, target, product) -> set[str]:
        """Signatures deleted through this ledger (and not added again since)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT cont_sign FROM adds WHERE target = ? AND product = ?"
                " AND deleted IS NOT NULL",
                (target, product),
            ).fetchall()
        return {r[0] for r in rows}

    def entries(self, target, product, *, include_deleted=False) -> list[dict]:
        """Every recorded image of one gallery, oldest first."""
        where = "" if include_deleted else " AND deleted IS NULL"
        with self._lock:
            cur = self._conn.execute(
                f"SELECT * FROM adds WHERE target = ? AND product = ?{where} ORDER BY added",
                (target, product),
            )
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
