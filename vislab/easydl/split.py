"""Stratified train/test splits of a dataset's images (:meth:`vislab.easydl.Dataset.split`).

Each image has a stratum (its class; for detection, the set of labels it holds).  Strata of
one image are pooled, since a lone image cannot be split.  The test images of each stratum
are its share of the total, rounded by largest remainder (ties to the earlier stratum), and
every stratum keeps at least one image for training (a pool of one keeps its image).  Which
images of a stratum go to the test set is drawn from the seed.
"""

from __future__ import annotations

import math

import numpy as np

from vislab.easydl.errors import DatasetError

__all__ = ["n_test_images", "allocate", "stratified_test_mask"]


def n_test_images(test_size, n: int) -> int:
    """How many of ``n`` images a ``test_size`` asks for (a fraction is rounded up, as
    scikit-learn's ``train_test_split`` does).

    Raises :class:`~vislab.easydl.errors.DatasetError` when the test or the training part
    would be empty.

    Examples
    --------
    >>> n_test_images(0.2, 11), n_test_images(3, 11)
    (3, 3)
    """
    if isinstance(test_size, (int, np.integer)) and not isinstance(test_size, bool):
        n_test = int(test_size)
    elif isinstance(test_size, float) and 0 < test_size < 1:
        n_test = math.ceil(test_size * n)
    else:
        raise DatasetError(f"test_size must be a fraction in (0, 1) or a count, got {test_size!r}")
    if not 0 < n_test < n:
        raise DatasetError(
            f"test_size={test_size!r} leaves {n_test} of {n} images for testing; both parts "
            "need at least one image"
        )
    return n_test


def allocate(sizes: list[int], n_test: int) -> list[int]:
    """Test images per stratum: proportional, largest remainder, one left for training.

    Examples
    --------
    >>> allocate([6, 4], 5), allocate([10, 2, 1], 4)
    ([3, 2], [3, 1, 0])
    """
    total = sum(sizes)
    ideal = [n_test * s / total for s in sizes]
    cap = [s - 1 if s >= 2 else 0 for s in sizes]
    alloc = [min(math.floor(v), c) for v, c in zip(ideal, cap, strict=True)]
    order = sorted(range(len(sizes)), key=lambda i: (-(ideal[i] - math.floor(ideal[i])), i))
    while sum(alloc) < n_test:
        room = [i for i in order if alloc[i] < cap[i]]
        if not room:
            break
        for i in room[: n_test - sum(alloc)]:
            alloc[i] += 1
    return alloc


def stratified_test_mask(strata: list, test_size, *, seed: int = 0) -> np.ndarray:
    """Which images go to the test set (``True``), stratified by ``strata``.

    Parameters
    ----------
    strata : list
        One hashable key per image (a class, or a tuple of labels).
    test_size : float or int
        A fraction in (0, 1) or a count (see :func:`n_test_images`).
    seed : int, default 0

    Returns
    -------
    numpy.ndarray of bool

    Examples
    --------
    >>> mask = stratified_test_mask(["a"] * 6 + ["b"] * 4, 0.5, seed=0)
    >>> int(mask[:6].sum()), int(mask[6:].sum())
    (3, 2)
    """
    n = len(strata)
    n_test = n_test_images(test_size, n)
    groups: dict = {}
    for i, key in enumerate(strata):
        groups.setdefault(key, []).append(i)
    pooled: dict = {}
    for key, members in groups.items():
        pooled.setdefault(key if len(members) >= 2 else "(rare)", []).extend(members)
    keys = sorted(pooled, key=repr)
    alloc = allocate([len(pooled[k]) for k in keys], n_test)
    rng = np.random.default_rng(seed)
    test = np.zeros(n, dtype=bool)
    for key, k in zip(keys, alloc, strict=True):
        members = np.array(sorted(pooled[key]))
        test[rng.permutation(members)[:k]] = True
    return test
