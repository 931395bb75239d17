"""Labels, view subsets and saliency boxes of the local engine, on real photographs."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from skimage import data

from vislab.engine import imagenet, recognition
from vislab.engine.backbone import get_backbone
from vislab.engine.recognition import Box, Label, SubsetLabels

# Measured by hand on a 50 px grid drawn over the photos: (x0, y0, x1, y1), exclusive ends.
CHELSEA_CAT = (0, 0, 385, 300)  # the cat's head and chest; background starts right of its ear
COFFEE_CUP = (75, 15, 480, 385)  # cup, saucer and spoon


def iou(box: Box, truth: tuple[int, int, int, int]) -> float:
    x0, y0, x1, y1 = box.xyxy
    tx0, ty0, tx1, ty1 = truth
    inter = max(0, min(x1, tx1) - max(x0, tx0)) * max(0, min(y1, ty1) - max(y0, ty0))
    return inter / ((x1 - x0) * (y1 - y0) + (tx1 - tx0) * (ty1 - ty0) - inter)


def side_by_side(left: np.ndarray, right: np.ndarray, height: int = 400) -> np.ndarray:
    halves = []
    for photo in (left, right):
        image = Image.fromarray(photo)
        width = round(image.width * height / image.height)
        halves.append(np.asarray(image.resize((width, height), Image.BILINEAR)))
    return np.concatenate(halves, axis=1)


@pytest.fixture(scope="module", autouse=True)
def _loaded():
    get_backbone()  # load the model once for the module


# --------------------------------------------------------------------------- imagenet tables


def test_class_table_is_complete_and_unique():
    classes = imagenet.classes()
    assert len(classes) == 1000
    assert [c.index for c in classes] == list(range(1000))
    assert len(set(imagenet.class_names())) == 1000
    assert all(c.wnid.startswith("n") and len(c.wnid) == 9 for c in classes)
    assert set(imagenet.class_roots()) <= set(imagenet.roots())
    assert imagenet.class_names()[282] == "tiger cat"
    assert imagenet.class_index("tiger cat") == 282 and imagenet.class_index("Tabby") == 281


def test_animal_roots_are_exactly_indices_0_to_397():
    assert imagenet.indices_with_root("animal", prefix=True).tolist() == list(range(398))
    assert imagenet.subset_indices("animal").tolist() == list(range(398))


@pytest.mark.parametrize(
    ("view", "allowed_roots"),
    [
        ("dish", {"food-dish", "food-drink"}),
        ("plant", {"food-produce", "plant", "plant-fungus"}),
        ("car", {"vehicle-car", "vehicle"}),
    ],
)
def test_view_subsets_stay_within_their_roots(view, allowed_roots):
    roots = imagenet.class_roots()
    indices = imagenet.subset_indices(view)
    assert len(indices) == len(set(indices.tolist())) > 5
    assert {roots[i] for i in indices} <= allowed_roots


def test_unknown_view_is_an_error():
    with pytest.raises(ValueError):
        imagenet.subset_indices("logo")


# --------------------------------------------------------------------------- labels


def test_general_labels_of_real_photos():
    cat = recognition.general(data.chelsea(), top_k=5)
    assert len(cat) == 5 and all(isinstance(label, Label) for label in cat)
    assert cat[0].root == "animal-cat"
    assert [label.score for label in cat] == sorted((label.score for label in cat), reverse=True)
    names, roots = imagenet.class_names(), imagenet.class_roots()
    assert all(
        names[lab.class_index] == lab.name and roots[lab.class_index] == lab.root for lab in cat
    )
    assert recognition.general(data.coffee(), top_k=1)[0].name == "espresso"
    # a grey photo goes through the same path
    assert len(recognition.general(data.camera(), top_k=3)) == 3


def test_general_batch_equals_single_calls():
    photos = [data.chelsea(), data.rocket()]
    batch = recognition.general_batch(photos, top_k=3)
    single = [recognition.general(p, top_k=3) for p in photos]
    for got, want in zip(batch, single, strict=True):
        assert [lab.class_index for lab in got] == [lab.class_index for lab in want]
        np.testing.assert_allclose(
            [lab.score for lab in got], [lab.score for lab in want], atol=1e-5
        )


@pytest.mark.parametrize("view", ["dish", "animal", "plant", "car"])
@pytest.mark.parametrize("photo", ["chelsea", "coffee", "rocket"])
def test_subset_views_answer_only_with_subset_classes(view, photo):
    image = getattr(data, photo)()
    allowed = set(imagenet.subset_indices(view).tolist())
    result = recognition.subset(image, view, top_k=5)
    assert isinstance(result, SubsetLabels) and result.view == view
    assert 0.0 <= result.mass <= 1.0
    assert {lab.class_index for lab in result.labels} <= allowed
    assert sum(lab.score for lab in result.labels) <= 1 + 1e-5
    # score is renormalised within the subset: score * mass is the plain probability
    probs = get_backbone().probabilities([image])[0]
    for lab in result.labels:
        assert lab.score * result.mass == pytest.approx(
            float(probs[lab.class_index]), rel=1e-4, abs=1e-9
        )


def test_subset_mass_says_what_is_not_there():
    assert recognition.subset(data.coffee(), "dish").mass > 0.5
    assert recognition.subset(data.chelsea(), "dish").mass < 0.05
    cat = recognition.subset(data.chelsea(), "animal", top_k=3)
    assert cat.mass > 0.9 and cat.labels[0].root == "animal-cat"
    assert recognition.subset(data.chelsea(), "car").mass < 0.05
    everything = recognition.subset(data.chelsea(), "animal", top_k=1000)
    assert sum(lab.score for lab in everything.labels) == pytest.approx(1.0, abs=1e-4)


def test_embed_passthrough():
    vectors = recognition.embed([data.chelsea(), data.coffee()])
    assert vectors.shape == (2, 1280)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)


# --------------------------------------------------------------------------- boxes


def _inside(box: Box, image: np.ndarray) -> bool:
    height, width = image.shape[:2]
    return (
        box.x >= 0
        and box.y >= 0
        and box.w >= 1
        and box.h >= 1
        and (box.x + box.w <= width and box.y + box.h <= height)
    )


def test_subject_box_of_chelsea_is_the_cat():
    image = data.chelsea()
    box = recognition.subject_box(image)
    assert _inside(box, image)
    assert iou(box, CHELSEA_CAT) > 0.4, box
    assert 0 < box.score <= 1
    assert all(isinstance(v, int) for v in (box.x, box.y, box.w, box.h))


def test_subject_box_of_coffee_is_the_cup_and_saucer():
    image = data.coffee()
    box = recognition.subject_box(image)
    assert _inside(box, image)
    assert iou(box, COFFEE_CUP) > 0.5, box


def test_subject_box_scales_with_the_image():
    small = recognition.subject_box(data.coffee())
    big_image = np.asarray(Image.fromarray(data.coffee()).resize((1200, 800), Image.BILINEAR))
    big = recognition.subject_box(big_image)
    assert _inside(big, big_image)
    # the same box, in the bigger image's pixels (up to resampling differences)
    assert iou(big, tuple(2 * v for v in small.xyxy)) > 0.9


def test_featureless_image_gives_the_whole_frame():
    flat = np.full((120, 200, 3), 90, np.uint8)
    box = recognition.subject_box(flat)
    assert _inside(box, flat)
    assert recognition.multi_objects(flat) == [] or all(
        _inside(b, flat) for b in recognition.multi_objects(flat)
    )


def test_multi_objects_finds_both_halves_of_a_composite():
    image = side_by_side(data.chelsea(), data.coffee())  # cat left, cup right
    middle = image.shape[1] / 2
    boxes = recognition.multi_objects(image, max_objects=5)
    assert len(boxes) >= 2
    assert all(_inside(b, image) and b.name and 0 < b.score <= 1 for b in boxes)
    centres = [b.x + b.w / 2 for b in boxes]
    left = [b for b, c in zip(boxes, centres, strict=True) if c < middle]
    right = [b for b, c in zip(boxes, centres, strict=True) if c >= middle]
    assert left and right
    assert left[0].root == "animal-cat"
    assert right[0].class_index in {504, 967, 968}


def test_multi_objects_respects_max_objects():
    image = side_by_side(data.rocket(), data.chelsea())
    assert len(recognition.multi_objects(image, max_objects=1)) == 1


def test_saliency_map_and_drawing():
    image = data.chelsea()
    heat = recognition.saliency(image)
    assert heat.shape == image.shape[:2] and heat.dtype == np.float32
    assert heat.min() == pytest.approx(0.0, abs=1e-6) and heat.max() == pytest.approx(1.0, abs=1e-6)
    drawn = recognition.draw_boxes(image, [recognition.subject_box(image)])
    assert drawn.shape == image.shape and not np.array_equal(drawn, image)
