"""EasyDL in the notebook: datasets with EasyDL's rules, publishing, and the call-data loop.

* :class:`Dataset` — a classification or detection dataset from folders, EasyDL zips, COCO,
  VOC, YOLO or frames; :meth:`Dataset.check` reports every rule of EasyDL's data rules.
* :func:`publish`, :func:`unpublish`, :func:`published` — serve trained versions at EasyDL's
  wire paths (``vislab serve`` and :class:`vislab.baidu.EasyDL` answer them).
* :func:`log_calls`, :func:`calls`, :func:`to_dataset` — log a published model's calls,
  review them, and put the reviewed images into a new dataset for the next version.
* :func:`export`, :func:`load_exported` — a trained version as one ONNX graph plus labels and
  preprocessing JSON, run with onnxruntime alone (our counterpart of the offline SDK).
"""

from vislab.easydl.archive import ArchiveError
from vislab.easydl.calls import calls, log_calls, to_dataset
from vislab.easydl.dataset import Dataset
from vislab.easydl.errors import DatasetError
from vislab.easydl.export import ExportedModel, export, load_exported
from vislab.easydl.publish import publish, published, unpublish

__all__ = [
    "Dataset",
    "DatasetError",
    "ArchiveError",
    "publish",
    "unpublish",
    "published",
    "log_calls",
    "calls",
    "to_dataset",
    "export",
    "load_exported",
    "ExportedModel",
]
