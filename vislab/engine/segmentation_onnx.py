"""Your own ONNX segmentation models, run with onnxruntime: semantic and instance.

A model lives in a folder of three files (the layout of :func:`vislab.easydl.export`):

``model.onnx``
    One float32 input (any name) of shape ``1 x 3 x H x W``: RGB, channels first.
``label_list.txt``
    One class name per line; line ``i`` (0-based) names class id ``i``.
``preprocess_args.json``
    ``input_size`` (``S`` for ``S x S`` or ``[H, W]``: the image is resized to it, bilinear,
    aspect not kept), ``mean`` and ``std`` (three numbers each, on the 0..255 pixel scale: the
    input is ``(pixel - mean) / std``; torchvision's ImageNet values are ``mean = [123.675,
    116.28, 103.53]``, ``std = [58.395, 57.12, 57.375]``), and optional ``name``.

**Semantic** (:class:`SemanticModel`): the first output is ``1 x C x h x w`` class scores
(``C`` = the lines of ``label_list.txt``; ``h x w`` any resolution).  ``"outputs":
"probabilities"`` (the default) says they are probabilities already, ``"logits"`` that a
softmax over ``C`` turns them into probabilities.  Each class's probabilities are resized to
the image (bilinear, half-pixel centres, as ``torch.nn.functional.interpolate(...,
align_corners=False)``); the label map is their argmax per pixel (the lower id wins a tie) and
``probs`` the winning probability.

**Instance** (:class:`InstanceModel`), torchvision Mask R-CNN's export layout: outputs named
``boxes`` (``N x 4``, ``x1, y1, x2, y2`` in input pixels), ``scores`` (``N``), ``labels``
(``N`` integer class ids: lines of ``label_list.txt``; torchvision's COCO models put
``__background__`` on line 0) and ``masks`` (``N x 1 x h x w`` or ``N x h x w``, values 0..1,
covering the whole input).  Boxes are scaled back by ``image width / W`` and ``image height /
H`` and clipped to the image; each mask is resized to the image (bilinear) and a pixel is the
object's where it is at least 0.5.  Optional ``min_score`` (default 0) drops weaker instances
and ``max_detections`` (default 100) keeps the best ones.

A folder that lacks a file or a key, or a model whose inputs or outputs break the contract,
raises :class:`ModelFolderError` naming what is wrong.

Examples
--------
>>> SemanticModel("/nonexistent")
Traceback (most recent call last):
...
vislab.engine.segmentation_onnx.ModelFolderError: /nonexistent lacks model.onnx, label_list.txt, preprocess_args.json (the ONNX contract: see vislab.engine.segmentation_onnx)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from vislab.engine.errors import EngineError

__all__ = [
    "FILES",
    "INSTANCE_OUTPUTS",
    "MASK_THRESHOLD",
    "ModelFolderError",
    "SemanticModel",
    "InstanceModel",
    "Instance",
]

#: The files a model folder must hold.
FILES = ("model.onnx", "label_list.txt", "preprocess_args.json")
#: The named outputs of an instance model (torchvision Mask R-CNN's export).
INSTANCE_OUTPUTS = ("boxes", "scores", "labels", "masks")
#: A resized mask value at or above this is the object's pixel.
MASK_THRESHOLD = 0.5


class ModelFolderError(EngineError):
    """A model folder that breaks the ONNX contract (a file, a key, an input or an output).

    Examples
    --------
    >>> str(ModelFolderError("x lacks model.onnx"))
    'x lacks model.onnx'
    """


def _resize(plane: np.ndarray, height: int, width: int) -> np.ndarray:
    """A float plane resized to ``height x width``, bilinear with half-pixel centres."""
    if plane.shape == (height, width):
        return plane.astype(np.float32, copy=False)
    img = Image.fromarray(np.ascontiguousarray(plane, dtype=np.float32), mode="F")
    return np.asarray(img.resize((width, height), Image.BILINEAR), dtype=np.float32)


class _ModelFolder:
    """The checks and the preprocessing both kinds share."""

    def __init__(self, folder):
        self.folder = Path(folder).expanduser()
        missing = [name for name in FILES if not (self.folder / name).is_file()]
        if missing:
            raise ModelFolderError(
                f"{self.folder} lacks {', '.join(missing)} "
                "(the ONNX contract: see vislab.engine.segmentation_onnx)"
            )
        try:
            self.args = json.loads((self.folder / "preprocess_args.json").read_text())
        except (ValueError, UnicodeDecodeError) as exc:
            raise ModelFolderError(
                f"{self.folder}/preprocess_args.json is not JSON: {exc}"
            ) from None
        if not isinstance(self.args, dict):
            raise ModelFolderError(f"{self.folder}/preprocess_args.json must hold a JSON object")
        absent = [k for k in ("input_size", "mean", "std") if k not in self.args]
        if absent:
            raise ModelFolderError(
                f"{self.folder}/preprocess_args.json lacks {', '.join(absent)} "
                '(e.g. {"input_size": 520, "mean": [123.675, 116.28, 103.53], '
                '"std": [58.395, 57.12, 57.375]})'
            )
        self.input_hw = self._input_size(self.args["input_size"])
        self.mean = self._triple("mean")
        self.std = self._triple("std")
        if np.any(self.std == 0):
            raise ModelFolderError(f"{self.folder}/preprocess_args.json: std must not be 0")
        self.labels = (self.folder / "label_list.txt").read_text(encoding="utf-8").splitlines()
        self.name = str(self.args.get("name") or "")
        self.session = self._open()

    def _input_size(self, value) -> tuple[int, int]:
        size = [value, value] if isinstance(value, int) else value
        if (
            not isinstance(size, list)
            or len(size) != 2
            or not all(isinstance(v, int) and 8 <= v <= 4096 for v in size)
        ):
            raise ModelFolderError(
                f"{self.folder}/preprocess_args.json: input_size must be an integer or "
                f"[height, width] in 8..4096, got {value!r}"
            )
        return int(size[0]), int(size[1])

    def _triple(self, key: str) -> np.ndarray:
        try:
            values = np.asarray(self.args[key], dtype=np.float32).reshape(3)
        except (ValueError, TypeError):
            raise ModelFolderError(
                f"{self.folder}/preprocess_args.json: {key} must be three numbers (R, G, B) on "
                f"the 0..255 scale, got {self.args[key]!r}"
            ) from None
        return values[:, None, None]

    def _open(self):
        import onnxruntime as ort

        try:
            session = ort.InferenceSession(
                str(self.folder / "model.onnx"), providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors on a bad file
            raise ModelFolderError(f"{self.folder}/model.onnx does not load: {exc}") from None
        inputs = session.get_inputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4:
            raise ModelFolderError(
                f"{self.folder}/model.onnx must take one 1 x 3 x H x W float32 input, it takes "
                + ", ".join(f"{i.name} {i.shape}" for i in inputs)
            )
        dims = inputs[0].shape
        fixed = [d if isinstance(d, int) else None for d in dims]
        if fixed[1] not in (None, 3) or any(
            f is not None and f != want for f, want in zip(fixed[2:], self.input_hw, strict=True)
        ):
            raise ModelFolderError(
                f"{self.folder}/model.onnx takes {dims}, but preprocess_args.json's input_size "
                f"is {list(self.input_hw)} (3 channels, height, width)"
            )
        self.input_name = inputs[0].name
        return session

    def tensor(self, rgb: np.ndarray) -> np.ndarray:
        """The model's ``1 x 3 x H x W`` input for an RGB uint8 image."""
        height, width = self.input_hw
        if rgb.shape[:2] != (height, width):
            rgb = np.asarray(Image.fromarray(rgb).resize((width, height), Image.BILINEAR))
        chw = rgb.transpose(2, 0, 1).astype(np.float32)
        return ((chw - self.mean) / self.std)[None].astype(np.float32)

    def broken(self, what: str) -> ModelFolderError:
        return ModelFolderError(f"{self.folder}/model.onnx {what} (see the ONNX contract)")


