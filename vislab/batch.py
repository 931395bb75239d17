"""Batch calls past one machine: image columns as ``dask.dataframe`` partitions.

Every client method that takes ``images`` also takes a Dask column and then returns a lazy
``dask.dataframe`` — one partition per input partition, with exactly the columns and dtypes of
the in-process frame declared as its ``meta`` (error rows included: a partition whose images
all fail returns its error rows)::

    from vislab import baidu, batch
    cluster = batch.connect()                      # a LocalCluster, or connect("tcp://host:8786")
    paths = batch.from_paths("photos/**/*.jpg", npartitions=40)
    labels = baidu.ImageClassify(api_key=..., secret_key=..., qps=10).advanced_general(paths)
    df = labels.compute()                          # pandas, as in process

With a ``distributed`` cluster the client's ``qps`` is **one limit for the whole cluster**
(a token bucket on the scheduler, :class:`ClusterRateLimiter`); each worker fetches the token
once and shares the disk ``cache=`` folder; a killed worker's partitions run again without
storing an add twice (:mod:`vislab.scale.dask_calls` says how).  Needs ``pip install
'vislab[dask]'``.
"""

from __future__ import annotations

import glob
import os

import pandas as pd

from vislab.errors import InvalidImage, InvalidParameter, TransportError
from vislab.scale.dask_calls import require_dask
from vislab.scale.limiter import ClusterRateLimiter

__all__ = ["from_paths", "connect", "ClusterRateLimiter"]


def from_paths(paths, *, npartitions: int | None = None, partition_size: int = 100):
    """Image paths (a glob or a list) as a Dask frame with one ``image`` column.

    Parameters
    ----------
    paths : str or list of str
        A glob pattern (``"photos/**/*.jpg"``, recursive, sorted) or the paths themselves.
    npartitions : int, optional
        How many partitions (each becomes one task per call).  Default: one per
        ``partition_size`` paths.
    partition_size : int, default 100
        Paths per partition when ``npartitions`` is not given.

    Returns
    -------
    dask.dataframe.DataFrame
        Column ``image`` (the paths as given); pass it, or its column, to any client method.

    Examples
    --------
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> for name in ("a.jpg", "b.jpg", "c.jpg"):
    ...     open(os.path.join(folder, name), "wb").close()
    >>> ddf = from_paths(os.path.join(folder, "*.jpg"), npartitions=2)
    >>> ddf.npartitions, [os.path.basename(p) for p in ddf["image"].compute()]
    (2, ['a.jpg', 'b.jpg', 'c.jpg'])
    """
    dd = require_dask()
    if isinstance(paths, (str, os.PathLike)):
        pattern = os.fspath(paths)
        found = sorted(p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))
        if not found:
            raise InvalidImage(
                f"the pattern {pattern!r} matches no file; check the folder and extension",
                rule="missing",
                value=pattern,
            )
        listed = found
    else:
        listed = [os.fspath(p) for p in paths]
        if not listed:
            raise InvalidParameter("paths is empty: give a glob or a list of files", name="paths")
    if npartitions is None:
        npartitions = max(1, -(-len(listed) // max(1, int(partition_size))))
    if int(npartitions) < 1:
        raise InvalidParameter(
            f"npartitions must be 1 or more, got {npartitions}", name="npartitions"
        )
    frame = pd.DataFrame({"image": listed})
    return dd.from_pandas(frame, npartitions=min(int(npartitions), len(listed)), sort=False)


def connect(address: str | None = None, *, n_workers: int = 2, threads_per_worker: int = 2,
            timeout: float = 10.0, **cluster_options):  # fmt: skip
    """A ``distributed.Client``: a new LocalCluster of worker processes, or a running scheduler.

    Parameters
    ----------
    address : str, optional
        A scheduler (``"tcp://host:8786"``).  None starts a ``distributed.LocalCluster`` of
        ``n_workers`` processes on this machine (closed with the client).
    n_workers, threads_per_worker : int
        For the LocalCluster.
    timeout : float
        Seconds to reach the scheduler.
    **cluster_options
        Passed to ``LocalCluster`` (``dashboard_address``, ``memory_limit``...).

    Returns
    -------
    distributed.Client
        Its ``dashboard_link`` shows the tasks; ``distributed.progress(frame)`` a bar.

    Raises
    ------
    vislab.errors.TransportError
        Nothing answered at ``address`` (code ``"connection"``), naming it.

    Examples
    --------
    >>> client = connect(n_workers=1, threads_per_worker=1)  # doctest: +SKIP
    >>> client.close()  # doctest: +SKIP
    >>> connect("tcp://127.0.0.1:9", timeout=1)
    Traceback (most recent call last):
    ...
    vislab.errors.TransportError: [connection] cannot reach the Dask scheduler at tcp://127.0.0.1:9 within 1 s: ...
    """
    require_dask()
    from distributed import Client, LocalCluster

    if address is None:
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker,
                               processes=True, **cluster_options)  # fmt: skip
        client = Client(cluster)
        # The cluster goes with the client (distributed only closes clusters it made itself).
        client._vislab_cluster = cluster
        _close = client.close

        def close(*args, **kwargs):
            _close(*args, **kwargs)
            cluster.close()

        client.close = close
        return client
    try:
        return Client(address, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise TransportError(
            "connection",
            f"cannot reach the Dask scheduler at {address} within {timeout:g} s: "
            f"{type(exc).__name__}. Start it (`dask scheduler`) or check the address.",
        ) from None
