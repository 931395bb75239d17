"""EasyDL in the notebook: datasets, training into versions, publishing, export, call data.

* :class:`Dataset` — a classification or detection dataset from folders, EasyDL zips, COCO,
  VOC, YOLO or frames; :meth:`Dataset.check` reports every rule of EasyDL's data rules.
* :func:`train` — train the next version (V1, V2...) of a classifier or detector on the local
  engine, evaluated on held-out images (:class:`EvaluationReport`).
* :func:`models`, :func:`load` and :class:`ModelVersion` — list the stored versions, open one,
  predict labels or boxes and count objects.
* :func:`publish`, :func:`unpublish`, :func:`published` — serve trained versions at EasyDL's
  wire paths (``vislab serve`` and :class:`vislab.baidu.EasyDL` answer them).
* :func:`log_calls`, :func:`calls`, :func:`to_dataset` — log a published model's calls,
  review them, and put the reviewed images into a new dataset for the next version.
* :meth:`ModelVersion.export` and :func:`load_exported` — a trained version as one ONNX graph
  plus labels and preprocessing JSON, run with onnxruntime alone (the offline SDK's
  counterpart; :mod:`vislab.easydl.export`).
"""

from vislab.easydl.archive import ArchiveError
from vislab.easydl.calls import calls, log_calls, to_dataset
from vislab.easydl.dataset import Dataset
from vislab.easydl.errors import DatasetError
from vislab.easydl.export import ExportedModel, load_exported
from vislab.easydl.publish import publish, published, unpublish
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
    "publish",
    "unpublish",
    "published",
    "log_calls",
    "calls",
    "to_dataset",
    "load_exported",
    "ExportedModel",
]
