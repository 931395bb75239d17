"""Per-image outcomes at any threshold, for the picture grids (no metric is computed here).

The counts come from the evaluate sweep.  The pictures need to know, for one image, which
predicted boxes are right or wrong and which true objects are missed at threshold ``t``.
Matching is greedy by score, so the matching of the predictions scoring at least ``t`` is the
full matching restricted to them (what ``Sweep.matches_at`` relies on too):

* a prediction with ``score >= t`` keeps its ``tp`` / ``fp`` / ``ignore`` outcome;
* a true object is missed at ``t`` unless the prediction that matched it scores ``>= t``.

``Sweep.matches_at(t, images=...)`` answers this for one threshold by scanning every box;
the grid asks for 12 images at a time, many times a second, so the outcomes are indexed by
image once here (no metric is recomputed: the outcomes are the sweep's own).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vislab.widgets._static import FN_COLOR, FP_COLOR, TP_COLOR, Tile

__all__ = ["DetectionOutcomes", "LabelOutcomes", "row_thresholds"]


def row_thresholds(labels: np.ndarray, threshold) -> np.ndarray | float:
    """The threshold applying to each row: one float, or ``{label: float}`` per class."""
    if isinstance(threshold, dict):
        return (
            pd.Series(labels, dtype=object).map(threshold).astype(float).fillna(np.inf).to_numpy()
        )
    return float(threshold)


IGNORE_COLOR = "#9e9e9e"


class DetectionOutcomes:
    """Index a sweep's per-box outcomes by image for fast per-threshold pictures.

    Parameters
    ----------
    sweep : vislab.evaluate.Sweep
        A detection sweep; its ``matches_at`` gives every prediction's outcome (at ``-inf``)
        and every real true object (at ``+inf``, where all of them are unmatched).
    images : sequence, optional
        Order of the images in the grid; default: truth images, then images only predicted.
    """

    def __init__(self, sweep, *, truth=None, images=None):
        if sweep._matcher is not None:
            pred = sweep.matches_at(-np.inf)
            truth = sweep.matches_at(np.inf)
        else:  # no prediction at all: every real true object is missed
            pred = pd.DataFrame(
                columns=["image", "label", "score", "x", "y", "w", "h", "match", "truth_id"]
            )
            if "iscrowd" in truth.columns:
                truth = truth[pd.to_numeric(truth["iscrowd"], errors="coerce").fillna(0) == 0]
            truth = truth.assign(truth_id=np.arange(len(truth)))
        self.pred_image = pred["image"].astype(str).to_numpy()
        self.pred_label = pred["label"].astype(str).to_numpy()
        self.pred_score = pred["score"].to_numpy(dtype=float)
        self.pred_box = pred[["x", "y", "w", "h"]].to_numpy(dtype=float)
        self.pred_match = pred["match"].to_numpy()
        self.gt_image = truth["image"].astype(str).to_numpy()
        self.gt_label = truth["label"].astype(str).to_numpy()
        self.gt_box = truth[["x", "y", "w", "h"]].to_numpy(dtype=float)
        # Score of the prediction matched to each true object (NaN: never matched).
        self.gt_score = np.full(len(truth), np.nan)
        tp = pred["match"].to_numpy() == "tp"
        if tp.any() and len(truth):
            ids = pd.Index(truth["truth_id"].to_numpy(dtype=object))
            pos = ids.get_indexer(pred["truth_id"].to_numpy(dtype=object)[tp])
            ok = pos >= 0
            self.gt_score[pos[ok]] = self.pred_score[tp][ok]
        if images is None:
            images = list(dict.fromkeys(list(self.gt_image) + list(self.pred_image)))
        self.images = [str(i) for i in images]
        self._pred_rows = _rows_by_image(self.pred_image)
        self._gt_rows = _rows_by_image(self.gt_image)

    def error_images(self, threshold) -> list[str]:
        """Images with a false positive or a missed object at ``threshold``, in grid order."""
        fp = (self.pred_match == "fp") & (
            self.pred_score >= row_thresholds(self.pred_label, threshold)
        )
        missed = ~(self.gt_score >= row_thresholds(self.gt_label, threshold))
        bad = set(np.unique(self.pred_image[fp])) | set(np.unique(self.gt_image[missed]))
        return [i for i in self.images if i in bad]

    def tile(self, image: str, threshold, *, pixels=None, size=None) -> Tile:
        """What the grid shows for ``image`` at ``threshold``: TP green, FP red, FN dashed."""
        p = self._pred_rows.get(image, _EMPTY)
        p = p[self.pred_score[p] >= row_thresholds(self.pred_label[p], threshold)]
        g = self._gt_rows.get(image, _EMPTY)
        g = g[~(self.gt_score[g] >= row_thresholds(self.gt_label[g], threshold))]
        match = self.pred_match[p]
        colors = [
            TP_COLOR if m == "tp" else FP_COLOR if m == "fp" else IGNORE_COLOR for m in match
        ] + [FN_COLOR] * len(g)
        labels = [
            f"{lab} {s:.2f}" for lab, s in zip(self.pred_label[p], self.pred_score[p], strict=True)
        ] + [f"{lab} missed" for lab in self.gt_label[g]]
        n_tp, n_fp = int((match == "tp").sum()), int((match == "fp").sum())
        name = image.rsplit("/", 1)[-1]
        return Tile(
            title=f"{name[:20]}  {n_tp} TP · {n_fp} FP · {len(g)} FN",
            title_color="black" if n_fp == 0 and len(g) == 0 else FP_COLOR,
            pixels=pixels,
            size=size,
            boxes=np.concatenate([self.pred_box[p], self.gt_box[g]]),
            colors=colors,
            dashed=[False] * len(p) + [True] * len(g),
            labels=labels,
        )


_EMPTY = np.zeros(0, dtype=np.int64)


class LabelOutcomes:
    """Per-image outcomes of a labels frame scored one-vs-rest against truth labels.

    A predicted label kept at ``t`` is right when it is the image's true label; an image's
    true label is missed at ``t`` when no prediction of that label scores ``>= t``.

    Parameters
    ----------
    pred : DataFrame
        Labels frame rows without error (``image, label, score``).
    truth : DataFrame
        Truth labels (``image, label``).
    """

    def __init__(self, pred: pd.DataFrame, truth: pd.DataFrame, *, images=None):
        truth = truth[["image", "label"]].astype(str).drop_duplicates()
        self.pred_image = pred["image"].astype(str).to_numpy()
        self.pred_label = pred["label"].astype(str).to_numpy()
        self.pred_score = pd.to_numeric(pred["score"]).to_numpy(dtype=float)
        pairs = pd.MultiIndex.from_arrays([self.pred_image, self.pred_label])
        truth_pairs = pd.MultiIndex.from_frame(truth)
        # The sweep's one-vs-rest rule: a predicted (image, label) is right when it is true.
        self.pred_right = np.asarray(pairs.isin(truth_pairs), dtype=bool)
        self.gt_image = truth["image"].to_numpy()
        self.gt_label = truth["label"].to_numpy()
        # Highest score given to each true (image, label) (NaN: never predicted).
        best = pd.Series(self.pred_score, index=pairs)[self.pred_right].groupby(level=[0, 1]).max()
        self.gt_score = best.reindex(truth_pairs).to_numpy(dtype=float)
        if images is None:
            images = list(dict.fromkeys(list(self.gt_image) + list(self.pred_image)))
        self.images = [str(i) for i in images]
        self._pred_rows = _rows_by_image(self.pred_image)
        self._gt_rows = _rows_by_image(self.gt_image)

    def error_images(self, threshold) -> list[str]:
        """Images with a wrong label kept or the true label missed at ``threshold``."""
        wrong = ~self.pred_right & (self.pred_score >= row_thresholds(self.pred_label, threshold))
        missed = ~(self.gt_score >= row_thresholds(self.gt_label, threshold))
        bad = set(np.unique(self.pred_image[wrong])) | set(np.unique(self.gt_image[missed]))
        return [i for i in self.images if i in bad]

    def tile(self, image: str, threshold, *, pixels=None, size=None) -> Tile:
        """The image with its true label and the labels kept at ``threshold``."""
        p = self._pred_rows.get(image, _EMPTY)
        p = p[self.pred_score[p] >= row_thresholds(self.pred_label[p], threshold)]
        p = p[np.argsort(-self.pred_score[p], kind="stable")]
        g = self._gt_rows.get(image, _EMPTY)
        truth = ", ".join(self.gt_label[g]) or "(no truth)"
        missed = bool((~(self.gt_score[g] >= row_thresholds(self.gt_label[g], threshold))).any())
        notes = [
            (f"{lab} {s:.2f}", TP_COLOR if ok else FP_COLOR)
            for lab, s, ok in zip(
                self.pred_label[p][:6], self.pred_score[p][:6], self.pred_right[p][:6], strict=True
            )
        ]
        if missed:
            notes.append((f"{truth} missed", FN_COLOR))
        wrong = int((~self.pred_right[p]).sum())
        name = image.rsplit("/", 1)[-1]
        return Tile(
            title=f"{name[:16]} · true: {truth[:14]}",
            title_color="black" if wrong == 0 and not missed else FP_COLOR,
            pixels=pixels,
            size=size,
            notes=notes,
        )


def _rows_by_image(image_ids: np.ndarray) -> dict[str, np.ndarray]:
    if len(image_ids) == 0:
        return {}
    codes, uniq = pd.factorize(image_ids)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniq) + 1))
    return {str(u): order[bounds[i] : bounds[i + 1]] for i, u in enumerate(uniq)}
