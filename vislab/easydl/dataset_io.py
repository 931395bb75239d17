"""How a :class:`~vislab.easydl.Dataset` is read and written (its ``from_*`` and ``to_*``).

The folder layouts read are those of :mod:`vislab.easydl.layouts`; the files written are
those of :mod:`vislab.easydl.writers`; zips are opened by :mod:`vislab.easydl.archive`, which
refuses zip-slip paths, links and zip bombs before extracting anything.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from vislab.easydl import layouts, writers
from vislab.easydl.archive import ArchiveLimits, extract_zip
from vislab.easydl.errors import DatasetError
from vislab.easydl.limits import archive_findings, finding

__all__ = ["DatasetIO"]

_GiB = 1024**3


class DatasetIO:
    """The constructors and writers of :class:`~vislab.easydl.Dataset` (a mixin).

    Examples
    --------
    >>> from vislab.easydl import Dataset
    >>> issubclass(Dataset, DatasetIO)
    True
    """

    @classmethod
    def _from_parts(cls, parts, *, origin: str, keep=()):
        from vislab.easydl.dataset import TABLE_COLUMNS

        table = pd.DataFrame(parts.rows, columns=TABLE_COLUMNS)
        return cls(
            parts.kind,
            table,
            parts.boxes,
            classes=parts.classes,
            sources=parts.sources,
            keep=keep,
            origin=origin,
            notes=parts.notes,
        )

    @classmethod
    def from_folder(cls, path, *, kind: str | None = None):
        """A dataset folder: one folder per class, or a detection layout.

        Parameters
        ----------
        path : str or Path
            The folder.  Class folders may sit in it or inside one top-level folder; a folder
            holding VOC XML, a COCO JSON or YOLO labels is read as detection data (the layouts
            of :mod:`vislab.easydl.layouts`, the same :meth:`from_zip` reads).
        kind : {"classification", "detection"}, optional
            Force the kind instead of recognising the layout.

        Returns
        -------
        Dataset
            Images are referenced where they are, not copied.  A file directly in the root
            (outside every class folder) is not imported; :meth:`check` names it.

        Examples
        --------
        >>> import tempfile, pathlib, numpy as np
        >>> from PIL import Image
        >>> from vislab.easydl import Dataset
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> for cls, shade in (("ok", 200), ("scratch", 60)):
        ...     (root / cls).mkdir()
        ...     for i in range(3):
        ...         Image.new("RGB", (64, 48), (shade,) * 3).save(root / cls / f"{i}.jpg")
        >>> ds = Dataset.from_folder(root)
        >>> ds.classes, ds.images[:2]
        (['ok', 'scratch'], ['ok/0.jpg', 'ok/1.jpg'])
        >>> ds.frame[["image", "label", "width", "height", "format"]].head(2)
              image label  width  height format
        0  ok/0.jpg    ok   64.0    48.0   JPEG
        1  ok/1.jpg    ok   64.0    48.0   JPEG
        """
        parts = layouts.read_tree(path, kind=kind)
        return cls._from_parts(parts, origin=f"folder {Path(path).name} ({parts.layout})")

    @classmethod
    def from_zip(
        cls,
        path_or_paths,
        *,
        extract_to=None,
        kind: str | None = None,
        limits: ArchiveLimits | None = None,
    ):
        """EasyDL's upload format: one zip, or several whose same-named classes merge.

        Parameters
        ----------
        path_or_paths : str, Path or list of them
            The zip file(s).  Classification: one folder per class, at the zip's root or
            inside one top-level folder (a zip of one class folder is one class, so classes
            can be uploaded one zip at a time).  Detection: images with a same-named VOC
            ``.xml`` beside them (EasyDL's and LabelImg's format), or ``Annotations/`` +
            ``JPEGImages/``, or a COCO instances ``.json`` with the images beside it or in
            ``images/``, or YOLO ``images/`` + ``labels/``.
        extract_to : str or Path, optional
            An empty (or new) folder to extract into; each of several zips gets a sub-folder.
            Default: a temporary folder that lives as long as the dataset.
        kind : {"classification", "detection"}, optional
            Force the kind instead of recognising the layout.
        limits : vislab.easydl.archive.ArchiveLimits, optional
            Caps on entries, sizes and compression ratio (the zip-bomb rules).

        Returns
        -------
        Dataset
            Identifiers are paths inside the zip (``apple/1.jpg``); an identifier already
            taken by an earlier zip becomes ``apple/1~2.jpg``.  :meth:`check` reports zips
            above EasyDL's 5 GB / 100,000 images and the classes several zips merged.

        Raises
        ------
        vislab.easydl.ArchiveError
            A zip was refused: a path with ``..`` or an absolute path, a link, an encrypted
            entry, or sizes or compression beyond ``limits``.  Nothing of it is extracted.
        DatasetError
            The zips hold different kinds of data.

        Examples
        --------
        >>> import tempfile, pathlib, zipfile, io
        >>> from PIL import Image
        >>> from vislab.easydl import Dataset
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> def jpg(shade):
        ...     buf = io.BytesIO(); Image.new("RGB", (64, 48), (shade,) * 3).save(buf, "JPEG")
        ...     return buf.getvalue()
        >>> with zipfile.ZipFile(d / "part1.zip", "w") as z:
        ...     z.writestr("fruit/apple/1.jpg", jpg(200)); z.writestr("fruit/pear/1.jpg", jpg(90))
        >>> with zipfile.ZipFile(d / "part2.zip", "w") as z:
        ...     z.writestr("apple/1.jpg", jpg(180))
        >>> ds = Dataset.from_zip([d / "part1.zip", d / "part2.zip"])
        >>> ds.images, ds.counts()["images"].tolist()
        (['apple/1.jpg', 'pear/1.jpg', 'apple/1~2.jpg'], [2, 1])
        """
        paths = [path_or_paths] if isinstance(path_or_paths, (str, Path)) else list(path_or_paths)
        if not paths:
            raise DatasetError("from_zip needs at least one zip file")
        keep = ()
        if extract_to is None:
            tmp = tempfile.TemporaryDirectory(prefix="vislab-easydl-")
            base, keep = Path(tmp.name), (tmp,)
        else:
            base = Path(extract_to)
        parts_list = []
        for i, p in enumerate(paths, start=1):
            p = Path(p)
            target = base if len(paths) == 1 else base / f"{i:02d}-{p.stem}"
            extract_zip(p, target, limits=limits)
            parts = layouts.read_tree(target, kind=kind)
            parts.notes += archive_findings(p, p.stat().st_size, len(parts.rows))
            parts_list.append((p, parts))
        kinds = {parts.kind for _, parts in parts_list}
        if len(kinds) > 1:
            which = ", ".join(f"{p.name}: {parts.kind}" for p, parts in parts_list)
            raise DatasetError(
                f"the zips hold different kinds of data ({which}); import "
                "classification and detection zips into separate datasets"
            )
        dataset = None
        for p, parts in parts_list:
            ds = cls._from_parts(parts, origin=f"zip {p.name}", keep=keep)
            if dataset is None:
                dataset = ds
                continue
            have = set(dataset.counts().query("images > 0")["label"])
            for label in sorted(have & set(ds.counts().query("images > 0")["label"])):
                ds._notes.append(
                    finding(
                        "class_merged",
                        "warning",
                        f"{p.name} adds images "
                        f"to the existing class {label!r}: they merge, as in "
                        "EasyDL's console",
                        label=label,
                        image=p.name,
                    )
                )
            dataset = dataset.merge(ds)
        return dataset

    @classmethod
    def from_coco(cls, json, images_dir=None):
        """A COCO instances file (``images``, ``annotations``, ``categories``).

        Parameters
        ----------
        json : str, Path or dict
            The instances file, or its parsed dict.
        images_dir : str or Path, optional
            Where the ``file_name`` paths start; default beside the file or in its
            ``images/`` folder, whichever holds more of them (required for a dict).

        Returns
        -------
        Dataset
            Detection; every listed image, with boxes or not; every category is a class.
            Crowd regions keep their ``iscrowd`` flag in :meth:`truth`.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from PIL import Image
        >>> from vislab.easydl import Dataset
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> Image.new("RGB", (64, 48)).save(d / "a.jpg")
        >>> gt = {"images": [{"id": 1, "file_name": "a.jpg"}],
        ...       "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
        ...       "annotations": [{"id": 1, "image_id": 1, "category_id": 2,
        ...                        "bbox": [4, 5, 20, 10]}]}
        >>> ds = Dataset.from_coco(gt, images_dir=d)
        >>> ds.classes, ds.truth().values.tolist()
        (['cat', 'dog'], [['a.jpg', 'dog', 4.0, 5.0, 20.0, 10.0]])
        """
        try:
            parts = layouts.read_coco_file(json, images_dir)
        except DatasetError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise DatasetError(
                f"not a COCO instances file ({type(exc).__name__}: {exc}); it needs "
                "'images', 'annotations' (with image_id, category_id, bbox) and "
                "'categories'"
            ) from None
        name = Path(json).name if isinstance(json, (str, Path)) else "a COCO dict"
        return cls._from_parts(parts, origin=f"COCO {name}")

    @classmethod
    def from_voc(cls, path):
        """Pascal VOC XML annotations: ``Annotations/`` + ``JPEGImages/``, or each image with
        its ``.xml`` beside it (sub-folders allowed).

        Returns
        -------
        Dataset
            Detection; an image without an XML file is an image without boxes.  Boxes are
            ``x = xmin, w = xmax - xmin`` (see :mod:`vislab.datasets.voc`).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from PIL import Image
        >>> from vislab.easydl import Dataset
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> Image.new("RGB", (64, 48)).save(d / "a.jpg"); Image.new("RGB", (64, 48)).save(d / "b.jpg")
        >>> _ = (d / "a.xml").write_text("<annotation><filename>a.jpg</filename><object>"
        ...     "<name>cat</name><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>11</xmax>"
        ...     "<ymax>12</ymax></bndbox></object></annotation>")
        >>> ds = Dataset.from_voc(d)
        >>> ds.frame[["image", "label", "w"]].values.tolist()
        [['a.jpg', 'cat', 10.0], ['b.jpg', nan, nan]]
        """
        return cls._from_parts(layouts.read_voc_tree(path), origin=f"VOC {Path(path).name}")

    @classmethod
    def from_yolo(cls, path, *, names=None):
        """YOLO labels: ``images/`` + ``labels/`` (Ultralytics) or images and ``.txt`` side by
        side (Darknet).

        Parameters
        ----------
        path : str or Path
        names : list of str, str or Path, optional
            Class names by id, or the file holding them; default the ``data.yaml``,
            ``classes.txt`` or ``obj.names`` in ``path``.  Without any, labels are the ids.

        Returns
        -------
        Dataset
            Detection; boxes in pixels from each image's header size.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from PIL import Image
        >>> from vislab.easydl import Dataset
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> (d / "images").mkdir(); (d / "labels").mkdir()
        >>> Image.new("RGB", (100, 50)).save(d / "images" / "a.png")
        >>> _ = (d / "labels" / "a.txt").write_text("1 0.5 0.5 0.2 0.4\\n")
        >>> ds = Dataset.from_yolo(d, names=["cat", "dog"])
        >>> ds.truth().values.tolist()
        [['a.png', 'dog', 40.0, 15.0, 20.0, 20.0]]
        """
        parts = layouts.read_yolo_tree(path, names=names)
        return cls._from_parts(parts, origin=f"YOLO {Path(path).name}")

    @classmethod
    def from_frames(
        cls, truth: pd.DataFrame, images=None, *, kind: str | None = None, classes=None
    ):
        """A truth frame and its images, e.g. ``BoxAnnotator(...).annotations``.

        Parameters
        ----------
        truth : DataFrame
            ``image, label`` (classification) or ``image, label, x, y, w, h`` (detection,
            pixels).  A detection row with ``label`` NaN marks an image without boxes, and so
            does an image listed in ``truth.attrs["images"]["image"]`` (as
            :class:`~vislab.widgets.BoxAnnotator` lists every image it saved).
        images : mapping, str or Path, optional
            Identifier -> path, bytes, numpy array or PIL image; or a folder the identifiers
            are relative to.  Default: the identifiers are paths.  Images of a mapping that
            ``truth`` does not name are not part of the dataset.
        kind : {"classification", "detection"}, optional
            Default: detection when ``truth`` has box columns.
        classes : iterable of str, optional
            Classes beyond those that occur; default also ``truth.attrs["categories"]``.

        Returns
        -------
        Dataset

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from vislab.easydl import Dataset
        >>> truth = pd.DataFrame({"image": ["a", "a"], "label": ["cell", "cell"],
        ...                       "x": [2.0, 20.0], "y": [3.0, 5.0], "w": [8.0, 9.0],
        ...                       "h": [8.0, 9.0]})
        >>> truth.attrs["images"] = {"image": ["a", "b"]}
        >>> ds = Dataset.from_frames(truth, images={k: np.zeros((48, 64, 3), np.uint8)
        ...                                         for k in "ab"})
        >>> ds
        Dataset('detection', 2 images, 1 label, 2 boxes: cell 2; from frames)
        """
        parts = layouts.read_frames(truth, images, kind=kind, classes=classes)
        return cls._from_parts(parts, origin="frames")

    # -- writers -------------------------------------------------------------------------

    def to_folder(self, folder) -> Path:
        """Write EasyDL's layout into a new folder (what :meth:`to_zip` zips).

        Classification: one folder per class.  Detection: each image with a same-named VOC
        ``.xml`` beside it.  :meth:`from_folder` reads it back.

        Examples
        --------
        >>> import tempfile, numpy as np, pandas as pd
        >>> from vislab.easydl import Dataset
        >>> ds = Dataset.from_frames(pd.DataFrame({"image": ["a", "b"], "label": ["ok", "bad"]}),
        ...                          images={k: np.zeros((40, 40), np.uint8) for k in "ab"})
        >>> Dataset.from_folder(ds.to_folder(tempfile.mkdtemp() + "/copy")).images
        ['bad/b.png', 'ok/a.png']
        """
        return writers.to_folder(self, folder)

    def to_zip(
        self, folder_or_path, *, max_bytes: int = 5 * _GiB, max_images: int = 100_000
    ) -> list[Path]:
        """Write EasyDL's upload zip(s): several when one would pass ``max_bytes`` or
        ``max_images``.

        Parameters
        ----------
        folder_or_path : str or Path
            ``name.zip``, or a folder (the zip is ``<folder>/dataset.zip``).  When split:
            ``name_part1.zip``, ``name_part2.zip``..., each complete on its own (EasyDL merges
            their same-named classes).
        max_bytes : int, default 5 GiB
            EasyDL's cap per zip.
        max_images : int, default 100,000
            EasyDL's cap per zip.

        Returns
        -------
        list of Path

        Examples
        --------
        >>> import tempfile, numpy as np, pandas as pd
        >>> from vislab.easydl import Dataset
        >>> t = pd.DataFrame({"image": list("abcde"), "label": ["ok"] * 3 + ["bad"] * 2})
        >>> ds = Dataset.from_frames(t, images={k: np.zeros((40, 40), np.uint8) for k in "abcde"})
        >>> zips = ds.to_zip(tempfile.mkdtemp(), max_images=2)
        >>> [p.name for p in zips]
        ['dataset_part1.zip', 'dataset_part2.zip', 'dataset_part3.zip']
        >>> Dataset.from_zip(zips).counts()["images"].tolist()
        [2, 3]
        """
        path = Path(folder_or_path)
        if path.suffix.lower() != ".zip":
            path = path / "dataset.zip"
        return writers.to_zip(self, path, max_bytes=max_bytes, max_images=max_images)

    def to_coco(self, folder) -> Path:
        """Write ``annotations.json`` (COCO instances) and ``images/`` into a new folder.

        Returns the JSON's path; ``Dataset.from_coco(path)`` reads it back.  Detection only.

        Examples
        --------
        >>> import tempfile, numpy as np, pandas as pd
        >>> from vislab.easydl import Dataset
        >>> t = pd.DataFrame({"image": ["a.png"], "label": ["cat"], "x": [1.0], "y": [2.0],
        ...                   "w": [10.0], "h": [5.0]})
        >>> ds = Dataset.from_frames(t, images={"a.png": np.zeros((40, 40), np.uint8)})
        >>> Dataset.from_coco(ds.to_coco(tempfile.mkdtemp() + "/c")).truth().equals(ds.truth())
        True
        """
        return writers.to_coco(self, folder)

    def to_voc(self, folder) -> Path:
        """Write Pascal VOC's ``Annotations/`` and ``JPEGImages/`` into a new folder.

        Detection only; :meth:`from_voc` reads it back.

        Examples
        --------
        >>> import tempfile, numpy as np, pandas as pd
        >>> from vislab.easydl import Dataset
        >>> t = pd.DataFrame({"image": ["a.png"], "label": ["cat"], "x": [1.0], "y": [2.0],
        ...                   "w": [10.0], "h": [5.0]})
        >>> ds = Dataset.from_frames(t, images={"a.png": np.zeros((40, 40), np.uint8)})
        >>> Dataset.from_voc(ds.to_voc(tempfile.mkdtemp() + "/v")).truth().values.tolist()
        [['a.png', 'cat', 1.0, 2.0, 10.0, 5.0]]
        """
        return writers.to_voc(self, folder)

    def to_yolo(self, folder) -> Path:
        """Write Ultralytics' ``images/``, ``labels/``, ``data.yaml`` and ``classes.txt``.

        Detection only; :meth:`from_yolo` reads it back (boxes to within 1e-6 px: YOLO
        stores fractions).

        Examples
        --------
        >>> import tempfile, numpy as np, pandas as pd
        >>> from vislab.easydl import Dataset
        >>> t = pd.DataFrame({"image": ["a.png"], "label": ["cat"], "x": [1.0], "y": [2.0],
        ...                   "w": [10.0], "h": [5.0]})
        >>> ds = Dataset.from_frames(t, images={"a.png": np.zeros((40, 40), np.uint8)})
        >>> Dataset.from_yolo(ds.to_yolo(tempfile.mkdtemp() + "/y")).truth().values.tolist()
        [['a.png', 'cat', 1.0, 2.0, 10.0, 5.0]]
        """
        return writers.to_yolo(self, folder)
