"""What each prediction and each true object becomes at any threshold, image by image.

A sweep answers "how many TP / FP / FN at t"; pictures need "which ones, on this image".  Both
come from one matching done once:

* detection: COCO's matching is greedy by score, so the matching of the predictions scoring at
  least ``t`` is the full matching restricted to them — a kept prediction keeps its outcome,
  and a true object is missed at ``t`` unless the prediction that matched it scores ``>= t``;
* labels (one-vs-rest): one (image, label) is one prediction at its best score (a service that
  repeats a label is counted once, as in :func:`vislab.evaluate.threshold_sweep`); it is right
  when the image truly has that label, and a true label is missed at ``t`` unless it was
  predicted with a score ``>= t``.

:class:`Outcomes` holds that matching, built by the sweep (``sweep.outcomes``); its counts at
any threshold equal the sweep's by construction.  A threshold is one number, or a mapping
``{label: threshold}`` — one per class (:func:`thresholds_per_row`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from vislab.errors import InvalidParameter
from vislab.evaluate._validate import positions

__all__ = ["Outcomes", "thresholds_per_row", "apply_threshold"]

_BOX = ("x", "y", "w", "h")


def thresholds_per_row(labels, threshold) -> np.ndarray | float:
    """The threshold that applies to each row: one number, or one per class.

    Parameters
    ----------
    labels : array-like
        Label of each row.
    threshold : float or mapping label -> float
        With a mapping, a row whose label is not in it keeps nothing (threshold ``+inf``).

    Returns
    -------
    float or ndarray of float

    Examples
    --------
    >>> thresholds_per_row(["cat", "dog", "fox"], {"cat": 0.3, "dog": 0.6}).tolist()
    [0.3, 0.6, inf]
    >>> thresholds_per_row(["cat"], 0.5)
    0.5
    """
    if isinstance(threshold, Mapping):
        values = pd.Series(np.asarray(labels, dtype=object)).map(dict(threshold))
        return pd.to_numeric(values, errors="coerce").fillna(np.inf).to_numpy(dtype=float)
    return float(threshold)


def apply_threshold(pred: pd.DataFrame, threshold, *, column: str = "score") -> pd.DataFrame:
    """The rows of a result frame an application keeps at ``threshold``.

    A prediction is kept when ``score >= threshold`` (of its class, with a mapping).  Rows of
    failed images (``error_code`` set) stay: result frames keep every input (DESIGN.md §2).

    Parameters
    ----------
    pred : DataFrame
        Boxes, labels or matches frame.
    threshold : float or mapping label -> float
    column : str, default "score"

    Returns
    -------
    DataFrame
        A slice of ``pred`` (its ``attrs`` kept) with ``attrs["threshold"]`` set.

    Examples
    --------
    >>> pred = pd.DataFrame({"image": ["a", "a", "b"], "label": ["cat", "dog", None],
    ...                      "score": [0.9, 0.4, None], "error_code": [None, None, 216201]})
    >>> apply_threshold(pred, 0.5)["image"].tolist()
    ['a', 'b']
    >>> apply_threshold(pred, {"dog": 0.3})["image"].tolist()
    ['a', 'b']
    """
    scores = pd.to_numeric(pred[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    labels = pred["label"].to_numpy() if isinstance(threshold, Mapping) else None
    keep = (
        scores >= thresholds_per_row(labels, threshold)
        if labels is not None
        else (scores >= float(threshold))
    )
    if "error_code" in pred.columns:
        keep |= pred["error_code"].notna().to_numpy()
    out = pred[keep]
    out.attrs = dict(pred.attrs)
    out.attrs["threshold"] = dict(threshold) if isinstance(threshold, Mapping) else threshold
    return out


class Outcomes:
    """Per-prediction and per-object outcomes of one matching, readable at any threshold.

    Built by a sweep (``threshold_sweep(truth, pred).outcomes``), never by hand; the
    parameters are kept as the attributes of the same name (indexes reset).

    Parameters
    ----------
    predictions : DataFrame
        One row per counted prediction: ``image, label, score`` (+ ``x, y, w, h, iou,
        truth_id`` for detection) and ``match`` — its outcome whenever it is kept: ``tp``,
        ``fp`` or ``ignore`` (on a crowd region).
    truth : DataFrame
        One row per true object (detection; crowd regions left out) or true (image, label),
        as the ``fn`` row it becomes when missed (``image, label``, ``score`` NaN, ``match``
        ``"fn"``, + boxes, ``iou`` and ``truth_id`` for detection), and ``found_at`` — the
        score of the prediction that finds it (NaN: never found).
    kind : str
        ``"detection"`` or ``"classification"``.

    Attributes
    ----------
    images : list
        Every image, truth images first (in truth order), then images only predicted.

    Examples
    --------
    >>> from vislab.evaluate import threshold_sweep
    >>> truth = pd.DataFrame({"image": ["a", "b"], "label": ["cat", "dog"]})
    >>> pred = pd.DataFrame({"image": ["a", "a", "b"], "label": ["cat", "dog", "dog"],
    ...                      "score": [0.9, 0.6, 0.3]})
    >>> o = threshold_sweep(truth, pred).outcomes
    >>> o.at(0.5)[["image", "label", "match"]].values.tolist()
    [['a', 'cat', 'tp'], ['a', 'dog', 'fp'], ['b', 'dog', 'fn']]
    >>> o.error_images(0.5), o.error_images(0.2)
    (['a', 'b'], ['a'])
    """

    def __init__(self, predictions: pd.DataFrame, truth: pd.DataFrame, *, kind: str):
        self.kind = kind
        self.predictions = predictions.reset_index(drop=True)
        self.truth = truth.reset_index(drop=True)
        self._p_score = self.predictions["score"].to_numpy(dtype=float)
        self._p_label = self.predictions["label"].to_numpy(dtype=object)
        self._p_match = self.predictions["match"].to_numpy(dtype=object)
        self._t_found = self.truth["found_at"].to_numpy(dtype=float)
        self._t_label = self.truth["label"].to_numpy(dtype=object)
        # Images in order of first appearance, truth first: each column's distinct values in
        # its own dtype, then the (few) distinct ones of both as Python objects.
        firsts = [
            np.asarray(pd.unique(self.truth["image"]), dtype=object),
            np.asarray(pd.unique(self.predictions["image"]), dtype=object),
        ]
        self.images = list(pd.unique(pd.Series(np.concatenate(firsts), dtype=object)))
        index = pd.Index(self.images, dtype=object)
        self._p_image = positions(self.predictions["image"], index)
        self._t_image = positions(self.truth["image"], index)
        self._p_rows = _rows_by_code(self._p_image, len(index))
        self._t_rows = _rows_by_code(self._t_image, len(index))
        self._image_index = index

    # -- masks -------------------------------------------------------------------------------
    def kept(self, threshold, rows=None) -> np.ndarray:
        """Whether each prediction (or each of ``rows``) is kept at ``threshold``.

        Parameters
        ----------
        threshold : float or mapping label -> float
            A prediction is kept when ``score >= threshold`` (of its class, with a mapping;
            a class the mapping does not name keeps nothing).
        rows : array of int, optional
            Row positions in :attr:`predictions` (e.g. from :meth:`rows_of`); default all.

        Returns
        -------
        ndarray of bool
            One value per row of :attr:`predictions` (or per entry of ``rows``).

        Examples
        --------
        >>> from vislab.evaluate import threshold_sweep
        >>> truth = pd.DataFrame({"image": ["a", "b"], "label": ["cat", "dog"]})
        >>> pred = pd.DataFrame({"image": ["a", "a", "b"], "label": ["cat", "dog", "dog"],
        ...                      "score": [0.9, 0.6, 0.3]})
        >>> o = threshold_sweep(truth, pred).outcomes
        >>> o.kept(0.5).tolist(), o.kept({"cat": 0.95, "dog": 0.2}).tolist()
        ([True, True, False], [False, True, True])
        """
        if rows is None:
            return self._p_score >= thresholds_per_row(self._p_label, threshold)
        return self._p_score[rows] >= thresholds_per_row(self._p_label[rows], threshold)

    def missed(self, threshold, rows=None) -> np.ndarray:
        """Whether each true object (or each of ``rows``) is missed at ``threshold``.

        A true object is missed unless the prediction that found it scores ``>= threshold``.

        Parameters
        ----------
        threshold : float or mapping label -> float
            One threshold, or one per class (a class not named finds nothing).
        rows : array of int, optional
            Row positions in :attr:`truth` (e.g. from :meth:`rows_of`); default all.

        Returns
        -------
        ndarray of bool
            One value per row of :attr:`truth` (or per entry of ``rows``).

        Examples
        --------
        >>> from vislab.evaluate import threshold_sweep
        >>> truth = pd.DataFrame({"image": ["a", "b"], "label": ["cat", "dog"]})
        >>> pred = pd.DataFrame({"image": ["a", "a", "b"], "label": ["cat", "dog", "dog"],
        ...                      "score": [0.9, 0.6, 0.3]})
        >>> threshold_sweep(truth, pred).outcomes.missed(0.5).tolist()   # b's dog: 0.3
        [False, True]
        """
        if rows is None:
            return ~(self._t_found >= thresholds_per_row(self._t_label, threshold))
        return ~(self._t_found[rows] >= thresholds_per_row(self._t_label[rows], threshold))

    def rows_of(self, image) -> tuple[np.ndarray, np.ndarray]:
        """Row positions of ``image`` in :attr:`predictions` and in :attr:`truth`.

        Parameters
        ----------
        image : object
            An image identifier (as in the frames' ``image`` column).

        Returns
        -------
        (ndarray of int, ndarray of int)
            Positions in :attr:`predictions` and in :attr:`truth`; both empty for an unknown
            image.  Pass them as ``rows=`` to :meth:`kept` and :meth:`missed`.

        Examples
        --------
        >>> from vislab.evaluate import threshold_sweep
        >>> truth = pd.DataFrame({"image": ["a", "b"], "label": ["cat", "dog"]})
        >>> pred = pd.DataFrame({"image": ["a", "a", "b"], "label": ["cat", "dog", "dog"],
        ...                      "score": [0.9, 0.6, 0.3]})
        >>> o = threshold_sweep(truth, pred).outcomes
        >>> p_rows, t_rows = o.rows_of("a")
        >>> p_rows.tolist(), t_rows.tolist(), o.kept(0.7, rows=p_rows).tolist()
        ([0, 1], [0], [True, False])
        """
        i = self._image_index.get_indexer(pd.Index([image], dtype=object))[0]
        if i < 0:
            return _EMPTY, _EMPTY
        return self._p_rows[i], self._t_rows[i]

    # -- frames ------------------------------------------------------------------------------
    def at(self, threshold, *, images=None) -> pd.DataFrame:
        """Outcome of every kept prediction, then every missed object (``match == "fn"``).

        Parameters
        ----------
        threshold : float or mapping label -> float
        images : sequence, optional
            Only these images.

        Returns
        -------
        DataFrame
            The columns of :attr:`predictions` (``score`` NaN for missed objects).

        Examples
        --------
        >>> from vislab.evaluate import threshold_sweep
        >>> truth = pd.DataFrame({"image": ["a", "b"], "label": ["cat", "dog"]})
        >>> pred = pd.DataFrame({"image": ["a", "a", "b"], "label": ["cat", "dog", "dog"],
        ...                      "score": [0.9, 0.6, 0.3]})
        >>> threshold_sweep(truth, pred).outcomes.at(0.5, images=["b"])
          image label  score match
        0     b   dog    NaN    fn
        """
        p_sel = self.kept(threshold)
        t_sel = self.missed(threshold)
        if images is not None:
            wanted = positions(list(images), self._image_index)
            wanted = wanted[wanted >= 0]
            p_sel &= np.isin(self._p_image, wanted)
            t_sel &= np.isin(self._t_image, wanted)
        kept = self.predictions[p_sel]
        missed = self.truth[t_sel].drop(columns="found_at")
        parts = [f for f in (kept, missed) if len(f)]
        return pd.concat(parts, ignore_index=True) if parts else kept.reset_index(drop=True)

    def error_images(self, threshold) -> list:
        """Images with a kept false positive or a missed object at ``threshold``, in order.

        Parameters
        ----------
        threshold : float or mapping label -> float
            One threshold, or one per class.

        Returns
        -------
        list
            Image identifiers in :attr:`images` order.

        Examples
        --------
        >>> from vislab.evaluate import threshold_sweep
        >>> truth = pd.DataFrame({"image": ["a", "b"], "label": ["cat", "dog"]})
        >>> pred = pd.DataFrame({"image": ["a", "a", "b"], "label": ["cat", "dog", "dog"],
        ...                      "score": [0.9, 0.6, 0.3]})
        >>> o = threshold_sweep(truth, pred).outcomes
        >>> o.error_images(0.5), o.error_images(0.7)   # a: the dog at 0.6; b: dog missed
        (['a', 'b'], ['b'])
        """
        wrong = (self._p_match == "fp") & self.kept(threshold)
        bad = np.zeros(len(self.images), dtype=bool)
        bad[self._p_image[wrong]] = True
        bad[self._t_image[self.missed(threshold)]] = True
        return [img for img, b in zip(self.images, bad, strict=True) if b]

    def counts(self, threshold) -> dict:
        """``{tp, fp, fn}`` at ``threshold`` (equal to the sweep's by construction).

        Parameters
        ----------
        threshold : float or mapping label -> float
            One threshold, or one per class.

        Returns
        -------
        dict
            ``{"tp": int, "fp": int, "fn": int}``; predictions marked ``ignore`` (on crowd
            regions) count in none.

        Examples
        --------
        >>> from vislab.evaluate import threshold_sweep
        >>> truth = pd.DataFrame({"image": ["a", "b"], "label": ["cat", "dog"]})
        >>> pred = pd.DataFrame({"image": ["a", "a", "b"], "label": ["cat", "dog", "dog"],
        ...                      "score": [0.9, 0.6, 0.3]})
        >>> sweep = threshold_sweep(truth, pred)
        >>> sweep.outcomes.counts(0.5)
        {'tp': 1, 'fp': 1, 'fn': 1}
        >>> sweep.at(0.5)[["tp", "fp", "fn"]].tolist()
        [1.0, 1.0, 1.0]
        """
        kept = self.kept(threshold)
        return {
            "tp": int(((self._p_match == "tp") & kept).sum()),
            "fp": int(((self._p_match == "fp") & kept).sum()),
            "fn": int(self.missed(threshold).sum()),
        }

    def __repr__(self) -> str:
        return (
            f"Outcomes(kind={self.kind!r}, predictions={len(self.predictions)}, "
            f"truth={len(self.truth)}, images={len(self.images)})"
        )


_EMPTY = np.zeros(0, dtype=np.int64)


def _rows_by_code(codes: np.ndarray, n: int) -> list[np.ndarray]:
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(n + 1))
    return [order[bounds[i] : bounds[i + 1]] for i in range(n)]


def check_threshold_labels(threshold, labels) -> None:
    """Refuse a per-class mapping that names classes the sweep does not have."""
    if isinstance(threshold, Mapping):
        unknown = [k for k in threshold if k not in set(labels)]
        if unknown:
            raise InvalidParameter(
                f"thresholds name classes this sweep does not have: {unknown[:10]}; "
                f"classes: {list(labels)[:10]}",
                name="threshold",
            )
