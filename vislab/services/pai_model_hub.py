"""The PAI Model Hub client: ``vislab.pai.Client(endpoint, token=...)``, one method per model.

**Why one client with a mapping of service names.** On PAI every model is its own EAS service
(``POST {endpoint}/api/predict/{service}``), and a notebook commonly uses several of them
from one region with one endpoint and token.  So one client holds the endpoint and the token,
and ``services={"ocr": "my_ocr_v2", ...}`` maps each method to the name of your deployment
(methods you do not map use the default names of
:data:`vislab.catalogue.pai_model_hub.DEFAULT_SERVICES`, which ``vislab serve`` answers).
Five models stay five readable lines: ``pai.ocr(...)``, ``pai.detect(...)``... — no client
per model, no service name repeated at every call.  A model with its own token gets a second
client.

Without an endpoint the client runs offline through the same wire format, answered by the
emulator (:mod:`vislab.emulator.pai_model_hub` says which model answers what; a service with
no local model raises :class:`~vislab.errors.NotAvailableLocally`).
"""

from __future__ import annotations

import os
import re

import pandas as pd

from vislab.catalogue.pai_model_hub import DEFAULT_SERVICES, ID, RLE_ORDER, parse_instance
from vislab.errors import InvalidParameter
from vislab.pai_frames import counts_frame
from vislab.services.client import ServiceClient
from vislab.services.credentials import build_auth
from vislab.services.pai_model_hub_calls import call_foreground, call_pairs, inventory_boxes
from vislab.transport.envelopes import PaiEnvelope, register_envelope

__all__ = ["Client", "inventory_boxes"]

_SERVICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}")


@register_envelope
class PaiModelHubEnvelope(PaiEnvelope):
    """PAI EAS's envelope, for the Model Hub family (its own error table)."""

    name = "pai_model_hub"


