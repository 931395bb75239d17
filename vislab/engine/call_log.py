"""The call log of published EasyDL models: SQLite under ``VISLAB_HOME`` (no pandas).

Off by default; :func:`log_calls` turns it on per model.  Then every call the emulator answers
for that model is written to ``<home>/easydl/calls.sqlite`` (table ``calls``: time, model name
and version, kind, the image's SHA-256, the stored image file, the reply's ``results`` as
JSON).  The image is kept once per content under ``<home>/easydl/calls/<sha[:2]>/``.  Keys and
tokens are never written: the log sees the image and the answer only.

Crash safety: WAL journal with ``synchronous=FULL``, one transaction per call, and the image
file is flushed and renamed into place before its row is written, so a killed server leaves
every committed call readable and no row naming a missing file.  The pandas side (review
frames, datasets) is :mod:`vislab.easydl.calls`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import sqlite3
import time
from pathlib import Path

from vislab.engine.paths import ensure_dir, vislab_home
from vislab.engine.training.store import check_model_name

__all__ = ["log_calls", "record", "calls_database", "read_calls", "call_images_root"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS logging (name TEXT PRIMARY KEY, since REAL NOT NULL);
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    kind TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    file TEXT NOT NULL,
    results TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS calls_name_time ON calls (name, time);
"""
_EXT = {b"\xff\xd8": ".jpg", b"\x89P": ".png", b"BM": ".bmp"}


def _root(home) -> Path:
    return (Path(home).expanduser() if home is not None else vislab_home()) / "easydl"


def calls_database(home=None) -> Path:
    """Where the call log lives: ``<home>/easydl/calls.sqlite``.

    Parameters
    ----------
    home : path-like, optional
        The vislab home folder (default ``VISLAB_HOME``).

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> calls_database("/tmp/h").as_posix()
    '/tmp/h/easydl/calls.sqlite'
    """
    return _root(home) / "calls.sqlite"


@contextlib.contextmanager
def _connect(home):
    path = calls_database(home)
    ensure_dir(path.parent, what="EasyDL folder")
    conn = sqlite3.connect(path, timeout=30.0)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.executescript(_SCHEMA)
        yield conn
    finally:
        conn.close()


def log_calls(name: str, enabled: bool = True, *, home=None) -> bool:
    """Turn call logging on (or off) for the model ``name``; returns whether it was on before.

    Parameters
    ----------
    name : str
        The model (every version and suffix it is published at).
    enabled : bool, default True
        ``False`` stops logging; calls logged so far stay.
    home : path-like, optional
        The vislab home folder (default ``VISLAB_HOME``).

    Returns
    -------
    bool
        Whether logging was on before this call.

    Examples
    --------
    >>> import tempfile
    >>> home = tempfile.mkdtemp()
    >>> log_calls("defects", home=home), log_calls("defects", False, home=home)
    (False, True)
    """
    check_model_name(name)
    with _connect(home) as conn, conn:
        was = conn.execute("SELECT 1 FROM logging WHERE name = ?", (name,)).fetchone()
        if enabled and was is None:
            conn.execute("INSERT INTO logging (name, since) VALUES (?, ?)", (name, time.time()))
        elif not enabled:
            conn.execute("DELETE FROM logging WHERE name = ?", (name,))
    return was is not None


def _save_image(home, data: bytes, sha: str) -> str:
    ext = _EXT.get(bytes(data[:2]), ".img")
    rel = f"calls/{sha[:2]}/{sha}{ext}"
    path = _root(home) / rel
    if not path.is_file():
        ensure_dir(path.parent, what="EasyDL call images")
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    return rel


def record(name, version, kind, data: bytes, results, *, home=None) -> int | None:
    """Write one answered call if logging is on for ``name`` (the emulator calls this).

    Parameters
    ----------
    name, version, kind : str
        The model version that answered.
    data : bytes
        The image as sent.
    results : list of dict
        The reply's ``results`` (EasyDL's wire form).
    home : path-like, optional
        The vislab home folder (default ``VISLAB_HOME``).

    Returns
    -------
    int or None
        The call's id, or None when logging is off for ``name``.

    Examples
    --------
    >>> import tempfile
    >>> home = tempfile.mkdtemp()
    >>> record("m", "V1", "classification", b"\\xff\\xd8...", [], home=home) is None
    True
    >>> _ = log_calls("m", home=home)
    >>> record("m", "V1", "classification", b"\\xff\\xd8...", [{"name": "a", "score": 1.0}],
    ...        home=home)
    1
    """
    with _connect(home) as conn:
        if conn.execute("SELECT 1 FROM logging WHERE name = ?", (name,)).fetchone() is None:
            return None
        sha = hashlib.sha256(data).hexdigest()
        rel = _save_image(home, data, sha)  # the file exists before any row names it
        with conn:
            cur = conn.execute(
                "INSERT INTO calls (time, name, version, kind, sha256, file, results) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (time.time(), name, version, kind, sha, rel, json.dumps(results)),
            )
        return int(cur.lastrowid)


def call_images_root(home=None) -> Path:
    """The folder logged call images are kept in: ``<home>/easydl/calls``.

    Examples
    --------
    >>> call_images_root("/tmp/h").as_posix()
    '/tmp/h/easydl/calls'
    """
    return _root(home) / "calls"


def read_calls(name: str, *, since: float | None = None, until: float | None = None, home=None):
    """Logged calls of ``name`` in time order, as tuples ``(id, time, name, version, kind,
    sha256, file, results)`` with ``results`` decoded (``since <= time < until``, epoch s).

    Examples
    --------
    >>> import tempfile
    >>> read_calls("nothing", home=tempfile.mkdtemp())
    []
    """
    check_model_name(name)
    if not calls_database(home).is_file():
        return []
    sql, args = "SELECT * FROM calls WHERE name = ?", [name]
    if since is not None:
        sql, args = sql + " AND time >= ?", [*args, float(since)]
    if until is not None:
        sql, args = sql + " AND time < ?", [*args, float(until)]
    with _connect(home) as conn:
        found = conn.execute(sql + " ORDER BY time, id", args).fetchall()
    return [(*row[:7], json.loads(row[7])) for row in found]
