"""EasyDL in the notebook: datasets with EasyDL's rules, training into versions, reports.

* :class:`Dataset` — a classification or detection dataset from folders, EasyDL zips, COCO,
  VOC, YOLO or frames; :meth:`Dataset.check` reports every rule of EasyDL's data rules.
* :func:`train` — train the next version (V1, V2...) of a classifier or detector on the local
  engine, evaluated on held-out images (:class:`EvaluationReport`).
* :func:`models`, :func:`load` and :class:`ModelVersion` — list the stored versions, open one,
  predict labels or boxes and count objects.
"""

from vislab.easydl.archive import ArchiveError
from vislab.easydl.dataset import Dataset
from vislab.easydl.errors import DatasetError
from vislab.easydl.report import EvaluationReport
from vislab.easydl.train import TrainingRefused, train
from vislab.easydl.versions import ModelVersion, load, models

__all__ = [
    "Dataset",
    "DatasetError",
    "ArchiveError",
    "train",
    "TrainingRefused",
    "models",
    "load",
    "ModelVersion",
    "EvaluationReport",
]
