"""ThresholdTuner: drag a score threshold, watch precision, recall and the boxes change together.

The tuner is a view (ipywidgets) of a :class:`~vislab.widgets.threshold_state.ThresholdState`
(pure Python): the state holds the threshold(s) and every number, read from
:mod:`vislab.evaluate`; the view shows them, keeps its slider in step, and redraws the figures
when the slider comes to rest.  A step only updates the table's numbers (formatted straight
from the state's array) — no frame, no figure — so the tuner follows a slider over a million
detections.  The controls (sliders, rule buttons, paging bar) are built by
:class:`~vislab.widgets._threshold_controls.ThresholdControls`.
"""

from __future__ import annotations

import ipywidgets as widgets
import pandas as pd
import traitlets

from vislab.widgets._base import (
    Debouncer,
    ImageSource,
    StaticFallback,
    error_html,
    escape,
    figure_png,
    state_property,
)
from vislab.widgets._curves import CurveFigure
from vislab.widgets._pillow_grid import PillowGrid
from vislab.widgets._static import FP_COLOR, ImageGrid, new_figure, table_text
from vislab.widgets._threshold_controls import ThresholdControls
from vislab.widgets._threshold_text import metric_rows, status_html, table_html
from vislab.widgets.threshold_state import ThresholdState

__all__ = ["ThresholdTuner"]


