"""`positions`: the fast column lookup equals the plain object lookup it replaced."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vislab.evaluate._validate import positions


def _plain(values, order: pd.Index) -> np.ndarray:
    # The lookup used before: every row as a Python object.
    return order.get_indexer(pd.Index(np.asarray(values, dtype=object), dtype=object))


rng = np.random.default_rng(0)
NAMES = [f"img{i}.jpg" for i in range(50)]


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(rng.choice(NAMES, 5000)),  # pandas' default string dtype (Arrow)
        pd.Series(rng.choice(NAMES, 5000), dtype=object),
        pd.Series(rng.choice(NAMES, 5000)).astype("category"),
        pd.Series(rng.integers(0, 60, 5000)),  # integer ids
        pd.Series(list(rng.choice(NAMES, 100)) + [None, np.nan, 3, 3.0], dtype=object),
        pd.Series([], dtype=object),
    ],
    ids=["arrow", "object", "category", "int", "mixed-with-missing", "empty"],
)
@pytest.mark.parametrize("order_kind", ["object", "native"])
def test_positions_equal_the_object_lookup(values, order_kind):
    known = [*NAMES[::2], *range(0, 60, 3), None]
    order = pd.Index(known, dtype=object)
    if order_kind == "native":
        order = pd.Index(NAMES[::3]) if values.dtype != np.int64 else pd.Index(range(0, 60, 4))
    got = positions(values, order)
    np.testing.assert_array_equal(got, _plain(values, order))
    assert got.dtype.kind == "i" and len(got) == len(values)
