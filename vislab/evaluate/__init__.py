"""Metrics from predictions: classification, detection, retrieval, threshold sweeps.

Cloud services give predictions, never models, so every function here takes frames (DESIGN.md
§2) — a truth frame and a predictions frame, **truth first** as in scikit-learn and
pycocotools — and returns frames or small result objects.  The numbers are the ones the field
trusts: scikit-learn's for classification, pycocotools' ``COCOeval`` for detection (equal on
the shared fixtures, bit for bit).  Widgets and plots read every number through this package:
it owns every rule.

=================================  =====================================================
function                           what it answers
=================================  =====================================================
:func:`classification_report`      per-class precision / recall / F1 (scikit-learn's)
:func:`confusion_matrix`           which label was taken for which (scikit-learn's)
:func:`aligned_labels`             the true and predicted label of every image
:func:`map_labels`                 a service's labels read as your own categories
:func:`top_k_accuracy`             is the true label among the top k?
:func:`match_detections`           which box is a TP, an FP, and which object was missed
:func:`coco_eval`                  COCO mAP and the 11 other numbers (pycocotools')
:func:`threshold_sweep`            P / R / F1 at every score threshold (detection or labels)
:func:`best_threshold`             the operating point of a sweep by a rule
:func:`apply_threshold`            the rows an application keeps at a threshold
:func:`retrieval_sweep`            image search: P / R per similarity cutoff, P@k, R@k
:class:`Hits`                      image search: hits kept per query at a cutoff
=================================  =====================================================

Truth-first order (``coco_eval(truth, pred)``, ``retrieval_sweep(relevant, matches)``) is
checked: a truth frame with scores next to a prediction frame without them raises
:class:`~vislab.errors.InvalidFrame` saying the arguments look swapped.
"""

from vislab.evaluate._validate import ScoreScaleWarning, UnknownLabelWarning
from vislab.evaluate.classification import (
    NO_PREDICTION,
    OTHER,
    aligned_labels,
    classification_report,
    confusion_matrix,
    top_k_accuracy,
)
from vislab.evaluate.coco import COCO_STAT_NAMES, CocoResult, coco_eval
from vislab.evaluate.detection import box_iou, match_detections
from vislab.evaluate.labels import map_labels
from vislab.evaluate.outcomes import Outcomes, apply_threshold, thresholds_per_row
from vislab.evaluate.retrieval import Hits, RetrievalSweep, id_keys, retrieval_sweep
from vislab.evaluate.rules import best_threshold
from vislab.evaluate.sweeps import COUNT_COLUMNS, Sweep, threshold_sweep

__all__ = [
    "classification_report",
    "confusion_matrix",
    "aligned_labels",
    "map_labels",
    "top_k_accuracy",
    "match_detections",
    "box_iou",
    "coco_eval",
    "CocoResult",
    "COCO_STAT_NAMES",
    "threshold_sweep",
    "best_threshold",
    "apply_threshold",
    "thresholds_per_row",
    "Sweep",
    "Outcomes",
    "COUNT_COLUMNS",
    "retrieval_sweep",
    "RetrievalSweep",
    "Hits",
    "id_keys",
    "NO_PREDICTION",
    "OTHER",
    "ScoreScaleWarning",
    "UnknownLabelWarning",
]
