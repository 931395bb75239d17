"""BoxAnnotator: draw, move, resize and label boxes on a queue of images.

Drawing is done by ``jupyter-bbox-widget`` (an anywidget: it needs no JupyterLab extension
build).  vislab adds the queue (previous / skip / save & next, progress), pre-filled boxes from
any boxes frame (correct a model instead of starting from nothing), the result as a truth
boxes frame, and COCO JSON in and out.  The widget is a view of an
:class:`~vislab.widgets.annotate_state.AnnotationState` (pure Python).
"""

from __future__ import annotations

from pathlib import Path

import ipywidgets as widgets
import numpy as np
import pandas as pd
import traitlets

from vislab.widgets._base import StaticFallback, escape, shorten
from vislab.widgets._static import ImageGrid, Tile, new_figure
from vislab.widgets.annotate_state import AnnotationState, box_dicts

__all__ = ["BoxAnnotator"]

_STATUS_MARK = {"done": "✓", "skipped": "–", "todo": "·"}


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
    state : AnnotationState
        The pure-Python state the view shows (queue, boxes, statuses).

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

        super().__init__(**kwargs)
        self.state = AnnotationState(images, labels=labels, boxes=boxes, min_score=min_score)
        self.bbox = BBoxWidget(classes=list(self.labels), hide_buttons=True)
        if self.labels:
            self.bbox.label = self.labels[0]
        self.bbox.on_submit(self.submit)
        self.bbox.on_skip(self.skip)
        self.bbox.observe(self._on_draw, names="bboxes")

        self._prev_button = widgets.Button(description="◀ Previous", icon="")
        self._skip_button = widgets.Button(description="Skip")
        self._save_button = widgets.Button(description="Save & next ▶", button_style="success")
        self._prev_button.on_click(lambda _: self.previous())
        self._skip_button.on_click(lambda _: self.skip())
        self._save_button.on_click(lambda _: self.submit())
        self._bar = widgets.IntProgress(min=0, max=len(self.state.queue), value=0)
        self._info = widgets.HTML()
        self._info.add_class("vislab-annotator-info")
        self.add_class("vislab-box-annotator")
        self.children = [
            widgets.HBox([self._prev_button, self._skip_button, self._save_button, self._bar]),
            self._info,
            self.bbox,
        ]
        self._drawing = False
        traitlets.link((self.state, "index"), (self, "index"))
        self.state.observe(self._show, names="revision")
        self._show(None)

    # -- what the state knows ----------------------------------------------------------------
    labels = property(lambda self: self.state.labels)
    images = property(lambda self: self.state.images)
    current_image = property(lambda self: self.state.current_image)
    status = property(lambda self: self.state.status)
    progress = property(lambda self: self.state.progress)
    metrics = property(lambda self: self.state.metrics)
    annotated_images = property(lambda self: self.state.annotated_images)
    annotations = property(lambda self: self.state.annotations)

    def to_frame(self) -> pd.DataFrame:
        """The annotations so far: a truth boxes frame (see :attr:`annotations`)."""
        return self.state.to_frame()

    def go_to(self, image) -> None:
        """Show ``image`` (an identifier from the queue, or a position)."""
        self.state.go_to(image)

    def next(self) -> None:
        """Move to the next image without changing the status of this one."""
        self.state.next()

    def previous(self) -> None:
        """Move back one image."""
        self.state.previous()

    def submit(self, *_) -> None:
        """Save the boxes on screen as this image's truth and move to the next image."""
        self.state.submit(self.bbox.bboxes)

    def skip(self, *_) -> None:
        """Leave this image out of the annotations and move on."""
        self.state.skip()

    def set_boxes(self, boxes, *, image=None) -> None:
        """Replace the boxes of ``image`` (default: the one on screen).

        Parameters
        ----------
        boxes : DataFrame or list of dict
            Rows / dicts with ``x, y, w, h, label`` (``width``/``height`` also accepted).
        image : str, optional
            Identifier in the queue.
        """
        self.state.set_boxes(boxes, image=image)

    def boxes_of(self, image=None) -> pd.DataFrame:
        """The boxes currently held for ``image`` (default: the one on screen), as a frame."""
        return self.state.boxes_of(image)

    def image_sizes(self) -> dict[str, tuple[int, int]]:
        """``{identifier: (width, height)}`` of every queued image (reads each image once)."""
        return self.state.image_sizes()

    def save_coco(self, path) -> Path:
        """Write the saved images and their boxes as a COCO detection JSON file (see
        :meth:`AnnotationState.save_coco`)."""
        return self.state.save_coco(path)

    def load_coco(self, path) -> None:
        """Load boxes from a COCO JSON file onto the queue (see
        :meth:`AnnotationState.load_coco`)."""
        self.state.load_coco(path)

    # -- display -----------------------------------------------------------------------------
    def _on_draw(self, change) -> None:
        if not self._drawing:  # a person drew in the browser: the state holds it
            self.state.set_boxes(change["new"])

    def _show(self, change) -> None:
        st = self.state
        key = st.current_image
        self._drawing = True
        try:
            if list(self.bbox.classes) != list(st.labels):
                self.bbox.classes = list(st.labels)
            image = st.encoded(key)
            if self.bbox.image_bytes != image:
                self.bbox.image_bytes = image
            held = [dict(b) for b in st.boxes.get(key, [])]
            if box_dicts(self.bbox.bboxes) != held:
                self.bbox.bboxes = held
        finally:
            self._drawing = False
        self._prev_button.disabled = st.index == 0
        p = st.progress
        self._bar.value = p["done"] + p["skipped"]
        self._info.value = (
            f"<b>{st.index + 1} / {p['total']}</b> · <code>{escape(key)}</code> "
            f"({st.statuses[key]}, {len(st.boxes.get(key, []))} boxes) · "
            f"<span class='vislab-progress'>{p['done']} saved, {p['skipped']} skipped, "
            f"{p['todo']} to do</span>"
        )

    def summary(self) -> str:
        return self.state.summary()

    def static_figure(self, *, max_images: int = 8):
        """A figure of the queue around the current image with the boxes held for each."""
        from vislab.widgets._base import ImageSource

        start = max(0, min(self.index, len(self.state.queue) - max_images))
        keys = self.images[start : start + max_images]
        ncols = min(4, len(keys))
        nrows = -(-len(keys) // ncols)
        fig = new_figure((2.6 * ncols, 2.4 * nrows + 0.4))
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        for extra in axes[len(keys) :]:
            extra.set_visible(False)
        grid = ImageGrid(axes=axes[: len(keys)])
        src = ImageSource(dict(self.state.queue))
        colors = {lab: f"C{i % 10}" for i, lab in enumerate(self.labels)}
        tiles = []
        for key in keys:
            pixels, size = src.get(key)
            held = self.state.boxes.get(key, [])
            tiles.append(
                Tile(
                    title=f"{_STATUS_MARK[self.state.statuses[key]]} {shorten(Path(key).name, 22)}",
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
