"""A light detection head on frozen backbone features: centre heatmaps, box sizes, NMS.

The head follows CenterNet ("Objects as Points", Zhou et al. 2019) on the stride-8 grid of
:mod:`vislab.engine.training.grid`: for every cell a small MLP (:mod:`.mlp`) predicts

* one centre-heatmap logit per label — trained with CenterNet's penalty-reduced focal loss
  against Gaussian bumps at the object centres, so a cell next to a centre is not punished
  as hard as background;
* the sub-cell offset of the centre (x, y) and the log width and height of the box, trained
  with an L1 loss at the centre cells only.

Decoding keeps the cells whose heatmap is a local 3 x 3 maximum above a floor, places a box
at the refined centre with the predicted size, maps it back to original pixels and runs
per-label non-maximum suppression. Dense, touching objects stay apart because each centre
is its own peak; the input scale (:func:`~vislab.engine.training.grid.choose_input_size`)
makes small objects span a few cells and large ones fit the stride-32 context.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import maximum_filter

from vislab.engine.training.grid import CELL
from vislab.engine.training.mlp import MLP, fit_mlp

__all__ = [
    "DetectionTargets",
    "detection_targets",
    "focal_center_loss",
    "fit_detection_head",
    "decode",
    "nms",
    "N_BOX",
]

#: Box outputs per cell after the heatmaps: offset x, offset y, log w, log h.
N_BOX = 4
ALPHA, BETA = 2.0, 4.0
SIZE_WEIGHT = 1.0
OFFSET_WEIGHT = 1.0
#: Prior probability of a centre at the start of training (CenterNet's -2.19 bias).
PRIOR = 0.01


@dataclass
class DetectionTargets:
    """What the head should answer at each cell of one image's grid.

    Attributes
    ----------
    heat : numpy.ndarray
        ``(h, w, K)`` Gaussian bumps, exactly 1 at each object's centre cell.
    box : numpy.ndarray
        ``(h, w, 4)`` offset x, offset y (cells, 0..1), log width, log height (input px).
    centre : numpy.ndarray
        ``(h, w)`` bool, True at centre cells (where ``box`` counts).
    """

    heat: np.ndarray
    box: np.ndarray
    centre: np.ndarray

    def stacked(self) -> np.ndarray:
        """``(h * w, K + 6)``: heat, box, centre flag and a sample weight of 1 (the rows
        :func:`fit_detection_head` trains on)."""
        h, w, k = self.heat.shape
        return np.concatenate(
            [
                self.heat.reshape(-1, k),
                self.box.reshape(-1, N_BOX),
                self.centre.reshape(-1, 1).astype(np.float32),
                np.ones((h * w, 1), np.float32),
            ],
            axis=1,
        )


def _radius(w: float, h: float) -> float:
    """Gaussian sigma (cells) of an object's bump: a sixth of its diameter, at least 0.5."""
    return max(0.5, (np.sqrt(w * h) / CELL) / 6.0)


def detection_targets(boxes, labels, grid_hw, scale: float, n_labels: int) -> DetectionTargets:
    """Heatmap and box targets of one image.

    Parameters
    ----------
    boxes : array-like
        ``(N, 4)`` ``x, y, w, h`` in original pixels.
    labels : array-like of int
        ``(N,)`` label indices.
    grid_hw : tuple of int
        Rows and columns of the stride-8 grid.
    scale : float
        Network input size / original size.
    n_labels : int

    Examples
    --------
    >>> t = detection_targets([[8, 8, 16, 16]], [0], (8, 8), 1.0, 1)
    >>> float(t.heat.max()), np.argwhere(t.centre).tolist(), [round(float(v), 2) for v in t.box[2, 2]]
    (1.0, [[2, 2]], [0.0, 0.0, 2.77, 2.77])
    """
    gh, gw = grid_hw
    heat = np.zeros((gh, gw, n_labels), np.float32)
    box = np.zeros((gh, gw, N_BOX), np.float32)
    centre = np.zeros((gh, gw), bool)
    rows = np.arange(gh, dtype=np.float32)[:, None]
    cols = np.arange(gw, dtype=np.float32)[None, :]
    for (x, y, w, h), k in zip(np.asarray(boxes, float).reshape(-1, 4), labels, strict=True):
        cx, cy = (x + w / 2) * scale / CELL, (y + h / 2) * scale / CELL
        i, j = int(np.floor(cy)), int(np.floor(cx))
        if not (0 <= i < gh and 0 <= j < gw) or w <= 0 or h <= 0:
            continue
        sigma = _radius(w * scale, h * scale)
        bump = np.exp(-((rows - i) ** 2 + (cols - j) ** 2) / (2 * sigma * sigma))
        np.maximum(heat[:, :, k], bump, out=heat[:, :, k])
        heat[i, j, k] = 1.0
        box[i, j] = (cx - j, cy - i, np.log(w * scale), np.log(h * scale))
        centre[i, j] = True
    return DetectionTargets(heat, box, centre)


