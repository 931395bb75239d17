"""Facial attributes (age, gender, expression) with HSE FaceRes and the Oarriaga emotion net.

For every face BlazeFace finds, FaceRes (MobileNet, age/gender heads trained on IMDB-Wiki
faces) gives an age distribution over 0..99 years, whose mean is the age, and P(male);
the mini-Xception of Oarriaga's ``face_classification`` (trained on FER2013) gives one of
seven expressions from a 64x64 grey crop. PAI's F2 uses a ResNet50 and does not publish its
vocabularies; these are the models' own: gender ``"male"``/``"female"`` and the FER2013
expressions of :data:`EXPRESSIONS`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vislab.engine.faces.crop import aligned_crop
from vislab.engine.faces.description import FACERES_SIZE, faceres_outputs
from vislab.engine.faces.detection import detect_faces
from vislab.engine.faces.errors import NoFace
from vislab.engine.faces.models import face_session
from vislab.engine.pixels import as_rgb

EMOTION_SIZE = 64
# FER2013's label order, which the emotion net's softmax follows.
EXPRESSIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
# ITU-R 601 luma, the grey conversion the net's training pipeline (OpenCV) used.
GREY_WEIGHTS = np.array([0.299, 0.587, 0.114], np.float32)
ATTRIBUTES_RULE = "face_attributes needs at least one face"


@dataclass(frozen=True)
class FaceAttributes:
    """The attributes of one detected face.

    Attributes
    ----------
    box : tuple of float
        ``(x1, y1, x2, y2)`` pixels.
    score : float
        The detector's confidence.
    age : float
        Estimated age in years (mean of FaceRes's age distribution).
    gender : str
        ``"male"`` or ``"female"``.
    gender_score : float
        Probability of that gender, 0.5..1.
    expression : str
        One of :data:`EXPRESSIONS`.
    expression_score : float
        Its softmax probability.

    Examples
    --------
    >>> FaceAttributes((0, 0, 1, 1), 0.9, 30.0, "female", 0.8, "happy", 0.7).gender
    'female'
    """

    box: tuple[float, float, float, float]
    score: float
    age: float
    gender: str
    gender_score: float
    expression: str
    expression_score: float


def expression_probabilities(crops: np.ndarray) -> np.ndarray:
    """The emotion net's softmax over :data:`EXPRESSIONS` for ``(N, 64, 64, 3)`` ``uint8`` crops.

    Examples
    --------
    >>> expression_probabilities(np.zeros((2, 64, 64, 3), np.uint8)).shape
    (2, 7)
    """
    grey = crops.astype(np.float32) @ GREY_WEIGHTS
    tensor = (grey / 127.5 - 1.0)[..., None].astype(np.float32)
    (probs,) = face_session("emotion").run(["expression"], {"face": tensor})
    return probs


def face_attributes(pixels) -> list[FaceAttributes]:
    """Age, gender and expression of every face in the image, best detection first.

    Parameters
    ----------
    pixels : array-like
        ``uint8`` image.

    Returns
    -------
    list of FaceAttributes

    Raises
    ------
    NoFace
        No face was detected.

    Examples
    --------
    >>> from skimage import data
    >>> (face,) = face_attributes(data.astronaut())
    >>> face.gender, face.expression in EXPRESSIONS, 20 < face.age < 60
    ('female', True, True)
    """
    rgb = as_rgb(pixels, name="pixels")
    faces = detect_faces(rgb)
    if not faces:
        raise NoFace(rule=ATTRIBUTES_RULE)
    big = np.stack([aligned_crop(rgb, f, FACERES_SIZE) for f in faces])
    small = np.stack([aligned_crop(rgb, f, EMOTION_SIZE) for f in faces])
    _, age_probs, male = faceres_outputs(big)
    ages = age_probs @ np.arange(age_probs.shape[1], dtype=np.float64)
    expressions = expression_probabilities(small)
    out = []
    for face, age, p_male, probs in zip(faces, ages, male, expressions, strict=True):
        best = int(np.argmax(probs))
        is_male = bool(p_male > 0.5)
        out.append(
            FaceAttributes(
                box=face.box,
                score=face.score,
                age=round(float(age), 2),
                gender="male" if is_male else "female",
                gender_score=float(p_male if is_male else 1.0 - p_male),
                expression=EXPRESSIONS[best],
                expression_score=float(probs[best]),
            )
        )
    return out
