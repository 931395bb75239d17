"""Deterministic test data for the widgets (shared with the browser test and benchmarks)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def make_detections(n_images=30, *, seed=0, labels=("cat", "dog", "car"), size=(320, 240)):
    """Truth boxes and noisy predictions: hits with jitter, misses, and false alarms.

    Scores of hits skew high and false alarms low, so precision rises with the threshold.
    """
    rng = np.random.default_rng(seed)
    truth_rows, pred_rows = [], []
    width, height = size
    for i in range(n_images):
        image = f"img{i:03d}.jpg"
        for _ in range(rng.integers(1, 4)):
            w, h = rng.uniform(30, 90, 2)
            x, y = rng.uniform(0, width - w), rng.uniform(0, height - h)
            label = str(rng.choice(labels))
            truth_rows.append(dict(image=image, label=label, x=x, y=y, w=w, h=h))
            if rng.random() < 0.8:  # found, with some jitter
                jx, jy = rng.normal(0, 4, 2)
                pred_rows.append(
                    dict(
                        image=image,
                        label=label,
                        score=float(rng.beta(5, 2)),
                        x=x + jx,
                        y=y + jy,
                        w=w,
                        h=h,
                    )
                )
        for _ in range(rng.integers(0, 3)):  # false alarms
            w, h = rng.uniform(20, 60, 2)
            pred_rows.append(
                dict(
                    image=image,
                    label=str(rng.choice(labels)),
                    score=float(rng.beta(2, 4)),
                    x=rng.uniform(0, width - w),
                    y=rng.uniform(0, height - h),
                    w=w,
                    h=h,
                )
            )
    return pd.DataFrame(pred_rows), pd.DataFrame(truth_rows)
