"""Local image-search galleries on real SQLite files, with the real backbone and real photos."""

from __future__ import annotations

import hashlib
import sqlite3
import threading

import numpy as np
import pytest

from tests.engine import _edits
from vislab.emulator.errors import wire_error
from vislab.engine.errors import (
    BadBrief,
    BadCategories,
    BadPage,
    BadTagLogic,
    BlankImage,
    EngineError,
    ItemExists,
    ItemNotFound,
    MissingTarget,
)
from vislab.engine.gallery import Gallery, ImageFeatures, policy_for
from vislab.engine.gallery.features import half_rounded
from vislab.engine.paths import gallery_path, vislab_home
from vislab.errors import InvalidParameter, VislabError


def wire_code(exc: Exception) -> int:
    """The code the emulator puts on the wire for an engine error."""
    return wire_error(exc).code


@pytest.fixture(scope="module")
def photos():
    return _edits.load_photos()


@pytest.fixture(scope="module")
def embed():
    """The real backbone, with a cache so that tests sharing a photo embed it once."""
    from vislab.engine.backbone import get_backbone

    backbone = get_backbone()
    cache: dict[bytes, np.ndarray] = {}

    def key(a):
        a = np.ascontiguousarray(a)
        return hashlib.sha1(a.tobytes() + str(a.shape).encode()).digest()

    def cached(images):
        images = list(images)
        missing = [im for im in images if key(im) not in cache]
        if missing:
            for im, vec in zip(missing, backbone.embed(missing), strict=True):
                cache[key(im)] = vec
        return np.stack([cache[key(im)] for im in images])

    return cached


def synthetic(rng, dim=32, sign=None):
    """Features with a random unit vector: for layout/paging tests that need many rows."""
    v = rng.standard_normal(dim).astype(np.float32)
    v /= np.linalg.norm(v)
    sign = sign or f"{rng.integers(2**32)},{rng.integers(2**32)}"
    return ImageFeatures(sign, v, int(rng.integers(2**63)), int(rng.integers(2**63)))


# -- paths ---------------------------------------------------------------------------------------


def test_home_and_gallery_path(tmp_path, monkeypatch):
    monkeypatch.setenv("VISLAB_HOME", str(tmp_path / "h"))
    assert vislab_home() == tmp_path / "h"
    assert gallery_path("similar", "posters") == tmp_path / "h/galleries/similar/posters.sqlite"
    monkeypatch.delenv("VISLAB_HOME")
    assert str(vislab_home()).endswith(".vislab")
    for bad in ("../x", "a/b", "", ".hidden"):
        with pytest.raises(InvalidParameter):
            gallery_path("similar", bad)
    with pytest.raises(InvalidParameter):
        gallery_path("faces", "x")


