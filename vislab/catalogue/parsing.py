"""Numbers in replies and parameters: :func:`as_int` and :func:`as_number` (re-exported by
:mod:`vislab.catalogue.model`, where they used to live).

One helper for each: services put numbers in JSON as ints, floats or strings, and a parser
or a parameter check must read them the same way everywhere.

Examples
--------
>>> as_int("12"), as_number("0.5")
(12, 0.5)
"""

from __future__ import annotations

import numbers
import re
from typing import Any

__all__ = ["as_int", "as_number"]


def as_int(value: Any) -> int:
    """``value`` as an int when it is integral (int, numpy integer, integral float, digits).

    Raises ``ValueError`` otherwise; ``bool`` is refused (``True`` is no page number).

    Examples
    --------
    >>> import numpy as np
    >>> as_int(np.int64(5)), as_int(3.0), as_int(" 7 ")
    (5, 3, 7)
    >>> as_int(1.5)
    Traceback (most recent call last):
    ...
    ValueError: 1.5 is not an integer
    """
    if isinstance(value, bool) or getattr(getattr(value, "dtype", None), "kind", "") == "b":
        raise ValueError(f"{value!r} is not an integer")
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        if float(value).is_integer():
            return int(value)
        raise ValueError(f"{value!r} is not an integer")
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
        return int(value)
    raise ValueError(f"{value!r} is not an integer")


def as_number(value: Any) -> float | None:
    """A score or calorie as float; None when the service put a non-number there.

    Examples
    --------
    >>> as_number("0.642212"), as_number(83.12), as_number("肉蟹煲")
    (0.642212, 83.12, None)
    """
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
