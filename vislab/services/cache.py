"""Successful replies on disk, so a re-run notebook does not pay twice."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vislab.engine.paths import ensure_dir

__all__ = ["ReplyCache"]


class ReplyCache:
    """Successful replies on disk, keyed by (backend, endpoint path, parameters, image bytes).

    The backend (service family, base URL or ``local``, and a hash of the account — never the
    key) is part of the key, so answers of the local engine are never served to a cloud client
    and one account's never to another's.  Each entry records its own key and is checked when
    read: a damaged, foreign or hand-edited file is ignored (the call goes to the service).
    Entries are written through a private temporary file (``mkstemp``) and an atomic rename.

    Parameters
    ----------
    folder : str or Path
        Created if missing.

    Examples
    --------
    >>> import tempfile
    >>> cache = ReplyCache(tempfile.mkdtemp())
    >>> key = cache.key("baidu.image_classify@local#0", "/rest/x", {"top_num": "3"}, "ab12")
    >>> cache.get(key) is None
    True
    >>> cache.put(key, {"result": []}); cache.get(key)
    {'result': []}
    """

    VERSION = 2

    def __init__(self, folder):
        self.folder = ensure_dir(Path(folder).expanduser(), what="reply cache folder")

    def __repr__(self) -> str:
        return f"ReplyCache({str(self.folder)!r})"

    @staticmethod
    def key(backend: str, path: str, params: Mapping[str, Any], image_sha256: str) -> str:
        text = json.dumps(
            [backend, path, sorted((str(k), str(v)) for k, v in params.items()), image_sha256]
        )
        return hashlib.sha256(text.encode()).hexdigest()

    def _file(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        """The stored reply of ``key``, or None (missing, damaged or not this key's)."""
        try:
            entry = json.loads(self._file(key).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        if (
            not isinstance(entry, dict)
            or entry.get("v") != self.VERSION
            or entry.get("key") != key
            or not isinstance(entry.get("reply"), dict)
        ):
            return None
        return entry["reply"]

    def put(self, key: str, reply: Mapping[str, Any]) -> None:
        target = self._file(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(
                    {"v": self.VERSION, "key": key, "reply": dict(reply)}, f, ensure_ascii=False
                )
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