class SemanticModel(_ModelFolder):
    """A semantic segmentation model folder (see the module's contract).

    Parameters
    ----------
    folder : path-like

    Examples
    --------
    >>> SemanticModel.segment  # doctest: +ELLIPSIS
    <function SemanticModel.segment at ...>
    """

    def __init__(self, folder):
        super().__init__(folder)
        kind = self.args.get("outputs", "probabilities")
        if kind not in ("probabilities", "logits"):
            raise ModelFolderError(
                f"{self.folder}/preprocess_args.json: outputs must be 'probabilities' or "
                f"'logits', got {kind!r}"
            )
        self.logits = kind == "logits"

    def segment(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The label map and the winning probability per pixel of one image.

        Parameters
        ----------
        rgb : numpy.ndarray
            ``(height, width, 3)`` uint8.

        Returns
        -------
        preds : numpy.ndarray
            ``(height, width)`` int32 class ids (lines of ``label_list.txt``).
        probs : numpy.ndarray
            ``(height, width)`` float32: the probability of the class in ``preds``.

        Examples
        --------
        >>> SemanticModel.segment.__doc__.splitlines()[0]
        'The label map and the winning probability per pixel of one image.'
        """
        out = np.asarray(self.session.run(None, {self.input_name: self.tensor(rgb)})[0])
        if out.ndim != 4 or out.shape[0] != 1 or out.shape[1] != len(self.labels):
            raise self.broken(
                f"answers {list(out.shape)}; the contract is 1 x C x h x w with C = "
                f"{len(self.labels)} (the lines of label_list.txt)"
            )
        scores = out[0].astype(np.float32)
        if self.logits:  # a stable softmax over the classes
            scores = np.exp(scores - scores.max(axis=0, keepdims=True))
            scores /= scores.sum(axis=0, keepdims=True)
        height, width = rgb.shape[:2]
        # One class at a time, so memory is a few planes of the image whatever C is.
        best = _resize(scores[0], height, width).copy()
        preds = np.zeros((height, width), np.int32)
        for c in range(1, scores.shape[0]):
            plane = _resize(scores[c], height, width)
            wins = plane > best
            preds[wins] = c
            best[wins] = plane[wins]
        return preds, best


@dataclass(frozen=True)
class Instance:
    """One object found by an instance model, in image pixels.

    Examples
    --------
    >>> Instance(1, "cat", 0.9, (0.0, 0.0, 2.0, 2.0), np.ones((2, 2), bool)).label
    'cat'
    """

    class_id: int
    label: str
    score: float
    box: tuple[float, float, float, float]  # x1, y1, x2, y2
    mask: np.ndarray  # (height, width) bool


class InstanceModel(_ModelFolder):
    """An instance segmentation model folder (see the module's contract).

    Parameters
    ----------
    folder : path-like

    Examples
    --------
    >>> InstanceModel.instances  # doctest: +ELLIPSIS
    <function InstanceModel.instances at ...>
    """

    def __init__(self, folder):
        super().__init__(folder)
        names = [o.name for o in self.session.get_outputs()]
        missing = [n for n in INSTANCE_OUTPUTS if n not in names]
        if missing:
            raise self.broken(
                f"lacks the output(s) {', '.join(missing)} (it has {', '.join(names)}; an "
                "instance model answers boxes, scores, labels, masks)"
            )
        try:
            self.min_score = float(self.args.get("min_score", 0.0))
            self.max_detections = int(self.args.get("max_detections", 100))
        except (TypeError, ValueError):
            raise ModelFolderError(
                f"{self.folder}/preprocess_args.json: min_score must be a number and "
                "max_detections an integer"
            ) from None
        if self.max_detections < 1:
            raise ModelFolderError(
                f"{self.folder}/preprocess_args.json: max_detections must be at least 1"
            )

    def instances(self, rgb: np.ndarray) -> Iterator[Instance]:
        """The objects of one image, best score first (each mask made when it is reached).

        Parameters
        ----------
        rgb : numpy.ndarray
            ``(height, width, 3)`` uint8.

        Yields
        ------
        Instance

        Examples
        --------
        >>> InstanceModel.instances.__doc__.splitlines()[0]
        'The objects of one image, best score first (each mask made when it is reached).'
        """
        feed = {self.input_name: self.tensor(rgb)}
        boxes, scores, labels, masks = (
            np.asarray(v) for v in self.session.run(list(INSTANCE_OUTPUTS), feed)
        )
        n = len(scores.reshape(-1))
        if masks.ndim == 4 and masks.shape[1] == 1:
            masks = masks[:, 0]
        if boxes.shape != (n, 4) or labels.reshape(-1).shape != (n,) or masks.ndim != 3:
            raise self.broken(
                f"answers boxes {list(boxes.shape)}, scores {list(scores.shape)}, labels "
                f"{list(labels.shape)}, masks {list(masks.shape)}; the contract is N x 4, N, N "
                "and N x 1 x h x w"
            )
        if len(masks) != n:
            raise self.broken(f"answers {len(masks)} masks for {n} boxes")
        scores, labels = scores.reshape(-1).astype(float), labels.reshape(-1).astype(np.int64)
        bad = [int(v) for v in labels if not 0 <= v < len(self.labels)]
        if bad:
            raise self.broken(
                f"answers label {bad[0]}, but label_list.txt has {len(self.labels)} lines"
            )
        height, width = rgb.shape[:2]
        in_h, in_w = self.input_hw
        scale = np.array([width / in_w, height / in_h] * 2)
        keep = [i for i in np.argsort(-scores, kind="stable") if scores[i] >= self.min_score]
        for i in keep[: self.max_detections]:
            x1, y1, x2, y2 = np.clip(boxes[i] * scale, 0, [width, height, width, height])
            mask = _resize(masks[i].astype(np.float32), height, width) >= MASK_THRESHOLD
            yield Instance(
                int(labels[i]),
                self.labels[labels[i]],
                float(scores[i]),
                (float(x1), float(y1), float(x2), float(y2)),
                mask,
            )
