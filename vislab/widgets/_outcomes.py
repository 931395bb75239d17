"""What each image of a picture grid shows at a threshold (no rule is decided here).

Which prediction is kept, right or wrong and which object is missed comes from the sweep's
:class:`vislab.evaluate.Outcomes` (``sweep.outcomes``): the same matching and the same
one-vs-rest rule the counts come from, so a grid always adds up to the numbers beside it.
This module only turns those outcomes into :class:`~vislab.widgets._static.Tile` objects:
colours, captions, titles.
"""

from __future__ import annotations

import numpy as np

from vislab.widgets._base import shorten
from vislab.widgets._static import FN_COLOR, FP_COLOR, TP_COLOR, Tile

__all__ = ["OutcomeTiles", "IGNORE_COLOR"]

IGNORE_COLOR = "#9e9e9e"
_MATCH_COLOR = {"tp": TP_COLOR, "fp": FP_COLOR}


class OutcomeTiles:
    """Tiles of a sweep's outcomes: boxes coloured TP / FP / FN, or labels right / wrong.

    Parameters
    ----------
    outcomes : vislab.evaluate.Outcomes
        ``sweep.outcomes`` of a detection or labels sweep.
    """

    def __init__(self, outcomes):
        self.outcomes = outcomes
        self.kind = outcomes.kind
        p, t = outcomes.predictions, outcomes.truth
        self._p_label = p["label"].astype(str).to_numpy()
        self._p_score = p["score"].to_numpy(dtype=float)
        self._p_match = p["match"].to_numpy(dtype=object)
        self._t_label = t["label"].astype(str).to_numpy()
        if self.kind == "detection":
            self._p_box = p[["x", "y", "w", "h"]].to_numpy(dtype=float)
            self._t_box = t[["x", "y", "w", "h"]].to_numpy(dtype=float)

    @property
    def images(self) -> list:
        """Every image, in grid order (truth images first)."""
        return self.outcomes.images

    def error_images(self, threshold) -> list:
        """Images with a kept false positive or a missed object at ``threshold``."""
        return self.outcomes.error_images(threshold)

    def tile(self, image, threshold, *, pixels=None, size=None) -> Tile:
        """What the grid shows for ``image`` at ``threshold`` (one number or per class)."""
        p_rows, t_rows = self.outcomes.rows_of(image)
        p = p_rows[self.outcomes.kept(threshold, p_rows)]
        g = t_rows[self.outcomes.missed(threshold, t_rows)]
        if self.kind == "detection":
            return self._box_tile(image, p, g, pixels=pixels, size=size)
        return self._label_tile(image, p, t_rows, g, pixels=pixels, size=size)

    def _box_tile(self, image, p, g, *, pixels, size) -> Tile:
        match = self._p_match[p]
        colors = [_MATCH_COLOR.get(m, IGNORE_COLOR) for m in match] + [FN_COLOR] * len(g)
        labels = [
            f"{lab} {s:.2f}" for lab, s in zip(self._p_label[p], self._p_score[p], strict=True)
        ] + [f"{lab} missed" for lab in self._t_label[g]]
        n_tp, n_fp = int((match == "tp").sum()), int((match == "fp").sum())
        name = str(image).rsplit("/", 1)[-1]
        return Tile(
            title=f"{shorten(name, 20)}  {n_tp} TP · {n_fp} FP · {len(g)} FN",
            title_color="black" if n_fp == 0 and len(g) == 0 else FP_COLOR,
            pixels=pixels,
            size=size,
            boxes=np.concatenate([self._p_box[p], self._t_box[g]]),
            colors=colors,
            dashed=[False] * len(p) + [True] * len(g),
            labels=labels,
        )

    def _label_tile(self, image, p, t_rows, g, *, pixels, size) -> Tile:
        p = p[np.argsort(-self._p_score[p], kind="stable")]
        truth = ", ".join(self._t_label[t_rows]) or "(no truth)"
        notes = [
            (f"{lab} {s:.2f}", TP_COLOR if m == "tp" else FP_COLOR)
            for lab, s, m in zip(
                self._p_label[p][:6], self._p_score[p][:6], self._p_match[p][:6], strict=True
            )
        ]
        if len(g):
            notes.append((f"{', '.join(self._t_label[g])} missed", FN_COLOR))
        wrong = int((self._p_match[p] == "fp").sum())
        name = str(image).rsplit("/", 1)[-1]
        return Tile(
            title=f"{shorten(name, 16)} · true: {shorten(truth, 14)}",
            title_color="black" if wrong == 0 and not len(g) else FP_COLOR,
            pixels=pixels,
            size=size,
            notes=notes,
        )
