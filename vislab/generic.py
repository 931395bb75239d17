"""The generic image-classification API: ``vislab.generic.Classifier(url)``.

A custom classifier published behind a URL of its own (a drag-and-drop or automated training
platform's "model details" page gives it).  The request is ``{"base64": ...}``, the reply a
score for every class; :meth:`Classifier.classify` returns a labels frame ranked by score with
the service's own ``prediction`` in a column beside it (it need not be the top score).
Without a URL the classifier runs offline on the local engine's ``imagenet`` model (the
backbone's 1000 ImageNet classes), through the same wire format.

Examples
--------
>>> from vislab import generic
>>> from skimage import data
>>> clf = generic.Classifier(progress=False)                # offline, local model
>>> df = clf.classify({"cat": data.chelsea()}, top_k=3)
>>> list(df.columns[:5])
['image', 'rank', 'label', 'score', 'error_code']
>>> remote = generic.Classifier("https://models.example.com/predict/abc")  # doctest: +SKIP
"""

from __future__ import annotations

import urllib.parse

import pandas as pd

from vislab.catalogue.generic import CLASSIFY, ID
from vislab.errors import InvalidParameter
from vislab.services.client import ServiceClient

__all__ = ["Classifier"]


class Classifier(ServiceClient):
    """A model published behind the generic image-classification API.

    Parameters
    ----------
    url : str, optional
        The model's URL as its platform shows it (``https://...``), or a ``vislab serve`` URL
        of a local model (``http://127.0.0.1:8765/vislab/generic/v1/classify/imagenet``).
        Without it the local ``model`` answers in-process.
    model : str, default "imagenet"
        The local model (only without ``url``): the backbone's 1000 ImageNet classes.
    **kwargs
        The options of every client, as for :class:`vislab.baidu.ImageClassify`: ``qps``,
        ``max_workers``, ``timeout``, ``retries``, ``cache``, ``progress``, ``fit``,
        ``verify``, ``errors``, ``transport``.  The API documents no authentication, so there
        are no keys.

    Examples
    --------
    >>> Classifier()
    Classifier(mode='local')
    >>> Classifier("http://127.0.0.1:8765/vislab/generic/v1/classify/imagenet")
    Classifier(mode='http', base_url='http://127.0.0.1:8765')
    """

    service = ID

    def __init__(self, url: str | None = None, *, model: str = "imagenet", **kwargs):
        if url is None:
            self._path = CLASSIFY.url_path(model=model)
            super().__init__(**kwargs)
            return
        parts = urllib.parse.urlsplit(str(url).strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidParameter(f"url must be the model's http(s) URL, got {url!r}", name="url")
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        super().__init__(base_url=f"{parts.scheme}://{parts.netloc}", **kwargs)

    def classify(
        self, images, *, top_k: int | None = None, errors: str | None = None
    ) -> pd.DataFrame:
        """Classify images -> labels frame (``image, rank, label, score, prediction``).

        Parameters
        ----------
        images : image or many
            Paths, URLs, bytes, arrays, PIL images, globs, lists, Series or
            ``{identifier: image}``.  Checked locally against the API's rules first (JPG/PNG,
            30..4096 px, aspect <= 3:1, 4 MB after base64; with ``fit=True`` too-large images
            are shrunk and other formats re-encoded).
        top_k : int, optional
            Keep the ``top_k`` best classes per image.  Applied on the client: the API has no
            such parameter and always answers every class.
        errors : {"row", "raise"}, optional
            Failed images as error rows plus one warning, or raise the first failure (default:
            the client's ``errors``).

        Returns
        -------
        DataFrame
            One row per (image, class), ranked by score; ``prediction`` is the service's own
            verdict for the image.  An image that failed keeps one error row.

        Examples
        --------
        >>> from skimage import data
        >>> df = Classifier(progress=False).classify({"coffee": data.coffee()}, top_k=2)
        >>> df["rank"].tolist()
        [1, 2]
        """
        if top_k is not None and (isinstance(top_k, bool) or int(top_k) < 1):
            raise InvalidParameter(f"top_k must be a positive int, got {top_k!r}", name="top_k")
        df = self._call("classify", images, {}, path=self._path, errors=errors)
        if top_k is not None:
            keep = df["rank"].isna() | (df["rank"] <= int(top_k))
            df = df[keep].reset_index(drop=True).__finalize__(df)
        return df
