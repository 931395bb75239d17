"""Metrics from predictions: classification, detection, retrieval, threshold sweeps.

Cloud services give predictions, never models, so every function here takes frames (DESIGN.md
§2) — a predictions frame and a truth frame — and returns frames or small result objects.  The
numbers are the ones the field trusts: scikit-learn's for classification, pycocotools'
``COCOeval`` for detection (equal on the shared fixtures, bit for bit).

=============================  =========================================================
function                       what it answers
=============================  =========================================================
:func:`classification_report`  per-class precision / recall / F1 (scikit-learn's)
:func:`confusion_matrix`       which label was taken for which (scikit-learn's)
:func:`top_k_accuracy`         is the true label among the top k?
:func:`match_detections`       which box is a TP, an FP, and which object was missed
:func:`coco_eval`              COCO mAP and the 11 other numbers (pycocotools')
:func:`threshold_sweep`        P / R / F1 at every score threshold (detection or labels)
:func:`best_threshold`         the operating point by a rule (F1, precision floor, costs)
:func:`retrieval_sweep`        image search: P / R per similarity cutoff, P@k, R@k
=============================  =========================================================
"""

from vislab.evaluate._validate import ScoreScaleWarning, UnknownLabelWarning
from vislab.evaluate.classification import (
    NO_PREDICTION,
    classification_report,
    confusion_matrix,
    top_k_accuracy,
)
from vislab.evaluate.coco import COCO_STAT_NAMES, CocoResult, coco_eval
from vislab.evaluate.detection import box_iou, match_detections
from vislab.evaluate.retrieval import RetrievalSweep, retrieval_sweep
from vislab.evaluate.sweeps import Sweep, best_threshold, threshold_sweep

__all__ = [
    "classification_report",
    "confusion_matrix",
    "top_k_accuracy",
    "match_detections",
    "box_iou",
    "coco_eval",
    "CocoResult",
    "COCO_STAT_NAMES",
    "threshold_sweep",
    "best_threshold",
    "Sweep",
    "retrieval_sweep",
    "RetrievalSweep",
    "NO_PREDICTION",
    "ScoreScaleWarning",
    "UnknownLabelWarning",
]
