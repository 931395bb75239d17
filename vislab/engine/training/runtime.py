"""Trained heads put back together from their arrays, answering from pixels.

:class:`ClassifierRuntime` and :class:`DetectorRuntime` are what a stored version runs:
the backbone feature recipe the head was trained on, then the head. They take ``uint8`` RGB
arrays and return plain Python values; :class:`~vislab.engine.training.store.TrainedModel`
wraps them with names and metadata.

The arrays in a version's ``weights.npz`` (all float32):

=====================  ===============================================================
classification         ``clf_mean (D,)``, ``clf_scale (D,)``, ``clf_coef (K, D)``,
                       ``clf_intercept (K,)``; with "other": ``other_prototypes (P, D)``
detection              ``proj_mean (1280,)``, ``proj_components (k, 1280)`` (stride-32
                       projection), ``det_mean``, ``det_scale``, ``det_w1``, ``det_b1``,
                       ``det_w2``, ``det_b2`` (the per-cell MLP: K heatmap logits, then
                       offset x/y and log w/h), ``density_mean``, ``density_scale``,
                       ``density_coef (D, K)``, ``density_intercept (K,)``
=====================  ===============================================================
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import maximum_filter

from vislab.engine.backbone import Backbone, get_backbone
from vislab.engine.training import detector as det
from vislab.engine.training.classifier import LinearClassifier
from vislab.engine.training.density import DensityHead
from vislab.engine.training.features import image_features, prefetched
from vislab.engine.training.grid import CELL, Projection, backbone_maps, cell_features
from vislab.engine.training.mlp import MLP

__all__ = ["ClassifierRuntime", "DetectorRuntime", "ImageAnalysis", "MIN_SCORE", "COUNT_GATE"]

#: Detections below this score are never kept (thresholds apply above it).
MIN_SCORE = 0.01
#: The density head counts cells within two cells of a centre-heatmap value this high.
COUNT_GATE = 0.05


@dataclass
class ClassifierRuntime:
    """Features of one recipe, then a :class:`LinearClassifier`.

    Examples
    --------
    >>> from skimage import data
    >>> from vislab.engine.training.classifier import fit_classifier
    >>> x = image_features([data.chelsea(), data.coffee()] * 2)
    >>> rt = ClassifierRuntime("general", fit_classifier(x, np.array([0, 1, 0, 1]), ["cat", "cup"]))
    >>> rt.probabilities([data.coffee()]).argmax(axis=1).tolist()
    [1]
    """

    recipe: str
    classifier: LinearClassifier

    def probabilities(
        self,
        images: Sequence,
        *,
        load: Callable | None = None,
        backbone: Backbone | None = None,
        progress: bool = False,
    ) -> np.ndarray:
        """``(N, K)`` class probabilities of many images."""
        x = image_features(
            images,
            recipe=self.recipe,
            load=load,
            backbone=backbone,
            progress=progress,
            desc="classifying",
        )
        return self.classifier.predict_proba(x)


@dataclass
class ImageAnalysis:
    """What a detector sees in one image: every box above :data:`MIN_SCORE` and the counts.

    Attributes
    ----------
    boxes : numpy.ndarray
        ``(M, 4)`` ``x, y, w, h`` in original pixels, highest score first.
    scores : numpy.ndarray
        ``(M,)``.
    labels : numpy.ndarray
        ``(M,)`` label indices.
    counts : numpy.ndarray
        ``(K,)`` the density head's count per label.
    """

    boxes: np.ndarray
    scores: np.ndarray
    labels: np.ndarray
    counts: np.ndarray


@dataclass
class DetectorRuntime:
    """Whole-image cell features at a fixed input size, the detection MLP and the density head.

    Examples
    --------
    >>> rt = DetectorRuntime.untrained(n_labels=1, size=256)
    >>> a = rt.analyse(np.zeros((64, 64, 3), np.uint8))
    >>> a.boxes.shape[1], a.counts.shape
    (4, (1,))
    """

    size: int
    n_labels: int
    projection: Projection
    head: MLP
    density: DensityHead
    nms_iou: float = 0.6
    max_detections: int = 1000

    @classmethod
    def untrained(cls, *, n_labels: int, size: int) -> DetectorRuntime:
        """A runtime with zero weights (for shape checks and examples only)."""
        k = 4
        d = 2 * (40 + 112) + k
        proj = Projection(np.zeros(1280, np.float32), np.eye(k, 1280, dtype=np.float32))
        head = MLP.init(d, 4, n_labels + det.N_BOX)
        dens = DensityHead(
            np.zeros(d, np.float32),
            np.ones(d, np.float32),
            np.zeros((d, n_labels), np.float32),
            np.zeros(n_labels, np.float32),
        )
        return cls(size, n_labels, proj, head, dens)

    def cells(self, image: np.ndarray, *, backbone: Backbone | None = None):
        """The image's feature maps and its ``(h, w, D)`` cell features."""
        fm = backbone_maps(image, self.size, backbone=backbone or get_backbone())
        return fm, cell_features(fm, self.projection)

    def analyse(self, image: np.ndarray, *, backbone: Backbone | None = None) -> ImageAnalysis:
        """Boxes (score >= :data:`MIN_SCORE`) and counts of one ``uint8`` RGB image."""
        fm, cells = self.cells(image, backbone=backbone)
        vh, vw = fm.valid_cells(CELL)
        h, w, d = cells.shape
        out = self.head.forward(cells.reshape(-1, d)).reshape(h, w, -1)
        boxes, scores, labels = det.decode(
            out,
            n_labels=self.n_labels,
            scale=fm.scale,
            valid_hw=(vh, vw),
            image_hw=fm.image_hw,
            min_score=MIN_SCORE,
            max_detections=self.max_detections,
            nms_iou=self.nms_iou,
        )
        # Density counts only near what the centre heatmap sees as an object (within two
        # cells of a heatmap value >= COUNT_GATE): objects keep their mass (the density
        # target lies within that reach), empty or unfamiliar backgrounds count zero.
        heat = 1.0 / (1.0 + np.exp(-out[:vh, :vw, : self.n_labels]))
        near = maximum_filter(heat, size=(5, 5, 1), mode="constant") >= COUNT_GATE
        counts = self.density.count(cells[:vh, :vw], mask=near)
        return ImageAnalysis(boxes, scores, labels, counts)

    def analyse_many(
        self,
        images: Sequence,
        *,
        load: Callable | None = None,
        backbone: Backbone | None = None,
        progress: bool = False,
    ):
        """:meth:`analyse` for many images, the next one decoding while the network runs."""
        from tqdm.auto import tqdm

        load = load or (lambda item: item)
        bar = tqdm(
            total=len(images), desc="detecting", unit="img", disable=not progress, leave=False
        )
        out = []
        for pixels in prefetched(images, load):
            out.append(self.analyse(pixels, backbone=backbone))
            bar.update(1)
        bar.close()
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "proj_mean": self.projection.mean,
            "proj_components": self.projection.components,
            **self.head.arrays("det_"),
            **self.density.arrays("density_"),
        }

    def params(self) -> dict:
        return {
            "input_size": int(self.size),
            "nms_iou": float(self.nms_iou),
            "max_detections": int(self.max_detections),
            "cell": CELL,
        }

    @classmethod
    def from_arrays(cls, n_labels: int, arrays, params: dict) -> DetectorRuntime:
        proj = Projection(
            np.asarray(arrays["proj_mean"], np.float32),
            np.asarray(arrays["proj_components"], np.float32),
        )
        return cls(
            int(params["input_size"]),
            n_labels,
            proj,
            MLP.from_arrays(arrays, "det_"),
            DensityHead.from_arrays(arrays, "density_"),
            nms_iou=float(params.get("nms_iou", 0.6)),
            max_detections=int(params.get("max_detections", 1000)),
        )
