"""The live picture grid, drawn with Pillow: a page of 12 images in a few tens of milliseconds.

The widgets redraw their grid of images every time a slider comes to rest.  Drawn with
matplotlib, most of that time goes into laying out and rasterising a hundred small captions;
Pillow draws the same page — thumbnails, boxes (solid or dashed), captions on coloured labels,
titles — directly into one RGB canvas and encodes it as JPEG.  It takes the same
:class:`~vislab.widgets._static.Tile` objects as :class:`~vislab.widgets._static.ImageGrid`,
which still draws the static renderings (pictures composed with other matplotlib axes).

Captions never leave their picture: a box at the top edge gets its caption inside the box,
one at the right edge gets it shifted left, and one wider than the picture is shortened.
"""

from __future__ import annotations

import io
from functools import lru_cache

import numpy as np

__all__ = ["PillowGrid"]

_TITLE_PX = 14  # band above each picture for its title
_PAD = 3  # pixels around each picture


@lru_cache(maxsize=8)
def _font(size: int):
    """DejaVu Sans (shipped with matplotlib) at ``size`` pixels, or Pillow's default font."""
    from PIL import ImageFont

    try:
        from matplotlib import font_manager

        return ImageFont.truetype(font_manager.findfont("DejaVu Sans"), size)
    except Exception:  # pragma: no cover - matplotlib always ships DejaVu Sans
        return ImageFont.load_default()


def _rgb(color) -> tuple[int, int, int]:
    from matplotlib.colors import to_rgb

    return tuple(int(round(c * 255)) for c in to_rgb(color))


def _dashed(draw, p0, p1, *, fill, width, on=6.0, off=4.0) -> None:
    """A dashed straight line from ``p0`` to ``p1``."""
    (x0, y0), (x1, y1) = p0, p1
    length = float(np.hypot(x1 - x0, y1 - y0))
    if length == 0:
        return
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    s = 0.0
    while s < length:
        e = min(s + on, length)
        draw.line([(x0 + ux * s, y0 + uy * s), (x0 + ux * e, y0 + uy * e)], fill=fill, width=width)
        s = e + off


