"""Shared bits of the widgets: static fallback, debounced redraws, image lookup, input checks.

Every widget is an ``ipywidgets.VBox`` subclass, so it can be displayed, nested in other
layouts and closed like any widget.  Its chosen value(s) are traitlets that are *not* synced
to the browser (``.threshold``, ``.cutoff``, ``.selected_cell``, ``.index``): Python code can
read, set and ``observe`` them, and the sliders and buttons are kept in step both ways.
"""

from __future__ import annotations

import asyncio
import base64
import html
import io
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vislab.errors import InvalidFrame, InvalidImage

__all__ = [
    "state_property",
    "StaticFallback",
    "Debouncer",
    "ImageSource",
    "figure_png",
    "check_frame",
    "check_overlap",
    "metric_cell",
    "exact_text",
    "slider_echo",
    "shorten",
]


def figure_png(fig, *, dpi: float | None = None) -> bytes:
    """Encode a matplotlib figure as PNG bytes (fast zlib level: these are throwaway views).

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> figure_png(Figure(figsize=(1, 1)))[:4]
    b'\\x89PNG'
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, pil_kwargs={"compress_level": 1})
    return buf.getvalue()


def figure_jpeg(fig, *, quality: int = 85, dpi: float | None = None) -> bytes:
    """Encode a figure as JPEG: photo grids stay ~10x smaller than as PNG.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> figure_jpeg(Figure(figsize=(1, 1)))[:2]
    b'\\xff\\xd8'
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    canvas = fig.canvas
    if not isinstance(canvas, FigureCanvasAgg):
        canvas = FigureCanvasAgg(fig)
    if dpi is not None and dpi != fig.dpi:
        buf = io.BytesIO()
        fig.savefig(buf, format="jpeg", dpi=dpi, pil_kwargs={"quality": quality})
        return buf.getvalue()
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    buf = io.BytesIO()
    Image.fromarray(rgba[..., :3]).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def state_property(name: str, doc: str) -> property:
    """A read-only property of a view that reads ``self.state.<name>``, documented by ``doc``.

    A view shows its state; what the state knows, the view tells (``help()`` shows ``doc``).

    Parameters
    ----------
    name : str
        Attribute of the view's ``state`` to read.
    doc : str
        The property's docstring (also its getter's, which documentation tools read).

    Returns
    -------
    property

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> class View:
    ...     kind = state_property("kind", "What is evaluated.")
    ...     def __init__(self):
    ...         self.state = SimpleNamespace(kind="detection")
    >>> View().kind, View.kind.__doc__
    ('detection', 'What is evaluated.')
    """

    def read(self):
        return getattr(self.state, name)

    read.__name__ = name
    read.__doc__ = doc
    return property(read, doc=doc)


class StaticFallback:
    """Mixin: a static matplotlib rendering wherever the live widget cannot show.

    ``_repr_mimebundle_`` adds an ``image/jpeg`` rendering (JPEG: the pictures are photos,
    and notebooks stay small) and a one-line ``text/plain`` summary to the widget's view, so
    front ends without a widget manager (nbval, GitHub, exported notebooks) show a picture of
    the current state.  :meth:`show_static` returns that picture as an
    ``IPython.display.Image`` for notebooks that want it printed explicitly.
    """

    def static_figure(self):  # pragma: no cover - each widget defines it
        raise NotImplementedError

    def summary(self) -> str:  # pragma: no cover - each widget defines it
        return type(self).__name__

    def show_static(self, *, dpi: float = 72, format: str = "jpeg"):
        """The current state as a picture (``IPython.display.Image``); displays in notebooks.

        Parameters
        ----------
        dpi : float
            Resolution.
        format : {"jpeg", "png"}
            JPEG keeps notebooks with photos small; PNG is lossless.

        Returns
        -------
        IPython.display.Image
        """
        from IPython.display import Image

        fig = self.static_figure()
        if format == "png":
            return Image(data=figure_png(fig, dpi=dpi), format="png")
        return Image(data=figure_jpeg(fig, dpi=dpi), format="jpeg")

    def _repr_mimebundle_(self, **kwargs):
        data = super()._repr_mimebundle_(**kwargs)  # type: ignore[misc]
        try:
            jpeg = figure_jpeg(self.static_figure(), dpi=48, quality=75)
            data["image/jpeg"] = base64.b64encode(jpeg).decode("ascii")
        except Exception as exc:  # a failing fallback must never hide the live widget
            data["text/plain"] = f"{self.summary()} (static view failed: {exc!r})"
            return data
        data["text/plain"] = self.summary()
        return data

    def __repr__(self) -> str:
        return self.summary()