def test_store_file_is_sqlite_in_wal_mode(tmp_path):
    g = Gallery("similar", "w", home=tmp_path, embedder=lambda ims: np.eye(len(ims), 8))
    assert g.path == tmp_path / "galleries/similar/w.sqlite"
    with sqlite3.connect(g.path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    g.close()


def test_opening_a_gallery_as_another_product_fails(tmp_path):
    Gallery("similar", "x", home=tmp_path).close()
    with pytest.raises(InvalidParameter):
        Gallery("product", path=tmp_path / "galleries/similar/x.sqlite")


# -- add / duplicate / validation ------------------------------------------------------------------


def test_similar_add_search_and_duplicate(tmp_path, photos, embed):
    g = Gallery("similar", home=tmp_path, embedder=embed)
    names = ["chelsea", "coffee", "astronaut", "rocket", "camera"]
    entries = {n: g.add(photos[n], brief=f'{{"id": "{n}"}}') for n in names}
    assert g.count() == 5
    for n in names:
        hits = g.search(photos[n]).hits
        assert hits[0].cont_sign == entries[n].cont_sign
        assert hits[0].score == pytest.approx(1.0, abs=2e-3)
        assert all(0.0 <= h.score <= 1.0 for h in hits)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    # Edited copies still rank their original first.
    for n in names:
        for edit in ("crop 10% corner", "resize 50% + jpeg q60", "brightness +30"):
            top = g.search(_edits.LIGHT_EDITS[edit](photos[n]), rn=1).hits[0]
            assert top.cont_sign == entries[n].cont_sign, (n, edit)
    with pytest.raises(ItemExists) as info:
        g.add(photos["coffee"].copy(), brief="again")
    assert wire_code(info.value) == 216681
    assert info.value.cont_sign == entries["coffee"].cont_sign
    assert info.value.brief == '{"id": "coffee"}'
    assert isinstance(info.value, EngineError) and isinstance(info.value, VislabError)
    assert g.count() == 5


def test_add_rejects_bad_brief_tags_and_blank_images(tmp_path, photos, embed):
    g = Gallery("similar", home=tmp_path, embedder=embed)
    img = photos["coins"]
    with pytest.raises(BadBrief) as info:
        g.add(img, brief="x" * 257)
    assert wire_code(info.value) == 216100 and "brief too long" in wire_error(info.value).msg
    assert "brief too long" in str(info.value)
    # 256 bytes of UTF-8 is the limit, not 256 characters.
    with pytest.raises(BadBrief):
        g.add(img, brief="图" * 86)
    for bad in ([0], [65536], [1, 2, 3], ["x"], [1.5]):
        with pytest.raises(BadCategories) as info:
            g.add(img, brief="b", tags=bad)
        assert wire_code(info.value) == 216100
    with pytest.raises(BlankImage) as info:
        g.add(np.full((80, 80, 3), 128, np.uint8), brief="blank")
    assert wire_code(info.value) == 216203
    assert g.count() == 0
    assert g.add(img, brief="图" * 85, tags=["7", 65535]).tags == (7, 65535)


def test_add_many_records_successes_and_returns_errors_in_order(tmp_path, photos, embed):
    g = Gallery("similar", home=tmp_path, embedder=embed)
    images = [photos["chelsea"], photos["coffee"], photos["chelsea"], np.zeros((60, 60, 3), np.uint8),
              photos["rocket"]]  # fmt: skip
    out = g.add_many(images, briefs=["a", "b", "c", "d", "e" * 300])
    kinds = [type(x).__name__ for x in out]
    assert kinds == [
        "GalleryEntry",
        "GalleryEntry",
        "ItemExists",
        "BlankImage",
        "BadBrief",
    ]
    assert [wire_code(x) for x in out[2:]] == [216681, 216203, 216100]
    assert [e.brief for e in g.list()] == ["a", "b"]


# -- tags, product class ids, paging -----------------------------------------------------------------


def test_tag_filters_and_tag_logic(tmp_path):
    rng = np.random.default_rng(1)
    g = Gallery("similar", home=tmp_path)
    tags = {"a": [1], "b": [1, 2], "c": [2], "d": [3, 1], "e": None}
    signs = {k: g.add(synthetic(rng), brief=k, tags=t).cont_sign for k, t in tags.items()}
    q = synthetic(rng)

    def briefs(**kw):
        return sorted(h.brief for h in g.search(q, **kw).hits)

    assert briefs() == ["a", "b", "c", "d", "e"]
    assert briefs(tags=[1]) == ["a", "b", "d"]
    assert briefs(tags=[1, 2]) == ["b"]  # tag_logic 0 (default) = AND
    assert briefs(tags=[1, 2], tag_logic=0) == ["b"]
    assert briefs(tags=[1, 2], tag_logic=1) == ["a", "b", "c", "d"]  # 1 = OR
    assert briefs(tags=[2, 3], tag_logic="1") == ["b", "c", "d"]
    assert briefs(tags=[9]) == []
    with pytest.raises(BadTagLogic) as info:
        g.search(q, tags=[1], tag_logic=2)
    assert wire_code(info.value) == 216100
    hit = next(h for h in g.search(q).hits if h.brief == "d")
    assert hit.tags == (3, 1) and hit.cont_sign == signs["d"]


def test_product_class_ids_match_slot_by_slot(tmp_path):
    rng = np.random.default_rng(2)
    g = Gallery("product", home=tmp_path)
    g.add(synthetic(rng), brief="shoe-red", tags=(10, 20))
    g.add(synthetic(rng), brief="shoe-blue", tags=(10, 21))
    g.add(synthetic(rng), brief="bag", tags=(11, 20))
    g.add(synthetic(rng), brief="class2-only", tags=(None, 10))
    q = synthetic(rng)

    def briefs(tags, logic=0):
        return sorted(h.brief for h in g.search(q, tags=tags, tag_logic=logic).hits)

    assert briefs((10, None)) == ["shoe-blue", "shoe-red"]  # class_id1 only
    assert briefs((10, 20)) == ["shoe-red"]  # both: AND
    assert briefs((None, 20)) == ["bag", "shoe-red"]  # class_id2 only
    assert briefs((10, 20), 1) == ["bag", "shoe-blue", "shoe-red"]
    entry = g.list()[3]
    assert (entry.class_id1, entry.class_id2) == (None, 10)


def test_paging_matches_the_full_ranking(tmp_path):
    rng = np.random.default_rng(3)
    g = Gallery("similar", home=tmp_path)
    for i in range(1100):
        g.add(synthetic(rng), brief=str(i), tags=[1 + i % 3])
    q = synthetic(rng)
    full = g.search(q, rn=1000)
    assert len(full.hits) == 1000 and full.total == 1000 and not full.has_more
    default = g.search(q)
    assert len(default.hits) == 300 and default.has_more  # top 300 without paging
    page = g.search(q, pn=200, rn=100)
    assert [h.cont_sign for h in page.hits] == [h.cont_sign for h in full.hits[200:300]]
    assert page.has_more
    tail = g.search(q, pn=900, rn=500)  # spec: only results 901-1000 are reachable
    assert len(tail.hits) == 100 and not tail.has_more
    assert [h.cont_sign for h in tail.hits] == [h.cont_sign for h in full.hits[900:]]
    for pn, rn in ((-1, 10), (1000, 10), (0, 0), (0, 1001), ("x", 5)):
        with pytest.raises(BadPage) as info:
            g.search(q, pn=pn, rn=rn)
        assert wire_code(info.value) == 216100
    small = g.search(q, tags=[2], rn=1000)
    n_tag2 = sum(1 for i in range(1100) if 1 + i % 3 == 2)
    assert len(small.hits) == n_tag2 == small.total and not small.has_more


def test_paging_windows_per_product():
    assert policy_for("similar").paging == (999, 1000, 300, 1000)
    assert policy_for("picturebook").paging[:2] == (99, 100)
    assert policy_for("materiel").paging[:2] == (299, 300)


def test_search_agrees_with_brute_force_through_adds_deletes_updates_and_reload(tmp_path):
    """Every layout path (grouped runs, gathered rows, full product) gives the exact ranking."""
    rng = np.random.default_rng(4)
    g = Gallery("similar", home=tmp_path)
    ref: dict[str, tuple[np.ndarray, tuple]] = {}

    def add(n):
        for _ in range(n):
            f = synthetic(rng)
            t = tuple(int(x) for x in rng.choice([0, 1, 2, 3, 4, 5, 6], size=2, replace=False) if x)
            g.add(f, brief="", tags=t)
            ref[f.cont_sign] = (half_rounded(f.embedding), t)

    def check():
        q = synthetic(rng)
        for tags, logic in ((None, 0), ((1,), 0), ((2, 3), 1), ((4, 5), 0), ((6,), 0)):
            want = []
            for order, (sign, (vec, t)) in enumerate(ref.items()):
                if tags is not None:
                    hits = [x in t for x in tags]
                    if not (any(hits) if logic else all(hits)):
                        continue
                # Ties (clipped zeros) rank in insertion order, as the store promises.
                want.append((-float(np.clip(vec @ q.embedding, 0, 1)), order, sign))
            want = [s for _, _, s in sorted(want)][:50]
            got = [h.cont_sign for h in g.search(q, tags=tags, tag_logic=logic, rn=50).hits]
            assert got == want

    add(600)
    check()  # loaded from SQLite: grouped layout
    add(2500)
    check()  # appended rows, regrouped on the way
    doomed = list(ref)[::3]
    for i in range(0, len(doomed), 100):
        g.delete(";".join(doomed[i : i + 100]))
    for s in doomed:
        del ref[s]
    check()  # after compaction
    for s in list(ref)[:200]:
        e = g.update(s, tags=[6])
        ref[s] = (ref[s][0], e.tags)
    check()  # re-tagged rows out of their group
    g.close()
    g = Gallery("similar", home=tmp_path)
    check()  # reopened from disk
    assert g.count() == len(ref)


# -- delete / update / get / list -------------------------------------------------------------------


def test_delete_is_immediate_by_sign_batch_and_image(tmp_path, photos, embed):
    g = Gallery("similar", home=tmp_path, embedder=embed)
    names = ["chelsea", "coffee", "astronaut", "rocket"]
    signs = {n: g.add(photos[n], brief=n).cont_sign for n in names}
    assert len(g.search(photos["chelsea"]).hits) == 4
    assert g.delete(signs["chelsea"]) == [signs["chelsea"]]
    assert signs["chelsea"] not in [h.cont_sign for h in g.search(photos["chelsea"]).hits]
    assert g.delete(image=photos["coffee"]) == [signs["coffee"]]
    # A batch with an unknown signature deletes the known ones and reports them.
    assert g.delete(f"{signs['astronaut']};1,2") == [signs["astronaut"]]
    assert [h.brief for h in g.search(photos["rocket"]).hits] == ["rocket"]
    with pytest.raises(ItemNotFound) as info:
        g.delete(signs["chelsea"])
    assert wire_code(info.value) == 216680
    with pytest.raises(MissingTarget) as info:
        g.delete()
    assert wire_code(info.value) == 216101
    with pytest.raises(InvalidParameter):
        g.delete("not-a-sign")
    # The same pixels can be added again once deleted.
    assert g.add(photos["chelsea"], brief="back").cont_sign == signs["chelsea"]


def test_update_brief_and_tags(tmp_path):
    rng = np.random.default_rng(5)
    g = Gallery("similar", home=tmp_path)
    f = synthetic(rng)
    sign = g.add(f, brief="old", tags=[1, 2]).cont_sign
    assert g.update(sign, brief="new").tags == (1, 2)
    assert g.update(sign, tags=[5]).tags == (5,)
    e = g.get(sign)
    assert (e.brief, e.tags) == ("new", (5,))
    assert [h.tags for h in g.search(f, tags=[5]).hits] == [(5,)]
    assert g.search(f, tags=[1]).hits == []
    with pytest.raises(ItemNotFound):
        g.update("1,2", brief="x")
    with pytest.raises(BadBrief):
        g.update(sign, brief="x" * 300)
    p = Gallery("product", home=tmp_path)
    sign = p.add(synthetic(rng), brief="p", tags=(3, 4)).cont_sign
    e = p.update(sign, tags=(None, 9))  # class_id2 only: class_id1 is kept
    assert (e.class_id1, e.class_id2) == (3, 9)


def test_list_get_count(tmp_path):
    rng = np.random.default_rng(6)
    g = Gallery("same_hq", home=tmp_path)
    feats = [synthetic(rng) for _ in range(5)]
    for i, f in enumerate(feats):
        g.add(f, brief=f"b{i}", tags=[i + 1])
    assert g.count() == 5
    assert [e.brief for e in g.list()] == [f"b{i}" for i in range(5)]
    assert [e.brief for e in g.list(offset=1, limit=2)] == ["b1", "b2"]
    assert g.get(feats[2].cont_sign).brief == "b2"
    assert g.get("1,1") is None


# -- persistence, other processes, threads --------------------------------------------------------------


def test_reopen_gives_identical_results(tmp_path, photos, embed):
    names = ["chelsea", "coffee", "astronaut", "rocket", "camera", "coins"]
    with Gallery("similar", "keep", home=tmp_path, embedder=embed) as g:
        for n in names:
            g.add(photos[n], brief=n, tags=[1 + len(n) % 2])
        before = g.search(photos["astronaut"]).hits
    with Gallery("similar", "keep", home=tmp_path, embedder=embed) as g:
        after = g.search(photos["astronaut"]).hits
    assert before == after


def test_changes_through_another_connection_are_seen(tmp_path):
    rng = np.random.default_rng(7)
    a = Gallery("similar", "shared", home=tmp_path)
    b = Gallery("similar", "shared", home=tmp_path)
    f1, f2 = synthetic(rng), synthetic(rng)
    a.add(f1, brief="one")
    assert [h.brief for h in b.search(f1).hits] == ["one"]
    a.add(f2, brief="two")
    assert sorted(h.brief for h in b.search(f1).hits) == ["one", "two"]
    b.delete(f1.cont_sign)
    assert [h.brief for h in a.search(f1).hits] == ["two"]
    with pytest.raises(ItemExists):
        b.add(f2, brief="dup")


def test_concurrent_adds_and_searches(tmp_path):
    rng = np.random.default_rng(8)
    g = Gallery("similar", home=tmp_path)
    feats = [synthetic(rng) for _ in range(800)]
    g.add(feats[0], brief="seed")
    errors = []

    def writer(part):
        try:
            for f in part:
                g.add(f, brief="w", tags=[1])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def reader():
        try:
            for _ in range(150):
                r = g.search(feats[0], tags=[1], rn=50)
                assert all(h.tags == (1,) for h in r.hits)
                assert len({h.cont_sign for h in r.hits}) == len(r.hits)
        except Exception as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(feats[1 + i :: 3],)) for i in range(3)]
    threads += [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert g.count() == 800
    assert len(g.search(feats[0], rn=1000).hits) == 800


# -- product semantics with real photos ---------------------------------------------------------------


def test_same_hq_finds_edited_copies_and_not_different_pictures(tmp_path, photos, embed):
    """Measured hit/miss of same_hq: every light edit of a stored photo is found (and is the
    top hit); no different photo and no different person's face is returned."""
    g = Gallery("same_hq", home=tmp_path, embedder=embed)
    people = _edits.faces(12)
    stored = {n: g.add(img, brief=n).cont_sign for n, img in photos.items()}
    for i, face in enumerate(people[:6]):
        stored[f"face{i}"] = g.add(face, brief=f"face{i}").cont_sign
    misses = []
    for name, img in photos.items():
        for edit_name, edit in _edits.LIGHT_EDITS.items():
            hits = g.search(edit(img)).hits
            if not hits or hits[0].cont_sign != stored[name] or len(hits) != 1:
                misses.append((name, edit_name, [h.brief for h in hits]))
    assert misses == []
    exact = g.search(photos["chelsea"]).hits
    assert [(h.brief, h.score) for h in exact] == [("chelsea", 1.0)]
    # Different people (look-alike, aligned faces) and pictures never stored: no hit.
    for face in people[6:]:
        assert g.search(face).hits == []
    from skimage import data

    for other in (data.stereo_motorcycle()[0], _edits.as_u8_rgb(data.binary_blobs(256))):
        assert g.search(other).hits == []
    # Halves of a stored photo are different pictures, not copies.
    w = photos["astronaut"].shape[1]
    assert g.search(photos["astronaut"][:, : w // 2]).hits == []


def test_picturebook_finds_the_page_from_partial_and_angled_photos(tmp_path, photos, embed):
    pages = ["astronaut", "chelsea", "coffee", "rocket", "page", "text", "camera", "coins",
             "hubble_deep_field", "immunohistochemistry", "horse", "moon"]  # fmt: skip
    g = Gallery("picturebook", home=tmp_path, embedder=embed)
    for p in pages:
        g.add(photos[p], brief=p, tags=[1])
    for i, p in enumerate(pages):
        img = photos[p]
        h, w = img.shape[:2]
        queries = {
            "whole": img,
            "left half": img[:, : w // 2],
            "top-right quarter": img[: h // 2, w // 2 :],
            "centre 60%": _edits.crop(img, 0.2),
            "angled photo": _edits.perspective_photo(img, seed=i),
        }
        for q_name, q in queries.items():
            r = g.search(q)
            assert r.hits[0].brief == p, (
                p,
                q_name,
                [(x.brief, round(x.score, 3)) for x in r.hits[:3]],
            )
    assert len(g.search(photos["moon"]).hits) == len(pages) <= policy_for("picturebook").paging[2]


def test_materiel_ranks_by_texture(tmp_path, photos, embed):
    """A fabric swatch's other half finds the same fabric first."""
    g = Gallery("materiel", home=tmp_path, embedder=embed)
    for name, img in photos.items():
        w = img.shape[1]
        if name in _edits.TEXTURES:
            g.add(np.ascontiguousarray(img[:, : w // 2]), brief=name)
        else:
            g.add(img, brief=name)
    for name in _edits.TEXTURES:
        img = photos[name]
        w = img.shape[1]
        hits = g.search(np.ascontiguousarray(img[:, w // 2 :])).hits
        assert hits[0].brief == name, [(h.brief, round(h.score, 3)) for h in hits[:3]]
        assert 0 <= hits[-1].score <= hits[0].score <= 1


def test_memory_figure(tmp_path):
    rng = np.random.default_rng(9)
    g = Gallery("similar", home=tmp_path)
    for _ in range(100):
        g.add(synthetic(rng, dim=1280), brief='{"id": "000123"}', tags=[1])
    assert g.memory_bytes() == 0  # loaded lazily
    g.search(synthetic(rng, dim=1280))
    per_image = g.memory_bytes() / 100
    assert 5120 < per_image < 7000
