"""EasyDL datasets: images with a class each (classification) or with boxes (detection).

A :class:`Dataset` references its images (paths, or bytes and arrays held in memory) and knows
each one's size and format from its header (:mod:`vislab.easydl.probe`).  It is immutable:
:meth:`~Dataset.split`, :meth:`~Dataset.subset` and :meth:`~Dataset.merge` return new datasets
that share the images.  Constructors (``from_folder``, ``from_zip``, ``from_coco``,
``from_voc``, ``from_yolo``, ``from_frames``) and writers (``to_folder``, ``to_zip``,
``to_coco``, ``to_voc``, ``to_yolo``) are documented in :mod:`vislab.easydl.dataset_io`.

Rules a user may want to know:

* Labels are strings (YOLO ids without names become ``"0"``, ``"1"``...).  ``classes`` is
  sorted and includes classes that have no image (an empty class folder, a COCO category
  without boxes): EasyDL's rules count them, and a subset keeps the label space it came from.
* A file that cannot be read (missing, empty, not an image) stays in the dataset with its
  reason in the frame's ``error`` column, so :meth:`~Dataset.check` reports it and nothing
  stops an import; :meth:`~Dataset.usable` drops such images before training.
* Identifiers (``image``) are unique.  Where a merge would give two images one identifier,
  the later one becomes ``name~2.jpg`` (then ``~3``...): nothing is dropped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vislab.easydl.dataset_derive import DerivedDatasets
from vislab.easydl.dataset_io import DatasetIO
from vislab.easydl.errors import DatasetError
from vislab.easydl.identity import content_hash
from vislab.easydl.probe import load_pixels

__all__ = ["Dataset", "DatasetError", "KINDS"]

#: The two kinds of dataset (EasyDL's model types).
KINDS = ("classification", "detection")
TABLE_COLUMNS = ["image", "label", "path", "width", "height", "format", "bytes", "error"]
BOX_COLUMNS = ["image", "label", "x", "y", "w", "h"]
#: Extra box columns kept from readers (COCO's crowd flag, VOC's difficult flag).
BOX_EXTRAS = ("iscrowd", "difficult")


class Dataset(DatasetIO, DerivedDatasets):
    """A classification or detection dataset, as EasyDL's console holds one.

    Build one with a constructor — :meth:`from_folder`, :meth:`from_zip`, :meth:`from_coco`,
    :meth:`from_voc`, :meth:`from_yolo`, :meth:`from_frames` — rather than by hand.

    Parameters
    ----------
    kind : {"classification", "detection"}
    table : DataFrame
        One row per image: ``image, label, path, width, height, format, bytes, error``.
    boxes : DataFrame, optional
        Detection: one row per box, ``image, label, x, y, w, h`` (pixels).
    classes : iterable of str, optional
        Classes beyond those that occur (e.g. an empty class folder).
    sources : dict, optional
        Identifier -> bytes, array or PIL image, for images not read from a path.
    keep, origin, notes : optional
        Objects kept alive with it (an extracted zip's temporary folder), where it came
        from (for the repr), and the import's findings that :meth:`check` reports.

    Attributes
    ----------
    kind : str
    classes : list of str
        Sorted class (label) names.
    images : list of str
        Image identifiers, in order.
    frame : DataFrame
        Classification: one row per image ``image, label, path, width, height, format,
        bytes, error``.  Detection: one row per box ``image, label, x, y, w, h, path, width,
        height, format, bytes, error`` (an image with no box has one row with ``label`` NaN).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> truth = pd.DataFrame({"image": ["a", "b", "c"], "label": ["ok", "ok", "scratch"]})
    >>> pixels = {k: np.full((40, 60, 3), 128, np.uint8) for k in "abc"}
    >>> ds = Dataset.from_frames(truth, images=pixels)
    >>> ds
    Dataset('classification', 3 images, 2 classes: ok 2, scratch 1; from frames)
    >>> len(ds), ds.classes, ds.load("a").shape
    (3, ['ok', 'scratch'], (40, 60, 3))
    >>> ds.frame.groupby("label").size().to_dict()
    {'ok': 2, 'scratch': 1}
    """

    def __init__(
        self, kind, table, boxes=None, *, classes=None, sources=None, keep=(), origin="", notes=None
    ):
        if kind not in KINDS:
            raise DatasetError(f"kind must be 'classification' or 'detection', got {kind!r}")
        table = pd.DataFrame(table).reindex(columns=TABLE_COLUMNS).reset_index(drop=True)
        table["image"] = table["image"].astype(str)
        dup = table["image"][table["image"].duplicated()]
        if len(dup):
            raise DatasetError(f"image identifiers must be unique; repeated: {list(dup[:5])}")
        if kind == "classification":
            missing = table["image"][table["label"].isna()]
            if len(missing):
                raise DatasetError(
                    f"{len(missing)} images have no class, e.g. "
                    f"{list(missing[:3])}; give every image a label"
                )
            table["label"] = table["label"].astype(str)
            labels = set(table["label"])
            boxes = None
        else:
            table["label"] = None
            boxes = self._clean_boxes(boxes, set(table["image"]))
            labels = set(boxes["label"])
        self.kind = kind
        self._table = table
        self._boxes = boxes
        self._classes = sorted(labels | {str(c) for c in (classes or ())})
        self._sources = dict(sources or {})
        self._keep = tuple(keep)
        self.origin = origin
        self._notes = list(notes or [])
        self._frame = None
        # Position of each identifier: load() and source() in a training loop stay O(1).
        self._index = {image: i for i, image in enumerate(table["image"])}

    @staticmethod
    def _clean_boxes(boxes, images: set) -> pd.DataFrame:
        if boxes is None:
            return pd.DataFrame(
                {
                    c: pd.Series(dtype=object if c in ("image", "label") else float)
                    for c in BOX_COLUMNS
                }
            )
        extras = [c for c in BOX_EXTRAS if c in boxes.columns]
        out = pd.DataFrame(boxes)[BOX_COLUMNS + extras].reset_index(drop=True)
        out = out[out["label"].notna()].reset_index(drop=True)
        out["image"] = out["image"].astype(str)
        out["label"] = out["label"].astype(str)
        out = out.astype({c: float for c in ("x", "y", "w", "h")})
        stray = sorted(set(out["image"]) - images)
        if stray:
            raise DatasetError(f"boxes name images that are not in the dataset: {stray[:5]}")
        return out

    # -- what it holds -------------------------------------------------------------------

    @property
    def classes(self) -> list[str]:
        """Sorted class (label) names, including classes without an image."""
        return list(self._classes)

    @property
    def images(self) -> list[str]:
        """Image identifiers, in order (also ``list(dataset)``)."""
        return self._table["image"].tolist()

    def __len__(self) -> int:
        return len(self._table)

    def __iter__(self):
        return iter(self.images)

    def __contains__(self, image) -> bool:
        return str(image) in self._index

    @property
    def frame(self) -> pd.DataFrame:
        """One row per image (classification) or per box (detection); see the class notes.

        A copy: changing it changes nothing in the dataset.
        """
        if self._frame is None:
            if self.kind == "classification":
                frame = self._table.copy()
            else:
                facts = self._table.drop(columns="label")
                order = pd.Series(range(len(facts)), index=facts["image"])
                frame = facts[["image"]].merge(self._boxes, on="image", how="left")
                frame = frame.merge(facts, on="image", how="left")
                frame = frame.iloc[np.argsort(order[frame["image"]].to_numpy(), kind="stable")]
                frame = frame.reset_index(drop=True)
            frame.attrs["kind"] = self.kind
            self._frame = frame
        return self._frame.copy()

    def counts(self) -> pd.DataFrame:
        """Images (and boxes, for detection) per class, every class listed.

        Returns
        -------
        DataFrame
            ``label, images`` (+ ``boxes``), in class order.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> t = pd.DataFrame({"image": ["a", "a", "b"], "label": ["cat", "cat", "dog"],
        ...                   "x": 1.0, "y": 1.0, "w": 5.0, "h": 5.0})
        >>> px = {k: np.zeros((40, 40, 3), np.uint8) for k in "ab"}
        >>> Dataset.from_frames(t, images=px).counts()
          label  images  boxes
        0   cat       1      2
        1   dog       1      1
        """
        idx = pd.Index(self._classes, name="label")
        if self.kind == "classification":
            n = self._table.groupby("label").size().reindex(idx, fill_value=0)
            return pd.DataFrame({"images": n.astype(int)}).reset_index()
        b = self._boxes
        boxes = b.groupby("label").size().reindex(idx, fill_value=0)
        images = b.drop_duplicates(["image", "label"]).groupby("label").size()
        images = images.reindex(idx, fill_value=0)
        return pd.DataFrame(
            {"images": images.astype(int), "boxes": boxes.astype(int)}
        ).reset_index()

    def __repr__(self) -> str:
        counts = self.counts()
        per = "images" if self.kind == "classification" else "boxes"
        shown = ", ".join(f"{r.label} {getattr(r, per)}" for r in counts.head(8).itertuples())
        if len(counts) > 8:
            shown += f", ... ({len(counts) - 8} more)"
        n = len(self._classes)
        what = (
            ("class" if n == 1 else "classes")
            if self.kind == "classification"
            else ("label" if n == 1 else "labels")
        )
        text = f"Dataset({self.kind!r}, {len(self)} images, {n} {what}"
        if self.kind == "detection":
            text += f", {len(self._boxes)} boxes"
        text += f": {shown}" if shown else ""
        bad = int(self._table["error"].notna().sum())
        if bad:
            text += f"; {bad} unreadable"
        if self.origin:
            text += f"; from {self.origin}"
        return text + ")"

    def truth(self) -> pd.DataFrame:
        """The truth frame :mod:`vislab.evaluate` takes.

        Returns
        -------
        DataFrame
            Classification: ``image, label``.  Detection: ``image, label, x, y, w, h`` (+
            ``iscrowd`` when the source had crowd regions), with ``attrs["images"]`` listing
            every image (``image_id, image, width, height``, boxes or not) and
            ``attrs["categories"]`` every class, as :func:`vislab.datasets.read_coco` does.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> t = pd.DataFrame({"image": ["a", "b"], "label": ["cat", None],
        ...                   "x": [1.0, None], "y": [2.0, None], "w": [5.0, None],
        ...                   "h": [6.0, None]})
        >>> px = {k: np.zeros((40, 40, 3), np.uint8) for k in "ab"}
        >>> tr = Dataset.from_frames(t, images=px).truth()
        >>> tr.values.tolist(), tr.attrs["images"]["image"]
        ([['a', 'cat', 1.0, 2.0, 5.0, 6.0]], ['a', 'b'])
        """
        if self.kind == "classification":
            out = self._table[["image", "label"]].copy()
            out.attrs["kind"] = "truth_labels"
            return out
        cols = BOX_COLUMNS + (["iscrowd"] if "iscrowd" in self._boxes.columns else [])
        out = self._boxes[cols].copy()
        t = self._table
        out.attrs["kind"] = "truth_boxes"
        out.attrs["images"] = {
            "image_id": list(range(1, len(t) + 1)),
            "image": t["image"].tolist(),
            "width": [None if pd.isna(v) else int(v) for v in t["width"]],
            "height": [None if pd.isna(v) else int(v) for v in t["height"]],
        }
        out.attrs["categories"] = {
            "category_id": list(range(1, len(self._classes) + 1)),
            "label": list(self._classes),
        }
        return out

    def _row(self, image) -> pd.Series:
        pos = self._index.get(str(image))
        if pos is None:
            raise DatasetError(
                f"no image {image!r} in this dataset ({len(self)} images, e.g. {self.images[:3]})"
            )
        return self._table.iloc[pos]

    def source(self, image: str):
        """What :meth:`load` reads for ``image``: its path (a string), or the bytes, array or
        PIL image it was given.

        Parameters
        ----------
        image : str
            An identifier of :attr:`images`.

        Returns
        -------
        str, bytes, numpy.ndarray or PIL.Image.Image

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> ds = Dataset.from_frames(pd.DataFrame({"image": ["a"], "label": ["ok"]}),
        ...                          images={"a": b"not really an image"})
        >>> ds.source("a")
        b'not really an image'
        """
        row = self._row(image)
        if row["image"] in self._sources:
            return self._sources[row["image"]]
        return row["path"]

    def load(self, image: str) -> np.ndarray:
        """The pixels of ``image``: uint8 RGB ``(H, W, 3)``, EXIF orientation applied.

        Raises
        ------
        vislab.errors.InvalidImage
            The image cannot be read (the reason :meth:`check` reports).
        DatasetError
            No such image in the dataset.

        Parameters
        ----------
        image : str
            An identifier of :attr:`images`.

        Returns
        -------
        numpy.ndarray
            ``uint8`` ``(H, W, 3)``.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> ds = Dataset.from_frames(pd.DataFrame({"image": ["a"], "label": ["ok"]}),
        ...                          images={"a": np.zeros((30, 50), np.uint8)})
        >>> ds.load("a").shape
        (30, 50, 3)
        """
        from vislab.errors import InvalidImage

        row = self._row(image)
        if pd.notna(row["error"]):
            raise InvalidImage(
                f"{row['image']}: {row['error']}", rule="unreadable", image=row["image"]
            )
        return load_pixels(self.source(image), row["image"])

    def content_hash(self) -> str:
        """A SHA-256 over the kind, the classes, and every image's identifier, label(s) or
        boxes and file bytes (the pixels of in-memory arrays), independent of image order.

        Two datasets with the same hash train the same model; training records it.

        Returns
        -------
        str
            64 hexadecimal digits.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> t = pd.DataFrame({"image": ["a", "b"], "label": ["ok", "bad"]})
        >>> px = {"a": np.zeros((40, 40), np.uint8), "b": np.ones((40, 40), np.uint8)}
        >>> h = Dataset.from_frames(t, images=px).content_hash()
        >>> len(h), h == Dataset.from_frames(t[::-1], images=px).content_hash()
        (64, True)
        """
        return content_hash(self.kind, self._classes, self._table, self._boxes, self._sources)

    # -- new datasets from this one ------------------------------------------------------

    def _derive(
        self, table, boxes=None, *, classes=None, origin=None, notes=None, keep=None, sources=None
    ):
        return Dataset(
            self.kind,
            table,
            boxes,
            classes=self._classes if classes is None else classes,
            sources=self._sources if sources is None else sources,
            keep=self._keep if keep is None else keep,
            origin=self.origin if origin is None else origin,
            notes=notes,
        )

    def check(self, *, model_kind: str | None = None, decode: bool = False) -> pd.DataFrame:
        """Every EasyDL data rule this dataset breaks: see :func:`vislab.easydl.rules.check`.

        Parameters
        ----------
        model_kind : {"classification", "detection"}, optional
            The kind of model to be trained; a dataset of another kind is an ``error`` row.
        decode : bool, default False
            Decode every image fully (slower; finds damage past the header).

        Returns
        -------
        pandas.DataFrame
            One row per broken rule: ``severity, rule, image, label, limit, value, message``
            (``severity`` is ``"error"`` where EasyDL would refuse, else ``"warning"``).

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> t = pd.DataFrame({"image": ["a", "b"], "label": ["ok", "bad one"]})
        >>> ds = Dataset.from_frames(t, images={k: np.zeros((40, 40), np.uint8) for k in "ab"})
        >>> sorted(set(ds.check()["rule"]))
        ['class_name', 'images_per_class']
        """
        from vislab.easydl.rules import check

        return check(self, model_kind=model_kind, decode=decode)
