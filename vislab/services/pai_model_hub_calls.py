"""The PAI client's calls that are not one image in, one reply out: image pairs (I9, F1, P1)
and URL-only foreground segmentation (I6), plus reading inventory boxes back from a frame.

Functions of a :class:`vislab.services.pai_model_hub.Client` (``self``), using the shared
batch machinery of :class:`~vislab.services.client.ServiceClient` (bounded concurrency, QPS,
cache, retries, one row per input with error rows).
"""

from __future__ import annotations

import hashlib

import pandas as pd

from vislab import frames
from vislab.errors import InvalidParameter
from vislab.images import expand_images, prepare_image
from vislab.pai_frames import pairs_frame

__all__ = ["call_pairs", "call_foreground", "inventory_boxes"]


def call_pairs(self, name, a, b, options, errors) -> pd.DataFrame:
    """Endpoint ``name`` on the pairs ``(a[i], b[i])`` of ``client`` (``self``): one row per
    pair; P1 wraps the pair in its function call.

    Examples
    --------
    >>> from skimage import data
    >>> from vislab import pai
    >>> df = call_pairs(pai.Client(progress=False), "image_similarity", data.coffee(),
    ...                 data.coffee(), {}, None)
    >>> float(df.loc[0, "similarity"])
    100.0
    """
    ep = self.spec.endpoint(name)
    params = ep.wire_params({**options, "imageb": "-"})
    params.pop("imageb")
    left, right = expand_images(a), expand_images(b)
    if len(left) != len(right):
        raise InvalidParameter(
            f"{name} compares a[i] with b[i]: got {len(left)} and {len(right)} images",
            name="b",
        )
    items = list(zip(left, right, strict=True))
    path = self.service_path(name)

    def work(item):
        (ida, src_a), (idb, src_b) = item
        pa = prepare_image(src_a, ep.limits, ident=ida, fit=self.fit)
        pb = prepare_image(src_b, ep.limits, ident=idb, fit=self.fit)
        pair = {"imagea": pa.b64(), "imageb": pb.b64()}
        fields = (
            {"function_name": "match", "function_params": {**pair, **params}}
            if name == "product_compare"
            else {**pair, **params}
        )
        key = None
        if self.cache is not None:
            digest = hashlib.sha256((pa.sha256 + pb.sha256).encode()).hexdigest()
            key = self.cache.key(self.backend, path, params, digest)
        reply = self._send(ep, fields, key, path=path)
        return [{**r, "a": ida, "b": idb} for r in ep.parse(reply, ida)], reply

    results = self._run(
        name, items, work, key_of=lambda it: {"a": it[0][0], "b": it[1][0]}, errors=errors
    )
    rows, raw = [], {}
    for ((ida, _), (idb, _)), (pair_rows, reply) in zip(items, results, strict=True):
        rows.extend(pair_rows)
        if isinstance(reply, dict):
            raw[(ida, idb)] = reply
    return pairs_frame(rows, service=f"{self.service}.{name}", raw=raw)


def call_foreground(self, images, errors) -> pd.DataFrame:
    """I6 on image URLs only (``{"input": {"url": ...}}``); any other input is its error row.

    Examples
    --------
    >>> import warnings
    >>> from skimage import data
    >>> from vislab import pai
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     df = call_foreground(pai.Client(progress=False), data.coffee(), None)
    >>> "takes image URLs" in df.loc[0, "error_msg"]
    True
    """
    ep = self.spec.endpoint("segment_foreground")
    items = expand_images(images)
    path = self.service_path("segment_foreground")

    def work(item):
        ident, source = item
        if not isinstance(source, str) or not source.startswith(("http://", "https://")):
            raise InvalidParameter(
                "segment_foreground takes image URLs (PAI's foreground model reads "
                '{"input": {"url": ...}}): upload the image and pass its http(s) URL',
                name="images",
            )
        reply = self._send(ep, {"input": {"url": source}}, None, path=path)
        return ep.parse(reply, ident) or [{"image": ident}], reply

    results = self._run(
        "segment_foreground", items, work, key_of=lambda it: {"image": it[0]}, errors=errors
    )
    rows = [r for image_rows, _ in results for r in image_rows]
    raw = {i: rep for (i, _), (_, rep) in zip(items, results, strict=True) if isinstance(rep, dict)}
    return frames.result_frame("masks", rows, service=f"{self.service}.segment_foreground", raw=raw)


def inventory_boxes(df: pd.DataFrame) -> pd.DataFrame:
    """The boxes behind a :meth:`Client.count_inventory` frame (from ``df.attrs["raw"]``).

    Examples
    --------
    >>> from vislab.pai_frames import counts_frame
    >>> raw = {"shelf": {"detection_boxes": [[10, 5, 30, 45]], "detection_scores": [0.9],
    ...                  "detection_class_names": ["429"]}}
    >>> inventory_boxes(counts_frame([], raw=raw))[["image", "label", "x", "w"]].values.tolist()
    [['shelf', '429', 5.0, 40.0]]
    """
    from vislab.catalogue.pai_model_hub import parse_inventory_boxes

    raw = df.attrs.get("raw", {})
    if len(df) and "image" in df.columns:
        # pandas carries attrs through a selection: keep the replies of the rows given only
        wanted = set(df["image"])
        raw = {ident: reply for ident, reply in raw.items() if ident in wanted}
    rows = [r for ident, reply in raw.items()
            for r in parse_inventory_boxes(reply, ident)]  # fmt: skip
    return frames.result_frame("boxes", rows, service=df.attrs.get("service"))