class Client(ServiceClient):
    """PAI Model Hub models deployed as EAS services (or answered offline).

    Parameters
    ----------
    endpoint : str, optional
        The EAS endpoint (``http://<id>.<region>.pai-eas.aliyuncs.com``, or a
        ``vislab serve`` URL); default ``VISLAB_PAI_ENDPOINT``.  Without it the local models
        answer in-process.  The Model Hub docs name no endpoint: it is yours to give.
    token : str, optional
        The services' token (default ``VISLAB_PAI_TOKEN``); never shown in a repr, an error
        or a log.
    services : mapping of str to str, optional
        Method name -> your EAS service name (``{"ocr": "my_ocr"}``).
    signed : bool, default False
        Send the HMAC form ``Authorization: EAS <signature>`` (with ``Content-MD5`` and
        ``Date``) instead of the token itself.
    rle_order : {"F", "C"}, default "F"
        Scan order of PAI's instance-mask RLE (undocumented): column- or row-major.
    **kwargs
        ``qps``, ``max_workers``, ``timeout``, ``retries``, ``cache``, ``progress``, ``fit``,
        ``verify``, ``errors``, ``transport`` as for every client.  Only HTTP 500 is retried,
        as Alibaba's ``eas-prediction`` client does.

    Examples
    --------
    >>> from vislab import pai
    >>> pai.Client()
    Client(mode='local')
    >>> c = pai.Client("http://127.0.0.1:8765", token="s3cret", services={"ocr": "my_ocr"})
    >>> c, c.service_path("ocr"), "s3cret" in repr(c.session.auth)
    (Client(mode='http', base_url='http://127.0.0.1:8765'), '/api/predict/my_ocr', False)
    """

    service = ID

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        token: str | None = None,
        services=None,
        signed: bool = False,
        rle_order: str = RLE_ORDER,
        retries: int = 3,
        qps: float | None = None,
        **kwargs,
    ):
        endpoint = endpoint or os.environ.get("VISLAB_PAI_ENDPOINT") or None
        token = token or os.environ.get("VISLAB_PAI_TOKEN") or None
        if token is not None and not isinstance(token, str):
            raise InvalidParameter("token must be a string (the EAS service token)", name="token")
        if rle_order not in ("F", "C"):
            raise InvalidParameter(f"rle_order must be 'F' or 'C', got {rle_order!r}",
                                   name="rle_order")  # fmt: skip
        self.rle_order = rle_order
        self._services = dict(DEFAULT_SERVICES)
        for method, name in dict(services or {}).items():
            if method not in DEFAULT_SERVICES:
                known = ", ".join(DEFAULT_SERVICES)
                raise InvalidParameter(f"services: no method {method!r} (methods: {known})",
                                       name="services")  # fmt: skip
            if not isinstance(name, str) or not _SERVICE_NAME.fullmatch(name):
                raise InvalidParameter(f"services: {name!r} is not an EAS service name",
                                       name="services")  # fmt: skip
            self._services[method] = name
        if endpoint is not None:
            endpoint = str(endpoint).strip().rstrip("/")
            if not endpoint.startswith(("http://", "https://")):
                raise InvalidParameter(f"endpoint must be an http(s) URL, got {endpoint!r}",
                                       name="endpoint")  # fmt: skip
        super().__init__(base_url=endpoint, retries=retries, qps=qps, **kwargs)
        if token:
            self._account = token  # hashed into the cache key; never shown
        self._connect(
            self.transport, auth=build_auth("eas", token=token, signed=signed), retries=retries,
            qps=qps,
        )  # fmt: skip

    def service_path(self, method: str) -> str:
        """The wire path of ``method``: ``/api/predict/<its service name>``.

        Examples
        --------
        >>> Client(services={"detect": "coco_frcnn"}).service_path("detect")
        '/api/predict/coco_frcnn'
        """
        return f"/api/predict/{self._services[method]}"

    # -- the shared paths ----------------------------------------------------------------------
    def _single(self, name, images, errors):
        df = self._call(name, images, {}, path=self.service_path(name), errors=errors)
        for column, kind in self.spec.endpoint(name).columns:
            if kind == "Int64" and column in df.columns:
                df[column] = pd.array(
                    [None if pd.isna(v) else int(v) for v in df[column]], dtype="Int64"
                )
        return df

    # -- I1-I10 --------------------------------------------------------------------------------
    def classify(self, images, *, errors: str | None = None) -> pd.DataFrame:
        """I1 general image classification: every class's probability, ranked.

        Locally: the backbone's ImageNet-1k softmax (EfficientNet-Lite0; PAI runs a ResNet on
        ImageNet), so labels are ImageNet names; ``class_id`` is the top class's index.

        Parameters
        ----------
        images : image or many
            Paths, URLs, bytes, arrays, PIL images, globs, lists, Series, ``{id: image}``.
        errors : {"row", "raise"}, optional

        Returns
        -------
        DataFrame
            Labels frame ``image, rank, label, score`` (+ ``class_id``).

        Examples
        --------
        >>> from skimage import data
        >>> df = Client(progress=False).classify({"cat": data.chelsea()})
        >>> df.loc[0, "label"], int(df.loc[0, "rank"])
        ('tiger cat', 1)
        """
        return self._single("classify", images, errors)

    def detect(self, images, *, errors: str | None = None) -> pd.DataFrame:
        """I2 object detection (PAI: Faster R-CNN on COCO).

        PAI's ``[top, left, bottom, right]`` boxes become ``x, y, w, h``; class names are read
        from either spelling of the names key.  PAI's COCO detector is not offline: locally
        **your model** answers — an exported ONNX detector in
        ``<vislab home>/pai_models/detect/`` (:func:`vislab.easydl.export`'s layout), else the
        EasyDL detector published at the suffix ``detect`` — and the ``model`` column names
        it; without one, :class:`~vislab.errors.NotAvailableLocally`.

        Parameters
        ----------
        images : image or many
        errors : {"row", "raise"}, optional

        Returns
        -------
        DataFrame
            Boxes frame ``image, label, score, x, y, w, h`` (+ ``class_id``).

        Examples
        --------
        >>> pai = Client("http://my-eas-endpoint", token="...")  # doctest: +SKIP
        >>> pai.detect("street.jpg")  # doctest: +SKIP
        """
        return self._single("detect", images, errors)

    def segment_semantic(self, images, *, errors: str | None = None) -> pd.DataFrame:
        """I3 semantic segmentation (PAI: DeepLab V3, Pascal VOC).

        PAI's model is not offline: locally **your model** answers — an ONNX model in
        ``<vislab home>/pai_models/segment_semantic/`` (the contract is in
        :mod:`vislab.engine.segmentation_onnx`), the ``model`` column names it; without one,
        :class:`~vislab.errors.NotAvailableLocally` naming the folder.

        Parameters
        ----------
        images : image or many
        errors : {"row", "raise"}, optional

        Returns
        -------
        DataFrame
            Semantic frame: one row per image with ``label_map`` (``preds``) and ``probs``
            as sent (locally: the image's size, ``probs`` the winning class's probability).

        Examples
        --------
        >>> Client("http://my-eas-endpoint").segment_semantic("a.jpg")  # doctest: +SKIP
        """
        return self._single("segment_semantic", images, errors)

    def segment_instance(self, images, *, errors: str | None = None) -> pd.DataFrame:
        """I4 instance segmentation (PAI: Mask R-CNN, COCO).

        PAI's RLE (odd runs False, even runs True) is read in the client's ``rle_order`` and
        stored as COCO RLE in ``mask``.  Locally **your model** answers — an ONNX model in
        ``<vislab home>/pai_models/segment_instance/`` with torchvision Mask R-CNN's outputs
        (:mod:`vislab.engine.segmentation_onnx`), the ``model`` column names it; without one,
        :class:`~vislab.errors.NotAvailableLocally`.

        Parameters
        ----------
        images : image or many
        errors : {"row", "raise"}, optional

        Returns
        -------
        DataFrame
            Masks frame: boxes columns plus ``mask``.

        Examples
        --------
        >>> Client("http://my-eas-endpoint").segment_instance("a.jpg")  # doctest: +SKIP
        """
        df = self._single("segment_instance", images, errors)
        if self.rle_order != RLE_ORDER and "mask" in df.columns:
            masks = []
            seen: dict = {}
            for ident, mask in zip(df["image"], df["mask"], strict=True):
                i = seen.get(ident, 0)
                seen[ident] = i + 1
                if not isinstance(mask, dict):
                    masks.append(mask)
                    continue
                reparsed = parse_instance(df.attrs["raw"][ident], ident, order=self.rle_order)
                masks.append(reparsed[i]["mask"])
            df["mask"] = masks
        return df

    def ocr(self, images, *, errors: str | None = None) -> pd.DataFrame:
        """I5 general OCR: one row per text line with its quadrilateral.

        Locally: ``vislab.engine.ocr`` (the ``vislab[ocr]`` extra) when installed, else
        :class:`~vislab.errors.NotAvailableLocally`.

        Parameters
        ----------
        images : image or many
        errors : {"row", "raise"}, optional

        Returns
        -------
        DataFrame
            Text lines frame ``image, text, score, x, y, w, h, quad`` (``quad``: 4 x 2 corners,
            x then y; ``det_score``: the text area's detection score).

        Examples
        --------
        >>> Client("http://my-eas-endpoint").ocr("receipt.png")  # doctest: +SKIP
        """
        return self._single("ocr", images, errors)

    def segment_foreground(self, images, *, errors: str | None = None) -> pd.DataFrame:
        """I6 human foreground segmentation; PAI takes an image **URL**
        (``{"input": {"url": ...}}``), so images must be http(s) URLs the service can fetch.

        A local path, array or PIL image is refused (an error row naming the rule): upload it
        and pass its URL.  Offline the URL is fetched (http(s) only, size-capped, with a
        deadline) and segmented by MediaPipe Selfie Segmentation
        (:mod:`vislab.engine.foreground`, made for people close to the camera; PAI runs a
        MobileNet of its own, so masks of small or distant people differ).

        Parameters
        ----------
        images : str or many str
            Image URLs.
        errors : {"row", "raise"}, optional

        Returns
        -------
        DataFrame
            Masks frame with one ``"human"`` mask per image and ``human_ratio`` (float).

        Examples
        --------
        >>> Client("http://my-eas-endpoint").segment_foreground(
        ...     "https://example.com/frame.jpg")  # doctest: +SKIP
        """
        return call_foreground(self, images, errors)

    def scene(self, images, *, errors: str | None = None) -> pd.DataFrame:
        """I7 scene classification (PAI: ResNet, Places-like labels), top 5; no local model.

        Parameters
        ----------
        images : image or many
        errors : {"row", "raise"}, optional

        Returns
        -------
        DataFrame
            Labels frame of the five top scenes (+ ``class_id``).

        Examples
        --------
        >>> from skimage import data
        >>> Client(progress=False).scene(data.coffee(), errors="raise")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        vislab.errors.NotAvailableLocally: [501] no local model for 'scene' ...
        """
        return self._single("scene", images, errors)

    def count_inventory(self, images, *, errors: str | None = None) -> pd.DataFrame:
        """I8 inventory counting: a count per SKU (PAI: YOLOv5 + 171 bottled-drink SKUs).

        The boxes stay in ``df.attrs["raw"]``; :func:`vislab.pai.inventory_boxes` reads them
        (their order decided from ``ori_img_shape``).  Locally **your model** counts (per
        label): as for :meth:`detect`, at ``pai_models/count_inventory/`` or the EasyDL suffix
        ``count_inventory``; PAI's 171-SKU model is not offline.

        Parameters
        ----------
        images : image or many
        errors : {"row", "raise"}, optional

        Returns
        -------
        DataFrame
            Counts frame ``image, label, count``.

        Examples
        --------
        >>> Client("http://my-eas-endpoint").count_inventory("shelf.jpg")  # doctest: +SKIP
        """
        df = self._single("count_inventory", images, errors)
        return counts_frame(df.to_dict("records"), service=df.attrs.get("service"),
                            raw=df.attrs.get("raw"))  # fmt: skip

    def image_similarity(self, a, b, /, *, errors: str | None = None) -> pd.DataFrame:
        """I9 image similarity of ``a[i]`` and ``b[i]``: 100 = identical, < 80 = different.

        Locally: backbone embeddings, ``similarity`` mapped from their cosine (calibrated on
        real photos: identical 100, edited copies >= 80, different photos < 80; see
        :func:`vislab.emulator.pai_model_hub.similarity_score`), ``l2_distance`` between the
        unit embeddings.  PAI's model is a ResNet50: values differ from PAI's.

        Parameters
        ----------
        a, b : image or many
            The pairs, position by position (same number of images).
        errors : {"row", "raise"}, optional

        Returns
        -------
        DataFrame
            Pairs frame ``a, b, similarity, l2_distance``.

        Examples
        --------
        >>> from skimage import data
        >>> df = Client(progress=False).image_similarity(
        ...     {"cat": data.chelsea()}, {"cat again": data.chelsea()})
        >>> df.loc[0, "a"], df.loc[0, "b"], float(df.loc[0, "similarity"])
        ('cat', 'cat again', 100.0)
        """
        return call_pairs(self, "image_similarity", a, b, {}, errors)

    def colorize(self, images, *, errors: str | None = None) -> pd.DataFrame:
        """I10 image colouring (PAI: NoGAN); no local model.

        Parameters
        ----------
        images : image or many
        errors : {"row", "raise"}, optional

        Returns
        -------
        DataFrame
            Images frame: ``out_image`` holds the coloured PIL image.

        Examples
        --------
        >>> Client("http://my-eas-endpoint").colorize("old.jpg")  # doctest: +SKIP
        """
        return self._single("colorize", images, errors)

    # -- F1-F3, P1 -----------------------------------------------------------------------------
    def face_similarity(self, a, b, /, *, errors: str | None = None) -> pd.DataFrame:
        """F1 face similarity: 100 = same person, < 80 = different; one face per image.

        An image holding more than one face is an
        :class:`~vislab.errors.InvalidRequest` naming the rule.  Locally:
        ``vislab.engine.faces`` (``vislab[face]``) when installed.

        Parameters
        ----------
        a, b : image or many
        errors : {"row", "raise"}, optional

        Returns
        -------
        DataFrame
            Pairs frame ``a, b, similarity``.

        Examples
        --------
        >>> Client("http://my-eas-endpoint").face_similarity("me.jpg", "id.jpg")  # doctest: +SKIP
        """
        return call_pairs(self, "face_similarity", a, b, {}, errors)

    def face_attributes(self, images, *, errors: str | None = None) -> pd.DataFrame:
        """F2 facial attributes: per face a box, ``age``, ``gender`` and ``expression``.

        ``face_bbox`` is read as ``x1, y1, x2, y2, score`` (inferred); the expression loses
        the trailing comma PAI's example shows.  Locally: ``vislab.engine.faces``.

        Parameters
        ----------
        images : image or many
        errors : {"row", "raise"}, optional

        Returns
        -------
        DataFrame
            Boxes frame (label ``"face"``) with ``age, gender, expression``.

        Examples
        --------
        >>> Client("http://my-eas-endpoint").face_attributes("team.jpg")  # doctest: +SKIP
        """
        return self._single("face_attributes", images, errors)

    def face_enhance(self, images, *, errors: str | None = None) -> pd.DataFrame:
        """F3 face enhancement; no local model.

        Parameters
        ----------
        images : image or many
        errors : {"row", "raise"}, optional

        Returns
        -------
        DataFrame
            Images frame: ``out_image`` holds the enhanced PIL image.

        Examples
        --------
        >>> Client("http://my-eas-endpoint").face_enhance("blurry.jpg")  # doctest: +SKIP
        """
        return self._single("face_enhance", images, errors)

    def product_compare(self, a, b, /, *, metric: str, errors: str | None = None) -> pd.DataFrame:
        """P1 product comparison (``function_name: "match"``): only the requested metric.

        Locally: the backbone's unit embeddings (a general model, not PAI's product-trained
        metric model): ``l2_distance`` (0 = same) or ``cosine`` (1 = same).

        Parameters
        ----------
        a, b : image or many
        metric : {"L2", "Cosine"}
        errors : {"row", "raise"}, optional

        Returns
        -------
        DataFrame
            Pairs frame with ``l2_distance`` or ``cosine`` filled.

        Examples
        --------
        >>> from skimage import data
        >>> df = Client(progress=False).product_compare(data.coffee(), data.coffee(),
        ...                                             metric="Cosine")
        >>> round(float(df.loc[0, "cosine"]), 3), bool(df["l2_distance"].isna().all())
        (1.0, True)
        """
        return call_pairs(self, "product_compare", a, b, {"metric": metric}, errors)
