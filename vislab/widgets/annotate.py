"""BoxAnnotator: draw, move, resize and label boxes on a queue of images.

Drawing is done by ``jupyter-bbox-widget`` (an anywidget: it needs no JupyterLab extension
build).  vislab adds the queue (previous / skip / save & next, progress), pre-filled boxes from
any boxes frame (correct a model instead of starting from nothing), the result as a truth
boxes frame, and COCO JSON in and out.
"""

from __future__ import annotations

import io
from pathlib import Path

import ipywidgets as widgets
import numpy as np
import pandas as pd
import traitlets

from vislab.errors import InvalidFrame
from vislab.widgets._base import StaticFallback, check_frame, escape
from vislab.widgets._static import ImageGrid, Tile, new_figure

__all__ = ["BoxAnnotator"]

_STATUS_MARK = {"done": "✓", "skipped": "–", "todo": "·"}


def _box_dicts(boxes) -> list[dict]:
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


class BoxAnnotator(StaticFallback, widgets.VBox):
    """Label boxes on a queue of images; the result is a truth boxes frame.

    Parameters
    ----------
    images : list, dict, glob pattern or Series
        The queue, in order: anything :func:`vislab.images.expand_images` accepts — paths,
        ``{identifier: path/bytes/PIL image/array}``, ``"photos/*.jpg"``.  The identifier of
        each image is what appears in the ``image`` column of :attr:`annotations`.
    labels : list of str
        The classes a person can choose from.
    boxes : DataFrame, optional
        Any boxes frame (a model's predictions or existing truth: ``image, label, x, y, w, h``)
        to pre-fill the drawing, so a person corrects boxes instead of drawing all of them.
        Labels not in ``labels`` are added to the choices.
    min_score : float, optional
        With ``boxes`` holding a ``score`` column, pre-fill only boxes scoring at least this.

    Attributes
    ----------
    index : int
        Position of the image on screen (a traitlet: set it to jump, observe it to follow).
    annotations : DataFrame
        Truth boxes ``image, label, x, y, w, h`` of every image saved so far.
    bbox : jupyter_bbox_widget.BBoxWidget
        The drawing widget, for its own options (colours, keyboard shortcuts).

    Examples
    --------
    >>> import numpy as np
    >>> photos = {"a": np.zeros((60, 80, 3), np.uint8), "b": np.zeros((60, 80, 3), np.uint8)}
    >>> ann = BoxAnnotator(photos, labels=["cat", "dog"])
    >>> ann.set_boxes([{"x": 5, "y": 6, "w": 20, "h": 10, "label": "cat"}])
    >>> ann.submit()          # save this image and move on
    >>> ann.current_image
    'b'
    >>> ann.annotations
      image label    x    y     w     h
    0     a   cat  5.0  6.0  20.0  10.0
    >>> ann.progress
    {'done': 1, 'skipped': 0, 'todo': 1, 'total': 2}
    """

    index = traitlets.Int(0)

    def __init__(self, images, *, labels, boxes=None, min_score=None, **kwargs):
        from jupyter_bbox_widget import BBoxWidget

        from vislab.images import expand_images

        super().__init__(**kwargs)
        self._queue = expand_images(images)
        if not self._queue:
            raise ValueError("BoxAnnotator needs at least one image")
        labels = [str(lab) for lab in labels]
        self._prefill: dict[str, list[dict]] = {}
        if boxes is not None:
            check_frame(boxes, ["image", "label", "x", "y", "w", "h"], name="boxes")
            if min_score is not None and "score" in boxes.columns:
                boxes = boxes[boxes["score"] >= min_score]
            boxes = boxes.dropna(subset=["x", "y", "w", "h"])
            for lab in pd.unique(boxes["label"].astype(str)):
                if lab not in labels:
                    labels.append(lab)
            known = {key for key, _ in self._queue}
            for key, group in boxes.groupby(boxes["image"].astype(str), sort=False):
                if key in known:
                    self._prefill[key] = _box_dicts(group)
        self.labels = labels
        self._boxes: dict[str, list[dict]] = {k: list(v) for k, v in self._prefill.items()}
        self._status: dict[str, str] = {key: "todo" for key, _ in self._queue}
        self._sizes: dict[str, tuple[int, int]] = {}
        self._encoded: dict[str, bytes] = {}

        self.bbox = BBoxWidget(classes=labels, hide_buttons=True)
        if labels:
            self.bbox.label = labels[0]
        self.bbox.on_submit(self.submit)
        self.bbox.on_skip(self.skip)
        self.bbox.observe(self._on_draw, names="bboxes")

        self._prev_button = widgets.Button(description="◀ Previous", icon="")
        self._skip_button = widgets.Button(description="Skip")
        self._save_button = widgets.Button(description="Save & next ▶", button_style="success")
        self._prev_button.on_click(lambda _: self.previous())
        self._skip_button.on_click(lambda _: self.skip())
        self._save_button.on_click(lambda _: self.submit())
        self._bar = widgets.IntProgress(min=0, max=len(self._queue), value=0)
        self._info = widgets.HTML()
        self._info.add_class("vislab-annotator-info")
        self.add_class("vislab-box-annotator")
        self.children = [
            widgets.HBox([self._prev_button, self._skip_button, self._save_button, self._bar]),
            self._info,
            self.bbox,
        ]
        self._show(0)

    # -- queue -------------------------------------------------------------------------------
    @property
    def images(self) -> list[str]:
        """The identifiers of the queue, in order."""
        return [key for key, _ in self._queue]

    @property
    def current_image(self) -> str:
        """Identifier of the image on screen."""
        return self._queue[self.index][0]

    @traitlets.validate("index")
    def _valid_index(self, proposal):
        value = int(proposal["value"])
        if not 0 <= value < len(self._queue):
            raise traitlets.TraitError(f"index must be in 0..{len(self._queue) - 1}, got {value}")
        return value

    @traitlets.observe("index")
    def _on_index(self, change):
        self._show(change["new"])

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
        if self.index < len(self._queue) - 1:
            self.index += 1

    def previous(self) -> None:
        """Move back one image."""
        if self.index > 0:
            self.index -= 1

    def submit(self) -> None:
        """Save the boxes on screen as this image's truth and move to the next image."""
        self._status[self.current_image] = "done"
        self._boxes[self.current_image] = _box_dicts(self.bbox.bboxes)
        self._advance()

    def skip(self) -> None:
        """Leave this image out of the annotations and move on."""
        self._status[self.current_image] = "skipped"
        self._advance()

    def _advance(self) -> None:
        todo = [i for i, (k, _) in enumerate(self._queue) if self._status[k] == "todo"]
        after = [i for i in todo if i > self.index]
        if after:
            self.index = after[0]
        elif todo:
            self.index = todo[0]
        else:
            self._refresh_info()

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
        if key not in self._status:
            raise KeyError(f"{key!r} is not in the queue")
        dicts = _box_dicts(boxes)
        for b in dicts:
            if b["label"] not in self.labels:
                self.labels.append(b["label"])
                self.bbox.classes = list(self.labels)
        self._boxes[key] = dicts
        if key == self.current_image:
            self.bbox.bboxes = [dict(b) for b in dicts]
        else:
            self._refresh_info()

    def boxes_of(self, image=None) -> pd.DataFrame:
        """The boxes currently held for ``image`` (default: the one on screen), as a frame."""
        key = self.current_image if image is None else str(image)
        return self._frame([key], include_all=True)

    def _on_draw(self, change) -> None:
        self._boxes[self.current_image] = _box_dicts(change["new"])
        self._refresh_info()

    # -- results -----------------------------------------------------------------------------
    @property
    def status(self) -> pd.DataFrame:
        """One row per queued image: ``image, status`` (todo / done / skipped), ``boxes``."""
        return pd.DataFrame(
            {
                "image": self.images,
                "status": [self._status[k] for k in self.images],
                "boxes": [len(self._boxes.get(k, [])) for k in self.images],
            }
        )

    @property
    def progress(self) -> dict:
        """Counts of done, skipped and todo images."""
        values = list(self._status.values())
        return {
            "done": values.count("done"),
            "skipped": values.count("skipped"),
            "todo": values.count("todo"),
            "total": len(values),
        }

    @property
    def annotated_images(self) -> list[str]:
        """Images saved so far (with or without boxes), in queue order."""
        return [k for k in self.images if self._status[k] == "done"]

    @property
    def annotations(self) -> pd.DataFrame:
        """Truth boxes frame of the saved images: ``image, label, x, y, w, h``.

        An image saved with no box has no row, but every saved image is listed in
        ``attrs["images"]`` (``image_id, image, width, height`` as a dict of lists, the
        convention of :mod:`vislab.datasets.coco`), so ``write_coco(ann.annotations, path)``
        keeps empty images and evaluation can count detections on them as false positives.
        """
        frame = self._frame(self.annotated_images)
        keys = self.annotated_images
        sizes = [self._size(k) for k in keys]
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

    def _size(self, key: str) -> tuple[int, int]:
        if key not in self._sizes:
            self._image(key)
        return self._sizes[key]

    def _frame(self, keys, include_all=False) -> pd.DataFrame:
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
            for b in self._boxes.get(key, [])
        ]
        frame = pd.DataFrame(rows, columns=["image", "label", "x", "y", "w", "h"])
        frame = frame.astype({"x": float, "y": float, "w": float, "h": float})
        return truth_boxes(frame)

    def image_sizes(self) -> dict[str, tuple[int, int]]:
        """``{identifier: (width, height)}`` of every queued image (reads each image once)."""
        for key in self.images:
            self._image(key)
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
            if name in self._status:
                mapping[name] = name
            elif Path(name).name in by_name:
                mapping[name] = by_name[Path(name).name]
        for lab in pd.unique(truth["label"].astype(str)):
            if lab not in self.labels:
                self.labels.append(lab)
        self.bbox.classes = list(self.labels)
        groups = {str(k): g for k, g in truth.groupby(truth["image"].astype(str), sort=False)}
        for name, key in mapping.items():
            self._boxes[key] = _box_dicts(groups[name]) if name in groups else []
            self._status[key] = "done"
        self._show(self.index)

    # -- display -----------------------------------------------------------------------------
    def _image(self, key: str) -> bytes:
        """Encoded bytes of ``key`` for the drawing widget (size remembered on the way)."""
        if key in self._encoded:
            return self._encoded[key]
        from PIL import Image, ImageOps

        from vislab.images import load_bytes

        source = dict(self._queue)[key]
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

    def _show(self, index: int) -> None:
        key = self._queue[index][0]
        self.bbox.image_bytes = self._image(key)
        self.bbox.bboxes = [dict(b) for b in self._boxes.get(key, [])]
        self._prev_button.disabled = index == 0
        self._refresh_info()

    def _refresh_info(self) -> None:
        p = self.progress
        self._bar.value = p["done"] + p["skipped"]
        key = self.current_image
        self._info.value = (
            f"<b>{self.index + 1} / {p['total']}</b> · <code>{escape(key)}</code> "
            f"({self._status[key]}, {len(self._boxes.get(key, []))} boxes) · "
            f"<span class='vislab-progress'>{p['done']} saved, {p['skipped']} skipped, "
            f"{p['todo']} to do</span>"
        )

    def summary(self) -> str:
        p = self.progress
        return (
            f"BoxAnnotator({p['total']} images: {p['done']} saved, {p['skipped']} skipped, "
            f"{p['todo']} to do; showing {self.current_image!r})"
        )

    def static_figure(self, *, max_images: int = 8):
        """A figure of the queue around the current image with the boxes held for each."""
        from vislab.widgets._base import ImageSource

        start = max(0, min(self.index, len(self._queue) - max_images))
        keys = self.images[start : start + max_images]
        ncols = min(4, len(keys))
        nrows = -(-len(keys) // ncols)
        fig = new_figure((2.6 * ncols, 2.4 * nrows + 0.4))
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        for extra in axes[len(keys) :]:
            extra.set_visible(False)
        grid = ImageGrid(axes=axes[: len(keys)])
        src = ImageSource(dict(self._queue))
        colors = {lab: f"C{i % 10}" for i, lab in enumerate(self.labels)}
        tiles = []
        for key in keys:
            pixels, size = src.get(key)
            held = self._boxes.get(key, [])
            tiles.append(
                Tile(
                    title=f"{_STATUS_MARK[self._status[key]]} {Path(key).name[:22]}",
                    title_color="black" if key != self.current_image else "#1f77b4",
                    pixels=pixels,
                    size=size,
                    boxes=np.array(
                        [[b["x"], b["y"], b["width"], b["height"]] for b in held]
                    ).reshape(-1, 4),
                    colors=[colors.get(b["label"], "C0") for b in held],
                    labels=[b["label"] for b in held],
                )
            )
        grid.draw(tiles)
        p = self.progress
        fig.suptitle(
            f"BoxAnnotator: {p['done']} saved, {p['skipped']} skipped, {p['todo']} to do "
            f"(✓ saved, – skipped, · to do)",
            fontsize=10,
        )
        fig.tight_layout()
        return fig
