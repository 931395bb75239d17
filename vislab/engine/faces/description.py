"""Face descriptors and face similarity with HSE FaceRes on onnxruntime.

FaceRes is a MobileNet whose base was trained for face identification on VGGFace2 and frozen,
with age and gender heads on top; its 1024-d globally pooled features are the identity
descriptor. A face is compared by the cosine of the L2-normalised descriptors of the aligned
crops (:mod:`vislab.engine.faces.crop`), mapped to PAI's 0-100 scale by
:func:`similarity_score`.

Similarity mapping
------------------
PAI documents "100 = same person, < 80 = different people". The mapping is piecewise linear
in the cosine ``c``: ``c <= COSINE_FLOOR`` gives 0, ``c = COSINE_SAME`` gives 80 and ``c = 1``
gives 100, linear in between. ``COSINE_SAME`` is the decision threshold calibrated on real
pairs (see ``vislab/engine/models/README.md``): edited copies of one face (crop shift,
brightness, JPEG, mirror, blur) all lie above it, pairs of different people of scikit-image's
``lfw_subset`` below it.
"""

from __future__ import annotations

import numpy as np

from vislab.engine.faces.crop import aligned_crop
from vislab.engine.faces.detection import Face, detect_faces
from vislab.engine.faces.errors import NoFace, TooManyFaces
from vislab.engine.faces.models import face_session
from vislab.engine.pixels import as_rgb

FACERES_SIZE = 224
DESCRIPTOR_DIM = 1024
# Calibrated on real pairs by tools/calibrate_face_similarity.py (numbers in models/README.md).
COSINE_FLOOR = 0.3
COSINE_SAME = 0.77
SIMILARITY_RULE = "face_similarity needs exactly one face per image"


def faceres_outputs(crops: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run FaceRes on ``(N, 224, 224, 3)`` ``uint8`` crops: descriptor, age softmax, P(male).

    Examples
    --------
    >>> d, age, male = faceres_outputs(np.zeros((1, 224, 224, 3), np.uint8))
    >>> d.shape, age.shape, male.shape
    ((1, 1024), (1, 100), (1,))
    """
    session = face_session("faceres")
    descriptor, age, gender = session.run(
        ["descriptor", "age", "gender"], {"face": crops.astype(np.float32)}
    )
    return descriptor, age, gender[:, 0]


def _normalised(descriptor: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(descriptor, axis=-1, keepdims=True)
    return (descriptor / np.maximum(norm, 1e-12)).astype(np.float32)


def face_descriptor(pixels, face: Face) -> np.ndarray:
    """The L2-normalised 1024-d FaceRes identity descriptor of one detected face.

    Parameters
    ----------
    pixels : array-like
        ``uint8`` image the face was detected on.
    face : Face
        From :func:`~vislab.engine.faces.detection.detect_faces`.

    Returns
    -------
    numpy.ndarray
        ``(1024,)`` ``float32``, unit length; the cosine of two is their dot product.

    Examples
    --------
    >>> from skimage import data
    >>> image = data.astronaut()
    >>> vector = face_descriptor(image, detect_faces(image)[0])
    >>> vector.shape, round(float(vector @ vector), 4)
    ((1024,), 1.0)
    """
    rgb = as_rgb(pixels, name="pixels")
    crop = aligned_crop(rgb, face, FACERES_SIZE)
    descriptor, _, _ = faceres_outputs(crop[None])
    return _normalised(descriptor[0])


def similarity_score(cosine: float) -> float:
    """Map a descriptor cosine to PAI's 0-100 face similarity (80 at the calibrated threshold).

    Examples
    --------
    >>> similarity_score(1.0), similarity_score(COSINE_SAME), similarity_score(0.0)
    (100.0, 80.0, 0.0)
    """
    c = float(cosine)
    if c >= COSINE_SAME:
        value = 80.0 + 20.0 * (c - COSINE_SAME) / (1.0 - COSINE_SAME)
    else:
        value = 80.0 * (c - COSINE_FLOOR) / (COSINE_SAME - COSINE_FLOOR)
    # Two decimals: the mapping is not finer than that, and identical crops then give 100.0.
    return round(float(np.clip(value, 0.0, 100.0)), 2)


def single_face(pixels, *, rule: str = SIMILARITY_RULE, image: str | None = None) -> Face:
    """The one face of an image; :class:`NoFace` or :class:`TooManyFaces` otherwise.

    Examples
    --------
    >>> single_face(np.zeros((64, 64, 3), np.uint8), image="a")
    Traceback (most recent call last):
    ...
    vislab.engine.faces.errors.NoFace: no face found in the image a (rule: face_similarity needs exactly one face per image); send a photo in which a face is visible, frontal and at least ~20 px wide
    """
    faces = detect_faces(pixels)
    if not faces:
        raise NoFace(rule=rule, image=image)
    if len(faces) > 1:
        raise TooManyFaces(len(faces), rule=rule, image=image)
    return faces[0]


def face_similarity(pixels_a, pixels_b) -> float:
    """Similarity 0-100 of the one face in each image (PAI F1: 100 same, < 80 different).

    The local answer uses HSE FaceRes (MobileNet, VGGFace2) where PAI uses a ResNet50; the
    0-100 scale is this module's calibrated mapping, not PAI's.

    Parameters
    ----------
    pixels_a, pixels_b : array-like
        ``uint8`` images, each showing exactly one face.

    Returns
    -------
    float
        0..100; 100 for the same crop.

    Raises
    ------
    NoFace, TooManyFaces
        An image has no face or more than one (PAI's rule), naming which (``"a"``/``"b"``).

    Examples
    --------
    >>> from skimage import data
    >>> face_similarity(data.astronaut(), data.astronaut())
    100.0
    """
    a = as_rgb(pixels_a, name="pixels_a")
    b = as_rgb(pixels_b, name="pixels_b")
    va = face_descriptor(a, single_face(a, image="a"))
    vb = face_descriptor(b, single_face(b, image="b"))
    return similarity_score(float(np.clip(va @ vb, -1.0, 1.0)))