class ThresholdTuner(ThresholdControls, StaticFallback, widgets.VBox):
    """Choose a score threshold by looking: live P/R/F1, curves and boxes coloured TP/FP/FN.

    Parameters
    ----------
    truth : DataFrame
        Truth boxes (``image, label, x, y, w, h``) or truth labels (``image, label``).  It
        comes first, as in every :mod:`vislab.evaluate` function.
    pred : DataFrame
        Predictions: a boxes frame (``image, label, score, x, y, w, h``) for detection, or a
        labels frame (``image, label, score``) for classification, scored one-vs-rest (each
        predicted (image, label) is right when the image truly has that label).  A masks
        frame (boxes plus ``mask``) has its masks drawn in the grid, and with truth masks
        (``mask`` or COCO ``segmentation``) the segm mAP shown beside the box mAP.
    images : mapping, folder, callable or list, optional
        Where the pictures are (see :class:`vislab.widgets._base.ImageSource`); by default
        identifiers that are file paths are read, others get a grey canvas.
    iou : float, default 0.5
        Minimum IoU for a detection to count as found (detection only).
    per_class : bool, default False
        One threshold per class (``.thresholds``) instead of one for all (``.threshold``).
    threshold : float, optional
        Starting threshold; default: the threshold of best F1.
    page_size : int, default 12
        Images per page of the grid.
    show_map : bool, default True
        Compute COCO mAP once (detection only) to show next to the threshold-dependent numbers.
    **kwargs
        Passed to ``ipywidgets.VBox`` (e.g. ``layout=``).

    Attributes
    ----------
    threshold : float
        The operating point (a traitlet: set it, or ``observe`` it).
    thresholds : dict
        Per-class operating points; equal to ``threshold`` for every class unless
        ``per_class``.
    metrics : DataFrame
        TP/FP/FN/precision/recall/F1 at the operating point: one row per class and ``"all"``.
    state : ThresholdState
        The pure-Python state the view shows (drive and test it without a browser).
    sweep : object
        The :func:`vislab.evaluate.threshold_sweep` result the numbers come from.

    Examples
    --------
    >>> import pandas as pd
    >>> truth = pd.DataFrame({"image": ["a", "b"], "label": ["cat", "cat"],
    ...                       "x": [0, 0], "y": [0, 0], "w": [10, 10], "h": [10, 10]})
    >>> pred = truth.assign(score=[0.9, 0.4])
    >>> tuner = ThresholdTuner(truth, pred, threshold=0.5, show_map=False)
    >>> tuner.metrics.loc["all", ["tp", "fp", "fn"]].tolist()
    [1, 0, 1]
    >>> tuner.threshold = 0.3
    >>> float(tuner.metrics.loc["all", "recall"])
    1.0
    >>> len(tuner.to_frame())
    2
    """

    threshold = traitlets.Float(0.5)
    thresholds = traitlets.Dict()
    page = traitlets.Int(0)
    only_errors = traitlets.Bool(False)

    def __init__(
        self,
        truth: pd.DataFrame,
        pred: pd.DataFrame,
        *,
        images=None,
        iou: float = 0.5,
        per_class: bool = False,
        threshold: float | None = None,
        page_size: int = 12,
        show_map: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.state = ThresholdState(
            truth,
            pred,
            iou=iou,
            per_class=per_class,
            threshold=threshold,
            page_size=page_size,
            show_map=show_map,
        )
        self._source = ImageSource(images)
        self._redraw = Debouncer(self._draw_figures, on_error=self._show_error)
        self._syncing = False
        self._curve_fig = None
        self._grid = None
        self._build_controls(*self.state.score_range)
        self._status = status_html(self.state)  # threshold-free: computed once
        for name in ("threshold", "thresholds", "page", "only_errors"):
            traitlets.link((self.state, name), (self, name))
        self.state.observe(self._on_numbers, names="revision")
        self.state.observe(lambda _: self._request_redraw(), names=["page", "only_errors"])
        self._on_numbers(None)

    # -- what the state knows ----------------------------------------------------------------
    sweep = state_property("sweep", "The :func:`vislab.evaluate.threshold_sweep` behind it.")
    kind = state_property("kind", 'What is evaluated: ``"detection"`` or ``"classification"``.')
    labels = state_property("labels", "The classes, in the order of the metrics' rows.")
    map = state_property(
        "map", "COCO's 12 numbers (a Series; detection with ``show_map``), or None."
    )
    iou = state_property("iou", "Minimum IoU for a detection to count as found.")
    has_masks = state_property(
        "has_masks", "Whether the predictions have masks (drawn in the grid)."
    )
    map_segm = state_property(
        "map_segm", "COCO's 12 numbers for the masks (``iou_type='segm'``), or None."
    )
    per_class = state_property("per_class", "Whether each class has its own threshold.")
    page_size = state_property("page_size", "Images per page of the grid.")

    @property
    def metrics(self) -> pd.DataFrame:
        """TP/FP/FN/P/R/F1 at the current threshold(s): one row per class, then ``"all"``."""
        return self.state.metrics

    def to_frame(self) -> pd.DataFrame:
        """The predictions kept at the current threshold(s) (rows of failed images stay).

        Returns
        -------
        DataFrame
            The rows of ``pred`` with ``score >= threshold`` of their class, ``attrs`` kept
            and ``attrs["threshold"]`` set.

        Examples
        --------
        >>> import pandas as pd
        >>> truth = pd.DataFrame({"image": ["a", "b"], "label": ["cat", "cat"],
        ...                       "x": [0, 0], "y": [0, 0], "w": [10, 10], "h": [10, 10]})
        >>> tuner = ThresholdTuner(truth, truth.assign(score=[0.9, 0.4]), threshold=0.5,
        ...                        show_map=False)
        >>> tuner.to_frame()[["image", "label", "score"]]
          image label  score
        0     a   cat    0.9
        """
        return self.state.to_frame()

    def set_class_threshold(self, label, value: float) -> None:
        """Set the threshold of one class (``per_class`` tuners; others follow ``.threshold``).

        Parameters
        ----------
        label : object
            A class of :attr:`labels` (an unknown one raises ``KeyError``).
        value : float
            Its new threshold; the metrics, curves and grid follow.

        Examples
        --------
        >>> import pandas as pd
        >>> truth = pd.DataFrame({"image": ["a", "b"], "label": ["cat", "dog"],
        ...                       "x": [0, 0], "y": [0, 0], "w": [10, 10], "h": [10, 10]})
        >>> tuner = ThresholdTuner(truth, truth.assign(score=[0.9, 0.4]), per_class=True,
        ...                        show_map=False)
        >>> tuner.set_class_threshold("dog", 0.5)
        >>> tuner.thresholds["dog"], tuner.metrics["tp"].tolist()   # cat, dog, all
        (0.5, [1, 0, 1])
        """
        self.state.set_class_threshold(label, value)

    def apply_rule(self, rule: str) -> float | None:
        """Move the threshold(s) to the one chosen by ``rule`` (see ``best_threshold``).

        Parameters
        ----------
        rule : str
            ``"f1"``, ``"precision>=0.9"``, ``"recall>=0.8"``.

        Returns
        -------
        float or None
            The overall threshold chosen (``None`` when no threshold satisfies the rule; the
            message line says so and nothing moves).  Per-class tuners also move each class
            to its own choice.

        Examples
        --------
        >>> import pandas as pd
        >>> truth = pd.DataFrame({"image": ["a", "b"], "label": ["cat", "cat"],
        ...                       "x": [0, 0], "y": [0, 0], "w": [10, 10], "h": [10, 10]})
        >>> pred = truth.assign(score=[0.9, 0.4])
        >>> tuner = ThresholdTuner(truth, pred, threshold=0.5, show_map=False)
        >>> tuner.apply_rule("recall>=1"), tuner.threshold
        (0.4, 0.4)
        >>> false_alarm = pred.iloc[:1].assign(x=50, score=0.95)
        >>> ThresholdTuner(truth, pd.concat([pred, false_alarm]),
        ...                show_map=False).apply_rule("precision>=1") is None
        True
        """
        t = self.state.apply_rule(rule)
        if t is None:
            self._message.value = (
                f"<span style='color:{FP_COLOR}'>No threshold reaches {escape(rule)}.</span>"
            )
        return t

    def grid_images(self) -> list[str]:
        """Images on the current page of the grid (``.page``; ``.only_errors`` filters).

        Returns
        -------
        list of str
            At most ``page_size`` image identifiers; the page label follows.

        Examples
        --------
        >>> import pandas as pd
        >>> truth = pd.DataFrame({"image": ["a", "b"], "label": ["cat", "cat"],
        ...                       "x": [0, 0], "y": [0, 0], "w": [10, 10], "h": [10, 10]})
        >>> tuner = ThresholdTuner(truth, truth.assign(score=[0.9, 0.4]), page_size=1,
        ...                        show_map=False)
        >>> tuner.grid_images()
        ['a']
        >>> tuner.page = 1
        >>> tuner.grid_images()
        ['b']
        """
        self._page_label.value = self.state.page_text()
        return self.state.grid_images()

    def _tiles(self, keys) -> list:
        return self.state.tiles(keys, pictures=self._source.get)

    # -- numbers -----------------------------------------------------------------------------
    def _on_numbers(self, change) -> None:
        self._sync_sliders()
        self._table.value = table_html(self.labels, self.state.values)
        self._message.value = self._status
        self._request_redraw()

    # -- figures -----------------------------------------------------------------------------
    def _request_redraw(self) -> None:
        self._redraw()

    def flush(self) -> None:
        """Redraw the figures now if a redraw is waiting (the slider moved moments ago).

        In a running kernel the curves and images are redrawn once the slider rests (the
        numbers follow every step); outside one (scripts, tests) they are redrawn at once and
        there is nothing to flush.

        Examples
        --------
        >>> import pandas as pd
        >>> truth = pd.DataFrame({"image": ["a", "b"], "label": ["cat", "cat"],
        ...                       "x": [0, 0], "y": [0, 0], "w": [10, 10], "h": [10, 10]})
        >>> tuner = ThresholdTuner(truth, truth.assign(score=[0.9, 0.4]), show_map=False)
        >>> tuner.threshold = 0.3
        >>> tuner.flush()          # the figures now show threshold 0.3
        >>> tuner.metrics.loc["all", "recall"]
        np.float64(1.0)
        """
        self._redraw.flush()

    def _draw_figures(self) -> None:
        self._draw_curves()
        self._draw_grid()

    def _curve_label(self):
        if self._class_choice is not None and self._class_choice.value != "all":
            return self._class_choice.value
        return None

    def _update_curves(self, curves) -> None:
        label = self._curve_label()
        # The PR point of all classes under per-class thresholds is their combined counts.
        point = self.state.operating_threshold if label is None else self.state.threshold_of(label)
        curves.update(label, self.state.threshold_of(label), point=point)

    def _draw_curves(self) -> None:
        if self._curve_fig is None:
            self._curve_fig = CurveFigure(self.sweep)
        self._update_curves(self._curve_fig)
        self._curves.value = figure_png(self._curve_fig.figure)

    def _draw_grid(self) -> bytes:
        if self._grid is None:
            self._grid = PillowGrid(n=self.page_size, ncols=4)
        self._grid.draw(self._tiles(self.grid_images()))
        data = self._grid.jpeg()
        self._grid_view.value = data
        return data

    def _show_error(self, exc: BaseException) -> None:
        self._message.value = self._message.value.split("<div class='vislab-error'")[
            0
        ] + error_html(exc)

    def summary(self) -> str:
        """One line: the threshold and the counts and metrics there (also the plain repr).

        Returns
        -------
        str
            ``ThresholdTuner(threshold=...: tp=..., fp=..., fn=..., precision=..., ...)``.

        Examples
        --------
        >>> import pandas as pd
        >>> truth = pd.DataFrame({"image": ["a", "b"], "label": ["cat", "cat"],
        ...                       "x": [0, 0], "y": [0, 0], "w": [10, 10], "h": [10, 10]})
        >>> tuner = ThresholdTuner(truth, truth.assign(score=[0.9, 0.4]), threshold=0.5,
        ...                        show_map=False)
        >>> print(tuner.summary())  # doctest: +NORMALIZE_WHITESPACE
        ThresholdTuner(threshold=0.500: tp=1, fp=0, fn=1, precision=1.0000, recall=0.5000,
        f1=0.6667)
        """
        return self.state.summary()

    def static_figure(self, *, max_images: int = 8):
        """Curves, the metrics table and a page of images at the current threshold.

        What the notebook shows where widgets cannot render (:meth:`show_static`).

        Parameters
        ----------
        max_images : int, default 8
            Images of the current page to draw (four per row), boxes coloured TP/FP/FN.

        Returns
        -------
        matplotlib.figure.Figure
            Precision-recall and metrics-vs-threshold curves, the metrics table, the images.

        Examples
        --------
        >>> import pandas as pd
        >>> truth = pd.DataFrame({"image": ["a", "b"], "label": ["cat", "cat"],
        ...                       "x": [0, 0], "y": [0, 0], "w": [10, 10], "h": [10, 10]})
        >>> tuner = ThresholdTuner(truth, truth.assign(score=[0.9, 0.4]), show_map=False)
        >>> tuner.static_figure(max_images=2).get_size_inches().tolist()   # one row of images
        [12.0, 6.2]
        """
        keys = self.grid_images()[:max_images]
        ncols = 4
        nrows = max(1, -(-len(keys) // ncols))
        fig = new_figure((12, 3.6 + 2.6 * nrows))
        top, bottom = fig.subfigures(2, 1, height_ratios=[3.6, 2.6 * nrows])
        ax_pr, ax_t, ax_table = top.subplots(1, 3, width_ratios=[1, 1, 1.1])
        self._update_curves(CurveFigure(self.sweep, axes=(ax_pr, ax_t)))
        table_text(
            ax_table,
            metric_rows(self.metrics),
            header=["", "t", "tp", "fp", "fn", "P", "R", "F1"],
            title="at the operating point",
        )
        if self.map is not None:
            ax_table.text(
                0.5,
                0.02,
                f"mAP (threshold-free): AP50 {self.map['AP50']:.3f}, AP {self.map['AP']:.3f}",
                ha="center",
                fontsize=8,
                transform=ax_table.transAxes,
            )
        top.suptitle(self.summary().replace("ThresholdTuner", "ThresholdTuner "), fontsize=9)
        if keys:
            axes = bottom.subplots(nrows, ncols, squeeze=False).ravel()
            for extra in axes[len(keys) :]:
                extra.set_visible(False)
            ImageGrid(axes=axes[: len(keys)]).draw(self._tiles(keys))
            bottom.subplots_adjust(left=0.01, right=0.99, top=0.92, bottom=0.01, wspace=0.04)
        return fig
