"""The state of a :class:`~vislab.widgets.BoxAnnotator`: a pure-Python object, no widget.

:class:`AnnotationState` holds the queue of images, the boxes held for each, each image's
status (to do / saved / skipped) and the position on screen.  The result is a truth boxes frame
(:attr:`AnnotationState.annotations`) and COCO JSON in and out
(:mod:`vislab.datasets.coco`).  The annotator view draws the image and its boxes with
``jupyter-bbox-widget`` and reports drawn boxes back with :meth:`AnnotationState.set_boxes`.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import traitlets

from vislab.errors import InvalidFrame
from vislab.widgets._base import check_frame

__all__ = ["AnnotationState", "box_dicts"]


def box_dicts(boxes) -> list[dict]:
    """Boxes as the list of ``{x, y, width, height, label}`` dicts the drawing widget keeps."""
    if boxes is None:
        return []
    if isinstance(boxes, pd.DataFrame):
        check_frame(boxes, ["label", "x", "y", "w", "h"], name="boxes")
        rows = boxes[["label", "x", "y", "w", "h"]].itertuples(index=False)
        return [
            {"x": float(x), "y": float(y), "width": float(w), "height": float(h), "label": str(lab)}
            for lab, x, y, w, h in rows
        ]
    out = []
    for b in boxes:
        b = dict(b)
        width = b.get("width", b.get("w"))
        height = b.get("height", b.get("h"))
        if width is None or height is None or "x" not in b or "y" not in b:
            raise InvalidFrame(
                f"a box needs x, y, w (or width), h (or height) and label; got {sorted(b)}",
                column="w" if width is None else "h",
            )
        out.append(
            {
                "x": float(b["x"]),
                "y": float(b["y"]),
                "width": float(width),
                "height": float(height),
                "label": str(b.get("label", "")),
            }
        )
    return out


class AnnotationState(traitlets.HasTraits):
    """Queue, boxes and statuses of an annotation session, without any widget.

    Parameters
    ----------
    images, labels, boxes, min_score
        As for :class:`vislab.widgets.BoxAnnotator`.

    Attributes
    ----------
    index : int
        Position of the image on screen (a traitlet, validated).
    revision : int
        Incremented whenever the image on screen or its boxes change (observe it to redraw).
    labels : list of str

    Examples
    --------
    >>> state = AnnotationState({"a": np.zeros((6, 8, 3), np.uint8)}, labels=["cat"])
    >>> state.set_boxes([{"x": 1, "y": 1, "w": 3, "h": 2, "label": "cat"}])
    >>> state.submit()
    >>> state.annotations[["image", "label", "w"]].values.tolist()
    [['a', 'cat', 3.0]]
    """

    index = traitlets.Int(0)
    revision = traitlets.Int(0)

    def __init__(self, images, *, labels, boxes=None, min_score=None):
        from vislab.images import expand_images

        super().__init__()
        self.queue = expand_images(images)
        if not self.queue:
            raise ValueError("BoxAnnotator needs at least one image")
        labels = [str(lab) for lab in labels]
        prefill: dict[str, list[dict]] = {}
        if boxes is not None:
            check_frame(boxes, ["image", "label", "x", "y", "w", "h"], name="boxes")
            if min_score is not None and "score" in boxes.columns:
                boxes = boxes[boxes["score"] >= min_score]
            boxes = boxes.dropna(subset=["x", "y", "w", "h"])
            for lab in pd.unique(boxes["label"].astype(str)):
                if lab not in labels:
                    labels.append(lab)
            known = {key for key, _ in self.queue}
            for key, group in boxes.groupby(boxes["image"].astype(str), sort=False):
                if key in known:
                    prefill[key] = box_dicts(group)
        self.labels = labels
        self.boxes: dict[str, list[dict]] = {k: list(v) for k, v in prefill.items()}
        self.statuses: dict[str, str] = {key: "todo" for key, _ in self.queue}
        self._sizes: dict[str, tuple[int, int]] = {}
        self._encoded: dict[str, bytes] = {}

    # -- queue -------------------------------------------------------------------------------
    @property
    def images(self) -> list[str]:
        """The identifiers of the queue, in order."""
        return [key for key, _ in self.queue]

    @property
    def current_image(self) -> str:
        """Identifier of the image on screen."""
        return self.queue[self.index][0]

    @traitlets.validate("index")
    def _valid_index(self, proposal):
        value = int(proposal["value"])
        if not 0 <= value < len(self.queue):
            raise traitlets.TraitError(f"index must be in 0..{len(self.queue) - 1}, got {value}")
        return value

    @traitlets.observe("index")
    def _on_index(self, change) -> None:
        self.revision += 1

    def go_to(self, image) -> None:
        """Show ``image`` (an identifier from the queue, or a position)."""
        if isinstance(image, (int, np.integer)):
            self.index = int(image)
            return
        try:
            self.index = self.images.index(str(image))
        except ValueError:
            raise KeyError(f"{image!r} is not in the queue") from None

    def next(self) -> None:
        """Move to the next image without changing the status of this one."""
        if self.index < len(self.queue) - 1:
            self.index += 1

    def previous(self) -> None:
        """Move back one image."""
        if self.index > 0:
            self.index -= 1

    def submit(self, boxes=None) -> None:
        """Save this image's boxes (``boxes``, or those held) as its truth; move on."""
        if boxes is not None:
            self.boxes[self.current_image] = box_dicts(boxes)
        self.statuses[self.current_image] = "done"
        self._advance()

    def skip(self) -> None:
        """Leave this image out of the annotations and move on."""
        self.statuses[self.current_image] = "skipped"
        self._advance()

    def _advance(self) -> None:
        todo = [i for i, (k, _) in enumerate(self.queue) if self.statuses[k] == "todo"]
        after = [i for i in todo if i > self.index]
        if after:
            self.index = after[0]
        elif todo:
            self.index = todo[0]
        else:
            self.revision += 1

    # -- boxes -------------------------------------------------------------------------------
    def set_boxes(self, boxes, *, image=None) -> None:
        """Replace the boxes of ``image`` (default: the one on screen).

        Parameters
        ----------
        boxes : DataFrame or list of dict
            Rows / dicts with ``x, y, w, h, label`` (``width``/``height`` also accepted).
        image : str, optional
            Identifier in the queue.
        """
        key = self.current_image if image is None else str(image)
        if key not in self.statuses:
            raise KeyError(f"{key!r} is not in the queue")
        dicts = box_dicts(boxes)
        for b in dicts:
            if b["label"] not in self.labels:
                self.labels.append(b["label"])
        self.boxes[key] = dicts
        self.revision += 1

    def boxes_of(self, image=None) -> pd.DataFrame:
        """The boxes currently held for ``image`` (default: the one on screen), as a frame."""
        key = self.current_image if image is None else str(image)
        return self._frame([key])

    # -- results -----------------------------------------------------------------------------
    @property
    def status(self) -> pd.DataFrame:
        """One row per queued image: ``image, status`` (todo / done / skipped), ``boxes``."""
        return pd.DataFrame(
            {
                "image": self.images,
                "status": [self.statuses[k] for k in self.images],
                "boxes": [len(self.boxes.get(k, [])) for k in self.images],
            }
        )

    @property
    def progress(self) -> dict:
        """Counts of done, skipped and todo images."""
        values = list(self.statuses.values())
        return {
            "done": values.count("done"),
            "skipped": values.count("skipped"),
            "todo": values.count("todo"),
            "total": len(values),
        }

    @property
    def metrics(self) -> pd.DataFrame:
        """The progress as one row: ``done, skipped, todo, total, boxes`` (saved boxes)."""
        row = dict(self.progress)
        row["boxes"] = sum(len(self.boxes.get(k, [])) for k in self.annotated_images)
        return pd.DataFrame([row], index=pd.Index(["all"], name="queue"))

    @property
    def annotated_images(self) -> list[str]:
        """Images saved so far (with or without boxes), in queue order."""
        return [k for k in self.images if self.statuses[k] == "done"]

    @property
    def annotations(self) -> pd.DataFrame:
        """Truth boxes frame of the saved images: ``image, label, x, y, w, h``.

        An image saved with no box has no row, but every saved image is listed in
        ``attrs["images"]`` (``image_id, image, width, height`` as a dict of lists, the
        convention of :mod:`vislab.datasets.coco`), so ``write_coco(ann.annotations, path)``
        keeps empty images and evaluation can count detections on them as false positives.
        """
        keys = self.annotated_images
        frame = self._frame(keys)
        sizes = [self.size(k) for k in keys]
        frame.attrs["images"] = {
            "image_id": list(range(1, len(keys) + 1)),
            "image": list(keys),
            "width": [w for w, _ in sizes],
            "height": [h for _, h in sizes],
        }
        frame.attrs["categories"] = {
            "category_id": list(range(1, len(self.labels) + 1)),
            "label": list(self.labels),
        }
        return frame

    def to_frame(self) -> pd.DataFrame:
        """The annotations so far: a truth boxes frame (see :attr:`annotations`)."""
        return self.annotations

    def _frame(self, keys) -> pd.DataFrame:
        from vislab.frames import truth_boxes

        rows = [
            {
                "image": key,
                "label": b["label"],
                "x": b["x"],
                "y": b["y"],
                "w": b["width"],
                "h": b["height"],
            }
            for key in keys
            for b in self.boxes.get(key, [])
        ]
        frame = pd.DataFrame(rows, columns=["image", "label", "x", "y", "w", "h"])
        frame = frame.astype({"x": float, "y": float, "w": float, "h": float})
        return truth_boxes(frame)

    def size(self, key: str) -> tuple[int, int]:
        """``(width, height)`` of a queued image."""
        if key not in self._sizes:
            self.encoded(key)
        return self._sizes[key]

    def image_sizes(self) -> dict[str, tuple[int, int]]:
        """``{identifier: (width, height)}`` of every queued image (reads each image once)."""
        for key in self.images:
            self.encoded(key)
        return dict(self._sizes)

    def save_coco(self, path) -> Path:
        """Write the saved images and their boxes as a COCO detection JSON file.

        Written with :func:`vislab.datasets.coco.write_coco`: image ``file_name`` is the
        identifier (with its width and height), image ids follow the queue order, category
        ids the order of ``labels``.

        Returns
        -------
        pathlib.Path
        """
        from vislab.datasets.coco import write_coco

        frame = self.annotations
        path = Path(path)
        write_coco(
            frame,
            path,
            images=pd.DataFrame(frame.attrs["images"]),
            categories=pd.DataFrame(frame.attrs["categories"]),
        )
        return path

    def load_coco(self, path) -> None:
        """Load boxes from a COCO JSON file onto the queue; its images count as saved.

        Read with :func:`vislab.datasets.coco.read_coco`.  Images of the file are found in the
        queue by ``file_name`` (as given, or by base name when that is unique); images of the
        file that are not queued are ignored.
        """
        from vislab.datasets.coco import read_coco

        truth = read_coco(path)
        table = truth.attrs.get("images")
        file_images = list(pd.DataFrame(table)["image"]) if table is not None else []
        names = [Path(k).name for k in self.images]
        by_name = {n: k for n, k in zip(names, self.images, strict=True) if names.count(n) == 1}
        mapping = {}
        for name in map(str, file_images):
            if name in self.statuses:
                mapping[name] = name
            elif Path(name).name in by_name:
                mapping[name] = by_name[Path(name).name]
        for lab in pd.unique(truth["label"].astype(str)):
            if lab not in self.labels:
                self.labels.append(lab)
        groups = {str(k): g for k, g in truth.groupby(truth["image"].astype(str), sort=False)}
        for name, key in mapping.items():
            self.boxes[key] = box_dicts(groups[name]) if name in groups else []
            self.statuses[key] = "done"
        self.revision += 1

    # -- pictures ----------------------------------------------------------------------------
    def encoded(self, key: str) -> bytes:
        """Encoded bytes of ``key`` for a browser (its size remembered on the way)."""
        if key in self._encoded:
            return self._encoded[key]
        from PIL import Image, ImageOps

        from vislab.images import load_bytes

        source = dict(self.queue)[key]
        data = load_bytes(source, ident=key)
        if isinstance(data, Image.Image):
            img = data
            buf = io.BytesIO()
            img.convert("RGB").save(buf, format="PNG")
            data = buf.getvalue()
        else:
            opened = Image.open(io.BytesIO(data))
            fmt = opened.format
            # Browsers apply the EXIF orientation, so box coordinates live in the turned image.
            img = ImageOps.exif_transpose(opened)
            if fmt not in ("JPEG", "PNG", "GIF", "WEBP", "BMP"):
                buf = io.BytesIO()
                img.convert("RGB").save(buf, format="PNG")
                data = buf.getvalue()
        self._sizes[key] = img.size
        if len(self._encoded) > 32:  # keep memory bounded on long queues
            self._encoded.pop(next(iter(self._encoded)))
        self._encoded[key] = data
        return data

    def info(self) -> str:
        """One line about the image on screen and the queue (plain text)."""
        p = self.progress
        key = self.current_image
        return (
            f"{self.index + 1} / {p['total']} · {key} ({self.statuses[key]}, "
            f"{len(self.boxes.get(key, []))} boxes) · {p['done']} saved, {p['skipped']} "
            f"skipped, {p['todo']} to do"
        )

    def summary(self) -> str:
        p = self.progress
        return (
            f"BoxAnnotator({p['total']} images: {p['done']} saved, {p['skipped']} skipped, "
            f"{p['todo']} to do; showing {self.current_image!r})"
        )
