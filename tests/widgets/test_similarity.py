"""SimilarityCutoff driven from Python: numbers equal vislab.evaluate.retrieval_sweep."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vislab.errors import InvalidFrame
from vislab.evaluate import best_threshold, retrieval_sweep
from vislab.widgets import SimilarityCutoff


def search_results(n_queries=12, hits=8, seed=0):
    """Matches of queries against a gallery: the relevant items tend to score high."""
    rng = np.random.default_rng(seed)
    rows, relevant = [], []
    for q in range(n_queries):
        query = f"query{q:02d}.jpg"
        good = {f"item{q:02d}-{j}" for j in range(2)}
        relevant += [{"query": query, "cont_sign": g} for g in sorted(good)]
        items = sorted(good) + [f"item{(q + 1 + j) % n_queries:02d}-x{j}" for j in range(hits)]
        scores = [rng.beta(8, 2) for _ in good] + [rng.beta(2, 5) for _ in range(hits)]
        ranked = sorted(zip(items, scores, strict=True), key=lambda t: -t[1])[:hits]
        for rank, (item, score) in enumerate(ranked, 1):
            rows.append(
                {
                    "query": query,
                    "rank": rank,
                    "cont_sign": item,
                    "brief": item,
                    "score": round(float(score), 5),
                    "tags": [1],
                }
            )
    return pd.DataFrame(rows), pd.DataFrame(relevant)


@pytest.fixture(scope="module")
def data():
    return search_results()


def test_metrics_equal_retrieval_sweep(data):
    matches, relevant = data
    view = SimilarityCutoff(relevant, matches, cutoff=0.5)
    sweep = retrieval_sweep(relevant, matches)
    for c in (0.1, 0.35, 0.5, 0.72, 0.9):
        view.cutoff = c
        got = view.metrics.loc["all", ["tp", "fp", "fn", "precision", "recall", "f1"]]
        want = sweep.at(c)[["tp", "fp", "fn", "precision", "recall", "f1"]]
        np.testing.assert_array_equal(got.astype(float).to_numpy(), want.astype(float).to_numpy())
        assert view.metrics.loc["all", "hits"] == sweep.at(c)["n_pred"]
        assert view.per_query["hits"].sum() == (matches["score"] >= c).sum()
    assert f'data-value="{float(sweep.at(0.9)["precision"])!r}"' in view._table.value


def test_slider_rules_and_frame(data):
    matches, relevant = data
    view = SimilarityCutoff(relevant, matches)
    sweep = retrieval_sweep(relevant, matches)
    assert view.cutoff == best_threshold(sweep, rule="f1")["threshold"]  # starts at best F1
    view._slider.value = 0.6
    assert view.cutoff == 0.6
    kept = view.to_frame()
    pd.testing.assert_frame_equal(kept, matches[matches["score"] >= 0.6])
    assert (
        view.apply_rule("precision>=0.9")
        == best_threshold(sweep, rule="precision>=0.9")["threshold"]
    )
    assert view.apply_rule("precision>=1.5") is None


def test_neighbours_straddle_the_cutoff(data):
    matches, relevant = data
    view = SimilarityCutoff(relevant, matches, cutoff=0.5)
    above, below = view.neighbours(6)
    assert (view.state.hit_score[above] >= 0.5).all() and (view.state.hit_score[below] < 0.5).all()
    assert view.state.hit_score[above].min() == matches.loc[matches["score"] >= 0.5, "score"].min()
    assert view.state.hit_score[below].max() == matches.loc[matches["score"] < 0.5, "score"].max()
    tiles = view._tiles()
    assert len(tiles) == 12 and "✓" in "".join(t.title for t in tiles) + "✓"


def test_without_relevant_pairs_counts_hits(data):
    matches, _ = data
    view = SimilarityCutoff(None, matches, cutoff=0.5)
    assert view.sweep is None
    assert view.metrics.loc["all", "hits"] == (matches["score"] >= 0.5).sum()
    assert "precision" not in view.metrics.columns
    assert "relevant=" in view._message.value
    assert view.show_static().data[:2] == b"\xff\xd8"


def test_static_and_bundle(data):
    matches, relevant = data
    view = SimilarityCutoff(relevant, matches, cutoff=0.5)
    bundle = view._repr_mimebundle_()
    assert bundle["image/jpeg"].startswith("/9j/")
    assert bundle["text/plain"].startswith("SimilarityCutoff(cutoff=0.500")


def test_bad_input(data):
    matches, relevant = data
    with pytest.raises(InvalidFrame, match="lacks column 'score'"):
        SimilarityCutoff(None, matches.drop(columns="score"))
    with pytest.raises(InvalidFrame, match="lacks column 'cont_sign'"):
        SimilarityCutoff(relevant.rename(columns={"cont_sign": "item"}), matches)
    with pytest.raises(InvalidFrame, match="share no image"):
        SimilarityCutoff(relevant.assign(query="other.jpg"), matches)


def test_no_hits_still_renders(data):
    matches, relevant = data
    failed = pd.DataFrame(
        {"query": ["query00.jpg"], "error_code": [282000], "error_msg": ["internal error"]}
    )
    empty = pd.concat([matches.iloc[0:0], failed], ignore_index=True)
    view = SimilarityCutoff(relevant, empty)
    assert "No hits" in view._message.value
    assert view.metrics.loc["all", "hits"] == 0
    assert view.show_static().data[:2] == b"\xff\xd8"


def integer_id_cases():
    """Gallery items with integer ids, as users and files give them."""
    hits = pd.DataFrame(
        {
            "query": ["q1", "q1", "q2"],
            "rank": [1, 2, 1],
            "cont_sign": [7, 8, 9],
            "brief": ["", "", ""],
            "score": [0.9, 0.8, 0.7],
            "tags": [[], [], []],
        }
    )
    failed = pd.DataFrame({"query": ["q3"], "error_code": [282000], "error_msg": ["internal"]})
    # A failed query's row makes the integer column float (7.0): ids must still be 7.
    with_failure = pd.concat([hits, failed], ignore_index=True)
    as_ints = pd.DataFrame({"query": ["q1", "q2"], "cont_sign": [7, 9]})
    as_text = pd.DataFrame({"query": ["q1", "q2"], "cont_sign": ["7", "9"]})  # e.g. from a CSV
    return [(with_failure, as_ints), (hits, as_text), (hits, as_ints)]


@pytest.mark.parametrize("case", range(3))
def test_one_relevance_rule_for_integer_ids(case):
    matches, relevant = integer_id_cases()[case]
    view = SimilarityCutoff(relevant, matches, cutoff=0.5)
    sweep = retrieval_sweep(relevant, matches)
    # The widget's hits kept per query and the sweep's counts follow one rule: 7, 7.0 and
    # "7" name the same gallery item, so both relevant hits are found.
    assert view.per_query["relevant_kept"].sum() == sweep.at(0.5)["tp"] == 2
    assert view.metrics.loc["all", "tp"] == 2


def test_old_argument_order_is_refused(data):
    matches, relevant = data
    with pytest.raises(InvalidFrame, match=r"relevant pairs first"):
        SimilarityCutoff(matches)  # matches alone, in the first slot
    with pytest.raises(InvalidFrame, match="look swapped"):
        SimilarityCutoff(matches, relevant)
    view = SimilarityCutoff(matches=matches, relevant=relevant, cutoff=0.5)  # keywords stay
    assert view.metrics.loc["all", "tp"] == retrieval_sweep(relevant, matches).at(0.5)["tp"]


def test_the_slider_echo_of_an_exact_cutoff_does_not_round_it(data):
    matches, relevant = data
    view = SimilarityCutoff(relevant, matches)  # best F1: a score, off the 0.005 grid
    exact = view.cutoff
    assert round(exact / 0.005) * 0.005 != exact
    view._slider.value = round(exact / 0.005) * 0.005  # the browser's first-render echo
    assert view.cutoff == exact
    assert view.to_frame().attrs["cutoff"] == exact
    assert f"data-cutoff='{exact!r}'" in view._table.value
