"""Training EasyDL classifiers: versions, the report, predictions, "other", iterations, refusals.

Real photographs (scikit-image's) cut into framings per class, the real backbone, real files
under a temporary VISLAB_HOME; tiny sets so each training takes seconds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vislab import evaluate
from vislab.easydl import Dataset, TrainingRefused, load, models, train
from vislab.errors import FailedImagesWarning, InvalidParameter


def crops(photo: np.ndarray, n: int, *, seed: int) -> list[np.ndarray]:
    """``n`` different framings of a photo: random crops of 55-90 % of its side, some mirrored."""
    rng = np.random.default_rng(seed)
    h, w = photo.shape[:2]
    out = []
    for k in range(n):
        side = int(min(h, w) * rng.uniform(0.55, 0.9))
        top, left = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
        crop = photo[top : top + side, left : left + side]
        out.append(np.ascontiguousarray(crop[:, ::-1] if k % 2 else crop))
    return out


def photo_dataset(photos, names, n: int, *, seed: int = 0, prefix: str = "") -> Dataset:
    pixels, labels = {}, {}
    for c, name in enumerate(names):
        for k, img in enumerate(crops(photos[name], n, seed=seed + c)):
            ident = f"{prefix}{name}_{k:03d}.png"
            pixels[ident] = img
            labels[ident] = name
    truth = pd.DataFrame({"image": list(labels), "label": list(labels.values())})
    return Dataset.from_frames(truth, images=pixels)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("easydl-home")


@pytest.fixture(scope="module")
def pets(photos):
    return photo_dataset(photos, ["chelsea", "coffee", "rocket"], 24)


@pytest.fixture(scope="module")
def v1(pets, home):
    return train(pets, name="pets", home=home, progress=False)


def test_training_writes_version_one_with_a_report_from_vislab_evaluate(v1, home, capsys):
    assert (v1.name, v1.version, v1.kind) == ("pets", "V1", "classification")
    assert v1.classes == ["chelsea", "coffee", "rocket"]
    r = v1.report
    # 24 per class, 20 % held out (rounded up, stratified): 5 per class
    assert r.truth["image"].nunique() == 15 and r.truth["label"].value_counts().eq(5).all()
    # every number is vislab.evaluate's on the stored held-out frames
    assert (
        r.metrics["accuracy"] == evaluate.classification_report(r.truth, r.pred).attrs["accuracy"]
    )
    assert r.metrics["top3_accuracy"] == evaluate.top_k_accuracy(r.truth, r.pred, k=3) == 1.0
    pd.testing.assert_frame_equal(
        r.confusion, evaluate.confusion_matrix(r.truth, r.pred, labels=v1.classes)
    )
    # three distinct photos: a linear model on the embedding separates them
    assert r.headline == ("accuracy", 1.0)
    assert r.per_class.loc["coffee", "support"] == 5
    assert r.warnings and "fewer than 100 training images" in r.warnings[0]
    assert r.market_line.startswith("Ready") and "72 images (needs > 50)" in r.market_line
    meta = v1.meta
    assert meta["dataset"]["hash"] and meta["dataset"]["train_images"] == 57
    assert meta["headline"] == {"name": "accuracy", "value": 1.0}
    assert set(meta["timings"]) >= {"embedding_s", "training_s", "evaluation_s", "total_s"}
    folder = home / "easydl" / "pets" / "V1"
    assert {p.name for p in folder.iterdir()} >= {
        "meta.json",
        "weights.npz",
        "dataset.json",
        "evaluation.json",
        "features.npz",
    }


def test_the_report_is_the_same_after_loading_and_shows_in_a_notebook(v1, home):
    again = load("pets", home=home)
    assert again.version == "V1"
    pd.testing.assert_series_equal(again.report.metrics, v1.report.metrics)
    html = again._repr_html_()
    assert "accuracy 1.000" in html and '<img src="data:image/png;base64,' in html
    fig = again.report.plot()
    assert len(fig.axes) >= 2
    listed = models(home=home)
    row = listed[listed["model"] == "pets"].iloc[0]
    assert (row["version"], row["metric"], row["value"], row["kind"]) == (
        "V1",
        "accuracy",
        1.0,
        "classification",
    )


def test_predict_ranks_every_class_and_keeps_failed_images(v1, photos, tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not an image")
    images = {
        "cat": photos["chelsea"],
        "cup": photos["coffee"],
        "missing": str(tmp_path / "no.png"),
        "broken": str(bad),
    }
    with pytest.warns(FailedImagesWarning, match="2 image"):
        df = v1.predict(images, progress=False)
    ok = df[df["error_code"].isna()]
    assert ok.groupby("image").size().to_dict() == {"cat": 3, "cup": 3}
    top = ok[ok["rank"] == 1].set_index("image")["label"].to_dict()
    assert top == {"cat": "chelsea", "cup": "coffee"}
    assert np.allclose(ok.groupby("image")["score"].sum(), 1.0)
    failed = df[df["error_code"].notna()].set_index("image")
    assert failed.loc["missing", "error_rule"] == "missing"
    assert failed.loc["broken", "error_rule"] == "decode"
    one = v1.predict(photos["rocket"], top_num=1, progress=False)
    assert one[["rank", "label"]].values.tolist() == [[1, "rocket"]]
    with pytest.raises(InvalidParameter, match="top_num"):
        v1.predict(photos["rocket"], top_num=0, progress=False)
    with pytest.raises(InvalidParameter, match="count"):
        v1.count(photos["rocket"], progress=False)


def test_predict_takes_a_dataset(v1, pets):
    held = pets.subset(v1.report.truth["image"])
    df = v1.predict(held, top_num=1, progress=False)
    assert df["image"].tolist() == held.images
    assert (df["label"].to_numpy() == held.truth()["label"].to_numpy()).all()


def test_other_class_sends_an_unrelated_photo_to_other(photos, home):
    from skimage import data

    ds = photo_dataset(photos, ["chelsea", "coffee"], 22, seed=3, prefix="o_")
    v = train(ds, name="pets_other", other_class=True, home=home, progress=False)
    assert v.classes == ["chelsea", "coffee", "other"]
    info = v.meta["head"]["info"]
    # pool pictures that look like the user's classes (the scikit-image cat, the coffee) are
    # dropped from "other"
    assert info["other_pool_dropped"] >= 2 and info["other_pool"] > 100
    # an unrelated photo the pool never saw: a face of scikit-image's LFW subset, enlarged
    face = np.repeat(np.kron(data.lfw_subset()[0], np.ones((6, 6)))[..., None], 3, axis=2)
    face = (face * 255).astype(np.uint8)
    stripes = np.zeros((120, 160, 3), np.uint8)
    stripes[::8] = (200, 30, 30)
    df = v.predict(
        {"face": face, "stripes": stripes, "cat": crops(photos["chelsea"], 1, seed=9)[0]},
        top_num=2,
        progress=False,
    )
    top = df[df["rank"] == 1].set_index("image")["label"].to_dict()
    assert top == {"face": "other", "stripes": "other", "cat": "chelsea"}
    # "other" is a class like any: it counts towards top_num
    assert (df.groupby("image").size() == 2).all()
    # the held-out images of the two classes are still recognised
    assert v.report.metrics["accuracy"] >= 0.9


def test_one_class_trains_only_with_other(photos, home):
    ds = photo_dataset(photos, ["coffee"], 21, seed=5, prefix="one_")
    with pytest.raises(TrainingRefused, match="at least 2") as info:
        train(ds, name="coffee_only", home=home, progress=False)
    assert "class_count" in set(info.value.findings["rule"])
    v = train(ds, name="coffee_only", other_class=True, home=home, progress=False)
    assert v.classes == ["coffee", "other"]
    df = v.predict({"cup": photos["coffee"], "rocket": photos["rocket"]}, top_num=1, progress=False)
    assert df.set_index("image")["label"].to_dict() == {"cup": "coffee", "rocket": "other"}


def test_refusals_say_what_to_add(v1, photos, home):
    few = photo_dataset(photos, ["chelsea", "coffee"], 8, seed=7, prefix="few_")
    with pytest.raises(TrainingRefused, match="20") as info:
        train(few, name="few", home=home, progress=False)
    assert set(info.value.findings["severity"]) == {"error"}
    assert "few" not in models(home=home)["model"].tolist()
    boxes = pd.DataFrame(
        {"image": ["a"], "label": ["cell"], "x": [1.0], "y": [1.0], "w": [5.0], "h": [5.0]}
    )
    det = Dataset.from_frames(boxes, images={"a": np.zeros((64, 64, 3), np.uint8)})
    with pytest.raises(TrainingRefused, match="classification model"):
        train(det, name="pets", home=home, progress=False)
    with pytest.raises(InvalidParameter, match="algorithm"):
        train(few, name="x", algorithm="autodl", home=home, progress=False)
    with pytest.raises(InvalidParameter, match="model name"):
        train(few, name="no spaces", home=home, progress=False)
    with pytest.raises(InvalidParameter, match="Dataset"):
        train(pd.DataFrame(), name="x", home=home, progress=False)


def test_base_version_trains_on_the_old_data_plus_the_new(v1, photos, home):
    more = photo_dataset(
        photos, ["chelsea", "coffee", "rocket", "astronaut"], 21, seed=11, prefix="new_"
    )
    v2 = train(more, name="pets", base_version="V1", home=home, progress=False)
    assert v2.version == "V2" and v2.meta["parameters"]["base_version"] == "V1"
    assert v2.classes == ["astronaut", "chelsea", "coffee", "rocket"]
    # V1's 72 images plus 84 new ones; V1's held-out images stay held out
    assert v2.meta["dataset"]["images"] == 72 + 84
    assert set(v1.report.truth["image"]) <= set(v2.report.truth["image"])
    # V1's features are reused: only the new images went through the backbone
    assert v2.meta["timings"]["embedded_images"] == 84
    assert v2.meta["dataset"]["hash"] != v1.meta["dataset"]["hash"]
    # V1 is untouched and still answers
    assert (
        load("pets", "V1", home=home).predict(photos["coffee"], top_num=1, progress=False)["label"][
            0
        ]
        == "coffee"
    )
    # giving V1's images again (same names, same pixels) does not count them twice
    same = photo_dataset(photos, ["chelsea", "coffee", "rocket"], 24)
    v3 = train(same, name="pets", base_version="V1", home=home, progress=False)
    assert v3.meta["dataset"]["images"] == 72


def test_the_fine_algorithm_trains_on_two_scales(photos, home):
    ds = photo_dataset(photos, ["chelsea", "coffee"], 20, seed=13, prefix="fine_")
    v = train(ds, name="fine_pets", algorithm="fine", home=home, progress=False)
    assert v.meta["recipe"] == "fine" and v.meta["parameters"]["algorithm"] == "fine"
    assert v.model.arrays["clf_coef"].shape == (2, 2560)
    # the 32 training images (each with its mirror image) and the 8 held out
    assert v.meta["timings"]["embedded_images"] == 40
    top = v.predict(photos["coffee"], top_num=1, progress=False)["label"][0]
    assert top == "coffee"


def test_rotation_views_train_on_all_eight_and_are_kept_with_the_version(photos, home):
    import io

    from vislab.engine.training.store import ModelStore

    ds = photo_dataset(photos, ["chelsea", "coffee"], 20, seed=17, prefix="rot_")
    v = train(ds, name="rot_pets", views="rotations", home=home, progress=False)
    assert v.meta["parameters"]["views"] == "rotations"
    with np.load(io.BytesIO(ModelStore(home).read_file("rot_pets", "V1", "features.npz"))) as f:
        assert f["train"].shape == (8, 32, 1280) and f["test"].shape == (8, 1280)
    # a version on mirror views built on it embeds its training images again (other views)
    # but reuses the held-out ones
    more = photo_dataset(photos, ["chelsea", "coffee"], 2, seed=19, prefix="rot2_")
    v2 = train(more, name="rot_pets", base_version="V1", home=home, progress=False)
    assert v2.meta["parameters"]["views"] == "mirror"
    assert v2.meta["timings"]["embedded_images"] == 32 + 4
    with pytest.raises(InvalidParameter, match="views"):
        train(ds, name="rot_pets", views="upside_down", home=home, progress=False)
