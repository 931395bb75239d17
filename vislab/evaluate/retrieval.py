"""Retrieval (image search) metrics: what a similarity cutoff returns, and how much is right.

An image-search service answers each query with hits and similarity scores.  The application
shows the hits above a cutoff.  :func:`retrieval_sweep` says, for every cutoff, how many hits
come back and which share of them are relevant (precision), which share of the relevant items
come back (recall), and F1 — plus precision@k and recall@k over each query's ranked list.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vislab.evaluate._validate import check_scores, prediction_rows
from vislab.evaluate.sweeps import Sweep
from vislab.frames import require_columns

__all__ = ["retrieval_sweep", "RetrievalSweep"]


class RetrievalSweep(Sweep):
    """A :class:`~vislab.evaluate.Sweep` over (query, hit) pairs, plus ranked-list metrics.

    Attributes
    ----------
    at_k : DataFrame
        One row per ``k``: ``k, precision_at_k, recall_at_k, hit_rate_at_k`` averaged over
        queries (``hit_rate_at_k``: share of queries with at least one relevant hit in the top
        ``k``).
    per_query : DataFrame
        One row per query: ``query, n_relevant, n_hits`` and ``precision_at_k`` /
        ``recall_at_k`` for the largest ``k``.
    """

    at_k: pd.DataFrame
    per_query: pd.DataFrame


def retrieval_sweep(
    matches: pd.DataFrame, relevant: pd.DataFrame, *, k=None, item: str = "cont_sign"
) -> RetrievalSweep:
    """Precision / recall / F1 per similarity cutoff, and precision@k / recall@k.

    Parameters
    ----------
    matches : DataFrame
        Matches frame ``query, rank, cont_sign, brief, score, tags`` (one row per hit).  Rows
        with ``error_code`` set are failed queries: they returned nothing.
    relevant : DataFrame
        The (query, item) pairs that are relevant: columns ``query`` and ``item``
        (``cont_sign`` by default).  Queries listed here but absent from ``matches`` count
        with recall 0.
    k : int or sequence of int, optional
        Cut-offs for precision@k / recall@k; default ``(1, 5, 10)``.
    item : str, default "cont_sign"
        Column identifying a gallery item (e.g. ``"brief"`` if you keyed relevance by brief).

    Returns
    -------
    RetrievalSweep
        ``.frame`` (one row per distinct score, highest first: ``threshold, n_pred`` — the
        hits returned — ``tp, fp, fn, precision, recall, f1``), ``.at(cutoff)``, ``.at_k``,
        ``.per_query``.

    Examples
    --------
    >>> matches = pd.DataFrame({"query": ["q1", "q1", "q2"], "rank": [1, 2, 1],
    ...                         "cont_sign": ["a", "b", "c"], "brief": ["", "", ""],
    ...                         "score": [0.95, 0.60, 0.80], "tags": [[], [], []]})
    >>> relevant = pd.DataFrame({"query": ["q1", "q2"], "cont_sign": ["a", "d"]})
    >>> s = retrieval_sweep(matches, relevant, k=[1, 2])
    >>> s.at(0.7)[["n_pred", "tp", "precision", "recall"]].tolist()
    [2.0, 1.0, 0.5, 0.5]
    >>> s.at_k[["k", "precision_at_k", "recall_at_k"]].values.tolist()
    [[1.0, 0.5, 0.5], [2.0, 0.25, 0.5]]
    """
    ok, failed = prediction_rows(matches, ["query", item, "score"], name="matches")
    require_columns(relevant, ["query", item], name="relevant")
    scores = check_scores(ok, name="matches")
    hits = pd.DataFrame(
        {"query": ok["query"].to_numpy(), "item": ok[item].to_numpy(), "score": scores}
    )
    if "rank" in ok.columns:
        hits["rank"] = pd.to_numeric(ok["rank"], errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )
    else:
        hits["rank"] = np.nan
    # A gallery item returned twice for one query counts once, at its best score.
    hits = hits.sort_values(["query", "score"], ascending=[True, False], kind="stable")
    hits = hits.drop_duplicates(["query", "item"], keep="first")
    rel = relevant[["query", item]].drop_duplicates().rename(columns={item: "item"})
    is_tp = pd.MultiIndex.from_frame(hits[["query", "item"]]).isin(pd.MultiIndex.from_frame(rel))
    base = Sweep.from_arrays(hits["score"].to_numpy(), tp=is_tp, n_pos=len(rel))
    sweep = RetrievalSweep(base._curve, {}, kind="retrieval")
    sweep.meta.update(failed_queries=failed)

    # Ranked-list metrics: the service's rank when given, else the score order.
    hits = hits.assign(tp=is_tp)
    hits["order"] = hits.groupby("query", sort=False).cumcount() + 1
    if hits["rank"].notna().all():
        hits = hits.sort_values(["query", "rank"], kind="stable")
        hits["order"] = hits.groupby("query", sort=False).cumcount() + 1
    ks = (1, 5, 10) if k is None else ([int(k)] if np.isscalar(k) else [int(v) for v in k])
    queries = pd.Index(
        pd.unique(
            pd.concat(
                [hits["query"], rel["query"], pd.Series(failed, dtype=object)], ignore_index=True
            )
        )
    )
    n_rel = rel.groupby("query").size().reindex(queries, fill_value=0)
    n_hits = hits.groupby("query").size().reindex(queries, fill_value=0)
    rows, last = [], None
    for kk in ks:
        top = hits[hits["order"] <= kk]
        found = top.groupby("query")["tp"].sum().reindex(queries, fill_value=0)
        p_at = found / kk
        with np.errstate(divide="ignore", invalid="ignore"):
            r_at = (found / n_rel).where(n_rel > 0)
        rows.append(
            {
                "k": kk,
                "precision_at_k": float(p_at.mean()) if len(queries) else np.nan,
                "recall_at_k": float(r_at.mean()) if r_at.notna().any() else np.nan,
                "hit_rate_at_k": float((found > 0).mean()) if len(queries) else np.nan,
            }
        )
        last = (kk, p_at, r_at)
    sweep.at_k = pd.DataFrame(rows)
    per_query = pd.DataFrame(
        {"query": queries, "n_relevant": n_rel.to_numpy(), "n_hits": n_hits.to_numpy()}
    )
    if last is not None:
        per_query[f"precision_at_{last[0]}"] = last[1].to_numpy()
        per_query[f"recall_at_{last[0]}"] = last[2].to_numpy()
    sweep.per_query = per_query
    return sweep
