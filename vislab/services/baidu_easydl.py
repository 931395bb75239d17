"""The EasyDL client: ``vislab.baidu.EasyDL(url)`` calls a published custom model.

One client per model, as EasyDL's console gives one service URL per published model:

* a **cloud URL** (``https://aip.baidubce.com/rpc/2.0/ai_custom/v1/classification/<suffix>``)
  with the app's ``api_key`` / ``secret_key`` (or ``VISLAB_EASYDL_API_KEY`` /
  ``VISLAB_EASYDL_SECRET_KEY``);
* a **vislab serve URL** of the same form (``http://127.0.0.1:8765/rpc/2.0/...``);
* a **local name**: the name (or suffix) of a model published with
  :func:`vislab.easydl.publish`, answered in-process through the same wire format; without
  ``url`` the built-in local suffixes answer (``imagenet`` for classification, ``objects`` for
  detection; see :mod:`vislab.catalogue.baidu_easydl`).

The session is every client's (token fetch and refresh, retries with backoff, ``cache=``), with
a default of **2 requests per second**, EasyDL's free tier (``qps=`` changes it, ``qps=0``
lifts it).  A URL of a path other than the two known forms is used as given for either call.
"""

from __future__ import annotations

import urllib.parse

import pandas as pd

from vislab.catalogue.baidu_easydl import BUILTIN, CLASSIFY, DETECT
from vislab.errors import InvalidParameter
from vislab.services.client import ServiceClient
from vislab.services.docs import endpoint_doc
from vislab.transport import NoAuth

__all__ = ["EasyDL"]

_KIND_OF = {"classify": "classification", "detect": "detection"}
_BUILTIN_FOR = {"classification": "imagenet", "detection": "objects"}


def _published_entry(name: str) -> tuple[str, str] | None:
    """``(suffix, kind)`` of the model published as ``name`` (or at suffix ``name``)."""
    from vislab.engine.training.store import ModelStore

    registry = ModelStore().published()
    for suffix, entry in registry.items():
        if entry.get("name") == name:
            return suffix, entry["kind"]
    entry = registry.get(name)
    return (name, entry["kind"]) if entry else None


class EasyDL(ServiceClient):
    """A published EasyDL model (classifier or detector), by URL or local name.

    Parameters
    ----------
    url : str, optional
        The model's service URL as the console shows it (cloud or ``vislab serve``), or the
        name (or URL suffix) of a model published locally with :func:`vislab.easydl.publish`.
        Without it the built-in local suffixes answer (``imagenet``, ``objects``).
    api_key, secret_key : str, optional
        The EasyDL app's keys (or ``VISLAB_EASYDL_API_KEY`` / ``VISLAB_EASYDL_SECRET_KEY``);
        needed for the cloud, not for a local name.
    **kwargs
        The options of every client, as for :class:`vislab.baidu.ImageClassify`: ``qps``
        (default 2, EasyDL's free tier; 0 for no limit), ``max_workers``, ``timeout``,
        ``retries``, ``cache``, ``progress``, ``fit``, ``verify``, ``errors``, ``transport``.

    Attributes
    ----------
    kind : str or None
        ``"classification"`` or ``"detection"`` when the URL or name says which.
    suffix : str or None
        The URL suffix of the model, when known.

    Examples
    --------
    >>> from vislab import baidu
    >>> baidu.EasyDL()
    EasyDL(mode='local')
    >>> baidu.EasyDL("http://127.0.0.1:8765/rpc/2.0/ai_custom/v1/detection/cells")
    EasyDL(mode='http', base_url='http://127.0.0.1:8765')
    >>> baidu.EasyDL("http://127.0.0.1:8765/rpc/2.0/ai_custom/v1/detection/cells").kind
    'detection'
    """

    service = "baidu.easydl"

    def __init__(
        self,
        url: str | None = None,
        *,
        api_key: str | None = None,
        secret_key: str | None = None,
        **kwargs,
    ):
        self._path: str | None = None
        self.kind: str | None = None
        self.suffix: str | None = None
        if url is not None and not isinstance(url, str):
            raise InvalidParameter(
                f"url must be the model's service URL or its published name, got {url!r}",
                name="url",
            )
        text = (url or "").strip()
        if "://" in text:
            parts = urllib.parse.urlsplit(text)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise InvalidParameter(
                    f"url must be an http(s) service URL, got {url!r}", name="url"
                )
            for ep in (CLASSIFY, DETECT):
                found = ep.match(parts.path)
                if found is not None:
                    self.kind, self.suffix = _KIND_OF[ep.name], found["suffix"]
            if self.kind is None:  # another path form: used as given for either call
                self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            base = f"{parts.scheme}://{parts.netloc}"
            super().__init__(api_key, secret_key, base_url=base, **kwargs)
            if self.mode == "http" and base == self.spec.cloud_url:
                self.mode = "cloud"  # Baidu's own host: the console's URL, not a local server
            return
        if api_key or secret_key:
            raise InvalidParameter(
                "api_key/secret_key are for a cloud model: give its service URL from the "
                "EasyDL console as url= (a local name needs no keys)",
                name="url",
            )
        if text:
            found = _published_entry(text)
            if found is None and text not in BUILTIN:
                raise InvalidParameter(
                    f"no model is published locally as {text!r}; publish it with "
                    "vislab.easydl.publish(name, version) or give its service URL",
                    name="url",
                )
            self.suffix, self.kind = found or (
                text,
                "classification" if text == "imagenet" else "detection",
            )
        from vislab.services.client import _local_handle
        from vislab.transport import LocalTransport

        super().__init__(transport=LocalTransport(_local_handle()), **kwargs)
        # Local answers need no token, whatever keys the environment holds.
        self.session.auth = NoAuth()
        self._account = ""
        self.mode = "local"

    def _path_for(self, method: str) -> str:
        kind = _KIND_OF[method]
        if self.kind is not None and self.kind != kind:
            other = "classify" if method == "detect" else "detect"
            raise InvalidParameter(
                f"this model is a {self.kind} model: call {other}(), or make an EasyDL client "
                f"with a {kind} model's URL for {method}()",
                name="url",
            )
        if self._path is not None:
            return self._path
        ep = CLASSIFY if method == "classify" else DETECT
        return ep.url_path(suffix=self.suffix or _BUILTIN_FOR[kind])

    @endpoint_doc(CLASSIFY)
    def classify(self, images, *, top_num=None, errors=None) -> pd.DataFrame:
        """Classify images with a published classifier -> labels frame, best class first.

        Examples
        --------
        >>> from skimage import data
        >>> df = EasyDL(progress=False).classify({"cat": data.chelsea()}, top_num=2)
        >>> df["rank"].tolist()
        [1, 2]
        """
        path = self._path_for("classify")
        return self._call("classify", images, {"top_num": top_num}, path=path, errors=errors)

    @endpoint_doc(DETECT)
    def detect(self, images, *, threshold=None, errors=None) -> pd.DataFrame:
        """Find objects with a published detector -> boxes frame (``x, y, w, h`` pixels).

        Examples
        --------
        >>> from skimage import data
        >>> df = EasyDL(progress=False).detect({"astronaut": data.astronaut()}, threshold=0.0)
        >>> list(df.columns[:7])
        ['image', 'label', 'score', 'x', 'y', 'w', 'h']
        """
        path = self._path_for("detect")
        return self._call("detect", images, {"threshold": threshold}, path=path, errors=errors)
