"""Hooks that let a client run on Dask (:mod:`vislab.scale`) without importing it.

A client method given a ``dask.dataframe`` column returns a lazy frame of the same schema;
a client records the arguments it was made from, so each worker can make the same client.
"""

from __future__ import annotations

import functools

__all__ = ["accepts_dask", "records_recipe"]


def _is_dask(images) -> bool:
    # By module name: Dask is an optional extra, never imported to answer this.
    return type(images).__module__.split(".", 1)[0] == "dask"


def accepts_dask(method):
    """Let a client method take a ``dask.dataframe`` column: then it returns a lazy frame."""

    @functools.wraps(method)
    def call(self, *args, **kwargs):
        images = args[0] if args else kwargs.get("images")
        if images is not None and _is_dask(images):
            from vislab.scale.dask_calls import map_method

            return map_method(self, method.__name__, args, kwargs)
        return method(self, *args, **kwargs)

    return call


def records_recipe(init):
    """Keep what a client was made from: vislab.scale makes the same client on each worker."""

    @functools.wraps(init)
    def recorded(self, *args, **kwargs):
        # The most derived __init__ runs first and records the caller's arguments.
        self.__dict__.setdefault("_recipe", (args, kwargs))
        init(self, *args, **kwargs)

    return recorded
