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

from vislab.widgets._base import StaticFallback, escape, shorten, state_property
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
    **kwargs
        Passed to ``ipywidgets.VBox`` (e.g. ``layout=``).

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
    labels = state_property("labels", "The classes to choose from (labels of loaded boxes added).")
    images = state_property("images", "The identifiers of the queue, in order.")
    current_image = state_property("current_image", "Identifier of the image on screen.")
    status = state_property(
        "status", "One row per queued image: ``image, status`` (todo / done / skipped), ``boxes``."
    )
    progress = state_property("progress", "``{done, skipped, todo, total}`` image counts.")
    metrics = state_property(
        "metrics", "The progress as one row: ``done, skipped, todo, total, boxes`` (saved boxes)."
    )
    annotated_images = state_property(
        "annotated_images", "Images saved so far (with or without boxes), in queue order."
    )
    annotations = state_property(
        "annotations",
        "Truth boxes frame ``image, label, x, y, w, h`` of the saved images; every saved "
        'image (also one without boxes) is listed in ``attrs["images"]``.',
    )

    def to_frame(self) -> pd.DataFrame:
        """The annotations so far: a truth boxes frame (see :attr:`annotations`).

        Returns
        -------
        DataFrame
            ``image, label, x, y, w, h`` (pixels) of every saved image, ready for
            :func:`vislab.evaluate.coco_eval` or :func:`vislab.datasets.write_coco`.

        Examples
        --------
        >>> import numpy as np
        >>> photos = {"a": np.zeros((60, 80, 3), np.uint8), "b": np.zeros((60, 80, 3), np.uint8)}
        >>> ann = BoxAnnotator(photos, labels=["cat", "dog"])
        >>> ann.set_boxes([{"x": 5, "y": 6, "w": 20, "h": 10, "label": "cat"}])
        >>> ann.submit()
        >>> ann.to_frame()
          image label    x    y     w     h
        0     a   cat  5.0  6.0  20.0  10.0
        """
        return self.state.to_frame()

    def go_to(self, image) -> None:
        """Show ``image`` (an identifier from the queue, or a position).

        Parameters
        ----------
        image : str or int
            An identifier of :attr:`images`, or its position; ``KeyError`` for an identifier
            not queued, ``traitlets.TraitError`` for a position out of range.

        Examples
        --------
        >>> import numpy as np
        >>> photos = {"a": np.zeros((60, 80, 3), np.uint8), "b": np.zeros((60, 80, 3), np.uint8)}
        >>> ann = BoxAnnotator(photos, labels=["cat", "dog"])
        >>> ann.go_to("b")
        >>> ann.index, ann.current_image
        (1, 'b')
        """
        self.state.go_to(image)

    def next(self) -> None:
        """Move to the next image without changing the status of this one.

        The last image stays on screen.

        Examples
        --------
        >>> import numpy as np
        >>> photos = {"a": np.zeros((60, 80, 3), np.uint8), "b": np.zeros((60, 80, 3), np.uint8)}
        >>> ann = BoxAnnotator(photos, labels=["cat", "dog"])
        >>> ann.next()
        >>> ann.current_image, ann.status["status"].tolist()
        ('b', ['todo', 'todo'])
        """
        self.state.next()

    def previous(self) -> None:
        """Move back one image (the first image stays on screen).

        Examples
        --------
        >>> import numpy as np
        >>> photos = {"a": np.zeros((60, 80, 3), np.uint8), "b": np.zeros((60, 80, 3), np.uint8)}
        >>> ann = BoxAnnotator(photos, labels=["cat", "dog"])
        >>> ann.go_to("b")
        >>> ann.previous()
        >>> ann.current_image
        'a'
        """
        self.state.previous()

    def submit(self, *_) -> None:
        """Save the boxes on screen as this image's truth and move to the next image.

        The next image is the first one still to do after this one (else before it).

        Parameters
        ----------
        *_
            Ignored, so the method can be any widget's callback
            (``button.on_click(ann.submit)`` passes the button).

        Examples
        --------
        >>> import numpy as np
        >>> photos = {"a": np.zeros((60, 80, 3), np.uint8), "b": np.zeros((60, 80, 3), np.uint8)}
        >>> ann = BoxAnnotator(photos, labels=["cat", "dog"])
        >>> ann.set_boxes([{"x": 5, "y": 6, "w": 20, "h": 10, "label": "cat"}])
        >>> ann.submit()
        >>> ann.current_image, ann.annotated_images
        ('b', ['a'])
        """
        self.state.submit(self.bbox.bboxes)

    def skip(self, *_) -> None:
        """Leave this image out of the annotations and move on.

        Parameters
        ----------
        *_
            Ignored, so the method can be any widget's callback.

        Examples
        --------
        >>> import numpy as np
        >>> photos = {"a": np.zeros((60, 80, 3), np.uint8), "b": np.zeros((60, 80, 3), np.uint8)}
        >>> ann = BoxAnnotator(photos, labels=["cat", "dog"])
        >>> ann.skip()
        >>> ann.current_image, ann.progress
        ('b', {'done': 0, 'skipped': 1, 'todo': 1, 'total': 2})
        """
        self.state.skip()

    def set_boxes(self, boxes, *, image=None) -> None:
        """Replace the boxes of ``image`` (default: the one on screen).

        Parameters
        ----------
        boxes : DataFrame or list of dict
            Rows / dicts with ``x, y, w, h, label`` (``width``/``height`` also accepted).
        image : str, optional
            Identifier in the queue.

        Examples
        --------
        >>> import numpy as np
        >>> photos = {"a": np.zeros((60, 80, 3), np.uint8), "b": np.zeros((60, 80, 3), np.uint8)}
        >>> ann = BoxAnnotator(photos, labels=["cat", "dog"])
        >>> ann.set_boxes([{"x": 1, "y": 2, "width": 30, "height": 20, "label": "bird"}],
        ...               image="b")
        >>> ann.labels                 # a new label becomes a choice
        ['cat', 'dog', 'bird']
        """
        self.state.set_boxes(boxes, image=image)

    def boxes_of(self, image=None) -> pd.DataFrame:
        """The boxes currently held for ``image`` (default: the one on screen), as a frame.

        Parameters
        ----------
        image : str, optional
            Identifier in the queue.

        Returns
        -------
        DataFrame
            Truth boxes ``image, label, x, y, w, h`` held for it, saved or not.

        Examples
        --------
        >>> import numpy as np
        >>> photos = {"a": np.zeros((60, 80, 3), np.uint8), "b": np.zeros((60, 80, 3), np.uint8)}
        >>> ann = BoxAnnotator(photos, labels=["cat", "dog"])
        >>> ann.set_boxes([{"x": 5, "y": 6, "w": 20, "h": 10, "label": "cat"}])
        >>> ann.boxes_of()
          image label    x    y     w     h
        0     a   cat  5.0  6.0  20.0  10.0
        >>> len(ann.boxes_of("b"))
        0
        """
        return self.state.boxes_of(image)

    def image_sizes(self) -> dict[str, tuple[int, int]]:
        """``{identifier: (width, height)}`` of every queued image (reads each image once).

        Returns
        -------
        dict
            Identifier -> ``(width, height)`` in pixels, after EXIF orientation (the
            coordinates boxes are drawn in).

        Examples
        --------
        >>> import numpy as np
        >>> photos = {"a": np.zeros((60, 80, 3), np.uint8), "b": np.zeros((60, 80, 3), np.uint8)}
        >>> ann = BoxAnnotator(photos, labels=["cat", "dog"])
        >>> ann.image_sizes()
        {'a': (80, 60), 'b': (80, 60)}
        """
        return self.state.image_sizes()

    def save_coco(self, path) -> Path:
        """Write the saved images and their boxes as a COCO detection JSON file.

        See :meth:`vislab.widgets.annotate_state.AnnotationState.save_coco`: image
        ``file_name`` is the identifier, ids follow the queue and ``labels`` orders.

        Parameters
        ----------
        path : str or Path
            The JSON file to write.

        Returns
        -------
        pathlib.Path
            ``path``.

        Examples
        --------
        >>> import tempfile
        >>> import numpy as np
        >>> photos = {"a": np.zeros((60, 80, 3), np.uint8), "b": np.zeros((60, 80, 3), np.uint8)}
        >>> ann = BoxAnnotator(photos, labels=["cat", "dog"])
        >>> ann.set_boxes([{"x": 5, "y": 6, "w": 20, "h": 10, "label": "cat"}])
        >>> ann.submit()
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = ann.save_coco(f"{folder}/boxes.json")
        ...     fresh = BoxAnnotator(photos, labels=["cat", "dog"])
        ...     fresh.load_coco(path)
        >>> path.name, fresh.annotated_images
        ('boxes.json', ['a'])
        """
        return self.state.save_coco(path)

    def load_coco(self, path) -> None:
        """Load boxes from a COCO JSON file onto the queue; its images count as saved.

        See :meth:`vislab.widgets.annotate_state.AnnotationState.load_coco`: images are found
        in the queue by ``file_name`` (or by base name when unique); others are ignored.

        Parameters
        ----------
        path : str or Path
            A COCO detection JSON file (e.g. written by :meth:`save_coco`).

        Examples
        --------
        >>> import tempfile
        >>> import numpy as np
        >>> photos = {"a": np.zeros((60, 80, 3), np.uint8), "b": np.zeros((60, 80, 3), np.uint8)}
        >>> ann = BoxAnnotator(photos, labels=["cat", "dog"])
        >>> ann.set_boxes([{"x": 5, "y": 6, "w": 20, "h": 10, "label": "cat"}])
        >>> ann.submit()
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     fresh = BoxAnnotator(photos, labels=["cat"])
        ...     fresh.load_coco(ann.save_coco(f"{folder}/boxes.json"))
        >>> fresh.annotations
          image label    x    y     w     h
        0     a   cat  5.0  6.0  20.0  10.0
        >>> fresh.progress
        {'done': 1, 'skipped': 0, 'todo': 1, 'total': 2}
        """
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
        """One line: the queue's progress and the image on screen (also the plain repr).

        Returns
        -------
        str
            ``BoxAnnotator(N images: s saved, k skipped, t to do; showing '...')``.

        Examples
        --------
        >>> import numpy as np
        >>> photos = {"a": np.zeros((60, 80, 3), np.uint8), "b": np.zeros((60, 80, 3), np.uint8)}
        >>> ann = BoxAnnotator(photos, labels=["cat", "dog"])
        >>> ann.summary()
        "BoxAnnotator(2 images: 0 saved, 0 skipped, 2 to do; showing 'a')"
        """
        return self.state.summary()

    def static_figure(self, *, max_images: int = 8):
        """A figure of the queue around the current image with the boxes held for each.

        What the notebook shows where widgets cannot render (:meth:`show_static`).

        Parameters
        ----------
        max_images : int, default 8
            Images of the queue to draw (four per row), starting at the one on screen (the
            last ``max_images`` near the end of the queue).

        Returns
        -------
        matplotlib.figure.Figure
            Each image with its boxes coloured by label, titled with its status
            (✓ saved, – skipped, · to do).

        Examples
        --------
        >>> import numpy as np
        >>> photos = {"a": np.zeros((60, 80, 3), np.uint8), "b": np.zeros((60, 80, 3), np.uint8)}
        >>> ann = BoxAnnotator(photos, labels=["cat", "dog"])
        >>> ann.set_boxes([{"x": 5, "y": 6, "w": 20, "h": 10, "label": "cat"}])
        >>> ann.static_figure(max_images=2).get_size_inches().tolist()   # one row of two
        [5.2, 2.8]
        """
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
