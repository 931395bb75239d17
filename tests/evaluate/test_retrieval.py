"""retrieval_sweep: counts per cutoff and precision@k / recall@k, checked by hand and brute force."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vislab.evaluate import RetrievalSweep, retrieval_sweep
from vislab.frames import matches_frame


def test_small_example_by_hand():
    matches = matches_frame(
        [
            {"query": "q1", "rank": 1, "cont_sign": "a", "brief": "", "score": 0.95, "tags": []},
            {"query": "q1", "rank": 2, "cont_sign": "b", "brief": "", "score": 0.60, "tags": []},
            {"query": "q1", "rank": 3, "cont_sign": "c", "brief": "", "score": 0.40, "tags": []},
            {"query": "q2", "rank": 1, "cont_sign": "c", "brief": "", "score": 0.80, "tags": []},
            {"query": "q3", "error_code": 282000, "error_msg": "internal error"},
        ]
    )
    relevant = pd.DataFrame({"query": ["q1", "q1", "q2", "q3"], "cont_sign": ["a", "c", "d", "e"]})
    s = retrieval_sweep(relevant, matches, k=[1, 3])
    assert isinstance(s, RetrievalSweep) and s.kind == "retrieval"
    assert s.frame["threshold"].tolist() == [0.95, 0.80, 0.60, 0.40]
    assert s.frame["n_pred"].tolist() == [1, 2, 3, 4]
    assert s.frame["tp"].tolist() == [1, 1, 1, 2]
    assert s.at(0.5)["recall"] == pytest.approx(1 / 4)
    # precision@1: q1 1/1, q2 0/1, q3 0/1 -> 1/3; recall@3: q1 2/2, q2 0/1, q3 0/1 -> 1/3
    at = s.at_k.set_index("k")
    assert at.loc[1, "precision_at_k"] == pytest.approx(1 / 3)
    assert at.loc[3, "recall_at_k"] == pytest.approx(1 / 3)
    assert at.loc[3, "hit_rate_at_k"] == pytest.approx(1 / 3)
    assert s.meta["failed_queries"] == ["q3"]
    assert set(s.per_query["query"]) == {"q1", "q2", "q3"}


def test_random_against_brute_force():
    rng = np.random.default_rng(0)
    rows = []
    for q in range(30):
        items = rng.choice(100, 12, replace=False)
        scores = np.sort(np.round(rng.random(12), 2))[::-1]
        for r, (it, sc) in enumerate(zip(items, scores, strict=True), start=1):
            rows.append(
                {
                    "query": f"q{q}",
                    "rank": r,
                    "cont_sign": str(it),
                    "brief": "",
                    "score": float(sc),
                    "tags": [],
                }
            )
    matches = matches_frame(rows)
    relevant = pd.DataFrame(
        {
            "query": [f"q{q}" for q in range(30) for _ in range(4)],
            "cont_sign": [str(v) for v in rng.integers(0, 100, 120)],
        }
    )
    relevant = relevant.drop_duplicates()
    s = retrieval_sweep(relevant, matches, k=5)
    rel = set(map(tuple, relevant.to_numpy()))
    tp = np.array([(r["query"], r["cont_sign"]) in rel for r in rows])
    scores = np.array([r["score"] for r in rows])
    for t in (0.0, 0.3, 0.77, 1.0):
        keep = scores >= t
        row = s.at(t)
        assert row["n_pred"] == keep.sum() and row["tp"] == tp[keep].sum()
        assert row["fn"] == len(rel) - tp[keep].sum()
    p5 = np.mean(
        [
            tp[[i for i, r in enumerate(rows) if r["query"] == f"q{q}" and r["rank"] <= 5]].sum()
            / 5
            for q in range(30)
        ]
    )
    assert s.at_k.loc[0, "precision_at_k"] == pytest.approx(p5)
