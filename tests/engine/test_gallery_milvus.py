"""Galleries on Milvus Lite (a real embedded Milvus in a file): the same answers as numpy.

The gallery tests of ``test_gallery.py`` run again here with ``backend="milvus"`` (their
assertions unchanged), then the Milvus-only rules: top-300 overlap with the numpy backend,
the store as the record of truth (SIGKILL), a collection of another width, an unreachable URI.
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tests.engine import test_gallery as base
from tests.engine.test_gallery import embed, photos, synthetic  # noqa: F401 - fixtures
from vislab.engine.errors import ItemExists, ItemNotFound
from vislab.engine.gallery import Gallery
from vislab.errors import InvalidParameter, TransportError

pytest.importorskip("milvus_lite", reason="the milvus extra is part of the test extras")
pytestmark = pytest.mark.slow


@pytest.fixture
def on_milvus(monkeypatch):
    """``test_gallery``'s tests make galleries through its ``Gallery`` name: make them Milvus."""
    monkeypatch.setattr(base, "Gallery", functools.partial(Gallery, backend="milvus"))


def test_tag_filters_and_tag_logic(on_milvus, tmp_path):
    base.test_tag_filters_and_tag_logic(tmp_path)


def test_product_class_ids_match_slot_by_slot(on_milvus, tmp_path):
    base.test_product_class_ids_match_slot_by_slot(tmp_path)


def test_paging_matches_the_full_ranking(on_milvus, tmp_path):
    base.test_paging_matches_the_full_ranking(tmp_path)


def test_similar_add_search_and_duplicate(on_milvus, tmp_path, photos, embed):  # noqa: F811
    base.test_similar_add_search_and_duplicate(tmp_path, photos, embed)


def test_delete_is_immediate_by_sign_batch_and_image(on_milvus, tmp_path, photos, embed):  # noqa: F811
    base.test_delete_is_immediate_by_sign_batch_and_image(tmp_path, photos, embed)


def test_update_brief_and_tags(on_milvus, tmp_path):
    base.test_update_brief_and_tags(tmp_path)


def test_same_hq_finds_edited_copies(on_milvus, tmp_path, photos, embed):  # noqa: F811
    base.test_same_hq_finds_edited_copies_and_not_different_pictures(tmp_path, photos, embed)


def test_picturebook_pages(on_milvus, tmp_path, photos, embed):  # noqa: F811
    base.test_picturebook_finds_the_page_from_partial_and_angled_photos(tmp_path, photos, embed)


def test_materiel_ranks_by_texture(on_milvus, tmp_path, photos, embed):  # noqa: F811
    base.test_materiel_ranks_by_texture(tmp_path, photos, embed)


def test_top_300_and_error_codes_equal_the_numpy_backend(tmp_path):
    rng = np.random.default_rng(7)
    rows = [(synthetic(rng, dim=64), [1 + i % 4, 5 + i % 3]) for i in range(1500)]
    galleries = {b: Gallery("similar", home=tmp_path / b, backend=b) for b in ("numpy", "milvus")}
    for f, tags in rows:
        for g in galleries.values():
            g.add(f, brief=f.cont_sign[:8], tags=tags)
    overlaps = []
    for _ in range(5):
        q = synthetic(rng, dim=64)
        for tags, logic in ((None, 0), ([1], 0), ([1, 6], 0), ([2, 5], 1)):
            got = {b: [h.cont_sign for h in g.search(q, tags=tags, tag_logic=logic).hits]
                   for b, g in galleries.items()}  # fmt: skip
            assert len(got["milvus"]) == len(got["numpy"])
            overlaps.append(len(set(got["milvus"]) & set(got["numpy"])) / len(got["numpy"]))
            assert got["milvus"][:10] == got["numpy"][:10]
    print(f"\ntop-300 overlap with numpy: min {min(overlaps):.4f} over {len(overlaps)} searches")
    assert min(overlaps) >= 0.99, overlaps
    # Duplicates and missing items: the same typed errors, so the same wire codes.
    f, tags = rows[0]
    for g in galleries.values():
        with pytest.raises(ItemExists) as exists:
            g.add(f, brief="again", tags=tags)
        with pytest.raises(ItemNotFound) as missing:
            g.update("1,2", brief="x")
        assert (base.wire_code(exists.value), base.wire_code(missing.value)) == (216681, 216680)
    for g in galleries.values():
        g.close()


