"""Past one machine: batch calls on Dask, one QPS limit for a whole cluster.

``limiter``   :class:`ClusterRateLimiter`, the token bucket kept on the Dask scheduler
``schema``    the declared ``meta`` of a client method's frame (what every partition becomes)
``dask_calls`` running a client method over the partitions of a ``dask.dataframe``

The user-facing names are in :mod:`vislab.batch`; galleries on Milvus are a gallery backend
(:mod:`vislab.engine.gallery.milvus`).  Nothing here imports Dask at module level: the extra
``vislab[dask]`` is needed only when a Dask input is given.
"""

from __future__ import annotations

__all__: list[str] = []
