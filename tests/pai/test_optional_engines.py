"""`ocr` and the face methods answer from the optional engines `vislab.engine.ocr` and
`vislab.engine.faces` when they are installed, and say how to get them when not."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from PIL import Image, ImageDraw

from vislab import pai
from vislab.errors import InvalidRequest, NotAvailableLocally


def _installed(module: str) -> bool:
    name = f"vislab.engine.{module}"
    if importlib.util.find_spec(name) is None:
        return False
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


HAS_OCR = _installed("ocr")
HAS_FACES = _installed("faces")


@pytest.fixture(scope="module")
def client():
    return pai.Client(progress=False)


def _receipt() -> np.ndarray:
    img = Image.new("RGB", (420, 160), "white")
    draw = ImageDraw.Draw(img)
    draw.text((20, 30), "COFFEE 3.50", fill="black", font_size=32)
    draw.text((20, 90), "TOTAL 7.00", fill="black", font_size=32)
    return np.asarray(img)


@pytest.mark.skipif(HAS_OCR, reason="vislab.engine.ocr is installed: the OCR test below runs")
def test_ocr_without_its_engine_names_the_extra(client):
    with pytest.raises(NotAvailableLocally, match=r"pip install vislab\[ocr\]"):
        client.ocr(_receipt(), errors="raise")


@pytest.mark.skipif(not HAS_OCR, reason="vislab.engine.ocr (vislab[ocr]) is not in this tree")
def test_ocr_reads_a_rendered_receipt(client):
    df = client.ocr({"receipt": _receipt()})
    text = " ".join(df["text"].dropna()).upper()
    assert "TOTAL" in text and "COFFEE" in text
    assert all(q.shape == (4, 2) for q in df["quad"].dropna())
    assert (df["w"] > 0).all()


@pytest.mark.skipif(HAS_FACES, reason="vislab.engine.faces is installed: the face tests run")
def test_faces_without_their_engine_name_the_extra(client):
    from skimage import data

    with pytest.raises(NotAvailableLocally, match=r"pip install vislab\[face\]"):
        client.face_attributes(data.astronaut(), errors="raise")
    with pytest.raises(NotAvailableLocally, match=r"pip install vislab\[face\]"):
        client.face_similarity(data.astronaut(), data.astronaut(), errors="raise")


@pytest.mark.skipif(not HAS_FACES, reason="vislab.engine.faces (vislab[face]) is not in this tree")
def test_face_attributes_and_the_one_face_rule(client):
    from skimage import data

    astronaut = data.astronaut()
    faces = client.face_attributes({"astronaut": astronaut})
    assert len(faces) == 1 and faces.loc[0, "age"] > 0
    assert faces.loc[0, "gender"] and faces.loc[0, "expression"]
    same = client.face_similarity(astronaut, astronaut[:, ::-1].copy())
    assert same.loc[0, "similarity"] >= 80
    two = np.concatenate([astronaut, astronaut], axis=1)
    with pytest.raises(InvalidRequest, match="face"):
        client.face_similarity(two, astronaut, errors="raise")
