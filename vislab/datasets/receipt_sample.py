"""A rendered shop receipt with its truth text and boxes, for OCR tests and notebooks.

:func:`receipt` draws a till receipt with PIL in the DejaVu fonts that matplotlib ships
(``matplotlib/mpl-data/fonts/ttf``), so it needs no font from the system and no download, and
the same seed gives the same pixels on every machine with the same Pillow and matplotlib.
The truth is one row per text run (a left-aligned item name and its right-aligned price are
two runs), with the run's ink box as PIL measures it.

Only English (Latin) text: none of vislab's dependencies ships a CJK font (matplotlib's
DejaVu fonts have no Chinese glyphs), so a Chinese line cannot be rendered offline here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from vislab.errors import InvalidParameter

__all__ = ["receipt", "Receipt", "RECEIPT_ITEMS"]

#: Goods the receipt draws its items from, with a typical price range (low, high).
RECEIPT_ITEMS = {
    "Coffee beans 500g": (6.0, 12.0),
    "Whole milk 1L": (0.9, 1.8),
    "Sourdough loaf": (2.5, 4.5),
    "Free range eggs x6": (1.8, 3.5),
    "Cheddar 200g": (2.2, 4.0),
    "Bananas": (0.8, 2.0),
    "Green tea 20 bags": (1.5, 3.5),
    "Orange juice": (1.6, 3.2),
    "Pasta 500g": (0.9, 2.2),
    "Tomatoes": (1.0, 2.8),
    "Olive oil 750ml": (4.5, 9.0),
    "Dark chocolate": (1.2, 2.9),
}
STORES = ("CORNER MARKET", "HARBOUR GROCERY", "MAPLE FOODS")
STREETS = ("12 Harbour Road", "7 Mill Lane", "140 King Street")

WIDTH = 460
MARGIN = 24


@lru_cache(maxsize=8)
def _font(name: str, size: int):
    import matplotlib
    from PIL import ImageFont

    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name
    return ImageFont.truetype(str(path), size)


@dataclass
class Receipt:
    """What :func:`receipt` returns: the picture and its truth text runs.

    Parameters
    ----------
    image : PIL.Image.Image
        The rendered receipt, RGB.
    truth : DataFrame
        One row per text run, top to bottom then left to right: ``text`` and its ink box
        ``x, y, w, h`` (pixels, top-left origin).

    Examples
    --------
    >>> r = receipt(seed=0)
    >>> r.truth.columns.tolist()
    ['text', 'x', 'y', 'w', 'h']
    >>> r.pixels.shape[1], r.pixels.dtype
    (460, dtype('uint8'))
    """

    image: object
    truth: pd.DataFrame

    @property
    def pixels(self) -> np.ndarray:
        """The image as a ``uint8`` RGB array ``(H, W, 3)``.

        Examples
        --------
        >>> receipt(seed=0).pixels.ndim
        3
        """
        return np.asarray(self.image)


def _generated_lines(rng: np.random.Generator) -> list:
    store = int(rng.integers(len(STORES)))
    names = list(RECEIPT_ITEMS)
    picked = rng.choice(len(names), size=int(rng.integers(4, 8)), replace=False)
    day = f"2026-{int(rng.integers(1, 13)):02d}-{int(rng.integers(1, 29)):02d}"
    clock = f"{int(rng.integers(8, 21)):02d}:{int(rng.integers(0, 60)):02d}"
    lines: list = [
        ("title", STORES[store]),
        ("centre", STREETS[store]),
        ("gap",),
        ("pair", f"{day} {clock}", f"Till {int(rng.integers(1, 9))}"),
        ("rule",),
    ]
    total_cents = 0
    for index in sorted(picked.tolist()):
        low, high = RECEIPT_ITEMS[names[index]]
        cents = int(round(rng.uniform(low, high) * 100))
        total_cents += cents
        lines.append(("pair", names[index], f"{cents / 100:.2f}"))
    tax = int(round(total_cents * 0.08))
    lines += [
        ("rule",),
        ("pair", "Subtotal", f"{total_cents / 100:.2f}"),
        ("pair", "Tax 8%", f"{tax / 100:.2f}"),
        ("bold pair", "TOTAL", f"{(total_cents + tax) / 100:.2f}"),
        ("gap",),
        ("pair", "Card", f"**** {int(rng.integers(1000, 10000))}"),
        ("gap",),
        ("centre", "Thank you for shopping"),
    ]
    return lines


def _user_lines(lines: Sequence) -> list:
    out = []
    for i, line in enumerate(lines):
        if isinstance(line, str):
            out.append(("left", line))
        elif (
            isinstance(line, tuple)
            and len(line) == 2
            and all(isinstance(part, str) for part in line)
        ):
            out.append(("pair", *line))
        else:
            raise InvalidParameter(
                f"lines[{i}] must be a string or a (left, right) pair of strings, got {line!r}",
                name="lines",
            )
    return out


def receipt(*, seed: int = 0, lines: Sequence | None = None) -> Receipt:
    """Render a shop receipt and return it with its truth text runs and boxes.

    Parameters
    ----------
    seed : int, default 0
        Chooses the shop, the date, four to seven items and their prices (the totals add
        up). Same seed, same pixels.
    lines : sequence of str or (str, str), optional
        Render these lines instead: a string is drawn left-aligned, a ``(left, right)`` pair
        as an item and its right-aligned price. Empty strings are skipped.

    Returns
    -------
    Receipt
        ``.image`` (PIL, RGB, 460 px wide), ``.pixels`` (the same as an array) and
        ``.truth`` (``text, x, y, w, h`` per text run).

    Examples
    --------
    >>> r = receipt(seed=0)
    >>> r.truth["text"].iloc[0], r.image.size[0]
    ('MAPLE FOODS', 460)
    >>> receipt(lines=["Hello", ("Tea", "2.50")]).truth["text"].tolist()
    ['Hello', 'Tea', '2.50']
    """
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    spec = _generated_lines(rng) if lines is None else _user_lines(lines)
    regular, bold = _font("DejaVuSans.ttf", 20), _font("DejaVuSans-Bold.ttf", 20)
    title = _font("DejaVuSans-Bold.ttf", 28)
    heights = {"title": 48, "gap": 14, "rule": 18}
    height = 2 * MARGIN + sum(heights.get(kind[0], 32) for kind in spec)
    image = Image.new("RGB", (WIDTH, height), (252, 251, 246))  # receipt paper, not pure white
    draw = ImageDraw.Draw(image)
    ink = (25, 25, 30)
    rows = []

    def put(text: str, x: float, y: float, font, anchor: str) -> None:
        if not text:
            return
        draw.text((x, y), text, font=font, fill=ink, anchor=anchor)
        left, top, right, bottom = draw.textbbox((x, y), text, font=font, anchor=anchor)
        rows.append((text, float(left), float(top), float(right - left), float(bottom - top)))

    y = MARGIN
    for kind, *parts in spec:
        step = heights.get(kind, 32)
        middle = y + step / 2
        if kind == "title":
            put(parts[0], WIDTH / 2, middle, title, "mm")
        elif kind == "centre":
            put(parts[0], WIDTH / 2, middle, regular, "mm")
        elif kind == "left":
            put(parts[0], MARGIN, middle, regular, "lm")
        elif kind in ("pair", "bold pair"):
            font = bold if kind == "bold pair" else regular
            put(parts[0], MARGIN, middle, font, "lm")
            put(parts[1], WIDTH - MARGIN, middle, font, "rm")
        elif kind == "rule":  # a dashed rule, drawn, not text
            for x in range(MARGIN, WIDTH - MARGIN, 12):
                draw.line([(x, middle), (x + 6, middle)], fill=ink, width=2)
        y += step
    truth = pd.DataFrame(rows, columns=["text", "x", "y", "w", "h"])
    return Receipt(image=image, truth=truth)
