"""Datasets: COCO and VOC-style readers and writers, and generated sample sets.

* :func:`read_coco`, :func:`read_coco_results`, :func:`write_coco`,
  :func:`write_coco_results` — COCO JSON <-> truth / boxes frames.
* :func:`read_voc_txt` — the Pascal-VOC-style text format (one file per image:
  ``class left top right bottom`` or ``class score left top right bottom``).
* :func:`sample_detections` — a small generated detection set built from scikit-image's
  photographs, with truth boxes and plausible noisy detections.
"""

from vislab.datasets.coco import read_coco, read_coco_results, write_coco, write_coco_results
from vislab.datasets.samples import SampleDetections, sample_detections
from vislab.datasets.voc import read_voc_txt

__all__ = [
    "read_coco",
    "read_coco_results",
    "write_coco",
    "write_coco_results",
    "read_voc_txt",
    "sample_detections",
    "SampleDetections",
]
