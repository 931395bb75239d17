"""Aligned face crops: the detected box widened by a margin, turned so the eyes are level.

FaceRes and the emotion net were trained on detector crops of upright faces (MTCNN boxes plus a
10 px margin for FaceRes, Haar boxes plus a margin for the emotion net). The crop here takes the
BlazeFace box, widens it by ``margin`` of its size on every side, rotates about the box centre
by the eye-line angle (from BlazeFace's eye landmarks) and resamples it bilinearly to
``size`` x ``size`` in one affine step. Outside the image is black.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from vislab.engine.faces.detection import Face

DEFAULT_MARGIN = 0.1


def eye_angle(face: Face) -> float:
    """The eye line's angle in radians (0 when the eyes are level; image y points down).

    Examples
    --------
    >>> marks = np.zeros((6, 2)); marks[0] = (10, 10); marks[1] = (20, 20)
    >>> round(math.degrees(eye_angle(Face((0, 0, 30, 30), 1.0, marks))), 1)
    45.0
    """
    # Landmark 0 is the subject's right eye, on the image's left for a frontal face.
    (rx, ry), (lx, ly) = face.landmarks[0], face.landmarks[1]
    return math.atan2(ly - ry, lx - rx)


def aligned_crop(
    rgb: np.ndarray, face: Face, size: int, *, margin: float = DEFAULT_MARGIN, align: bool = True
) -> np.ndarray:
    """The face as a ``(size, size, 3)`` ``uint8`` crop, level eyes, margin around the box.

    Parameters
    ----------
    rgb : numpy.ndarray
        ``(H, W, 3)`` ``uint8``.
    face : Face
        A detection on ``rgb``.
    size : int
        Output side in pixels.
    margin : float, default 0.1
        Added on each side, as a fraction of the box's larger side.
    align : bool, default True
        Rotate so the eyes are level.

    Examples
    --------
    >>> image = np.zeros((100, 100, 3), np.uint8); image[40:60, 40:60] = 255
    >>> crop = aligned_crop(image, Face((40, 40, 60, 60), 1.0, np.zeros((6, 2))), 24,
    ...                     margin=0.0, align=False)
    >>> crop.shape, int(crop[12, 12, 0])
    ((24, 24, 3), 255)
    """
    x1, y1, x2, y2 = face.box
    side = max(x2 - x1, y2 - y1) * (1 + 2 * margin)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    angle = eye_angle(face) if align else 0.0
    step = side / size
    cos, sin = math.cos(angle) * step, math.sin(angle) * step
    # PIL's affine maps each output pixel centre (u, v) to the input point
    # (a u + b v + c, d u + e v + f): a rotation by the eye angle, scaled, about the box centre.
    half = size / 2
    coeffs = (
        cos,
        -sin,
        cx - cos * half + sin * half,
        sin,
        cos,
        cy - sin * half - cos * half,
    )
    out = Image.fromarray(rgb).transform(
        (size, size), Image.AFFINE, coeffs, resample=Image.BILINEAR, fillcolor=(0, 0, 0)
    )
    return np.asarray(out, np.uint8)