class PillowGrid:
    """A grid of ``n`` pictures, ``ncols`` per row, drawn with Pillow.

    Parameters
    ----------
    n, ncols : int
    cell_inches : (float, float)
        Size of one cell, as for :class:`~vislab.widgets._static.ImageGrid`.
    dpi : float
        Pixels per inch of the page.
    max_labels : int
        Captions per picture (the first boxes get one).

    Examples
    --------
    >>> from vislab.widgets._static import Tile
    >>> grid = PillowGrid(n=2, ncols=2)
    >>> grid.draw([Tile(title="a", size=(40, 30), boxes=np.array([[1, 0, 10, 10]]),
    ...                 colors=["red"], labels=["cat"])])
    >>> grid.jpeg()[:2], grid.size
    (b'\\xff\\xd8', (360, 158))
    """

    def __init__(
        self,
        *,
        n: int = 12,
        ncols: int = 4,
        cell_inches: tuple[float, float] = (2.5, 2.2),
        dpi: float = 72,
        max_labels: int = 6,
    ):
        self.n, self.ncols = n, ncols
        self.nrows = max(1, -(-n // ncols))
        self.cell = (int(round(cell_inches[0] * dpi)), int(round(cell_inches[1] * dpi)))
        self.size = (self.cell[0] * ncols, self.cell[1] * self.nrows)
        self.max_labels = max_labels
        self.image = None
        self.placed: list[dict] = []  # where each tile went: for tests and hit testing

    def draw(self, tiles) -> None:
        """Draw ``tiles`` (at most one per cell; empty cells stay blank)."""
        from PIL import Image, ImageDraw

        self.image = Image.new("RGB", self.size, "white")
        draw = ImageDraw.Draw(self.image, "RGBA")
        self.placed = []
        for i, tile in enumerate(list(tiles)[: self.n]):
            r, c = divmod(i, self.ncols)
            self.placed.append(self._draw_tile(draw, tile, c * self.cell[0], r * self.cell[1]))

    def _draw_tile(self, draw, tile, left: int, top: int) -> dict:
        from PIL import Image

        cw, ch = self.cell
        boxes = np.asarray(tile.boxes, dtype=float).reshape(-1, 4)
        if tile.size is not None:
            width, height = (float(v) for v in tile.size)
        elif len(boxes):
            width = float(max(1.0, (boxes[:, 0] + boxes[:, 2]).max() * 1.05))
            height = float(max(1.0, (boxes[:, 1] + boxes[:, 3]).max() * 1.05))
        else:
            width, height = 100.0, 100.0
        # The picture, scaled to fit under the title band with its aspect kept, centred.
        area_w, area_h = cw - 2 * _PAD, ch - _TITLE_PX - 2 * _PAD
        scale = min(area_w / width, area_h / height)
        pw, ph = max(1, int(round(width * scale))), max(1, int(round(height * scale)))
        px = left + _PAD + (area_w - pw) // 2
        py = top + _TITLE_PX + _PAD + (area_h - ph) // 2
        if tile.pixels is not None:
            picture = Image.fromarray(np.ascontiguousarray(tile.pixels[..., :3]).astype(np.uint8))
            self.image.paste(picture.resize((pw, ph), Image.Resampling.BILINEAR), (px, py))
        else:
            draw.rectangle([px, py, px + pw - 1, py + ph - 1], fill=(225, 225, 225))
        # Boxes, in the picture's own pixel coordinates.
        colors = list(tile.colors) or ["#1f77b4"] * len(boxes)
        dashed = list(tile.dashed) or [False] * len(boxes)
        for (x, y, w, h), color, dash in zip(boxes, colors, dashed, strict=False):
            x0, y0 = px + x * scale, py + y * scale
            x1, y1 = px + (x + w) * scale, py + (y + h) * scale
            fill = _rgb(color)
            if dash:
                corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
                for a, b in zip(corners[:-1], corners[1:], strict=True):
                    _dashed(draw, a, b, fill=fill, width=2)
            else:
                draw.rectangle([x0, y0, x1, y1], outline=fill, width=2)
        # Captions above their box — inside it when the box touches the top, never outside
        # the picture.
        font = _font(9)
        picture = (px, py, pw, ph)
        captions = []
        for (x, y, _w, _h), text, color in zip(boxes, tile.labels, colors, strict=False):
            if text and len(captions) < self.max_labels:
                where = (px + x * scale, py + y * scale)
                captions.append(self._caption(draw, str(text), color, where, picture, font))
        for j, (text, color) in enumerate(tile.notes):
            where = (px + 3, py + 14 + 13 * j)
            captions.append(self._caption(draw, str(text), color, where, picture, font))
        title = str(tile.title)
        for size in (10, 9, 8):  # a smaller font before any letter is dropped
            title_font = _font(size)
            tw = draw.textlength(title, font=title_font)
            if tw <= cw - 4:
                break
        while tw > cw - 4 and len(title) > 4:  # shorten rather than overflow the cell
            title = title[:-2] + "…"
            tw = draw.textlength(title, font=title_font)
        draw.text(
            (left + (cw - tw) / 2, top + 1), title, fill=_rgb(tile.title_color), font=title_font
        )
        return {"picture": picture, "captions": captions, "title": title}

    @staticmethod
    def _caption(draw, text, color, where, picture, font) -> tuple:
        """Draw ``text`` on a label whose bottom-left corner is at ``where``, kept inside the
        picture ``(px, py, pw, ph)``; returns the label's rectangle."""
        x, y = where
        px, py, pw, ph = picture
        while len(text) > 2 and draw.textlength(text, font=font) + 4 > pw:
            text = text[:-2] + "…"  # a caption wider than its picture is shortened
        x0, y0, x1, y1 = draw.textbbox((0, 0), text, font=font)
        tw, th = x1 - x0 + 4, y1 - y0 + 3
        top = y - th
        if top < py:  # at the top edge: inside the box instead of above it
            top = y + 2 if y + 2 + th <= py + ph else py
        x = min(max(x, px), max(px, px + pw - tw))
        rect = (x, top, x + tw, top + th)
        draw.rectangle(rect, fill=(*_rgb(color), 200))
        draw.text((x + 2 - x0, top + 1 - y0), text, fill="white", font=font)
        return rect

    def jpeg(self, *, quality: int = 85) -> bytes:
        """The page as JPEG bytes."""
        buf = io.BytesIO()
        self.image.save(buf, format="JPEG", quality=quality)
        return buf.getvalue()
