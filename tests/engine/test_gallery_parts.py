"""The gallery package's parts: policies from the catalogue, engine errors and their one wire
table, the vector-index seam, threaded scoring, and the engine's import boundary."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vislab import catalogue
from vislab.emulator.errors import ENGINE_WIRE_CODES, wire_error
from vislab.engine import errors as engine_errors
from vislab.engine.gallery import (
    POLICY_CLASSES,
    Gallery,
    ImageFeatures,
    MetadataStore,
    NumpyIndex,
    SQLiteStore,
    TagFilter,
    VectorIndex,
    policy_for,
    scoring,
)
from vislab.engine.gallery.protocols import IndexItem
from vislab.engine.paths import GALLERY_PRODUCTS
from vislab.errors import InvalidParameter, VislabError

ENGINE = Path(__file__).resolve().parents[2] / "vislab" / "engine"


# -- policies ------------------------------------------------------------------------------------


def test_policies_read_the_catalogue_products():
    products = catalogue.service("baidu.image_search").products
    assert GALLERY_PRODUCTS == tuple(p.name for p in products)
    assert set(POLICY_CLASSES) == set(GALLERY_PRODUCTS)
    for product in products:
        policy = policy_for(product.name)
        assert policy.product is product or policy.product == product
        assert policy.paging == (product.pn_max, product.rn_max, product.rn_default, product.rn_max)
        assert policy.positional == (product.categories == ("class_id1", "class_id2"))
        # The brief limit is the catalogue's, counted in UTF-8 bytes.
        policy.check_brief("x" * product.brief_max_bytes)
        with pytest.raises(engine_errors.BadBrief):
            policy.check_brief("x" * (product.brief_max_bytes + 1))
        lo, hi = product.category_range
        assert policy.check_slots([lo, hi]) == [lo, hi]
        with pytest.raises(engine_errors.BadCategories):
            policy.check_slots([hi + 1])
        with pytest.raises(engine_errors.BadCategories):
            policy.check_slots(list(range(lo, lo + product.max_tags + 1)))
    with pytest.raises(InvalidParameter):
        policy_for("faces")
    with pytest.raises(InvalidParameter):
        Gallery("faces", path="/nonexistent/never-created.sqlite")


def test_product_names_choose_behaviour_in_one_table_only():
    """No `product == "..."` branch is left in the engine: POLICY_CLASSES decides."""
    offenders = []
    for path in ENGINE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for name in GALLERY_PRODUCTS:
            if re.search(rf"product\s*[!=]=\s*['\"]{name}['\"]", text):
                offenders.append((path.name, name))
    assert offenders == []


# -- engine errors and the wire table -----------------------------------------------------------------


def test_engine_has_no_wire_codes():
    """Wire codes live in the emulator's table, not in the engine's source."""
    hits = []
    for path in ENGINE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for pattern in (r"\b2166\d\d\b", r"\b2162\d\d\b", r"\b2161\d\d\b", "error_for_code"):
            if re.search(pattern, text):
                hits.append((path.name, pattern))
    assert hits == []


def test_every_engine_error_has_one_wire_code_and_a_clear_message():
    kinds = [
        getattr(engine_errors, n) for n in engine_errors.__all__ if n != "EngineError"
    ]  # fmt: skip
    assert set(kinds) <= set(ENGINE_WIRE_CODES)
    samples = {
        engine_errors.ItemExists("1,2", "b"): (216681, "item exist"),
        engine_errors.ItemNotFound(["1,2"]): (216680, "item not exist"),
        engine_errors.BlankImage(0.0): (216203, None),
        engine_errors.BadBrief("brief too long"): (216100, None),
        engine_errors.BadCategories("tags must be integers in 1..65535"): (216100, None),
        engine_errors.BadTagLogic(2): (216100, None),
        engine_errors.BadPage("rn must be in 1..100, got 101", name="rn"): (216100, None),
        engine_errors.MissingTarget(): (216101, None),
    }
    assert {type(e) for e in samples} == set(kinds)
    for exc, (code, fixed) in samples.items():
        assert isinstance(exc, VislabError)
        wire = wire_error(exc)
        assert wire.code == code
        assert wire.msg == fixed if fixed else str(exc) in wire.msg
        assert len(str(exc)) > 10  # says what was wrong, not just a code
    assert wire_error(RuntimeError("a bug")) is None


# -- the index seam -------------------------------------------------------------------------------


def _unit(rng, n, d):
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def test_numpy_index_implements_the_protocols(tmp_path):
    assert isinstance(NumpyIndex(), VectorIndex)
    store = SQLiteStore(tmp_path / "g.sqlite")
    assert isinstance(store, MetadataStore)
    store.close()


@pytest.mark.parametrize("positional", [False, True])
def test_index_search_equals_brute_force_with_views_and_filters(positional):
    rng = np.random.default_rng(11)
    n, views, dim = 700, 3, 16
    vecs = _unit(rng, n * views, dim).reshape(n, views, dim)
    tags = rng.integers(0, 4, size=(n, 2))
    ids = rng.permutation(np.arange(1, n + 1) * 7)
    index = NumpyIndex.load(ids, [f"{i},0" for i in ids], [""] * n, tags, np.zeros(n),
                            np.zeros(n), vecs, n_views=views, positional=positional)  # fmt: skip
    query = _unit(rng, 2, dim).T  # two query vectors: the best counts
    filters = [None, TagFilter((1,), positional=positional),
               TagFilter((2, 3), any_of=True), TagFilter((1, 2))]  # fmt: skip
    if positional:
        filters += [TagFilter((None, 2), positional=True), TagFilter((1, 3), positional=True)]
    for where in filters:
        keep = np.ones(n, bool) if where is None else where.matches(tags)
        best = (vecs.reshape(-1, dim) @ query).reshape(n, -1).max(axis=1)
        want = sorted(zip(-np.clip(best[keep], 0, 1), ids[keep], strict=True))[:40]
        got = index.search(query, where=where, k=40, clip=(0.0, 1.0))
        assert got.total == int(keep.sum())
        assert got.ids.tolist() == [int(i) for _, i in want]
        np.testing.assert_allclose(got.scores, [-s for s, _ in want], atol=1e-6)
        every = index.search(query, where=where)
        assert every.ids.tolist() == sorted(ids[keep].tolist())


def test_index_updates_and_removals_keep_it_exact():
    rng = np.random.default_rng(12)
    index = NumpyIndex()
    vecs = _unit(rng, 3000, 8)
    tags = {}
    for i, v in enumerate(vecs, start=1):
        t = (int(rng.integers(0, 3)), 0)
        index.add(IndexItem(i, f"{i},{i}", "", t, 0, 0, v[None]))
        tags[i] = t
    index.remove(range(1, 3001, 4))
    for i in range(2, 3001, 5):
        index.update(i, slots=(2, 1), brief="moved")
        tags[i] = (2, 1)
    q = _unit(rng, 1, 8)[0]
    alive = [i for i in range(1, 3001) if (i - 1) % 4]
    where = TagFilter((1,))
    want = sorted((-float(vecs[i - 1] @ q), i) for i in alive if 1 in tags[i])[:25]
    got = index.search(q, where=where, k=25)
    assert got.ids.tolist() == [i for _, i in want]
    briefs = index.payload(got, "brief")[0].tolist()
    assert all(
        b == "moved" for b, i in zip(briefs, got.ids.tolist(), strict=True) if tags[i] == (2, 1)
    )
    assert len(index) == len(alive)


def test_threaded_scoring_gives_the_single_thread_answer(monkeypatch):
    rng = np.random.default_rng(13)
    matrix = _unit(rng, 6000, 64)[:, None, :]
    runs = np.array([[0, 1500], [2000, 5000]])
    tail = np.array([5500, 5600, 10])
    q = _unit(rng, 1, 64)[0]
    monkeypatch.setattr(scoring, "SEARCH_THREADS", 1)
    rows1, s1 = scoring.score_rows(matrix, runs, tail, q)
    monkeypatch.setattr(scoring, "SEARCH_THREADS", 2)
    monkeypatch.setattr(scoring, "_PARALLEL_MIN", 1)
    monkeypatch.setattr(scoring, "_PIECE_ROWS", 100)
    rows2, s2 = scoring.score_rows(matrix, runs, tail, q)
    assert rows1.tolist() == rows2.tolist()
    np.testing.assert_array_equal(s1, s2)
    np.testing.assert_allclose(s1, matrix[rows1, 0] @ q, atol=1e-6)


def test_gallery_search_survives_a_reload_between_threads(tmp_path):
    """Searches see every add made through the facade, threaded scoring or not."""
    rng = np.random.default_rng(14)
    g = Gallery("similar", home=tmp_path)
    vecs = _unit(rng, 50, 32)
    for i, v in enumerate(vecs):
        g.add(ImageFeatures(f"{i},{i}", v, i, i), brief=str(i), tags=[1 + i % 2])
    hits = g.search(ImageFeatures("0,0", vecs[7], 7, 7), tags=[2], rn=5).hits
    assert hits[0].brief == "7" and all(h.tags == (2,) for h in hits)
    g.close()


# -- the import boundary --------------------------------------------------------------------------


def test_engine_gallery_imports_no_pandas_emulator_or_services():
    code = (
        "import sys, vislab.engine.gallery, vislab.engine.errors\n"
        "bad = [m for m in sys.modules if m.split('.')[0] == 'pandas'"
        " or m.startswith(('vislab.emulator', 'vislab.services', 'vislab.transport'))]\n"
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
