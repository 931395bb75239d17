"""Choosing an operating point of a sweep by a rule: best F-score, a floor, or costs.

:func:`best_threshold` reads a :class:`~vislab.evaluate.Sweep` (or a sweep frame) and returns
the row of the threshold a rule prefers; widgets' "best F1" and "precision >= x" buttons and
the Displays' ``rule=`` options all come here.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from vislab.errors import InvalidFrame, InvalidParameter
from vislab.evaluate._curve import COUNT_COLUMNS
from vislab.evaluate.sweeps import Sweep
from vislab.frames import require_columns

__all__ = ["best_threshold"]

_RULE = re.compile(r"^\s*(precision|recall)\s*>=\s*([0-9.]+)\s*$")
_FBETA = re.compile(r"^\s*f([0-9.]+)?\s*$")


def best_threshold(
    sweep,
    *,
    rule: str | Mapping[str, float] | Callable = "f1",
    label=None,
) -> pd.Series:
    """Pick the operating point of a sweep by a rule.

    Parameters
    ----------
    sweep : Sweep or DataFrame
        A :class:`Sweep` or a frame with its columns.
    rule : str, mapping or callable, default "f1"
        * ``"f1"`` (or ``"f0.5"``, ``"f2"``, any F-beta): the threshold with the best score.
        * ``"precision>=0.9"``: the lowest threshold (most recall) whose precision is at least
          0.9 — for applications where a false alarm is expensive.
        * ``"recall>=0.8"``: the highest-precision threshold that still finds 80 % — for
          applications where a miss is expensive.
        * ``{"fp": 1, "fn": 5}``: the threshold with the lowest total cost of errors (keys
          ``fp``, ``fn``, optionally ``tp`` as a negative cost, i.e. a gain).
        * a callable taking the sweep frame and returning a score per row to maximise.

        Ties go to the higher threshold (fewer predictions for the same quality).
    label : optional
        Choose for one class of the sweep.

    Returns
    -------
    Series
        ``threshold, n_pred, tp, fp, fn, precision, recall, f1`` of the chosen row and the
        ``rule``.  If no threshold satisfies a floor, a warning is issued and ``threshold``
        is NaN.

    Examples
    --------
    >>> from vislab.evaluate import Sweep
    >>> s = Sweep.from_arrays([0.9, 0.8, 0.7, 0.2], tp=[1, 1, 0, 1], n_pos=4)
    >>> best_threshold(s)[["threshold", "precision", "recall", "f1"]].tolist()
    [0.2, 0.75, 0.75, 0.75]
    >>> best_threshold(s, rule="precision>=0.9")["threshold"]
    0.8
    >>> best_threshold(s, rule={"fp": 1, "fn": 0.1})["threshold"]
    0.8
    """
    if isinstance(sweep, Sweep):
        frame = sweep.overall if label is None else sweep.curve(label)
    elif isinstance(sweep, pd.DataFrame):
        require_columns(sweep, ["threshold", "tp", "fp", "fn", "precision", "recall"], name="sweep")
        frame = sweep if label is None else sweep[sweep["label"] == label]
    else:
        raise InvalidParameter(
            f"best_threshold needs a Sweep or a DataFrame, got {type(sweep)}", name="sweep"
        )
    frame = frame.reset_index(drop=True)
    if len(frame) == 0:
        raise InvalidFrame("the sweep is empty: there are no predictions to choose from")
    thr = frame["threshold"].to_numpy(dtype=float)
    feasible = np.ones(len(frame), dtype=bool)
    if callable(rule) and not isinstance(rule, Mapping):
        utility = np.asarray(rule(frame), dtype=float)
        rule_name = getattr(rule, "__name__", "callable")
    elif isinstance(rule, Mapping):
        bad = set(rule) - {"fp", "fn", "tp"}
        if bad:
            raise InvalidParameter(
                f"cost weights take keys fp, fn, tp; got {sorted(bad)}", name="rule"
            )
        cost = sum(
            float(rule.get(k, 0.0)) * frame[k].to_numpy(dtype=float) for k in ("fp", "fn", "tp")
        )
        utility = -cost
        rule_name = "cost " + ", ".join(f"{k}={v}" for k, v in rule.items())
    elif isinstance(rule, str) and _FBETA.match(rule):
        beta = float(_FBETA.match(rule).group(1) or 1.0)
        p = frame["precision"].to_numpy(dtype=float)
        r = frame["recall"].to_numpy(dtype=float)
        b2 = beta * beta
        with np.errstate(divide="ignore", invalid="ignore"):
            utility = np.where(p + r > 0, (1 + b2) * p * r / (b2 * p + r), 0.0)
        rule_name = rule.strip()
    elif isinstance(rule, str) and _RULE.match(rule):
        metric, floor = _RULE.match(rule).groups()
        floor = float(floor)
        other = "recall" if metric == "precision" else "precision"
        feasible = frame[metric].to_numpy(dtype=float) >= floor - 1e-12
        utility = frame[other].to_numpy(dtype=float)
        rule_name = rule.strip()
    else:
        raise InvalidParameter(
            f"unknown rule {rule!r}; use 'f1', 'f2', 'precision>=0.9', 'recall>=0.8', "
            "a dict of costs or a callable",
            name="rule",
        )
    utility = np.where(feasible & ~np.isnan(utility), utility, -np.inf)
    if not np.isfinite(utility).any():
        warnings.warn(f"no threshold satisfies {rule_name!r}", UserWarning, stacklevel=2)
        row = pd.Series({c: np.nan for c in COUNT_COLUMNS}, dtype=object)
        row["rule"] = rule_name
        return row
    best = utility.max()
    # Ties: the highest threshold, i.e. the first row (rows run from high to low scores).
    i = int(np.flatnonzero(utility == best)[0]) if np.isfinite(best) else int(np.argmax(thr))
    row = frame.iloc[i][[c for c in COUNT_COLUMNS if c in frame.columns]].copy()
    row = row.astype(object)
    row["rule"] = rule_name
    return row