def test_reopened_collection_follows_the_store(tmp_path):
    rng = np.random.default_rng(8)
    g = Gallery("similar", home=tmp_path, backend="milvus")
    signs = [g.add(synthetic(rng), brief=str(i)).cont_sign for i in range(20)]
    q = synthetic(rng)
    before = [h.cont_sign for h in g.search(q).hits]
    g.close()
    # Another process (the numpy backend) changes the store while the collection is closed.
    other = Gallery("similar", home=tmp_path)
    other.delete(signs[0])
    other.update(signs[1], brief="changed")
    other.close()
    g = Gallery("similar", home=tmp_path, backend="milvus")
    after = g.search(q).hits
    assert [h.cont_sign for h in after] == [s for s in before if s != signs[0]]
    assert next(h.brief for h in after if h.cont_sign == signs[1]) == "changed"
    g.close()


_ADDER = textwrap.dedent("""
    import sys, numpy as np
    from vislab.engine.gallery import Gallery, ImageFeatures
    g = Gallery("similar", home=sys.argv[1], backend="milvus")
    rng = np.random.default_rng(int(sys.argv[2]))
    for i in range(10_000):
        v = rng.standard_normal(32).astype(np.float32)
        f = ImageFeatures(f"{i + 1},{i + 7}", v / np.linalg.norm(v), i, i)
        g.add(f, brief=str(i))
        print(f.cont_sign, flush=True)  # acknowledged: add() returned
""")


def test_acknowledged_adds_survive_sigkill(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", _ADDER, str(tmp_path), "9"],
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    acked = []
    while len(acked) < 40:
        line = proc.stdout.readline()
        assert line, "the adding process died"
        acked.append(line.strip())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    acked += [line.strip() for line in proc.stdout.read().splitlines() if line.strip()]
    g = Gallery("similar", home=tmp_path, backend="milvus")
    stored = {e.cont_sign for e in g.list()}
    assert set(acked) <= stored
    rng = np.random.default_rng(0)
    hits = g.search(synthetic(rng), rn=1000).hits
    # The collection holds every stored row once (the store is the record of truth).
    assert sorted(h.cont_sign for h in hits) == sorted(stored)
    g.close()


def test_collection_of_another_dimension_is_refused(tmp_path):
    rng = np.random.default_rng(10)
    uri = str(tmp_path / "galleries.db")
    g = Gallery("similar", "g", home=tmp_path / "a", backend="milvus", milvus_uri=uri)
    g.add(synthetic(rng, dim=32), brief="x")
    g.search(synthetic(rng, dim=32))
    g.close()
    # The same collection, from a gallery whose store holds 48-wide vectors.
    h = Gallery("similar", "g", home=tmp_path / "b")
    h.add(synthetic(rng, dim=48), brief="y")
    h.close()
    with pytest.raises(InvalidParameter, match=r"dimension 32\b.*makes 48\b"):
        Gallery("similar", "g", home=tmp_path / "b", backend="milvus", milvus_uri=uri)


def test_unreachable_milvus_uri_is_one_typed_error(tmp_path):
    with pytest.raises(TransportError, match=r"http://127\.0\.0\.1:9\b") as info:
        Gallery("similar", home=tmp_path, backend="milvus", milvus_uri="http://127.0.0.1:9")
    assert info.value.code == "connection"
    with pytest.raises(InvalidParameter, match="backend"):
        Gallery("similar", home=tmp_path, backend="faiss")
