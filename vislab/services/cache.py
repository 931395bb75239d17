"""Successful replies on disk, so a re-run notebook does not pay twice."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["ReplyCache"]


class ReplyCache:
    """Successful replies on disk, keyed by (endpoint path, parameters, image bytes).

    Parameters
    ----------
    folder : str or Path
        Created if missing.  Entries are JSON files written atomically, so an interrupted
        run never leaves a half-written entry.

    Examples
    --------
    >>> import tempfile
    >>> cache = ReplyCache(tempfile.mkdtemp())
    >>> key = cache.key("/rest/x", {"top_num": "3"}, "ab12")
    >>> cache.get(key) is None
    True
    >>> cache.put(key, {"result": []}); cache.get(key)
    {'result': []}
    """

    def __init__(self, folder):
        self.folder = Path(folder).expanduser()
        self.folder.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"ReplyCache({str(self.folder)!r})"

    @staticmethod
    def key(path: str, params: Mapping[str, Any], image_sha256: str) -> str:
        text = json.dumps([path, sorted((str(k), str(v)) for k, v in params.items()), image_sha256])
        return hashlib.sha256(text.encode()).hexdigest()

    def _file(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        try:
            return json.loads(self._file(key).read_text("utf-8"))
        except (OSError, ValueError):
            return None

    def put(self, key: str, reply: Mapping[str, Any]) -> None:
        import threading

        target = self._file(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(reply, ensure_ascii=False), "utf-8")
        os.replace(tmp, target)
