"""Offline export: our counterpart of EasyDL's offline SDK (spec F7).

:func:`export` (what :meth:`vislab.easydl.ModelVersion.export` calls) writes a trained
version into a folder that needs neither vislab's engine nor
its training code to run:

``model.onnx``
    One self-contained graph, backbone and trained head together
    (:mod:`vislab.easydl.export_graph`).
``label_list.txt``
    The class or label names, one per line, in output order (the SDK's file name).
``preprocess_args.json``
    How an image becomes the graph's input (crop, size, resampling, mean and scale; for
    detection the input size, stride and the decoding parameters), with the model's kind,
    name, version and recommended threshold.

:func:`load_exported` reads such a folder and runs it with onnxruntime, numpy and Pillow, and
mirrors the SDK's two calls: :meth:`ExportedModel.classify` returns the top 10 classes (the
INFER/SNPE engines' limit) and :meth:`ExportedModel.detect` every box whose score is at or
above ``confidence`` (0 returns everything, as in the SDK).  Its numbers equal the library's
(:class:`~vislab.engine.training.store.TrainedModel`) within float tolerance.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from vislab.errors import InvalidParameter, StorageError

__all__ = ["export", "export_version", "load_exported", "ExportedModel", "CLASSIFY_TOP"]

#: How many classes :meth:`ExportedModel.classify` returns (the SDK's INFER / SNPE limit).
CLASSIFY_TOP = 10
_FILES = ("model.onnx", "label_list.txt", "preprocess_args.json")


def _preprocess_args(model) -> dict:
    from vislab.engine.backbone import CROP_FRACTION, PIXEL_MEAN, PIXEL_STD, STRIDE

    args = {
        "format": 1,
        "kind": model.kind,
        "name": model.name,
        "version": model.version,
        "channel_order": "RGB",
        "layout": "NCHW",
        "mean": PIXEL_MEAN,
        "scale": 1.0 / PIXEL_STD,
        "resample": "bilinear",
    }
    if model.kind == "classification":
        from vislab.engine.training.features import FINE_SIZE

        recipe = model.meta.get("recipe", "general")
        args.update(recipe=recipe, size=224)
        if recipe == "fine":  # the whole image squashed to both sizes (features._fine_features)
            args.update(crop="none", fine_size=FINE_SIZE)
        else:  # the centred square of side crop_fraction x the shorter side
            args.update(crop="centre", crop_fraction=CROP_FRACTION)
        return args
    from vislab.engine.training.grid import CELL
    from vislab.engine.training.runtime import COUNT_GATE, MIN_SCORE

    head = model.meta.get("head", {})
    args.update(
        input_size=int(head["input_size"]),
        stride=STRIDE,
        cell=CELL,
        min_score=MIN_SCORE,
        count_gate=COUNT_GATE,
        count_gate_cells=5,
        nms_iou=float(head.get("nms_iou", 0.6)),
        max_detections=int(head.get("max_detections", 1000)),
        recommended_threshold=model.recommended_threshold,
    )
    return args


def export(model, folder) -> Path:
    """Write ``model`` as a self-contained ONNX model plus labels and preprocessing JSON.

    Parameters
    ----------
    model : TrainedModel or ModelVersion
        A stored version: a :class:`~vislab.easydl.ModelVersion` or the
        :class:`~vislab.engine.training.store.TrainedModel` it wraps (``.model``).
    folder : path-like
        Created if missing; the three files are replaced if there.

    Returns
    -------
    pathlib.Path
        The folder.

    Examples
    --------
    >>> export("not a model", "/tmp/out")
    Traceback (most recent call last):
    ...
    vislab.errors.InvalidParameter: export needs a trained version (TrainedModel or ModelVersion), got str
    """
    trained = getattr(model, "model", model)
    if not all(hasattr(trained, a) for a in ("kind", "classes", "arrays", "meta")):
        raise InvalidParameter(
            "export needs a trained version (TrainedModel or ModelVersion), got "
            f"{type(model).__name__}",
            name="model",
        )
    from vislab.easydl.export_graph import build_graph

    graph = build_graph(trained)
    folder = Path(folder).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    contents = {
        "model.onnx": graph.SerializeToString(),
        "label_list.txt": ("\n".join(trained.classes) + "\n").encode(),
        "preprocess_args.json": json.dumps(_preprocess_args(trained), indent=1).encode(),
    }
    for name, data in contents.items():  # each file whole or not at all
        tmp = folder / f".{name}.{os.getpid()}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, folder / name)
    return folder


def export_version(version, folder) -> Path:
    """:func:`export` for a :class:`~vislab.easydl.ModelVersion` (its ``export`` method).

    Parameters
    ----------
    version : ModelVersion
    folder : path-like

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> export_version(None, "/tmp/out")
    Traceback (most recent call last):
    ...
    vislab.errors.InvalidParameter: export needs a trained version (TrainedModel or ModelVersion), got NoneType
    """
    return export(version, folder)


def _rgb(image) -> np.ndarray:
    if isinstance(image, (str, os.PathLike)):
        with Image.open(image) as img:
            return np.asarray(img.convert("RGB"))
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGB"))
    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim not in (2, 3):
        raise InvalidParameter(
            "image must be a path, a PIL image or a uint8 (H, W) or (H, W, 3/4) array, got "
            f"{array.dtype} {array.shape}",
            name="image",
        )
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    return np.ascontiguousarray(array[:, :, :3])


class ExportedModel:
    """An exported version run with onnxruntime alone (see :func:`load_exported`).

    Parameters
    ----------
    folder : path-like
        A folder written by :func:`export`.

    Attributes
    ----------
    kind, name, version : str
    labels : list of str
    args : dict
        ``preprocess_args.json``.

    Examples
    --------
    >>> ExportedModel("/nonexistent")
    Traceback (most recent call last):
    ...
    vislab.errors.StorageError: /nonexistent is not an exported model: model.onnx is missing (write one with vislab.easydl.export)
    """

    def __init__(self, folder):
        import onnxruntime as ort

        self.folder = Path(folder).expanduser()
        for name in _FILES:
            if not (self.folder / name).is_file():
                raise StorageError(
                    f"{self.folder} is not an exported model: {name} is missing "
                    "(write one with vislab.easydl.export)",
                    path=self.folder,
                )
        self.args = json.loads((self.folder / "preprocess_args.json").read_text())
        self.labels = (self.folder / "label_list.txt").read_text().splitlines()
        self.kind, self.name, self.version = (self.args[k] for k in ("kind", "name", "version"))
        self.session = ort.InferenceSession(
            str(self.folder / "model.onnx"), providers=["CPUExecutionProvider"]
        )

    def __repr__(self) -> str:
        return f"ExportedModel({self.name!r}, {self.version!r}, kind={self.kind!r})"

    def _normalise(self, rgb: np.ndarray) -> np.ndarray:
        chw = rgb.transpose(2, 0, 1).astype(np.float32)
        chw -= np.float32(self.args["mean"])
        chw *= np.float32(self.args["scale"])
        return chw

    def _crop(self, rgb: np.ndarray, size: int) -> np.ndarray:
        if self.args.get("crop") == "none":
            return np.asarray(Image.fromarray(rgb).resize((size, size), Image.BILINEAR))
        height, width = rgb.shape[:2]
        crop = max(1, int(round(min(height, width) * self.args["crop_fraction"])))
        top, left = (height - crop) // 2, (width - crop) // 2
        patch = np.ascontiguousarray(rgb[top : top + crop, left : left + crop])
        return np.asarray(Image.fromarray(patch).resize((size, size), Image.BILINEAR))

    def probabilities(self, image) -> np.ndarray:
        """Every class's probability for one image (classification models).

        Parameters
        ----------
        image : path, PIL image or uint8 array

        Returns
        -------
        numpy.ndarray
            ``(K,)`` in :attr:`labels` order, summing to 1.

        Examples
        --------
        >>> ExportedModel.probabilities  # doctest: +ELLIPSIS
        <function ExportedModel.probabilities at ...>
        """
        self._need("classification", "classify")
        rgb = _rgb(image)
        feed = {"image": self._normalise(self._crop(rgb, self.args["size"]))[None]}
        if self.args.get("recipe") == "fine":
            feed["image_fine"] = self._normalise(self._crop(rgb, self.args["fine_size"]))[None]
        return self.session.run(["probabilities"], feed)[0][0].astype(np.float64)

    def classify(self, image) -> pd.DataFrame:
        """The top 10 classes of one image, as the SDK's ``classify(bitmap)``.

        Parameters
        ----------
        image : path, PIL image or uint8 array

        Returns
        -------
        DataFrame
            ``rank, label, score, index`` (``index`` is the label's line in
            ``label_list.txt``), best first, at most 10 rows.

        Examples
        --------
        >>> ExportedModel.classify  # doctest: +ELLIPSIS
        <function ExportedModel.classify at ...>
        """
        probs = self.probabilities(image)
        order = np.argsort(-probs, kind="stable")[:CLASSIFY_TOP]
        return pd.DataFrame(
            {
                "rank": np.arange(1, len(order) + 1),
                "label": [self.labels[i] for i in order],
                "score": probs[order],
                "index": order,
            }
        )

    def _need(self, kind: str, call: str) -> None:
        if self.kind != kind:
            raise InvalidParameter(f"{self.name} is a {self.kind} model: it has no {call}()")

    def outputs(self, image) -> tuple[np.ndarray, np.ndarray, dict]:
        """The detection graph's raw outputs for one image and the resize geometry.

        Parameters
        ----------
        image : path, PIL image or uint8 array

        Returns
        -------
        head : numpy.ndarray
            ``(h, w, K + 4)`` heatmap logits and box regressions per stride-8 cell.
        density : numpy.ndarray
            ``(h, w, K)`` the density map.
        geometry : dict
            ``scale``, ``image_hw``, ``valid_hw`` (cells over the image, not padding).

        Examples
        --------
        >>> ExportedModel.outputs  # doctest: +ELLIPSIS
        <function ExportedModel.outputs at ...>
        """
        self._need("detection", "detect")
        rgb = _rgb(image)
        height, width = rgb.shape[:2]
        scale = self.args["input_size"] / max(height, width)
        new_h, new_w = max(1, int(round(height * scale))), max(1, int(round(width * scale)))
        if (new_h, new_w) != (height, width):
            rgb = np.asarray(Image.fromarray(rgb).resize((new_w, new_h), Image.BILINEAR))
        stride, cell = self.args["stride"], self.args["cell"]
        tensor = np.zeros(
            (1, 3, -(-new_h // stride) * stride, -(-new_w // stride) * stride), np.float32
        )
        tensor[0, :, :new_h, :new_w] = self._normalise(rgb)
        head, density = self.session.run(["head", "density"], {"image": tensor})
        geometry = {
            "scale": scale,
            "image_hw": (height, width),
            "valid_hw": (-(-new_h // cell), -(-new_w // cell)),
        }
        return head[0].transpose(1, 2, 0), density[0].transpose(1, 2, 0), geometry

    def detect(self, image, confidence: float = 0.0) -> pd.DataFrame:
        """Every box scoring at or above ``confidence``, as the SDK's ``detect(bitmap, c)``.

        Parameters
        ----------
        image : path, PIL image or uint8 array
        confidence : float, default 0.0
            In [0, 1); 0 returns every box the model keeps.

        Returns
        -------
        DataFrame
            ``label, score, x, y, w, h`` (pixels of ``image``), best first.

        Examples
        --------
        >>> ExportedModel.detect  # doctest: +ELLIPSIS
        <function ExportedModel.detect at ...>
        """
        from vislab.engine.training.detector import decode

        if not 0.0 <= float(confidence) < 1.0:
            raise InvalidParameter(
                f"confidence must be in [0, 1), got {confidence!r}", name="confidence"
            )
        head, _, geo = self.outputs(image)
        boxes, scores, labels = decode(
            head,
            n_labels=len(self.labels),
            scale=geo["scale"],
            valid_hw=geo["valid_hw"],
            image_hw=geo["image_hw"],
            min_score=self.args["min_score"],
            max_detections=self.args["max_detections"],
            nms_iou=self.args["nms_iou"],
        )
        keep = scores >= float(confidence)
        boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
        return pd.DataFrame(
            {
                "label": [self.labels[int(k)] for k in labels],
                "score": scores,
                **{c: boxes[:, i] for i, c in enumerate("xywh")},
            }
        )

    def count(self, image) -> dict[str, float]:
        """Objects per label in one image, from the density head (detection models), summed
        near the cells the centre heatmap marks, as the library counts.

        Parameters
        ----------
        image : path, PIL image or uint8 array

        Returns
        -------
        dict of str to float

        Examples
        --------
        >>> ExportedModel.count  # doctest: +ELLIPSIS
        <function ExportedModel.count at ...>
        """
        from scipy.ndimage import maximum_filter

        head, density, geo = self.outputs(image)
        vh, vw = geo["valid_hw"]
        k = len(self.labels)
        # As the library counts: the density map only near cells the centre heatmap marks.
        heat = 1.0 / (1.0 + np.exp(-head[:vh, :vw, :k]))
        reach = int(self.args["count_gate_cells"])
        near = maximum_filter(heat, size=(reach, reach, 1), mode="constant")
        gated = density[:vh, :vw] * (near >= self.args["count_gate"])
        counts = np.maximum(gated.reshape(-1, k).sum(axis=0), 0.0)
        return {name: float(c) for name, c in zip(self.labels, counts, strict=True)}


def load_exported(folder) -> ExportedModel:
    """Load a folder written by :func:`export`, to run with onnxruntime alone.

    Parameters
    ----------
    folder : path-like

    Returns
    -------
    ExportedModel

    Examples
    --------
    >>> load_exported("/nonexistent")
    Traceback (most recent call last):
    ...
    vislab.errors.StorageError: /nonexistent is not an exported model: model.onnx is missing (write one with vislab.easydl.export)
    """
    return ExportedModel(folder)
