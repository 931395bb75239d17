"""Datasets: COCO, VOC and YOLO readers and writers, and generated sample sets.

* :func:`read_coco`, :func:`read_coco_results`, :func:`write_coco`,
  :func:`write_coco_results` — COCO JSON <-> truth / boxes frames.
* :func:`read_voc_txt` — the Pascal-VOC-style text format (one file per image:
  ``class left top right bottom`` or ``class score left top right bottom``).
* :func:`read_voc_xml`, :func:`write_voc_xml` — Pascal VOC XML annotation files.
* :func:`read_yolo`, :func:`write_yolo` — YOLO label files (fractions of the image size).
* :func:`sample_detections` — a small generated detection set built from scikit-image's
  photographs, with truth boxes and plausible noisy detections.
* :func:`defects`, :func:`cells`, :func:`shelf` — generated EasyDL datasets
  (:class:`vislab.easydl.Dataset`): surface defects for classification, dense cells and
  products on shelves for detection and counting.
* :func:`receipt` — a rendered shop receipt with its truth text runs and boxes (for OCR).
"""

from vislab.datasets.coco import read_coco, read_coco_results, write_coco, write_coco_results
from vislab.datasets.samples import (
    Receipt,
    SampleDetections,
    cells,
    defects,
    receipt,
    sample_detections,
    shelf,
)
from vislab.datasets.voc import read_voc_txt, read_voc_xml, write_voc_xml
from vislab.datasets.yolo import read_yolo, read_yolo_names, write_yolo, write_yolo_names

__all__ = [
    "read_coco",
    "read_coco_results",
    "write_coco",
    "write_coco_results",
    "read_voc_txt",
    "read_voc_xml",
    "write_voc_xml",
    "read_yolo",
    "read_yolo_names",
    "write_yolo",
    "write_yolo_names",
    "sample_detections",
    "SampleDetections",
    "defects",
    "cells",
    "shelf",
    "receipt",
    "Receipt",
]
