"""Small rules the clients share for per-image values: briefs, "images or cont_sign", tags."""

from __future__ import annotations

import json
import numbers
from collections.abc import Mapping
from typing import Any

import pandas as pd

from vislab.errors import InvalidParameter

__all__ = ["brief_text", "per_image_value", "images_or_cont_sign", "tag_list", "json_default"]


def json_default(value: Any):
    """JSON for numpy scalars and arrays (``{"id": np.int64(5)}`` is a fine brief).

    Examples
    --------
    >>> import numpy as np
    >>> json.dumps({"id": np.int64(5), "score": np.float32(0.5)}, default=json_default)
    '{"id": 5, "score": 0.5}'
    """
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def brief_text(brief, ident: str) -> str:
    """The wire ``brief`` for one image: strings as given, anything else as JSON.

    Raises :class:`~vislab.errors.InvalidParameter` when the brief (or the callable making
    it) fails, so the image gets an error row and the batch goes on.

    Examples
    --------
    >>> brief_text({"name": "acme"}, "a.png")
    '{"name": "acme"}'
    >>> brief_text(lambda ident: {"file": ident}, "a.png")
    '{"file": "a.png"}'
    """
    try:
        value = brief(ident) if callable(brief) else brief
        return (
            value
            if isinstance(value, str)
            else json.dumps(value, ensure_ascii=False, default=json_default)
        )
    except Exception as exc:
        raise InvalidParameter(
            f"brief for {ident!r} failed: {type(exc).__name__}: {exc}", name="brief"
        ) from None


def per_image_value(value, ident: str, *, name: str = "value"):
    """One image's value from a constant, a mapping/Series by identifier, or a callable.

    A callable that raises becomes an :class:`~vislab.errors.InvalidParameter` naming
    ``name`` and the image, so that image gets an error row and the batch goes on.

    Examples
    --------
    >>> per_image_value({"a.jpg": [1]}, "a.jpg"), per_image_value([2], "b.jpg")
    ([1], [2])
    """
    if callable(value):
        try:
            return value(ident)
        except Exception as exc:
            raise InvalidParameter(
                f"{name} for {ident!r} failed: {type(exc).__name__}: {exc}", name=name
            ) from None
    if isinstance(value, pd.Series):
        return value.get(ident)
    if isinstance(value, Mapping) and ident in value:
        return value[ident]
    return value


def images_or_cont_sign(images, cont_sign) -> list[str] | None:
    """Check that exactly one of the two is given; the cont_signs as a list (or None).

    Examples
    --------
    >>> images_or_cont_sign(None, "1,2")
    ['1,2']
    >>> images_or_cont_sign("a.jpg", None) is None
    True
    >>> images_or_cont_sign(None, None)
    Traceback (most recent call last):
    ...
    vislab.errors.InvalidParameter: pass images or cont_sign (one of them)
    """
    if (images is None) == (cont_sign is None):
        raise InvalidParameter("pass images or cont_sign (one of them)", name="cont_sign")
    if images is not None:
        return None
    return [cont_sign] if isinstance(cont_sign, str) else [str(s) for s in cont_sign]


def tag_list(value):
    """Categories as stored in a ledger (``"100,11"``) -> a list of ints, or None.

    Examples
    --------
    >>> tag_list("100,11"), tag_list(None)
    ([100, 11], None)
    """
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, str):
        values = [int(v) for v in value.split(",") if v.strip()]
        return values or None
    return value