def focal_center_loss(n_labels: int):
    """The head's loss for :func:`~vislab.engine.training.mlp.fit_mlp`.

    CenterNet's focal loss on the heatmap logits (normalised by the number of centres in the
    minibatch) plus L1 on offsets and log sizes at the centres.

    Examples
    --------
    >>> loss = focal_center_loss(1)
    >>> t = np.array([[1.0, .5, .5, 2, 2, 1, 1], [0.0, 0, 0, 0, 0, 0, 1]], np.float32)
    >>> value, grad = loss(np.zeros((2, 5), np.float32), t)
    >>> grad.shape, bool(grad[0, 0] < 0 < grad[1, 0])      # push the centre up, the rest down
    ((2, 5), True)
    """
    k = n_labels

    def loss(out: np.ndarray, t: np.ndarray) -> tuple[float, np.ndarray]:
        z = out[:, :k]
        y = t[:, :k]
        p = np.clip(1.0 / (1.0 + np.exp(-z)), 1e-6, 1 - 1e-6)
        pos = y >= 1.0
        weight = t[:, k + N_BOX + 1 : k + N_BOX + 2]
        neg_w = (1.0 - y) ** BETA * weight
        n_pos = max(1.0, float(pos.sum()))
        log_p, log_q = np.log(p), np.log(1.0 - p)
        value = -np.where(pos, (1 - p) ** ALPHA * log_p, neg_w * p**ALPHA * log_q).sum()
        g_pos = 2 * p * (1 - p) ** 2 * log_p - (1 - p) ** 3
        g_neg = -neg_w * (2 * p * p * (1 - p) * log_q - p**3)
        grad = np.zeros_like(out)
        grad[:, :k] = np.where(pos, g_pos, g_neg) / n_pos
        centre = t[:, k + N_BOX] > 0
        if centre.any():
            diff = out[centre, k : k + N_BOX] - t[centre, k : k + N_BOX]
            weights = np.array([OFFSET_WEIGHT, OFFSET_WEIGHT, SIZE_WEIGHT, SIZE_WEIGHT], np.float32)
            value += float((np.abs(diff) * weights).sum())
            grad[centre, k : k + N_BOX] = np.sign(diff) * weights / n_pos
        return float(value / n_pos), grad

    return loss


