"""Image-search metrics: what a similarity cutoff keeps, and how good the ranked lists are.

An image-search service answers each query with ranked hits and similarity scores.  The
application shows the hits above a cutoff.  :func:`retrieval_sweep` says, for every cutoff, how
many hits come back and which share of them are relevant (precision), which share of the
relevant items come back (recall), and F1 — plus precision@k and recall@k over each query's
ranked list.  :class:`Hits` answers "which hits does each query keep at this cutoff".

Both read the matches through one rule (:meth:`Hits.from_matches`):

* a gallery item returned twice for one query counts once, at its best score;
* a hit is relevant when its (query, item) pair is among the relevant pairs, identifiers
  compared by value as text with integral numbers written without a decimal part — ``7``,
  ``7.0`` (an integer column that a failed query's empty row turned into floats) and ``"7"``
  (the same id read back from a CSV file) are one item.

Truth comes first, as everywhere in :mod:`vislab.evaluate`: ``retrieval_sweep(relevant,
matches)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vislab.evaluate._validate import (
    check_order,
    check_scores,
    plain,
    positions,
    prediction_rows,
)
from vislab.evaluate.sweeps import Sweep
from vislab.frames import require_columns

__all__ = ["retrieval_sweep", "RetrievalSweep", "Hits", "id_keys"]


def id_keys(values) -> np.ndarray:
    """Identifiers as comparable text: ``7``, ``7.0`` and ``"7"`` give the same key.

    Parameters
    ----------
    values : array-like

    Returns
    -------
    ndarray of str (object)

    Examples
    --------
    >>> id_keys([7, 7.0, "7", "07", 2.5, None]).tolist()
    ['7', '7', '7', '07', '2.5', 'None']
    """
    s = pd.Series(values) if not isinstance(values, pd.Series) else values
    if s.dtype.kind in "iu":
        return s.astype(np.int64).astype(str).to_numpy(dtype=object)
    if s.dtype.kind == "f":
        v = s.to_numpy(dtype=float)
        whole = np.isfinite(v) & (v == np.round(v))
        out = s.astype(str).to_numpy(dtype=object)
        out[whole] = v[whole].astype(np.int64).astype(str)
        return out
    return np.array([_key(v) for v in s.to_numpy(dtype=object)], dtype=object)


def _key(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)) and np.isfinite(v) and float(v).is_integer():
        return str(int(v))
    return str(v)


class Hits:
    """Search hits with the relevance rule applied: one row per (query, item), best score.

    Build with :meth:`from_matches`, which applies the rule; the parameters are kept as the
    attributes of the same name.

    Parameters
    ----------
    frame : DataFrame
        One row per distinct (query, item), highest score first: ``query, item, score, rank,
        relevant`` (``relevant`` is NA without relevant pairs) and ``row`` — the index label of
        the hit's row in the matches frame (to read its ``brief``, ``tags`` ...).
    queries : list
        Every query: those with hits, those only listed as relevant, failed ones.
    failed_queries : list
        Queries whose call failed (rows with ``error_code`` set).
    n_relevant : Series or None
        Relevant items per query (0 for queries with none), indexed by query; ``None``
        without relevant pairs.
    n_relevant_pairs : int
        Distinct relevant (query, item) pairs: the positives of a retrieval sweep.

    Examples
    --------
    >>> matches = pd.DataFrame({"query": ["q1", "q1", "q2"], "cont_sign": [7, 8, 9],
    ...                         "score": [0.9, 0.6, 0.8]})
    >>> relevant = pd.DataFrame({"query": ["q1", "q2"], "cont_sign": ["7", "4"]})
    >>> hits = Hits.from_matches(matches, relevant=relevant)
    >>> hits.at(0.7)
      query  hits  relevant_kept  relevant
    0    q1     1              1         1
    1    q2     1              0         1
    """

    def __init__(self, frame, queries, failed_queries, n_relevant, n_relevant_pairs):
        self.frame = frame
        self.queries = queries
        self.failed_queries = failed_queries
        self.n_relevant = n_relevant
        self.n_relevant_pairs = n_relevant_pairs
        self._score = frame["score"].to_numpy(dtype=float)
        self._neg_score = -self._score  # ascending, for searchsorted
        codes = pd.Index(id_keys(pd.Series(queries, dtype=object)), dtype=object)
        self._query_code = positions(id_keys(frame["query"]), codes)
        self._relevant = (
            None if n_relevant is None else frame["relevant"].to_numpy(dtype=bool, na_value=False)
        )

    @classmethod
    def from_matches(cls, matches: pd.DataFrame, *, relevant=None, item: str = "cont_sign"):
        """Apply the rule: deduplicate (query, item) at the best score, mark relevant hits.

        ``relevant`` (the truth) is a keyword: hits exist without it, and no positional
        order can put the predictions before the truth.

        Parameters
        ----------
        matches : DataFrame
            Matches frame (``query, rank, cont_sign, brief, score, tags``), one row per hit;
            rows with ``error_code`` set are failed queries.
        relevant : DataFrame, optional
            Relevant (query, item) pairs: columns ``query`` and the ``item`` column.
        item : str, default "cont_sign"
            Column identifying a gallery item.

        Returns
        -------
        Hits
            One row per distinct (query, item) in :attr:`frame`, relevance marked.

        Examples
        --------
        Item 7 comes back twice for ``q1`` and counts once, at 0.9; ``"7"`` in the truth is
        the same item:

        >>> matches = pd.DataFrame({"query": ["q1", "q1", "q2", "q1"],
        ...                         "cont_sign": [7, 8, 9, 7], "score": [0.9, 0.6, 0.8, 0.5]})
        >>> relevant = pd.DataFrame({"query": ["q1", "q2"], "cont_sign": ["7", "4"]})
        >>> hits = Hits.from_matches(matches, relevant=relevant)
        >>> hits.frame[["query", "item", "score", "relevant"]]
          query item  score  relevant
        0    q1    7    0.9      True
        1    q2    9    0.8     False
        2    q1    8    0.6     False
        >>> hits.n_relevant.tolist(), hits.n_relevant_pairs
        ([1, 1], 2)
        """
        ok, failed = prediction_rows(matches, ["query", item, "score"], name="matches")
        scores = check_scores(ok, name="matches")
        rank = (
            pd.to_numeric(ok["rank"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            if "rank" in ok.columns
            else np.full(len(ok), np.nan)
        )
        hits = pd.DataFrame(
            {
                "query": ok["query"].to_numpy(dtype=object),
                "item": ok[item].to_numpy(dtype=object),
                "score": scores,
                "rank": rank,
                "row": ok.index.to_numpy(),
                "_q": id_keys(ok["query"]),
                "_i": id_keys(ok[item]),
            }
        )
        queries = list(matches["query"])  # the matches frame's order, failed queries included
        # A gallery item returned twice for one query counts once, at its best score.
        hits = hits.sort_values("score", ascending=False, kind="stable")
        hits = hits.drop_duplicates(["_q", "_i"], keep="first").reset_index(drop=True)
        n_relevant = None
        n_pairs = 0
        if relevant is not None:
            require_columns(relevant, ["query", item], name="relevant")
            relevant = plain(relevant)
            rel = pd.DataFrame(
                {
                    "query": relevant["query"].to_numpy(dtype=object),
                    "_q": id_keys(relevant["query"]),
                    "_i": id_keys(relevant[item]),
                }
            ).drop_duplicates(["_q", "_i"])
            pairs = pd.MultiIndex.from_arrays([rel["_q"], rel["_i"]])
            hits["relevant"] = pd.MultiIndex.from_arrays([hits["_q"], hits["_i"]]).isin(pairs)
            queries += list(rel["query"])
            n_pairs = len(rel)
        else:
            hits["relevant"] = pd.array([pd.NA] * len(hits), dtype="boolean")
        queries += list(failed)
        # One entry per query key, in order of first appearance: matches, relevant, failed.
        keys = id_keys(pd.Series(queries, dtype=object))
        _, first = np.unique(keys, return_index=True)
        queries = [queries[i] for i in np.sort(first)]
        if relevant is not None:
            counts = rel.groupby("_q").size()
            n_relevant = pd.Series(
                counts.reindex(id_keys(pd.Series(queries, dtype=object)), fill_value=0).to_numpy(),
                index=pd.Index(queries, dtype=object, name="query"),
                name="n_relevant",
            )
        frame = hits.drop(columns=["_q", "_i"])
        return cls(frame, queries, list(failed), n_relevant, n_pairs)

    def kept(self, cutoff: float) -> np.ndarray:
        """Whether each hit (row of :attr:`frame`) is kept: ``score >= cutoff``.

        Parameters
        ----------
        cutoff : float
            Similarity cutoff, on the service's score scale.

        Returns
        -------
        ndarray of bool
            One value per row of :attr:`frame` (kept hits come first: it is sorted by score).

        Examples
        --------
        >>> matches = pd.DataFrame({"query": ["q1", "q1", "q2"], "cont_sign": [7, 8, 9],
        ...                         "score": [0.9, 0.6, 0.8]})
        >>> Hits.from_matches(matches).kept(0.7).tolist()
        [True, True, False]
        """
        return self._score >= float(cutoff)

    def n_kept(self, cutoff: float) -> int:
        """Number of hits kept at ``cutoff`` (a binary search).

        Parameters
        ----------
        cutoff : float
            Similarity cutoff: hits with ``score >= cutoff`` are kept.

        Returns
        -------
        int
            Hits kept over all queries (equal to ``kept(cutoff).sum()``).

        Examples
        --------
        >>> matches = pd.DataFrame({"query": ["q1", "q1", "q2"], "cont_sign": [7, 8, 9],
        ...                         "score": [0.9, 0.6, 0.8]})
        >>> hits = Hits.from_matches(matches)
        >>> hits.n_kept(0.7), hits.n_kept(0.8), hits.n_kept(0.95)
        (2, 2, 0)
        """
        return int(np.searchsorted(self._neg_score, -float(cutoff), side="right"))

    def at(self, cutoff: float) -> pd.DataFrame:
        """Hits kept per query at ``cutoff`` (and relevant ones, with relevant pairs).

        Parameters
        ----------
        cutoff : float
            Similarity cutoff: hits with ``score >= cutoff`` are kept.

        Returns
        -------
        DataFrame
            One row per query (:attr:`queries` order, failed queries with 0 hits):
            ``query, hits`` and, with relevant pairs, ``relevant_kept`` (relevant hits kept)
            and ``relevant`` (relevant items of the query).

        Examples
        --------
        >>> matches = pd.DataFrame({"query": ["q1", "q1", "q2"], "cont_sign": [7, 8, 9],
        ...                         "score": [0.9, 0.6, 0.8]})
        >>> Hits.from_matches(matches).at(0.5)
          query  hits
        0    q1     2
        1    q2     1
        """
        n = self.n_kept(cutoff)  # the frame is sorted by score: the kept hits come first
        code = self._query_code[:n]
        out = pd.DataFrame(
            {"query": self.queries, "hits": np.bincount(code, minlength=len(self.queries))}
        )
        if self._relevant is not None:
            out["relevant_kept"] = np.bincount(
                code, weights=self._relevant[:n], minlength=len(self.queries)
            ).astype(np.int64)
            out["relevant"] = self.n_relevant.to_numpy()
        return out

    def __len__(self) -> int:
        return len(self.frame)


class RetrievalSweep(Sweep):
    """A :class:`~vislab.evaluate.Sweep` over (query, hit) pairs, plus ranked-list metrics.

    Built by :func:`retrieval_sweep`, which sets the attributes below; a hit is a positive
    when it is relevant, so ``n_pred`` is the number of hits returned at a cutoff.

    Parameters
    ----------
    curve, class_curves, by_class, kind, meta
        As for :class:`~vislab.evaluate.Sweep` (:func:`retrieval_sweep` passes the curve of
        all hits, no classes and ``kind="retrieval"``).

    Attributes
    ----------
    at_k : DataFrame
        One row per ``k``: ``k, precision_at_k, recall_at_k, hit_rate_at_k`` averaged over
        queries (``hit_rate_at_k``: share of queries with at least one relevant hit in the top
        ``k``).
    per_query : DataFrame
        One row per query: ``query, n_relevant, n_hits`` and ``precision_at_k`` /
        ``recall_at_k`` for the largest ``k``.
    hits : Hits
        The hits as the sweep counts them (one rule for widgets and metrics).

    Examples
    --------
    >>> matches = pd.DataFrame({"query": ["q1", "q1", "q2"], "cont_sign": ["a", "b", "c"],
    ...                         "score": [0.9, 0.6, 0.8]})
    >>> relevant = pd.DataFrame({"query": ["q1", "q2"], "cont_sign": ["a", "d"]})
    >>> s = retrieval_sweep(relevant, matches, k=[1, 2])
    >>> s.frame[["threshold", "n_pred", "tp", "precision", "recall"]]
       threshold  n_pred  tp  precision  recall
    0        0.9       1   1   1.000000     0.5
    1        0.8       2   1   0.500000     0.5
    2        0.6       3   1   0.333333     0.5
    >>> s.per_query
      query  n_relevant  n_hits  precision_at_2  recall_at_2
    0    q1           1       2             0.5          1.0
    1    q2           1       1             0.0          0.0
    """

    at_k: pd.DataFrame
    per_query: pd.DataFrame
    hits: Hits

    def hits_at(self, cutoff: float) -> pd.DataFrame:
        """Hits kept per query at ``cutoff`` (see :meth:`Hits.at`).

        Parameters
        ----------
        cutoff : float
            Similarity cutoff: hits with ``score >= cutoff`` are kept.

        Returns
        -------
        DataFrame
            One row per query: ``query, hits, relevant_kept, relevant``.

        Examples
        --------
        >>> matches = pd.DataFrame({"query": ["q1", "q1"], "cont_sign": ["a", "b"],
        ...                         "score": [0.9, 0.6]})
        >>> relevant = pd.DataFrame({"query": ["q1"], "cont_sign": ["b"]})
        >>> retrieval_sweep(relevant, matches).hits_at(0.5)["relevant_kept"].tolist()
        [1]
        """
        return self.hits.at(cutoff)


def retrieval_sweep(
    relevant: pd.DataFrame, matches: pd.DataFrame, *, k=None, item: str = "cont_sign"
) -> RetrievalSweep:
    """Precision / recall / F1 per similarity cutoff, and precision@k / recall@k.

    Parameters
    ----------
    relevant : DataFrame
        The truth: (query, item) pairs that are relevant, columns ``query`` and ``item``
        (``cont_sign`` by default).  Queries listed here but absent from ``matches`` count
        with recall 0.  It comes first, as truth does in every :mod:`vislab.evaluate`
        function.
    matches : DataFrame
        Matches frame ``query, rank, cont_sign, brief, score, tags`` (one row per hit).  Rows
        with ``error_code`` set are failed queries: they returned nothing.
    k : int or sequence of int, optional
        Cut-offs for precision@k / recall@k; default ``(1, 5, 10)``.
    item : str, default "cont_sign"
        Column identifying a gallery item (e.g. ``"brief"`` if you keyed relevance by brief).

    Returns
    -------
    RetrievalSweep
        ``.frame`` (one row per distinct score, highest first: ``threshold, n_pred`` — the
        hits returned — ``tp, fp, fn, precision, recall, f1``), ``.at(cutoff)``, ``.at_k``,
        ``.per_query``, ``.hits_at(cutoff)``.

    Examples
    --------
    >>> matches = pd.DataFrame({"query": ["q1", "q1", "q2"], "rank": [1, 2, 1],
    ...                         "cont_sign": ["a", "b", "c"], "brief": ["", "", ""],
    ...                         "score": [0.95, 0.60, 0.80], "tags": [[], [], []]})
    >>> relevant = pd.DataFrame({"query": ["q1", "q2"], "cont_sign": ["a", "d"]})
    >>> s = retrieval_sweep(relevant, matches, k=[1, 2])
    >>> s.at(0.7)[["n_pred", "tp", "precision", "recall"]].tolist()
    [2.0, 1.0, 0.5, 0.5]
    >>> s.at_k[["k", "precision_at_k", "recall_at_k"]].values.tolist()
    [[1.0, 0.5, 0.5], [2.0, 0.25, 0.5]]
    """
    check_order(relevant, matches, call="retrieval_sweep(relevant, matches)", pred_name="matches")
    if relevant is None:
        raise TypeError("retrieval_sweep needs the relevant pairs: retrieval_sweep(relevant, ...)")
    require_columns(relevant, ["query", item], name="relevant")
    hits_obj = Hits.from_matches(matches, relevant=relevant, item=item)
    hits = hits_obj.frame
    is_tp = hits["relevant"].to_numpy(dtype=bool)
    base = Sweep.from_arrays(hits["score"].to_numpy(), tp=is_tp, n_pos=hits_obj.n_relevant_pairs)
    sweep = RetrievalSweep(base._curve, {}, kind="retrieval")
    sweep.meta.update(failed_queries=hits_obj.failed_queries)
    sweep.hits = hits_obj

    # Ranked-list metrics: the service's rank when given, else the score order.
    hits = hits.assign(tp=is_tp, _q=hits_obj._query_code)
    hits = hits.sort_values(["_q", "score"], ascending=[True, False], kind="stable")
    if hits["rank"].notna().all():
        hits = hits.sort_values(["_q", "rank"], kind="stable")
    hits["order"] = hits.groupby("_q", sort=False).cumcount() + 1
    ks = (1, 5, 10) if k is None else ([int(k)] if np.isscalar(k) else [int(v) for v in k])
    n_q = len(hits_obj.queries)
    n_rel = hits_obj.n_relevant.to_numpy()
    n_hits = np.bincount(hits["_q"].to_numpy(), minlength=n_q)
    rows, last = [], None
    for kk in ks:
        top = hits[hits["order"] <= kk]
        found = np.bincount(top["_q"].to_numpy(), weights=top["tp"], minlength=n_q)
        p_at = found / kk
        with np.errstate(divide="ignore", invalid="ignore"):
            r_at = np.where(n_rel > 0, found / np.maximum(n_rel, 1), np.nan)
        rows.append(
            {
                "k": kk,
                "precision_at_k": float(p_at.mean()) if n_q else np.nan,
                "recall_at_k": float(np.nanmean(r_at)) if np.isfinite(r_at).any() else np.nan,
                "hit_rate_at_k": float((found > 0).mean()) if n_q else np.nan,
            }
        )
        last = (kk, p_at, r_at)
    sweep.at_k = pd.DataFrame(rows)
    per_query = pd.DataFrame({"query": hits_obj.queries, "n_relevant": n_rel, "n_hits": n_hits})
    if last is not None:
        per_query[f"precision_at_{last[0]}"] = last[1]
        per_query[f"recall_at_{last[0]}"] = last[2]
    sweep.per_query = per_query
    return sweep
