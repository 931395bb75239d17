"""One stored EasyDL version in memory: metadata, weights, and answers from pixels.

:class:`TrainedModel` is what :class:`~vislab.engine.training.store.ModelStore` saves and
loads; the emulator serves it and the export writes it out. It takes ``uint8`` RGB arrays and
returns plain Python values (no pandas, no wire format).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vislab.errors import InvalidParameter

__all__ = ["Detection", "TrainedModel"]


@dataclass(frozen=True)
class Detection:
    """One detected object: label, score and box (``x, y, w, h`` original pixels).

    Examples
    --------
    >>> Detection("cell", 0.9, 10.0, 20.0, 8.0, 9.0).w
    8.0
    """

    name: str
    score: float
    x: float
    y: float
    w: float
    h: float


class TrainedModel:
    """One stored version: its metadata, its weights and the runtime that answers from pixels.

    Built by :meth:`ModelStore.save` and :meth:`ModelStore.load`; never constructed by hand.

    Attributes
    ----------
    name, version, kind : str
        ``kind`` is ``"classification"`` or ``"detection"``.
    classes : list of str
        Class or label names in output order (``"other"`` last when trained with it).
    meta : dict
        Everything in ``meta.json``.
    folder : pathlib.Path
        The version's folder.
    recommended_threshold : float or None
        Detection: the best-F1 score threshold on the held-out images; None otherwise.

    Examples
    --------
    >>> import tempfile
    >>> from skimage import data
    >>> from vislab.engine.training.classifier import fit_classifier
    >>> from vislab.engine.training.features import image_features
    >>> from vislab.engine.training.store import ModelStore
    >>> x = image_features([data.chelsea(), data.coffee()] * 2)
    >>> clf = fit_classifier(x, np.array([0, 1, 0, 1]), ["cat", "cup"])
    >>> store = ModelStore(tempfile.mkdtemp())
    >>> model = store.save("pets", clf.arrays(), {"kind": "classification",
    ...                    "classes": clf.classes, "recipe": "general", "head": clf.params()})
    >>> model.version, model.classify(data.coffee(), top_num=1)[0][0]
    ('V1', 'cup')
    """

    def __init__(self, folder: Path, meta: dict, arrays: Mapping[str, np.ndarray]):
        self.folder = Path(folder)
        self.meta = meta
        self.arrays = dict(arrays)
        self.name: str = meta["name"]
        self.version: str = meta["version"]
        self.kind: str = meta["kind"]
        self.classes: list[str] = list(meta["classes"])
        self._runtime = None

    def __repr__(self) -> str:
        return (
            f"TrainedModel({self.name!r}, {self.version!r}, kind={self.kind!r}, "
            f"classes={len(self.classes)})"
        )

    @property
    def recommended_threshold(self) -> float | None:
        value = self.meta.get("recommended_threshold")
        return None if value is None else float(value)

    @property
    def runtime(self):
        """The :mod:`~vislab.engine.training.runtime` object that answers (built once)."""
        if self._runtime is None:
            from vislab.engine.training import runtime
            from vislab.engine.training.classifier import LinearClassifier

            head = self.meta.get("head", {})
            if self.kind == "classification":
                clf = LinearClassifier.from_arrays(self.classes, self.arrays, head)
                self._runtime = runtime.ClassifierRuntime(self.meta.get("recipe", "general"), clf)
            else:
                self._runtime = runtime.DetectorRuntime.from_arrays(
                    len(self.classes), self.arrays, head
                )
        return self._runtime

    def _need(self, kind: str, what: str) -> None:
        if self.kind != kind:
            raise InvalidParameter(
                f"{self.name} {self.version} is a {self.kind} model: it has no {what}()",
                name="kind",
            )

    # ----------------------------------------------------------------- classification
    def classify_many(
        self, images, *, top_num: int | None = None, load=None, progress: bool = False
    ) -> list[list[tuple[str, float]]]:
        """:meth:`classify` for many images (``load(item)`` gives pixels; default: arrays)."""
        self._need("classification", "classify")
        probs = self.runtime.probabilities(images, load=load, progress=progress)
        k = len(self.classes) if top_num is None else max(1, min(int(top_num), len(self.classes)))
        order = np.argsort(-probs, axis=1, kind="stable")[:, :k]
        return [
            [(self.classes[i], float(row[i])) for i in idx]
            for row, idx in zip(probs, order, strict=True)
        ]

    def classify(self, pixels: np.ndarray, top_num: int | None = None) -> list[tuple[str, float]]:
        """Classes of one ``uint8`` RGB image, highest score first.

        Parameters
        ----------
        pixels : numpy.ndarray
            ``(H, W, 3)`` ``uint8``.
        top_num : int, optional
            How many classes to return (default all; "other" counts like any class).

        Returns
        -------
        list of (str, float)
            ``(class, probability)``; probabilities over all classes sum to 1.
        """
        return self.classify_many([pixels], top_num=top_num)[0]

    # ----------------------------------------------------------------- detection
    def _detections(self, analysis, threshold: float | None) -> list[Detection]:
        cut = self.recommended_threshold if threshold is None else float(threshold)
        cut = 0.0 if cut is None else cut
        return [
            Detection(self.classes[int(k)], float(s), *(float(v) for v in b))
            for b, s, k in zip(analysis.boxes, analysis.scores, analysis.labels, strict=True)
            if s >= cut
        ]

    def analyse_many(self, images, *, load=None, progress: bool = False):
        """Every box and the counts of many images (:class:`~.runtime.ImageAnalysis` each)."""
        self._need("detection", "detect")
        return self.runtime.analyse_many(images, load=load, progress=progress)

    def detect(self, pixels: np.ndarray, threshold: float | None = None) -> list[Detection]:
        """Objects in one ``uint8`` RGB image with ``score >= threshold``, best first.

        ``threshold=None`` uses :attr:`recommended_threshold`.
        """
        return self._detections(self.analyse_many([pixels])[0], threshold)

    def count(self, pixels: np.ndarray) -> dict[str, float]:
        """Objects per label in one image, from the density head (not from the boxes)."""
        counts = self.analyse_many([pixels])[0].counts
        return {name: float(c) for name, c in zip(self.classes, counts, strict=True)}
