"""The evaluation report of a trained EasyDL version, from :mod:`vislab.evaluate` frames.

EasyDL shows "the model's effect and a detailed evaluation report" after training (spec F4)
without listing its contents; this report holds what its headline numbers need and what a
person tuning the model reads next, all computed on the images held out from training with
vislab's public metrics (equal to scikit-learn's and pycocotools'):

* classification — **accuracy** (EasyDL's headline), top-5 accuracy (top-k with fewer
  classes), per-class precision / recall / F1, and the confusion matrix;
* detection — **mAP** (COCO's AP at IoU 0.50:0.95, EasyDL's headline), AP50, per-class AP,
  precision / recall / F1 at the recommended threshold (the best-F1 point of
  :func:`vislab.evaluate.threshold_sweep`), and the per-image count error of the density head.

It warns when a class has fewer than 100 training images ("little reference value", spec F4)
and carries the AI-market line of spec F10 (classification: accuracy > 80 % with more than 50
images; detection: mAP > 60 % with more than 20 images — counted over the version's whole
dataset). :meth:`EvaluationReport.plot` draws a static picture; in a notebook the report shows
as HTML with that picture. The frames it is computed from are made from a model's answers in
:mod:`vislab.easydl.report_inputs`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vislab import evaluate
from vislab.easydl.report_inputs import (
    classifier_predictions,
    detector_predictions,
    json_records,
)

# json_records lives in report_inputs; it stays importable from here, where it began.
__all__ = ["EvaluationReport", "FEW_IMAGES", "MARKET_RULES", "json_records"]

#: Fewer training images than this per class: the report "has little reference value" (F4).
FEW_IMAGES = 100
#: Spec F10: (headline metric, minimum value, minimum number of images), both exclusive.
MARKET_RULES = {"classification": ("accuracy", 0.80, 50), "detection": ("mAP", 0.60, 20)}


class EvaluationReport:
    """Metrics of one version on its held-out images (built by training; see the module).

    Parameters
    ----------
    kind : {"classification", "detection"}
        The model's kind.
    truth : DataFrame
        Held-out truth: a labels frame (``image, label``) or a boxes frame (``image, label,
        x, y, w, h``).
    pred : DataFrame
        The model's answers on the same images (labels with ``rank, score``, or boxes with
        ``score``).
    classes : list of str
        The model's classes.
    train_per_class : dict
        Training images (classification) or boxes (detection) per class.
    recommended_threshold : float, optional
        Detection: the operating threshold (default: the best-F1 point of the sweep).
    counts : DataFrame, optional
        Detection: per (image, label) ``true, predicted, boxes`` counts.
    n_images : int, optional
        Images of the dataset (training and held-out) for the market line; default the
        held-out images plus ``sum(train_per_class.values())``.
    max_dets : int, default 100
        Detection: the COCO cap of boxes per image.

    Attributes
    ----------
    kind : str
    truth, pred : DataFrame
        The held-out truth and the model's predictions on it (every score, every class or
        every box above the engine's floor), from which every number here is computed.
    headline : tuple of (str, float)
        ``("accuracy", value)`` or ``("mAP", value)``.
    metrics : pandas.Series
        Classification: ``accuracy, top5_accuracy`` (``top{k}`` for fewer classes).
        Detection: ``mAP, AP50, AP75, precision, recall, f1`` (the last three at the
        recommended threshold), ``count_mae, count_mape``.
    per_class : DataFrame
        Classification: :func:`vislab.evaluate.classification_report`. Detection: per label
        ``AP, AP50, precision, recall, f1, n_truth, n_pred``.
    confusion : DataFrame or None
        Classification: :func:`vislab.evaluate.confusion_matrix`.
    coco : CocoResult or None
        Detection: :func:`vislab.evaluate.coco_eval` (``max_dets`` raised to fit the
        densest image, so dense scenes are not capped at 100 boxes).
    sweep : Sweep or None
        Detection: :func:`vislab.evaluate.threshold_sweep`.
    recommended_threshold : float or None
    counts : DataFrame or None
        Detection: per (image, label) ``true``, ``predicted`` (density head), ``boxes``
        (boxes at the recommended threshold) and ``error`` (predicted - true).
    train_per_class : dict
        Training images (classification) or boxes (detection) per class.
    warnings : list of str
    market_ready : bool
    market_line : str

    Examples
    --------
    >>> truth = pd.DataFrame({"image": ["a", "b", "c"], "label": ["ok", "ok", "bad"]})
    >>> pred = pd.DataFrame({"image": ["a", "a", "b", "b", "c", "c"], "rank": [1, 2] * 3,
    ...                      "label": ["ok", "bad", "ok", "bad", "ok", "bad"],
    ...                      "score": [.9, .1, .8, .2, .6, .4]})
    >>> r = EvaluationReport("classification", truth, pred, classes=["bad", "ok"],
    ...                      train_per_class={"bad": 30, "ok": 30})
    >>> r.headline
    ('accuracy', 0.6666666666666666)
    >>> r.market_line
    'Not ready for the AI market: accuracy 66.7 % (needs > 80 %) with 63 images (needs > 50).'
    >>> r.warnings[0]
    'classes with fewer than 100 training images (bad 30, ok 30): the report has little reference value; add images'
    """

    def __init__(
        self,
        kind: str,
        truth: pd.DataFrame,
        pred: pd.DataFrame,
        *,
        classes,
        train_per_class: dict,
        recommended_threshold: float | None = None,
        counts: pd.DataFrame | None = None,
        n_images: int | None = None,
        max_dets: int = 100,
    ):
        self.kind = kind
        self.truth = truth
        self.pred = pred
        self.classes = list(classes)
        self.train_per_class = dict(train_per_class)
        self.recommended_threshold = recommended_threshold
        self.confusion = self.coco = self.sweep = None
        self.counts = counts
        if n_images is None:
            n_images = int(truth["image"].nunique()) + int(sum(train_per_class.values()))
        self.n_images = int(n_images)
        if kind == "classification":
            self._classification()
        else:
            self._detection(max_dets)
        self.warnings = self._warnings()
        metric, floor, min_images = MARKET_RULES[kind]
        value = self.headline[1]
        self.market_ready = bool(value > floor and self.n_images > min_images)
        state = "Ready" if self.market_ready else "Not ready"
        self.market_line = (
            f"{state} for the AI market: {metric} {100 * value:.1f} % (needs > "
            f"{100 * floor:.0f} %) with {self.n_images} images (needs > {min_images})."
        )

    # ----------------------------------------------------------------- building
    def _classification(self):
        user_classes = [c for c in self.classes]
        self.per_class = evaluate.classification_report(self.truth, self.pred, labels=user_classes)
        accuracy = float(self.per_class.attrs["accuracy"])
        k = min(5, len(self.classes))
        top = float(evaluate.top_k_accuracy(self.truth, self.pred, k=k))
        self.confusion = evaluate.confusion_matrix(self.truth, self.pred, labels=user_classes)
        self.metrics = pd.Series({"accuracy": accuracy, f"top{k}_accuracy": top}, name="value")
        self.headline = ("accuracy", accuracy)

    def _detection(self, max_dets: int):
        dets = (1, 10, max(100, int(max_dets)))
        self.coco = evaluate.coco_eval(self.truth, self.pred, max_dets=dets, labels=self.classes)
        self.sweep = evaluate.threshold_sweep(self.truth, self.pred, max_dets=dets[-1])
        t = self.recommended_threshold if self.recommended_threshold is not None else 0.0
        at = self.sweep.at(t)
        by = self.sweep.at(t, by_class=True).reindex(self.classes)
        pc = self.coco.per_class
        self.per_class = pd.DataFrame(
            {
                "AP": pc["AP"].reindex(self.classes),
                "AP50": pc["AP50"].reindex(self.classes),
                "precision": by["precision"],
                "recall": by["recall"],
                "f1": by["f1"],
                "n_truth": self.truth.groupby("label").size().reindex(self.classes, fill_value=0),
                "n_pred": by["n_pred"].fillna(0).astype(int),
            }
        )
        self.per_class.index.name = "label"
        metrics = {
            "mAP": float(self.coco.stats["AP"]),
            "AP50": float(self.coco.stats["AP50"]),
            "AP75": float(self.coco.stats["AP75"]),
            "precision": float(at["precision"]),
            "recall": float(at["recall"]),
            "f1": float(at["f1"]),
        }
        if self.counts is not None and len(self.counts):
            err = self.counts["predicted"] - self.counts["true"]
            metrics["count_mae"] = float(err.abs().mean())
            metrics["count_mape"] = float(err.abs().sum() / max(self.counts["true"].sum(), 1))
        self.metrics = pd.Series(metrics, name="value")
        self.headline = ("mAP", metrics["mAP"])

    def _warnings(self) -> list[str]:
        out = []
        few = {c: n for c, n in self.train_per_class.items() if n < FEW_IMAGES}
        if few:
            what = "training images" if self.kind == "classification" else "training boxes"
            shown = ", ".join(f"{c} {n}" for c, n in list(few.items())[:8])
            out.append(
                f"classes with fewer than {FEW_IMAGES} {what} ({shown}): the report has "
                "little reference value; add images"
            )
        return out

    # ----------------------------------------------------------------- from a model's answers
    @classmethod
    def of_classifier(cls, truth, images, probs, *, classes, train_per_class) -> EvaluationReport:
        """The report of a classifier from its probabilities on the held-out images.

        Every class is ranked for every image (so top-k accuracy and one-vs-rest sweeps see
        every score).

        Parameters
        ----------
        truth : DataFrame
            Held-out truth (``image, label``).
        images : list of str
            The held-out images, in the order of ``probs``' rows.
        probs : numpy.ndarray
            ``(N, K)`` class probabilities.
        classes : list of str
            The ``K`` classes, in the order of ``probs``' columns.
        train_per_class : dict
            Training images per class.

        Returns
        -------
        EvaluationReport
            The report.

        Examples
        --------
        >>> truth = pd.DataFrame({"image": ["a", "b"], "label": ["ok", "bad"]})
        >>> r = EvaluationReport.of_classifier(truth, ["a", "b"], np.array([[.8, .2], [.4, .6]]),
        ...                                    classes=["ok", "bad"], train_per_class={})
        >>> r.headline, len(r.pred)
        (('accuracy', 1.0), 4)
        """
        pred = classifier_predictions(images, probs, classes)
        truth = truth[["image", "label"]].reset_index(drop=True)
        return cls("classification", truth, pred, classes=classes, train_per_class=train_per_class)

    @classmethod
    def of_detector(
        cls, truth, images, analyses, *, classes, train_per_class, n_images=None
    ) -> EvaluationReport:
        """The report of a detector from its analyses (boxes and counts) of held-out images.

        The recommended threshold is the best-F1 point of
        :func:`vislab.evaluate.threshold_sweep` over every box the detector gave. COCO caps
        boxes per image at 100; a field of 300 cells needs more, so the cap is raised to 1.2 x
        the densest image.

        Parameters
        ----------
        truth : DataFrame
            Held-out truth boxes (``image, label, x, y, w, h``).
        images : list of str
            The held-out images, in the order of ``analyses``.
        analyses : list of ImageAnalysis
            The detector's boxes, scores, labels and density counts per image.
        classes : list of str
            The detector's labels.
        train_per_class : dict
            Training boxes per label.
        n_images : int, optional
            Images of the whole dataset (see the class).

        Returns
        -------
        EvaluationReport
            The report.

        Examples
        --------
        >>> from vislab.engine.training.runtime import ImageAnalysis
        >>> truth = pd.DataFrame({"image": ["a"], "label": ["cell"], "x": [10.0], "y": [10.0],
        ...                       "w": [8.0], "h": [8.0]})
        >>> a = ImageAnalysis(np.array([[10.0, 10, 8, 8], [40, 40, 8, 8]]), np.array([.9, .2]),
        ...                   np.array([0, 0]), np.array([1.2]))
        >>> r = EvaluationReport.of_detector(truth, ["a"], [a], classes=["cell"],
        ...                                  train_per_class={"cell": 30})
        >>> r.recommended_threshold, r.counts[["true", "predicted", "boxes"]].values.tolist()
        (0.9, [[1.0, 1.2, 1.0]])
        """
        truth = truth[["image", "label", "x", "y", "w", "h"]].reset_index(drop=True)
        made = detector_predictions(truth, images, analyses, classes)
        return cls(
            "detection",
            truth,
            made["pred"],
            classes=classes,
            train_per_class=train_per_class,
            recommended_threshold=made["recommended_threshold"],
            counts=made["counts"],
            n_images=n_images,
            max_dets=made["max_dets"],
        )

    # ----------------------------------------------------------------- storage
    def record(self) -> dict:
        """JSON-ready inputs of the report (what a version stores as ``evaluation.json``).

        Returns
        -------
        dict
            ``kind, classes, truth, pred, counts, train_per_class, recommended_threshold,
            n_images, max_dets``; :meth:`from_record` rebuilds the report from it.

        Examples
        --------
        >>> t = pd.DataFrame({"image": ["a"], "label": ["x"]})
        >>> p = pd.DataFrame({"image": ["a"], "rank": [1], "label": ["x"], "score": [.9]})
        >>> r = EvaluationReport("classification", t, p, classes=["x", "y"],
        ...                      train_per_class={"x": 1, "y": 1})
        >>> r.record()["truth"]
        [{'image': 'a', 'label': 'x'}]
        """

        def rows(df):
            return None if df is None else json_records(df)

        return {
            "kind": self.kind,
            "classes": self.classes,
            "truth": rows(self.truth),
            "pred": rows(self.pred),
            "counts": rows(self.counts),
            "train_per_class": self.train_per_class,
            "recommended_threshold": self.recommended_threshold,
            "n_images": self.n_images,
            "max_dets": int(self.coco.max_dets[-1]) if self.coco is not None else 100,
        }

    @classmethod
    def from_record(cls, record: dict, meta: dict | None = None) -> EvaluationReport:
        """Rebuild a report from :meth:`record` (the numbers are recomputed, not stored).

        Parameters
        ----------
        record : dict
            What :meth:`record` returned.
        meta : dict, optional
            The version's metadata (unused by the numbers; kept for later fields).

        Returns
        -------
        EvaluationReport
            The report.

        Examples
        --------
        >>> t = pd.DataFrame({"image": ["a", "b"], "label": ["x", "y"]})
        >>> p = pd.DataFrame({"image": ["a", "b"], "rank": [1, 1], "label": ["x", "x"],
        ...                   "score": [.9, .7]})
        >>> r = EvaluationReport("classification", t, p, classes=["x", "y"],
        ...                      train_per_class={"x": 20, "y": 20})
        >>> EvaluationReport.from_record(r.record()).metrics.equals(r.metrics)
        True
        """

        def frame(rows):
            return None if rows is None else pd.DataFrame(rows)

        return cls(
            record["kind"],
            frame(record["truth"]),
            frame(record["pred"]),
            classes=record["classes"],
            train_per_class=record["train_per_class"],
            recommended_threshold=record.get("recommended_threshold"),
            counts=frame(record.get("counts")),
            n_images=record.get("n_images"),
            max_dets=record.get("max_dets", 100),
        )

    # ----------------------------------------------------------------- showing
    def summary(self) -> pd.DataFrame:
        """The metrics as a one-column frame (``value``), headline first.

        Returns
        -------
        DataFrame
            One row per metric, plus ``test_images`` and ``threshold``.

        Examples
        --------
        >>> t = pd.DataFrame({"image": ["a"], "label": ["x"]})
        >>> p = pd.DataFrame({"image": ["a"], "rank": [1], "label": ["x"], "score": [.9]})
        >>> EvaluationReport("classification", t, p, classes=["x", "y"],
        ...                  train_per_class={"x": 1, "y": 1}).summary().index.tolist()
        ['accuracy', 'top2_accuracy', 'test_images', 'threshold']
        """
        out = self.metrics.to_frame()
        out.loc["test_images"] = float(self.truth["image"].nunique())
        out.loc["threshold"] = (
            np.nan if self.recommended_threshold is None else self.recommended_threshold
        )
        return out

    def plot(self, *, figsize=None):
        """A static picture of the report (matplotlib ``Figure``).

        Classification: the confusion matrix and per-class precision / recall / F1.
        Detection: precision, recall and F1 against the threshold (the recommended one
        marked) and predicted against true counts per image.

        Parameters
        ----------
        figsize : (float, float), optional
            Figure size in inches (default 11 x 4.4).

        Returns
        -------
        matplotlib.figure.Figure
            The figure (two axes).

        Examples
        --------
        >>> t = pd.DataFrame({"image": ["a", "b"], "label": ["x", "y"]})
        >>> p = pd.DataFrame({"image": ["a", "b"], "rank": [1, 1], "label": ["x", "x"],
        ...                   "score": [.9, .7]})
        >>> fig = EvaluationReport("classification", t, p, classes=["x", "y"],
        ...                        train_per_class={"x": 20, "y": 20}).plot()
        >>> len(fig.axes) >= 2
        True
        """
        from vislab.easydl.report_picture import report_figure

        return report_figure(self, figsize=figsize)

    def __repr__(self) -> str:
        name, value = self.headline
        return (
            f"EvaluationReport({self.kind}, {name}={value:.3f}, "
            f"{self.truth['image'].nunique()} held-out images)"
        )

    def _repr_html_(self) -> str:
        from vislab.easydl.report_picture import report_html

        return report_html(self)
