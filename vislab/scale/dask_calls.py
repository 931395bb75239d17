"""A client method over the partitions of a ``dask.dataframe``: one lazy frame back.

``client.advanced_general(ddf["path"])`` (any method that takes ``images``) comes here
(:func:`map_method`).  The call is validated in the driver — a bad option fails at once, as in
process — and becomes one task per input partition.  Each task runs **the same method** on its
pandas partition in the worker, so frames, error rows, retries, the ledger and the reply cache
are those of the in-process call, and fits the frame to the declared schema
(:func:`vislab.scale.schema.frame_meta`).

What each worker process keeps, once per client:

* **one client**, rebuilt from the arguments the driver's client was made with (its
  ``_recipe``) with ``progress=False``: so its token is fetched **once per worker**, not per
  image or partition (each partition uses a shallow copy sharing its session);
* the **cluster-wide QPS limit**: when a ``distributed`` client is running, the worker's
  session limiter is a :class:`~vislab.scale.limiter.ClusterRateLimiter` named after the
  client's backend (service, URL, account hash), so every worker and every job of one account
  draws on one bucket on the scheduler; its transport reports each reply's time to it
  (:class:`~vislab.scale.limiter.AnsweredTransport`), so the limit holds on arrival.  Without ``distributed`` (Dask's threads), the
  workers are threads of this process and share the client's own limiter.

* the **local engine's threads**: a client answered by the in-process engine (no
  ``base_url``) on a ``distributed`` worker process runs onnxruntime with
  :data:`WORKER_ENGINE_THREADS` intra-op thread (:func:`use_engine_threads`), set before the
  worker first loads the model.  In one process the engine runs one image at a time with
  two intra-op threads per batch thread; two worker processes doing that on two cores run
  four spinning threads per core pair and spend ~45 % more CPU per image (measured: 59.7 vs
  41.2 ms of CPU per image), while with one thread each they spend what one process does
  (39.6 vs 38.5 ms).  The images of a partition are the worker's parallelism.

The disk reply cache (``cache=``) is one folder for every worker of one machine: entries are
written to a private ``mkstemp`` file and renamed into place, and a reader checks the key
inside the file, so concurrent writers never show a reader half an entry.

A killed worker: Dask runs the partitions it held again (``distributed`` allows 3 failures
per task by default).  Reads and searches are simply sent again (or come from the cache).
Adds are not stored twice: every add is written to the ledger as it commits, with this run's
job id and the partition's number; the partition's second run finds the bytes it sent under
the same job and identifier and takes the recorded ``cont_sign`` without sending.  An add that
was committed by the service but not yet recorded when the worker died is refused by the
service's own duplicate check (the image hash: 216681 "item exist"), so even then the gallery
holds it once — its row in the second run carries that error.
"""

from __future__ import annotations

import copy
import os
import threading
import uuid
import warnings

from vislab.errors import FailedImagesWarning, InvalidParameter
from vislab.scale.limiter import AnsweredTransport, ClusterRateLimiter
from vislab.scale.schema import conform, frame_meta

__all__ = ["map_method", "image_column", "require_dask", "use_engine_threads"]

#: onnxruntime intra-op threads of the local engine in a worker process.
WORKER_ENGINE_THREADS = 1

# Per worker process: the client of each driver client (its _scale_id) -> ready client.
_CLIENTS: dict[str, object] = {}
_CLIENTS_LOCK = threading.Lock()


def require_dask():
    """``dask.dataframe``, or an ImportError saying which extra to install.

    Returns
    -------
    module

    Examples
    --------
    >>> require_dask().__name__
    'dask.dataframe'
    """
    try:
        import dask.dataframe as dd
    except ImportError as exc:  # pragma: no cover - the extra is in the test environment
        raise ImportError("Dask inputs need the dask extra: pip install 'vislab[dask]'") from exc
    return dd


def image_column(images):
    """The dask Series of image inputs: a Series as given, a frame's ``image`` column.

    Parameters
    ----------
    images : dask.dataframe.Series or dask.dataframe.DataFrame

    Returns
    -------
    dask.dataframe.Series

    Examples
    --------
    >>> import pandas as pd
    >>> dd = require_dask()
    >>> ddf = dd.from_pandas(pd.DataFrame({"image": ["a.jpg", "b.jpg"]}), npartitions=2)
    >>> image_column(ddf).npartitions
    2
    """
    dd = require_dask()
    if isinstance(images, dd.DataFrame):
        if "image" not in images.columns:
            have = ", ".join(map(str, images.columns))
            raise InvalidParameter(
                f"pass one column of the Dask frame (e.g. ddf['path']); this one has no "
                f"'image' column (has: {have})",
                name="images",
            )
        return images["image"]
    if isinstance(images, dd.Series):
        return images
    raise InvalidParameter(
        f"a Dask input must be a dask.dataframe Series or DataFrame, got {type(images).__name__}"
        " (a dask.bag or array: convert it with .to_dataframe() / dd.from_dask_array)",
        name="images",
    )


