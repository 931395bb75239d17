"""Running one call per item with bounded concurrency and a notebook progress bar."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

__all__ = ["run_batch", "PROGRESS_MIN_ITEMS"]

#: Smallest batch that gets a progress bar.
PROGRESS_MIN_ITEMS = 20


def run_batch(
    func: Callable[[Any], Any],
    items: Iterable[Any],
    *,
    max_workers: int = 4,
    progress: bool = True,
    desc: str = "",
) -> list:
    """Apply ``func`` to every item with at most ``max_workers`` threads; results in order.

    ``func`` must not raise for a per-item failure (it returns an error result instead);
    a raise here is a bug and propagates.

    Examples
    --------
    >>> run_batch(lambda x: x * 2, [1, 2, 3], progress=False)
    [2, 4, 6]
    """
    items = list(items)
    if not items:
        return []
    # A bar for a handful of images is noise (and litters saved notebooks): show it for
    # batches that take long enough to watch.
    show = progress and len(items) >= PROGRESS_MIN_ITEMS
    bar = None
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(items), desc=desc, leave=False)
    try:
        if max_workers <= 1 or len(items) == 1:
            out = []
            for item in items:
                out.append(func(item))
                if bar is not None:
                    bar.update(1)
            return out
        results: list[Any] = [None] * len(items)

        def work(index_item):
            index, item = index_item
            results[index] = func(item)
            if bar is not None:
                bar.update(1)

        with ThreadPoolExecutor(max_workers=min(max_workers, len(items))) as pool:
            for _ in pool.map(work, enumerate(items)):
                pass
        return results
    finally:
        if bar is not None:
            bar.close()
