"""Face detection with MediaPipe BlazeFace (full-range "back" model, 256x256) on onnxruntime.

The image is padded at the bottom/right to a square (so pixel coordinates scale back by one
factor), resized to 256x256 (bilinear) and scaled to -1..1. BlazeFace predicts, for 512
stride-16 anchors and 384 stride-32 anchors, a face logit and 16 regressions: the box centre
offset and size, and six landmarks (right eye, left eye, nose tip, mouth, right ear, left ear;
the subject's left and right), all in pixels of the 256 input relative to the anchor centre.
Boxes above ``min_score`` are kept by greedy non-maximum suppression.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from vislab.engine.faces.models import face_session
from vislab.engine.pixels import as_rgb

INPUT_SIZE = 256
# Calibrated on skimage data: faces of lfw_subset score >= 0.675 in 95% of cases, its 100
# non-faces and the coffee, logo and coins photos at most 0.59. (A cat face scores ~0.76.)
DEFAULT_MIN_SCORE = 0.65
DEFAULT_IOU = 0.3
LANDMARK_NAMES = ("right_eye", "left_eye", "nose", "mouth", "right_ear", "left_ear")


@dataclass(frozen=True)
class Face:
    """One detected face.

    Attributes
    ----------
    box : tuple of float
        ``(x1, y1, x2, y2)`` in pixels of the image given to :func:`detect_faces`.
    score : float
        BlazeFace's confidence, 0..1.
    landmarks : numpy.ndarray
        ``(6, 2)`` ``(x, y)`` pixels, in the order of :data:`LANDMARK_NAMES`.

    Examples
    --------
    >>> face = Face((10.0, 20.0, 50.0, 70.0), 0.9, np.zeros((6, 2)))
    >>> face.width, face.height
    (40.0, 50.0)
    """

    box: tuple[float, float, float, float]
    score: float
    landmarks: np.ndarray = field(repr=False)

    @property
    def width(self) -> float:
        """Box width in pixels."""
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        """Box height in pixels."""
        return self.box[3] - self.box[1]


def anchor_centres(size: int = INPUT_SIZE) -> np.ndarray:
    """BlazeFace's anchor centres in input pixels: 2 per stride-16 cell, then 6 per stride-32 cell.

    Examples
    --------
    >>> centres = anchor_centres()
    >>> centres.shape, centres[0].tolist(), centres[-1].tolist()
    ((896, 2), [8.0, 8.0], [240.0, 240.0])
    """
    rows = []
    for stride, per_cell in ((size // 16, 2), (size // 8, 6)):
        cells = (size + stride - 1) // stride
        centre = stride * (np.arange(cells) + 0.5)
        ys, xs = np.meshgrid(centre, centre, indexing="ij")
        grid = np.stack([xs.ravel(), ys.ravel()], axis=1)
        rows.append(np.repeat(grid, per_cell, axis=0))
    return np.concatenate(rows).astype(np.float32)


_ANCHORS = anchor_centres()


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one ``(x1, y1, x2, y2)`` box with each row of ``boxes``.

    Examples
    --------
    >>> box_iou(np.array([0, 0, 2, 2.0]), np.array([[1, 0, 3, 2.0], [0, 0, 2, 2.0]])).round(3)
    array([0.333, 1.   ])
    """
    x1 = np.maximum(box[0], boxes[:, 0])
    y1 = np.maximum(box[1], boxes[:, 1])
    x2 = np.minimum(box[2], boxes[:, 2])
    y2 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def _input_tensor(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    side = max(rgb.shape[:2])
    canvas = np.zeros((side, side, 3), np.uint8)
    canvas[: rgb.shape[0], : rgb.shape[1]] = rgb
    small = Image.fromarray(canvas).resize((INPUT_SIZE, INPUT_SIZE), Image.BILINEAR)
    tensor = np.asarray(small, np.float32)[None] / 127.5 - 1.0
    return tensor, side / INPUT_SIZE


def detect_faces(
    pixels, *, min_score: float = DEFAULT_MIN_SCORE, iou_threshold: float = DEFAULT_IOU
) -> list[Face]:
    """Detect faces with BlazeFace; best first.

    Parameters
    ----------
    pixels : array-like
        ``uint8`` image, ``(H, W, 3)`` RGB (grey and RGBA accepted).
    min_score : float, default 0.65
        Faces with a lower BlazeFace confidence are dropped.
    iou_threshold : float, default 0.3
        Non-maximum suppression: a box overlapping a better one by more is dropped.

    Returns
    -------
    list of Face
        Sorted by decreasing score; empty when there is no face.

    Examples
    --------
    >>> from skimage import data
    >>> faces = detect_faces(data.astronaut())
    >>> len(faces), faces[0].score > 0.8
    (1, True)
    >>> detect_faces(np.full((64, 64, 3), 128, np.uint8))
    []
    """
    rgb = as_rgb(pixels, name="pixels")
    tensor, scale = _input_tensor(rgb)
    session = face_session("blazeface")
    s16, b16, s32, b32 = session.run(
        ["scores_16", "boxes_16", "scores_32", "boxes_32"], {"image": tensor}
    )
    logits = np.concatenate([s16[0, :, 0], s32[0, :, 0]])
    raw = np.concatenate([b16[0], b32[0]])
    scores = 1.0 / (1.0 + np.exp(-np.clip(logits, -80, 80)))
    keep = np.flatnonzero(scores >= min_score)
    if keep.size == 0:
        return []
    centres = raw[keep, 0:2] + _ANCHORS[keep]
    half = raw[keep, 2:4] / 2
    boxes = np.concatenate([centres - half, centres + half], axis=1) * scale
    landmarks = (raw[keep, 4:16].reshape(-1, 6, 2) + _ANCHORS[keep, None, :]) * scale
    order = np.argsort(-scores[keep], kind="stable")
    height, width = rgb.shape[:2]
    faces: list[Face] = []
    chosen: list[np.ndarray] = []
    for index in order:
        box = boxes[index]
        if chosen and box_iou(box, np.array(chosen)).max() > iou_threshold:
            continue
        chosen.append(box)
        clipped = (
            float(np.clip(box[0], 0, width)),
            float(np.clip(box[1], 0, height)),
            float(np.clip(box[2], 0, width)),
            float(np.clip(box[3], 0, height)),
        )
        faces.append(Face(clipped, float(scores[keep][index]), landmarks[index].astype(float)))
    return faces
