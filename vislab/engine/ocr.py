"""Offline OCR: text lines, their scores and quadrilaterals, from RapidOCR's PP-OCRv4 models.

The extra ``vislab[ocr]`` installs ``rapidocr-onnxruntime`` (Apache-2.0), whose wheel ships
three ONNX conversions of Baidu PaddleOCR models (Apache-2.0), so nothing is downloaded:

* ``ch_PP-OCRv4_det_infer.onnx`` — PP-OCRv4 mobile text detector (DBNet), one quadrilateral
  per text line;
* ``ch_ppocr_mobile_v2.0_cls_infer.onnx`` — the 0/180 degree text-direction classifier, so
  upside-down lines read the right way;
* ``ch_PP-OCRv4_rec_infer.onnx`` — PP-OCRv4 mobile recogniser (SVTR-LCNet, CTC) over
  PaddleOCR's 6,623-character dictionary: simplified Chinese, English letters, digits and
  punctuation (and a space).

**How it differs from PAI's General OCR (spec I5).** PAI runs its own end-to-end OCR model;
this is a different model, so texts and scores differ on the same picture. PAI reports a
detection probability per text area and a recognition probability per line; RapidOCR keeps
only the recognition probability (the mean character probability), which is ``score`` here,
and it drops lines whose score is below 0.5. PAI's per-character ids
(``detection_texts_ids``) index PAI's vocabulary, which is not published, so they have no local
answer. Quadrilaterals here are ``(x, y)`` pixel pairs; PAI's keypoints are ``(y, x)``.

Runtime: one engine per process, created on the first call (1-3 s) and shared; calls
are serialised by a lock because RapidOCR's objects keep per-call state and the engine's
onnxruntime sessions already use two intra-op threads (the machines this targets have two
cores; ``VISLAB_OCR_THREADS`` overrides it). RapidOCR's own loggers are set to ``WARNING`` so
a notebook shows no log lines.

Examples
--------
>>> import numpy as np
>>> read_text(np.full((64, 64, 3), 255, np.uint8))  # no text: no lines
[]
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass

import numpy as np

from vislab.engine.pixels import as_rgb
from vislab.errors import VislabError

__all__ = ["OcrLine", "OcrNotInstalled", "read_text", "get_engine", "MODEL_FILES"]

#: The ONNX files of ``rapidocr-onnxruntime`` the engine runs (in its ``models/`` folder).
MODEL_FILES = (
    "ch_PP-OCRv4_det_infer.onnx",
    "ch_ppocr_mobile_v2.0_cls_infer.onnx",
    "ch_PP-OCRv4_rec_infer.onnx",
)
INSTALL_HINT = 'pip install "vislab[ocr]"'

_ENGINE_LOCK = threading.Lock()  # creation
_CALL_LOCK = threading.Lock()  # one read at a time (see the module docstring)
_ENGINE: list = []


class OcrNotInstalled(VislabError, ImportError):
    """The OCR extra is missing: ``rapidocr-onnxruntime`` cannot be imported.

    Also an ``ImportError``, so code that already catches a missing optional dependency
    keeps working.

    Examples
    --------
    >>> print(OcrNotInstalled())
    local OCR needs the ocr extra (rapidocr-onnxruntime and its PP-OCRv4 models): pip install "vislab[ocr]"
    """

    def __init__(self, detail: str | None = None):
        message = (
            "local OCR needs the ocr extra (rapidocr-onnxruntime and its PP-OCRv4 models): "
            + INSTALL_HINT
        )
        super().__init__(message if detail is None else f"{message} ({detail})")


@dataclass(frozen=True)
class OcrLine:
    """One recognised text line.

    Parameters
    ----------
    text : str
        The recognised text.
    score : float
        Recognition probability, 0-1 (the mean probability of the line's characters).
    quad : numpy.ndarray
        ``(4, 2)`` float64 corners ``(x, y)`` in the input's pixels, clockwise from the
        top-left corner (top-left, top-right, bottom-right, bottom-left); rotated text gives a
        rotated quadrilateral.

    Examples
    --------
    >>> line = OcrLine("TOTAL", 0.99, np.array([[1, 2], [41, 2], [41, 14], [1, 14]], float))
    >>> line.bbox
    (1.0, 2.0, 40.0, 12.0)
    """

    text: str
    score: float
    quad: np.ndarray

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """The quadrilateral's bounding rectangle ``(x, y, w, h)`` in pixels.

        Examples
        --------
        >>> OcrLine("a", 1.0, np.array([[0, 0], [4, 1], [4, 3], [0, 2]], float)).bbox
        (0.0, 0.0, 4.0, 3.0)
        """
        x0, y0 = self.quad.min(axis=0)
        x1, y1 = self.quad.max(axis=0)
        return float(x0), float(y0), float(x1 - x0), float(y1 - y0)


def _threads() -> int:
    value = os.environ.get("VISLAB_OCR_THREADS")
    cores = os.cpu_count() or 1
    if value:
        try:
            return max(1, min(int(value), cores))
        except ValueError:
            pass
    return min(2, cores)


def _quiet_rapidocr_logs() -> None:
    # RapidOCR's get_logger() sets DEBUG and adds a stream handler on first use; it only logs
    # about GPU providers, which the engine does not ask for, but keep notebooks clean anyway.
    for name in ("RapidOCR", "OrtInferSession"):
        logging.getLogger(name).setLevel(logging.WARNING)


def get_engine():
    """The shared ``rapidocr_onnxruntime.RapidOCR`` instance, created on first use.

    Returns
    -------
    rapidocr_onnxruntime.RapidOCR
        The engine (CPU, ``VISLAB_OCR_THREADS`` or 2 intra-op threads per model).

    Raises
    ------
    OcrNotInstalled
        ``rapidocr-onnxruntime`` is not installed (``pip install "vislab[ocr]"``).

    Examples
    --------
    >>> get_engine() is get_engine()
    True
    """
    if _ENGINE:
        return _ENGINE[0]
    with _ENGINE_LOCK:
        if not _ENGINE:
            try:
                from rapidocr_onnxruntime import RapidOCR
            except ImportError as exc:
                raise OcrNotInstalled(str(exc)) from exc
            threads = _threads()
            engine = RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1)
            _quiet_rapidocr_logs()
            _ENGINE.append(engine)
    return _ENGINE[0]


def _clockwise(quad: np.ndarray) -> np.ndarray:
    # Shoelace area in image coordinates (y down): positive means clockwise on screen.
    x, y = quad[:, 0], quad[:, 1]
    area = np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)
    if area < 0:  # counter-clockwise: keep the first corner, reverse the rest
        quad = quad[[0, 3, 2, 1]]
    return quad


def read_text(pixels) -> list[OcrLine]:
    """Detect and recognise the text lines of an image (Chinese and English).

    Parameters
    ----------
    pixels : array-like
        ``uint8`` RGB ``(H, W, 3)``, grey ``(H, W)`` or RGBA ``(H, W, 4)`` (see
        :func:`vislab.engine.pixels.as_rgb`); a PIL image converts with ``numpy.asarray``.

    Returns
    -------
    list of OcrLine
        Lines in reading order (top to bottom, then left to right), each with ``text``,
        ``score`` (0-1) and ``quad`` (``(4, 2)`` ``x, y`` corners clockwise from top-left, in
        the input's pixels). An image without text gives ``[]``.

    Raises
    ------
    vislab.engine.pixels.PixelTypeError
        The array is not ``uint8``.
    vislab.errors.InvalidParameter
        Wrong shape or no pixels.
    OcrNotInstalled
        The ``ocr`` extra is missing.

    Examples
    --------
    >>> from vislab.datasets.samples import receipt
    >>> sample = receipt(seed=0)
    >>> lines = read_text(sample.pixels)
    >>> [line.text for line in lines[:3]]  # the model often drops spaces between words
    ['MAPLEFOODS', '140 King Street', '2026-08-2817:37']
    >>> sample.truth["text"].tolist()[:3]
    ['MAPLE FOODS', '140 King Street', '2026-08-28 17:37']
    >>> lines[0].quad.shape, 0.5 <= lines[0].score <= 1
    ((4, 2), True)
    """
    rgb = as_rgb(pixels, name="pixels")
    engine = get_engine()
    # RapidOCR takes ndarrays as OpenCV's BGR.
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    with _CALL_LOCK:
        result, _elapsed = engine(bgr)
    if not result:
        return []
    lines = []
    for quad, text, score in result:
        corners = _clockwise(np.asarray(quad, dtype=np.float64).reshape(4, 2))
        lines.append(OcrLine(str(text), float(score), corners))
    return lines
