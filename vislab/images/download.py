"""Bounded HTTP downloads: a byte cap and a wall-clock deadline, whatever the server does.

Both the client (an image given as a URL) and the emulator (a request's ``url`` field) fetch
images through :func:`download`; each maps :class:`DownloadError` to its own error.
"""

from __future__ import annotations

import time

__all__ = ["download", "DownloadError"]


class DownloadError(Exception):
    """A download that failed: ``kind`` is ``"status"``, ``"type"``, ``"size"``,
    ``"timeout"`` or ``"failed"``; ``value`` what was seen (status, type, bytes)."""

    def __init__(self, kind: str, message: str, value=None):
        super().__init__(message)
        self.kind = kind
        self.value = value


def download(
    url: str,
    *,
    max_bytes: int,
    deadline: float,
    images_only: bool = False,
    read_timeout: float = 5.0,
) -> bytes:
    """The body of ``url``: at most ``max_bytes``, within ``deadline`` seconds in all.

    Data is read as it arrives (one socket read at a time), so a server that drips a byte
    every few seconds is cut off at the deadline instead of holding the caller.

    Examples
    --------
    >>> download("http://127.0.0.1:9/x.jpg", max_bytes=10, deadline=1)
    Traceback (most recent call last):
    ...
    vislab.images.download.DownloadError: could not download http://127.0.0.1:9/x.jpg: ConnectionError
    """
    import requests

    start = time.monotonic()
    try:
        with requests.get(url, timeout=(min(5.0, deadline), read_timeout), stream=True) as resp:
            if resp.status_code != 200:
                raise DownloadError(
                    "status", f"{url} answered HTTP {resp.status_code}", resp.status_code
                )
            ctype = resp.headers.get("Content-Type", "")
            if (
                images_only
                and ctype
                and not ctype.startswith(("image/", "application/octet-stream"))
            ):
                raise DownloadError(
                    "type", f"{url} is not an image (Content-Type {ctype!r})", ctype
                )
            declared = resp.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise DownloadError(
                    "size", f"{url} is {declared} bytes, more than {max_bytes}", int(declared)
                )
            read = getattr(resp.raw, "read1", None) or resp.raw.read
            chunks, total = [], 0
            while True:
                if time.monotonic() - start > deadline:
                    raise DownloadError("timeout", f"{url} took more than {deadline:g} s", deadline)
                chunk = read(65536)
                if not chunk:
                    break
                total += len(chunk)
                if total > max_bytes:
                    raise DownloadError("size", f"{url} is larger than {max_bytes} bytes", total)
                chunks.append(chunk)
            return b"".join(chunks)
    except requests.Timeout:
        raise DownloadError("timeout", f"{url} did not answer within {read_timeout:g} s") from None
    except requests.RequestException as exc:
        raise DownloadError("failed", f"could not download {url}: {type(exc).__name__}") from None
