"""The confusion matrix as a heat map — :class:`ConfusionMatrixDisplay`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from vislab.plot._common import axes_or_new

__all__ = ["ConfusionMatrixDisplay"]


class ConfusionMatrixDisplay:
    """Confusion matrix heat map (rows: true label, columns: predicted label).

    Parameters
    ----------
    confusion_matrix : DataFrame or array
        A frame from :func:`vislab.evaluate.confusion_matrix` (labels come with it) or an
        array.
    display_labels : sequence, optional
        Row labels for an array (and columns if square); default ``0 .. n-1``.
    cell : (true label, predicted label), optional
        A cell to frame when plotted (see :meth:`set_cell`).

    Attributes
    ----------
    im_ : matplotlib AxesImage
    text_ : ndarray of Text or None
    highlight_ : Rectangle or None
        The cell on show (a widget's selection); :meth:`set_cell` moves it.
    ax_, figure_, colorbar_

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> truth = {"a": "cat", "b": "dog", "c": "dog"}
    >>> pred = pd.DataFrame({"image": ["a", "b", "c"], "rank": [1, 1, 1],
    ...                      "label": ["cat", "cat", "dog"], "score": [0.9, 0.6, 0.8]})
    >>> disp = ConfusionMatrixDisplay.from_predictions(truth, pred)
    >>> disp.text_[1, 0].get_text()
    '1'
    >>> disp.set_cell(("dog", "cat")).highlight_.get_xy()
    (-0.5, 0.5)
    """

    def __init__(self, confusion_matrix, *, display_labels=None, cell=None):
        self.cell = cell
        if isinstance(confusion_matrix, pd.DataFrame):
            self.confusion_matrix = confusion_matrix.to_numpy()
            self.display_labels = list(confusion_matrix.index)
            self.predicted_labels = list(confusion_matrix.columns)
        else:
            self.confusion_matrix = np.asarray(confusion_matrix)
            n_rows, n_cols = self.confusion_matrix.shape
            labels = list(display_labels) if display_labels is not None else list(range(n_rows))
            self.display_labels = labels
            self.predicted_labels = labels if n_cols == n_rows else list(range(n_cols))

    @classmethod
    def from_predictions(cls, truth, pred, *, labels=None, normalize=None, ax=None, **plot_kw):
        """Compute the matrix with :func:`vislab.evaluate.confusion_matrix` and plot it.

        Parameters
        ----------
        truth : DataFrame or mapping
            Truth labels ``image, label``, or a mapping image -> label (it comes first).
        pred : DataFrame
            Labels frame; the rank-1 label of each image is its prediction (images without
            one land in a ``"(no prediction)"`` column).
        labels : sequence, optional
            Classes, in order (default: all, sorted).
        normalize : {None, "true", "pred", "all"}, optional
            As in scikit-learn: counts, or divided by row sums, column sums or the total.
        ax : matplotlib Axes, optional
            Where to draw (default: a new figure).
        **plot_kw
            Options of :meth:`plot` (``cmap``, ``include_values``, ``values_format``,
            ``colorbar``, ``xticks_rotation``).

        Returns
        -------
        ConfusionMatrixDisplay
            Plotted: ``im_``, ``text_``, ``ax_``, ``figure_`` are set.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> disp = ConfusionMatrixDisplay.from_predictions(
        ...     {"a": "cat", "b": "dog"},
        ...     pd.DataFrame({"image": ["a", "b"], "rank": [1, 1], "label": ["cat", "cat"],
        ...                   "score": [0.9, 0.7]}), normalize="true")
        >>> disp.confusion_matrix.tolist()
        [[1.0, 0.0], [1.0, 0.0]]
        """
        from vislab.evaluate import confusion_matrix

        cm = confusion_matrix(truth, pred, labels=labels, normalize=normalize)
        return cls(cm).plot(ax=ax, **plot_kw)

    def plot(
        self,
        *,
        ax=None,
        cmap="Blues",
        include_values=True,
        values_format=None,
        colorbar=True,
        xticks_rotation=45,
    ):
        """Draw the matrix; returns ``self``.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw (default: a new figure).
        cmap : str or Colormap, default "Blues"
            Colour map of the cells.
        include_values : bool, default True
            Write each cell's value in it (the text colour contrasts with the cell).
        values_format : str, optional
            Format spec of the values; default ``".2g"`` for floats, ``"d"`` for counts.
        colorbar : bool, default True
            Draw a colour bar beside the matrix.
        xticks_rotation : float, default 45
            Rotation of the predicted-label ticks, in degrees.

        Returns
        -------
        ConfusionMatrixDisplay
            ``self``, with ``im_``, ``text_`` (None without values), ``colorbar_`` (None
            without), ``highlight_``, ``ax_`` and ``figure_`` set.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> ConfusionMatrixDisplay(np.array([[3, 1], [0, 2]]), display_labels=["a", "b"]
        ...                        ).plot(colorbar=False).im_.get_array().shape
        (2, 2)
        """
        ax = axes_or_new(ax)
        cm = self.confusion_matrix
        self.im_ = ax.imshow(cm, interpolation="nearest", cmap=cmap)
        self.text_ = None
        if include_values:
            fmt = values_format or (".2g" if np.issubdtype(cm.dtype, np.floating) else "d")
            thresh = (cm.max() + cm.min()) / 2.0 if cm.size else 0
            cmap_obj = self.im_.cmap
            self.text_ = np.empty(cm.shape, dtype=object)
            for i in range(cm.shape[0]):
                for j in range(cm.shape[1]):
                    color = cmap_obj(0) if cm[i, j] > thresh else cmap_obj(cmap_obj.N - 1)
                    self.text_[i, j] = ax.text(
                        j, i, format(cm[i, j], fmt), ha="center", va="center", color=color
                    )
        self.colorbar_ = ax.figure.colorbar(self.im_, ax=ax) if colorbar else None
        ax.set(
            xticks=np.arange(cm.shape[1]),
            yticks=np.arange(cm.shape[0]),
            xticklabels=[str(v) for v in self.predicted_labels],
            yticklabels=[str(v) for v in self.display_labels],
            xlabel="predicted label",
            ylabel="true label",
        )
        ax.set_ylim((cm.shape[0] - 0.5, -0.5))
        for lab in ax.get_xticklabels():
            lab.set_rotation(xticks_rotation)
            lab.set_ha("right" if xticks_rotation else "center")
        self.ax_ = ax
        self.figure_ = ax.figure
        self.highlight_ = None
        if self.cell is not None:
            self.set_cell(self.cell)
        return self

    def set_cell(self, cell):
        """Frame the cell ``(true label, predicted label)`` (``None``: no frame); returns self.

        The operating point of a confusion matrix is the cell a person looks at: the widget's
        selection, drawn in its static rendering.  Call it after :meth:`plot`.

        Parameters
        ----------
        cell : (true label, predicted label) or None
            A row label of ``display_labels`` and a column label of
            ``predicted_labels``; ``None`` hides the frame.  An unknown cell raises
            ``KeyError``.

        Returns
        -------
        ConfusionMatrixDisplay
            ``self``, with ``highlight_`` (a matplotlib ``Rectangle``) moved or hidden.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> d = ConfusionMatrixDisplay(np.eye(2, dtype=int), display_labels=["a", "b"]).plot()
        >>> d.set_cell(("a", "b")).highlight_.get_xy(), d.set_cell(None).highlight_.get_visible()
        ((0.5, -0.5), False)
        """
        from matplotlib.patches import Rectangle

        self.cell = None if cell is None else tuple(cell)
        if self.cell is None:
            if self.highlight_ is not None:
                self.highlight_.set_visible(False)
            return self
        t, p = self.cell
        rows, cols = list(self.display_labels), list(self.predicted_labels)
        if t not in rows or p not in cols:
            raise KeyError(f"no cell {self.cell!r}; rows {rows[:8]}, columns {cols[:8]}")
        xy = (float(cols.index(p)) - 0.5, float(rows.index(t)) - 0.5)
        if self.highlight_ is None:
            self.highlight_ = Rectangle(xy, 1, 1, fill=False, ec="#d62728", lw=2.5, zorder=4)
            self.ax_.add_patch(self.highlight_)
        else:
            self.highlight_.set_xy(xy)
            self.highlight_.set_visible(True)
        return self

    set_operating_point = set_cell