class Debouncer:
    """Call ``fn`` once, ``delay`` seconds after the last request, on the kernel's event loop.

    Slider drags send a burst of value changes; metrics follow every change (they are cheap)
    but figures are redrawn only when the burst settles.  Without a running event loop (plain
    Python, tests, benchmarks) the call happens at once, so results are deterministic there.

    Examples
    --------
    >>> calls = []
    >>> d = Debouncer(lambda: calls.append(1), delay=0.05)
    >>> d(); d(); calls      # no event loop running: immediate
    [1, 1]
    """

    def __init__(self, fn: Callable[[], Any], *, delay: float = 0.08, on_error=None):
        self.fn = fn
        self.delay = delay
        self.on_error = on_error
        self._handle: asyncio.TimerHandle | None = None
        self.error: BaseException | None = None

    def __call__(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None or self.delay <= 0:
            self.cancel()
            self.fn()
            return
        self.cancel()
        self._handle = loop.call_later(self.delay, self._run_later)

    @property
    def pending(self) -> bool:
        """Whether a call is scheduled and has not run yet."""
        return self._handle is not None

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def flush(self) -> None:
        """Run a scheduled call now (errors raise here, to the caller)."""
        if self._handle is not None:
            self.cancel()
            self.fn()

    def _run_later(self) -> None:
        self._handle = None
        try:
            self.fn()
            self.error = None
        except Exception as exc:  # an event-loop callback has no caller: the widget shows it
            self.error = exc
            if self.on_error is None:
                raise
            self.on_error(exc)


def error_html(exc: BaseException) -> str:
    """A one-line message for a failed redraw (the numbers above it are still right)."""
    return (
        "<div class='vislab-error' style='color:#d62728'>Could not draw the figures: "
        f"{html.escape(type(exc).__name__)}: {html.escape(str(exc))[:300]}</div>"
    )


class ImageSource:
    """Find the pixels of an image identifier, as a cached RGB thumbnail.

    Parameters
    ----------
    images : None, mapping, callable, folder, list or Series
        Where the pictures are.  ``None``: identifiers that are existing file paths are
        read, others get a plain grey canvas.  A mapping ``{identifier: source}`` (path,
        URL, bytes, PIL image or array).  A callable ``identifier -> source``.  A folder:
        ``folder / identifier``.  A list or Series of paths: identified by the path.
    max_side : int
        Longest side of the cached thumbnails, in pixels.
    cache_size : int
        Thumbnails kept in memory.

    Examples
    --------
    >>> import numpy as np
    >>> src = ImageSource({"a": np.zeros((40, 60, 3), np.uint8)}, max_side=30)
    >>> pixels, size = src.get("a")
    >>> pixels.shape, size
    ((20, 30, 3), (60, 40))
    >>> src.get("missing")[0] is None
    True
    """

    def __init__(self, images=None, *, max_side: int = 320, cache_size: int = 256):
        self.max_side = max_side
        self.cache_size = cache_size
        self._cache: OrderedDict[str, tuple[np.ndarray | None, tuple[int, int] | None]] = (
            OrderedDict()
        )
        self._lookup: Callable[[str], Any]
        if images is None:
            self._lookup = lambda key: key if Path(str(key)).is_file() else None
        elif callable(images) and not isinstance(images, (str, Path)):
            self._lookup = images
        elif isinstance(images, Mapping):
            table = {str(k): v for k, v in images.items()}
            self._lookup = table.get
        elif isinstance(images, (str, Path)) and Path(images).is_dir():
            root = Path(images)
            self._lookup = lambda key: root / str(key) if (root / str(key)).is_file() else None
        else:
            from vislab.images import expand_images

            table = dict(expand_images(images))
            self._lookup = table.get

    def source(self, key) -> Any:
        """The raw source registered for ``key`` (or ``None``)."""
        try:
            return self._lookup(str(key))
        except Exception:
            return None

    def get(self, key) -> tuple[np.ndarray | None, tuple[int, int] | None]:
        """``(thumbnail RGB array or None, (width, height) of the original or None)``."""
        key = str(key)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        value = self._load(key)
        self._cache[key] = value
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return value

    def full(self, key):
        """The full-size image as a PIL RGB image, or ``None`` when there is no picture."""
        from PIL import Image

        from vislab.images import load_bytes

        src = self.source(key)
        if src is None:
            return None
        try:
            data = load_bytes(src, ident=str(key))
            img = data if isinstance(data, Image.Image) else Image.open(io.BytesIO(data))
            from PIL import ImageOps

            img = ImageOps.exif_transpose(img)
            return img.convert("RGB")
        except (InvalidImage, OSError):
            return None

    def _load(self, key):
        img = self.full(key)
        if img is None:
            return None, None
        size = img.size
        img.thumbnail((self.max_side, self.max_side))
        return np.asarray(img), size


def check_frame(df, columns, *, name: str) -> pd.DataFrame:
    """Raise :class:`~vislab.errors.InvalidFrame` unless ``df`` is a frame with ``columns``.

    Examples
    --------
    >>> check_frame(pd.DataFrame({"image": []}), ["image", "label"], name="truth")
    Traceback (most recent call last):
    ...
    vislab.errors.InvalidFrame: truth frame lacks column 'label' (has: image)
    """
    from vislab.frames import require_columns

    require_columns(df, columns, name=name)
    return df


def check_overlap(pred: pd.DataFrame, truth: pd.DataFrame, *, pred_key="image", truth_key="image"):
    """Raise when predictions and truth share no image (both non-empty): a wrong join key.

    Examples
    --------
    >>> check_overlap(pd.DataFrame({"image": ["a"]}), pd.DataFrame({"image": ["b"]}))
    Traceback (most recent call last):
    ...
    vislab.errors.InvalidFrame: predictions and truth share no image: predictions name e.g. ['a'], truth names e.g. ['b']; the identifiers must match (same path strings or ids)
    """
    if len(pred) == 0 or len(truth) == 0:
        return
    p = pd.unique(pred[pred_key].astype(str))
    t = pd.unique(truth[truth_key].astype(str))
    # A hash lookup: np.isin would sort Arrow strings as Python objects (2 s for 10,000 names).
    if not pd.Index(p).isin(t).any():
        raise InvalidFrame(
            f"predictions and truth share no image: predictions name e.g. {list(p[:3])}, "
            f"truth names e.g. {list(t[:3])}; the identifiers must match (same path strings "
            "or ids)",
            column=pred_key,
        )


def exact_text(value: float) -> str:
    """A chosen value as people read it without losing it: up to six significant digits.

    Thresholds are shown this way, not rounded to a slider's step: 0.4322246, not 0.43.

    Examples
    --------
    >>> exact_text(0.4322245515169007), exact_text(0.5), exact_text(0.6000000000000001)
    ('0.432225', '0.5', '0.6')
    """
    return f"{float(value):.6g}"


def slider_echo(slider, exact: float, new: float) -> bool:
    """Whether a slider's new value is only its picture of ``exact``, not a move.

    A FloatSlider's front end snaps the value it is given to its step when it renders and
    sends the snapped value back; a value within half a step of ``exact`` (clipped to the
    slider's range) is that echo.  Views ignore it, so a threshold chosen by a rule (best F1
    at 0.48864) is not rounded to 0.49 by being shown; a person's move is at least a step.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> s = SimpleNamespace(min=0.0, max=1.0, step=0.01)
    >>> slider_echo(s, 0.48864, 0.49), slider_echo(s, 0.48864, 0.50)
    (True, False)
    """
    shown = min(max(float(exact), slider.min), slider.max)
    return abs(float(new) - shown) <= slider.step / 2 + 1e-12


def metric_cell(name: str, value, *, digits: int | None = 4) -> str:
    """An HTML table cell carrying a metric for people (rounded) and for tests (exact).

    The class ``vislab-<name>`` finds it; ``data-value`` holds ``repr(float(value))``.
    ``digits=None`` shows the value with :func:`exact_text` (for chosen thresholds).

    Examples
    --------
    >>> metric_cell("precision", 0.123456)
    '<td class="vislab-precision" data-value="0.123456">0.1235</td>'
    >>> metric_cell("threshold", 0.4322245515169007, digits=None)
    '<td class="vislab-threshold" data-value="0.4322245515169007">0.432225</td>'
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return f'<td class="vislab-{name}" data-value="nan">—</td>'
    if isinstance(value, (int, np.integer)):
        return f'<td class="vislab-{name}" data-value="{int(value)}">{int(value)}</td>'
    v = float(value)
    text = exact_text(v) if digits is None else f"{v:.{digits}f}"
    return f'<td class="vislab-{name}" data-value="{v!r}">{text}</td>'


#: Spacing for the small HTML tables of the widgets (scoped by class, so harmless globally).
TABLE_STYLE = (
    "<style>.vislab-table td, .vislab-table th, table.vislab-metrics td, "
    "table.vislab-metrics th {padding: 2px 9px; text-align: right}</style>"
)


def escape(text) -> str:
    return html.escape(str(text))


def shorten(text, n: int) -> str:
    """``text`` cut to ``n`` characters with an ellipsis, so a cut never passes for a word.

    Examples
    --------
    >>> shorten("(no prediction)", 12), shorten("cat", 12)
    ('(no predict…', 'cat')
    """
    text = str(text)
    return text if len(text) <= n else text[: n - 1] + "…"