def fit_detection_head(
    x: np.ndarray,
    targets: np.ndarray,
    n_labels: int,
    *,
    n_hidden: int = 96,
    epochs: int = 10,
    batch: int = 2048,
    seed: int = 0,
    progress=None,
) -> MLP:
    """Train the head on stacked cell features and :meth:`DetectionTargets.stacked` rows.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((400, 6)).astype(np.float32)
    >>> t = np.zeros((400, 7), np.float32); t[:40, 0] = 1; t[:40, 5] = 1; t[:, 6] = 1
    >>> x[:40] += 3
    >>> head = fit_detection_head(x, t, 1, n_hidden=8, epochs=100, batch=64)
    >>> z = head.forward(x)[:, 0]
    >>> bool(z[:40].mean() > z[40:].mean() + 2)
    True
    """
    bias = np.zeros(n_labels + N_BOX, np.float32)
    bias[:n_labels] = -np.log((1 - PRIOR) / PRIOR)
    centre = targets[:, n_labels + N_BOX] > 0
    if centre.any():
        bias[n_labels:] = targets[centre, n_labels : n_labels + N_BOX].mean(axis=0)
    return fit_mlp(
        x,
        targets,
        focal_center_loss(n_labels),
        n_hidden=n_hidden,
        n_out=n_labels + N_BOX,
        epochs=epochs,
        batch=batch,
        seed=seed,
        init_bias=bias,
        progress=progress,
    )


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression (``xywh`` boxes), best first.

    Examples
    --------
    >>> b = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [50, 50, 5, 5]], float)
    >>> nms(b, np.array([0.9, 0.8, 0.7]), 0.5).tolist()
    [0, 2]
    """
    order = np.argsort(-scores, kind="stable")
    x1, y1 = boxes[:, 0], boxes[:, 1]
    x2, y2 = x1 + boxes[:, 2], y1 + boxes[:, 3]
    area = boxes[:, 2] * boxes[:, 3]
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        iw = np.clip(np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]), 0, None)
        ih = np.clip(np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]), 0, None)
        inter = iw * ih
        union = area[i] + area[rest] - inter
        order = rest[inter <= iou * np.maximum(union, 1e-12)]
    return np.asarray(keep, dtype=int)


def decode(
    outputs: np.ndarray,
    *,
    n_labels: int,
    scale: float,
    valid_hw: tuple[int, int],
    image_hw: tuple[int, int],
    min_score: float = 0.01,
    max_detections: int = 1000,
    nms_iou: float = 0.6,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes from one image's head outputs.

    Parameters
    ----------
    outputs : numpy.ndarray
        ``(h, w, K + 4)`` head outputs on the image's grid.
    n_labels : int
    scale : float
        Network input size / original size.
    valid_hw : tuple of int
        Grid rows and columns over image content (the rest is padding).
    image_hw : tuple of int
        Original height and width (boxes are clipped to it).
    min_score, max_detections, nms_iou
        The score floor, the cap per image and the NMS overlap.

    Returns
    -------
    boxes : numpy.ndarray
        ``(M, 4)`` ``x, y, w, h`` in original pixels.
    scores : numpy.ndarray
        ``(M,)`` in (0, 1), highest first.
    labels : numpy.ndarray
        ``(M,)`` label indices.

    Examples
    --------
    >>> out = np.full((4, 4, 5), -9.0, np.float32)
    >>> out[1, 2] = [3.0, 0.5, 0.5, np.log(16), np.log(8)]
    >>> b, s, l = decode(out, n_labels=1, scale=1.0, valid_hw=(4, 4), image_hw=(32, 32))
    >>> b.tolist(), s.round(2).tolist(), l.tolist()
    ([[12.0, 8.0, 16.0, 8.0]], [0.95], [0])
    """
    vh, vw = valid_hw
    out = outputs[:vh, :vw]
    heat = 1.0 / (1.0 + np.exp(-out[:, :, :n_labels]))
    peaks = (heat == maximum_filter(heat, size=(3, 3, 1), mode="constant")) & (heat >= min_score)
    ii, jj, kk = np.nonzero(peaks)
    scores = heat[ii, jj, kk]
    if len(scores) > 4 * max_detections:
        top = np.argsort(-scores, kind="stable")[: 4 * max_detections]
        ii, jj, kk, scores = ii[top], jj[top], kk[top], scores[top]
    reg = out[ii, jj, n_labels : n_labels + N_BOX]
    cx = (jj + np.clip(reg[:, 0], 0, 1)) * CELL / scale
    cy = (ii + np.clip(reg[:, 1], 0, 1)) * CELL / scale
    w = np.exp(np.clip(reg[:, 2], -2, 9)) / scale
    h = np.exp(np.clip(reg[:, 3], -2, 9)) / scale
    ih, iw = image_hw
    x1, y1 = np.clip(cx - w / 2, 0, iw), np.clip(cy - h / 2, 0, ih)
    x2, y2 = np.clip(cx + w / 2, 0, iw), np.clip(cy + h / 2, 0, ih)
    boxes = np.stack([x1, y1, x2 - x1, y2 - y1], axis=1).astype(np.float64)
    keep_all = []
    for k in np.unique(kk):
        sel = np.flatnonzero(kk == k)
        keep_all.append(sel[nms(boxes[sel], scores[sel], nms_iou)])
    keep = np.concatenate(keep_all) if keep_all else np.zeros(0, int)
    keep = keep[np.argsort(-scores[keep], kind="stable")][:max_detections]
    return boxes[keep], scores[keep].astype(np.float64), kk[keep].astype(int)