def use_engine_threads(threads: int) -> int:
    """Make this process's local engine run onnxruntime with ``threads`` intra-op threads.

    The process-wide backbone (:func:`vislab.engine.backbone.get_backbone`) is rebuilt with
    that setting unless it already has it; call it before the engine's first use (a worker's
    first task does).

    Parameters
    ----------
    threads : int

    Returns
    -------
    int
        The backbone's intra-op threads now.

    Examples
    --------
    >>> from vislab.engine.backbone import get_backbone
    >>> use_engine_threads(get_backbone().intra_op_threads) == get_backbone().intra_op_threads
    True
    """
    from vislab.engine import backbone as engine_backbone

    # The engine offers no setter: its one process-wide backbone is swapped under its lock.
    with engine_backbone._BACKBONE_LOCK:
        current = engine_backbone._BACKBONE
        if current is None or current.intra_op_threads != int(threads):
            engine_backbone._BACKBONE = engine_backbone.Backbone(intra_op_threads=int(threads))
        return engine_backbone._BACKBONE.intra_op_threads


def _running_distributed_client():
    try:
        from distributed import get_client
    except ImportError:
        return None
    try:
        return get_client()
    except ValueError:  # no distributed client: Dask's local threads
        return None


class _Recipe:
    """What a worker needs to make the driver's client (secrets stay out of the repr)."""

    def __init__(self, client, *, cluster_qps: float | None, on_cluster: bool = False):
        args, kwargs = client._recipe
        self.cls = type(client)
        self.args = args
        self.kwargs = {**kwargs, "progress": False}
        if "ledger" in self.kwargs or hasattr(client, "ledger"):
            # One ledger file for every worker: the driver's, whatever VISLAB_HOME they see.
            ledger = getattr(client, "ledger", None)
            self.kwargs["ledger"] = str(ledger.path) if ledger is not None else False
        self.key = client.__dict__.setdefault("_scale_id", uuid.uuid4().hex)
        self.backend = client.backend
        self.cluster_qps = cluster_qps
        # Worker processes of a cluster answer local calls with one engine thread each; the
        # driver's own process (Dask's threads, processes=False) keeps its engine as it is.
        self.engine_threads = WORKER_ENGINE_THREADS if on_cluster else None
        self.driver_pid = os.getpid()

    def __repr__(self) -> str:
        return f"_Recipe({self.cls.__name__}, {self.backend!r})"

    def client(self):
        with _CLIENTS_LOCK:
            ready = _CLIENTS.get(self.key)
            if ready is None:
                ready = self.cls(*self.args, **self.kwargs)
                if (ready.mode == "local" and self.engine_threads
                        and os.getpid() != self.driver_pid):  # fmt: skip
                    use_engine_threads(self.engine_threads)
                if self.cluster_qps:
                    # Found here, in the task's thread: the client's own request threads are
                    # not Dask's, so they could not find the worker's client themselves.
                    from distributed import get_client

                    limiter = ClusterRateLimiter(
                        self.cluster_qps, name=self.backend, dask_client=get_client()
                    )
                    ready.session.limiter = limiter
                    # Each reply's time goes back to the bucket: the limit holds on arrival.
                    ready.session.transport = AnsweredTransport(ready.session.transport, limiter)
                _CLIENTS[self.key] = ready
        return ready


def _run_partition(part, recipe, method, args, kwargs, meta, job, partition_info=None):
    if len(part) == 0:
        return meta
    number = partition_info["number"] if partition_info else 0
    client = copy.copy(recipe.client())  # shares the session (token, limiter), cache, ledger
    client._job = f"{job}:{number}"
    try:
        with warnings.catch_warnings():
            # The driver never sees a worker's warnings: the rows carry every failure.
            warnings.simplefilter("ignore", FailedImagesWarning)
            df = getattr(client, method)(part, *args, **kwargs)
    finally:
        flush = getattr(client.session.limiter, "flush", None)
        if flush is not None:  # the last replies' times: no later lease of ours carries them
            flush()
    return conform(df, meta)


def map_method(client, method: str, args: tuple, kwargs: dict):
    """Run ``client.<method>`` on every partition of a Dask input; a lazy frame back.

    Parameters
    ----------
    client : vislab.services.client.ServiceClient
    method : str
        A method named after one of the client's endpoints.
    args, kwargs
        The call's arguments; the first (or ``images=``) is the Dask column.

    Returns
    -------
    dask.dataframe.DataFrame
        One partition per input partition, ``meta`` from the endpoint's declaration.

    Examples
    --------
    >>> import pandas as pd
    >>> from vislab.baidu import ImageClassify
    >>> dd = require_dask()
    >>> paths = dd.from_pandas(pd.DataFrame({"image": ["no-such.jpg"]}), npartitions=1)
    >>> lazy = ImageClassify(progress=False).advanced_general(paths["image"])
    >>> lazy.compute()["error_code"].tolist()
    [990100]
    """
    if args:
        images, args = args[0], tuple(args[1:])
    else:
        kwargs = dict(kwargs)
        images = kwargs.pop("images")
    column = image_column(images)
    endpoint = client.spec.endpoint(method)
    meta = frame_meta(endpoint)
    # The options are checked here, before any task runs: a bad one fails the call at once.
    endpoint.wire_params(
        {k: v for k, v in kwargs.items() if endpoint.param(k) is not None}, partial=True
    )
    qps = client.session.limiter.qps
    cluster = _running_distributed_client()
    recipe = _Recipe(client, cluster_qps=qps if cluster is not None else None,
                     on_cluster=cluster is not None)  # fmt: skip
    job = uuid.uuid4().hex[:12]
    return column.map_partitions(
        _run_partition,
        recipe,
        method,
        args,
        kwargs,
        meta,
        job,
        meta=meta,
        clear_divisions=True,
        enforce_metadata=False,
        token=f"vislab-{method}-{job}",
    )
