"""EasyDL in the notebook: datasets with EasyDL's rules (more to come: training, publishing).

* :class:`Dataset` — a classification or detection dataset from folders, EasyDL zips, COCO,
  VOC, YOLO or frames; :meth:`Dataset.check` reports every rule of EasyDL's data rules.
"""

from vislab.easydl.archive import ArchiveError
from vislab.easydl.dataset import Dataset
from vislab.easydl.errors import DatasetError

__all__ = ["Dataset", "DatasetError", "ArchiveError"]
