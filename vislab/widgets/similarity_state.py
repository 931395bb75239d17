"""The state of a :class:`~vislab.widgets.SimilarityCutoff`: a pure-Python object, no widget.

:class:`CutoffState` holds the hits of an image search, the chosen similarity cutoff and the
numbers at it.  Which hits a query keeps and which are relevant is
:class:`vislab.evaluate.Hits`' rule (one row per (query, item) at its best score; ids compared
by value), and precision / recall / F1 come from :func:`vislab.evaluate.retrieval_sweep` —
the same rule, so the per-query counts always add up to the sweep's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import traitlets

from vislab.errors import InvalidFrame
from vislab.evaluate import Hits, apply_threshold, retrieval_sweep
from vislab.widgets._base import check_frame, check_overlap
from vislab.widgets.threshold_state import best, ok_predictions, score_range

__all__ = ["CutoffState"]

_SWEEP_FIELDS = ("tp", "fp", "fn", "precision", "recall", "f1")


def truth_first(relevant, matches):
    """``(relevant, matches)`` as given, refusing the old order (matches first)."""
    if matches is None:
        if isinstance(relevant, pd.DataFrame) and "score" in relevant.columns:
            raise InvalidFrame(
                "SimilarityCutoff takes the relevant pairs first: SimilarityCutoff(relevant, "
                "matches), or SimilarityCutoff(None, matches) / SimilarityCutoff(matches=...) "
                "without known relevant pairs",
                column="score",
            )
        raise InvalidFrame(
            "SimilarityCutoff needs the matches frame: SimilarityCutoff(relevant, matches)"
        )
    if not isinstance(matches, pd.DataFrame):
        raise InvalidFrame(f"matches must be a pandas DataFrame, got {type(matches).__name__}")
    if (
        isinstance(relevant, pd.DataFrame)
        and "score" in relevant.columns
        and "score" not in matches.columns
    ):
        raise InvalidFrame(
            "the relevant frame has a 'score' column and the matches frame has none: the "
            "arguments look swapped; truth comes first: SimilarityCutoff(relevant, matches)",
            column="score",
        )
    return relevant, matches


def picture_key(value):
    """The picture identifier of a hit: the brief itself, or its ``"image"`` entry."""
    if isinstance(value, dict) and "image" in value:
        return value["image"]
    return value


class CutoffState(traitlets.HasTraits):
    """Cutoff and numbers of a similarity-cutoff view, without any widget.

    Parameters
    ----------
    relevant, matches, item, image_column, cutoff, k
        As for :class:`vislab.widgets.SimilarityCutoff`.

    Attributes
    ----------
    cutoff : float
        Hits with ``score >= cutoff`` are kept (a traitlet).
    revision : int
        Incremented after every change of the numbers.
    hits : vislab.evaluate.Hits
    sweep : RetrievalSweep or None
        With relevant pairs.

    Examples
    --------
    >>> matches = pd.DataFrame({"query": ["q1", "q1", "q2"], "cont_sign": ["a", "b", "c"],
    ...                         "score": [0.95, 0.60, 0.80]})
    >>> relevant = pd.DataFrame({"query": ["q1", "q2"], "cont_sign": ["a", "d"]})
    >>> state = CutoffState(relevant, matches, cutoff=0.7)
    >>> state.row()["hits"], state.row()["precision"]
    (2, 0.5)
    >>> state.cutoff = 0.9
    >>> state.per_query["hits"].tolist()
    [1, 0]
    """

    cutoff = traitlets.Float(0.5)
    revision = traitlets.Int(0)

    def __init__(
        self,
        relevant=None,
        matches=None,
        *,
        item: str = "cont_sign",
        image_column: str = "brief",
        cutoff: float | None = None,
        k=(1, 5, 10),
    ):
        super().__init__()
        relevant, matches = truth_first(relevant, matches)
        check_frame(matches, ["query"], name="matches")
        self.item = item
        self.image_column = image_column if image_column in matches.columns else item
        self.matches = matches
        self.relevant = relevant
        if relevant is not None:
            check_frame(relevant, ["query", item], name="relevant")
            check_overlap(ok_predictions(matches), relevant, pred_key="query", truth_key="query")
            self.sweep = retrieval_sweep(relevant, matches, k=k, item=item)
            self.hits = self.sweep.hits
        else:
            self.sweep = None
            self.hits = Hits.from_matches(matches, item=item)
        frame = self.hits.frame  # one row per (query, item) hit, highest score first
        self.queries = self.hits.queries
        self.failed = self.hits.failed_queries
        self.hit_score = frame["score"].to_numpy(dtype=float)
        self.hit_query = frame["query"].to_numpy(dtype=object)
        pictures = (
            matches.loc[frame["row"], self.image_column].to_numpy(dtype=object)
            if len(frame)
            else np.zeros(0, dtype=object)
        )
        self.hit_picture = np.array([picture_key(v) for v in pictures], dtype=object)
        self.hit_relevant = (
            frame["relevant"].to_numpy(dtype=bool, na_value=False) if relevant is not None else None
        )
        self.score_range = score_range(self.hit_score)
        self._per_query = None
        self._row = None
        if cutoff is None:
            cutoff = best(self.sweep, "f1") if self.sweep is not None else None
            if cutoff is None:
                cutoff = float(np.median(self.hit_score)) if len(self.hit_score) else 0.5
        self.set_trait("cutoff", float(cutoff))
        self._recompute()

    @traitlets.observe("cutoff")
    def _on_cutoff(self, change) -> None:
        self._recompute()

    def _recompute(self) -> None:
        self._per_query = None
        self._row = None
        self.revision += 1

    # -- numbers -----------------------------------------------------------------------------
    @property
    def per_query(self) -> pd.DataFrame:
        """Hits kept per query at the cutoff (and relevant ones kept, with relevant pairs)."""
        if self._per_query is None:
            self._per_query = self.hits.at(self.cutoff)
        return self._per_query

    def row(self) -> dict:
        """The numbers at the cutoff as plain values (see :attr:`metrics`)."""
        if self._row is None:
            pq = self.per_query
            hits = pq["hits"].to_numpy()
            row = {
                "cutoff": float(self.cutoff),
                "hits": int(hits.sum()),
                "queries": len(pq),
                "queries_without_hits": int((hits == 0).sum()),
                "hits_per_query": float(hits.mean()) if len(pq) else np.nan,
            }
            if self.sweep is not None:
                at = self.sweep.at(self.cutoff)
                row.update({k: float(at[k]) for k in _SWEEP_FIELDS})
                for k in ("tp", "fp", "fn"):
                    row[k] = int(row[k])
            self._row = row
        return self._row

    @property
    def metrics(self) -> pd.DataFrame:
        """One row ``"all"``: ``cutoff, hits, queries, queries_without_hits, hits_per_query``
        and, with relevant pairs, ``tp, fp, fn, precision, recall, f1``."""
        return pd.DataFrame([self.row()], index=pd.Index(["all"], name="queries"))

    def apply_rule(self, rule: str) -> float | None:
        """Move the cutoff to the one :func:`vislab.evaluate.best_threshold` picks, or return
        ``None`` (nothing moves) when no cutoff satisfies ``rule`` or no pairs are known."""
        t = best(self.sweep, rule) if self.sweep is not None else None
        if t is not None:
            self.cutoff = t
        return t

    def to_frame(self) -> pd.DataFrame:
        """The hits kept at the cutoff (rows of failed queries stay: frames keep every input)."""
        out = apply_threshold(self.matches, self.cutoff)
        out.attrs["cutoff"] = self.cutoff
        return out

    def neighbours(self, n: int = 6) -> tuple[np.ndarray, np.ndarray]:
        """Row positions (in score order) of the ``n`` hits just above and just below."""
        cut = self.hits.n_kept(self.cutoff)
        above = np.arange(max(0, cut - n), cut)[::-1]
        below = np.arange(cut, min(len(self.hit_score), cut + n))
        return above, below

    def summary(self) -> str:
        r = self.row()
        text = f"SimilarityCutoff(cutoff={self.cutoff:.3f}: {r['hits']} hits kept"
        if self.sweep is not None:
            text += f", precision={r['precision']:.4f}, recall={r['recall']:.4f}, f1={r['f1']:.4f}"
        return text + ")"
