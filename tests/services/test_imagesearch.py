"""The image search client end to end: frames, errors, ledger; locally and over `vislab serve`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.engine import _edits
from vislab import baidu
from vislab.errors import InvalidParameter
from vislab.frames import GALLERY, MATCHES, error_rows, ok_rows


@pytest.fixture
def home(tmp_path, monkeypatch):
    """Each test gets its own galleries and ledger."""
    monkeypatch.setenv("VISLAB_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="module")
def photos():
    return _edits.load_photos(("chelsea", "coffee", "astronaut", "rocket", "camera", "page",
                               "text", "brick", "grass"))  # fmt: skip


def test_add_frame_keeps_every_image(home, photos):
    client = baidu.ImageSearch(progress=False)
    images = {
        "cat": photos["chelsea"],
        "cup": photos["coffee"],
        "tiny": photos["chelsea"][:30, :30],
    }
    df = client.similar_add(images, tags=[1, 2])
    assert list(df.columns[: len(GALLERY)]) == list(GALLERY)
    assert df["image"].tolist() == ["cat", "cup", "tiny"]
    ok = ok_rows(df)
    assert ok["brief"].tolist() == [{"image": "cat"}, {"image": "cup"}]
    assert ok["tags"].tolist() == [[1, 2], [1, 2]]
    assert ok["cont_sign"].str.fullmatch(r"\d+,\d+").all()
    tiny = error_rows(df).set_index("image").loc["tiny"]
    assert (tiny["error_code"], tiny["error_rule"]) == (216203, "min_side")
    again = client.similar_add({"cat again": photos["chelsea"]})
    assert again["error_code"].tolist() == [216681]  # answered from the ledger, not sent
    assert "not sent" in again["error_msg"][0]
    # Without a ledger the service itself refuses the duplicate, with the same code.
    bare = baidu.ImageSearch(progress=False, ledger=False)
    assert bare.similar_add({"cat again": photos["chelsea"]})["error_code"].tolist() == [216681]
    assert (home / "galleries" / "similar" / "default.sqlite").exists()


def test_brief_per_image_and_bad_options(home, photos):
    client = baidu.ImageSearch(progress=False)
    briefs = pd.Series({"cat": "the cat", "cup": '{"sku": 7}'})
    df = client.similar_add({"cat": photos["chelsea"], "cup": photos["coffee"]}, brief=briefs)
    assert df["brief"].tolist() == ["the cat", {"sku": 7}]
    df = client.similar_add({"astro": photos["astronaut"]}, brief=lambda ident: {"file": ident})
    assert df["brief"][0] == {"file": "astro"}
    long = client.similar_add({"rocket": photos["rocket"]}, brief="x" * 300)
    assert (long["error_code"][0], long["error_rule"][0]) == (216100, "param:brief")
    with pytest.raises(InvalidParameter):
        client.similar_search(photos["chelsea"], rn=5000)
    with pytest.raises(InvalidParameter):
        client.similar_search(photos["chelsea"], tags=[1, 2, 3])
    with pytest.raises(InvalidParameter):
        client.similar_delete()


def test_search_frame_tags_and_paging(home, photos):
    client = baidu.ImageSearch(progress=False)
    client.similar_add({n: photos[n] for n in ("chelsea", "coffee", "astronaut")}, tags=[1])
    client.similar_add({n: photos[n] for n in ("rocket", "camera")}, tags=[2])
    df = client.similar_search({"q-cat": photos["chelsea"], "q-rocket": photos["rocket"]})
    assert list(df.columns[: len(MATCHES)]) == list(MATCHES)
    cat = df[df["query"] == "q-cat"]
    assert cat["rank"].tolist() == [1, 2, 3, 4, 5]
    assert cat["brief"].iloc[0] == {"image": "chelsea"}
    assert cat["score"].is_monotonic_decreasing and cat["score"].between(0, 1).all()
    only2 = client.similar_search(photos["chelsea"], tags=[2])
    assert sorted(b["image"] for b in only2["brief"]) == ["camera", "rocket"]
    page = client.similar_search(photos["chelsea"], pn=1, rn=2)
    assert page["brief"].tolist() == cat["brief"].tolist()[1:3]
    assert df.attrs["raw"]["q-cat"]["has_more"] is False


def test_update_and_delete(home, photos):
    client = baidu.ImageSearch(progress=False)
    added = client.similar_add({"cat": photos["chelsea"], "cup": photos["coffee"]}, tags=[1])
    cat_sign, cup_sign = added["cont_sign"]
    up = client.similar_update(cont_sign=cat_sign, brief={"v": 2}, tags=[3])
    assert up["updated"].tolist() == [True]
    hit = client.similar_search(photos["chelsea"], tags=[3])
    assert hit["brief"].tolist() == [{"v": 2}]
    client.similar_update(photos["coffee"], brief="by pixels")
    assert client.similar_search(photos["coffee"], rn=1)["brief"][0] == "by pixels"
    gone = client.similar_delete(cont_sign=[cat_sign])
    assert gone["deleted"].tolist() == [True]
    left = client.similar_search(photos["chelsea"])
    assert left["cont_sign"].tolist() == [cup_sign]
    again = client.similar_delete(cont_sign=cat_sign)
    assert again["error_code"].tolist() == [216680]
    ledger = client.gallery_frame("similar")
    assert ledger["cont_sign"].tolist() == [cup_sign]
    assert ledger["brief"].tolist() == ["by pixels"]
    assert client.gallery_frame("similar", include_deleted=True)["deleted"].notna().sum() == 1


def test_batch_delete_is_sent_in_hundreds(home, photos):
    client = baidu.ImageSearch(progress=False)
    sign = client.similar_add({"cat": photos["chelsea"]})["cont_sign"][0]
    unknown = [f"{i},{i}" for i in range(149)]
    df = client.similar_delete(cont_sign=[sign, *unknown])
    assert len(df) == 150
    assert len(df.attrs["raw"]) == 1  # first 100 (holding the real one) deleted ...
    assert df["error_code"].tolist()[100:] == [216680] * 50  # ... last 50 were all unknown
    assert client.gallery_frame("similar").empty


def test_deleted_images_are_filtered_from_results(home, photos):
    """The cloud keeps returning deleted images for hours; the client drops them by default."""
    client = baidu.ImageSearch(progress=False)
    added = client.similar_add({"cat": photos["chelsea"], "cup": photos["coffee"]})
    # Mark the cup deleted in the ledger only, as if the service had not yet caught up.
    client.ledger.mark_deleted(client._target, "similar", cont_signs=[added["cont_sign"][1]])
    seen = client.similar_search({"q": photos["coffee"]})
    assert seen["brief"].tolist() == [{"image": "cat"}] and seen["rank"].tolist() == [1]
    raw = baidu.ImageSearch(progress=False, filter_deleted=False).similar_search(photos["coffee"])
    assert len(raw) == 2
    only_cup = client.similar_search({"q": photos["coffee"]}, rn=1)
    assert only_cup["query"].tolist() == ["q"] and only_cup["cont_sign"].isna().all()


def test_same_hq_versus_similar_on_edited_copies(home, photos):
    """same_hq finds only copies of the stored picture; similar ranks everything."""
    client = baidu.ImageSearch(progress=False)
    stored = {n: photos[n] for n in ("chelsea", "coffee", "astronaut", "rocket")}
    client.same_hq_add(stored)
    client.similar_add(stored)
    queries = {
        "cat, jpeg q40": _edits.jpeg(photos["chelsea"], 40),
        "cup, cropped 5%": _edits.crop(photos["coffee"], 0.05),
        "astronaut, brighter": _edits.brightness(photos["astronaut"], 30),
        "camera (not stored)": photos["camera"],
    }
    same = client.same_hq_search(queries)
    similar = client.similar_search(queries)
    hits = same[same["cont_sign"].notna()]
    top_same = hits.groupby("query")["brief"].apply(lambda b: [x["image"] for x in b])
    assert top_same.to_dict() == {"cat, jpeg q40": ["chelsea"], "cup, cropped 5%": ["coffee"],
                                  "astronaut, brighter": ["astronaut"]}  # fmt: skip
    assert same[same["query"] == "camera (not stored)"]["cont_sign"].isna().all()
    assert (similar.groupby("query").size() == 4).all()


def test_product_picturebook_materiel(home, photos):
    client = baidu.ImageSearch(progress=False)
    client.product_add({"cup": photos["coffee"], "astro": photos["astronaut"]}, class_id1=4,
                       class_id2={"cup": 8, "astro": 9})  # fmt: skip
    assert client.product_search(photos["coffee"], class_id2=9)["brief"].tolist() == [
        {"image": "astro"}]  # fmt: skip
    client.picturebook_add({"page": photos["page"], "text": photos["text"]})
    w = photos["text"].shape[1]
    top = client.picturebook_search(photos["text"][:, w // 2 :], rn=1)  # right half of a page
    assert top["brief"][0] == {"image": "text"}
    w = photos["brick"].shape[1]
    client.materiel_add({"brick": photos["brick"][:, : w // 2], "grass": photos["grass"]})
    top = client.materiel_search(photos["brick"][:, w // 2 :], rn=1)
    assert top["brief"][0] == {"image": "brick"}


def test_local_and_http_give_the_same_frames(home, served, photos):
    """One code path: the frames from `vislab serve` equal the in-process ones."""
    remote = baidu.ImageSearch(served.api_key, served.secret_key, base_url=served.url,
                               progress=False, ledger=home / "remote-ledger.sqlite")  # fmt: skip
    local = baidu.ImageSearch(progress=False)
    img = photos["camera"].copy()
    img[0, 0] = (1, 2, 3)  # an image the shared server has not seen from other tests
    a = local.similar_add({"cam": img}, tags=[44])
    b = remote.similar_add({"cam": img}, tags=[44])
    pd.testing.assert_frame_equal(a, b)
    qa = local.similar_search({"q": img}, tags=[44], rn=1)
    qb = remote.similar_search({"q": img}, tags=[44], rn=1)
    pd.testing.assert_frame_equal(qa.drop(columns="score"), qb.drop(columns="score"))
    assert np.allclose(qa["score"], qb["score"], atol=1e-5)
    remote.similar_delete(cont_sign=b["cont_sign"].tolist())
    assert "test-secret" not in repr(remote)
    assert remote._target.startswith(served.url) and served.api_key not in remote._target
