"""The committed ONNX model: its file, the sha256 check before loading, onnxruntime sessions.

``models/efficientnet_lite0.onnx`` is a build product of ``tools/export_backbone.py`` (see
``models/README.md`` for provenance and licence), committed with ``<model>.sha256`` in
``sha256sum`` format. Nothing is downloaded at run time.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent / "models"
MODEL_PATH = MODELS_DIR / "efficientnet_lite0.onnx"


class ChecksumError(RuntimeError):
    """The ONNX file on disk does not match its committed ``.sha256``."""


def read_expected_checksum(model_path: str | os.PathLike = MODEL_PATH) -> str:
    """The sha256 recorded next to the model in ``<model>.sha256`` (``sha256sum`` format).

    Examples
    --------
    >>> len(read_expected_checksum())
    64
    """
    path = Path(model_path)
    text = path.with_name(path.name + ".sha256").read_text().split()
    return text[0].lower()


def file_sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks.

    Examples
    --------
    >>> file_sha256(MODEL_PATH) == read_expected_checksum()
    True
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_model_checksum(model_path: str | os.PathLike = MODEL_PATH) -> str:
    """Raise :class:`ChecksumError` unless the model file matches its ``.sha256``.

    Returns
    -------
    str
        The verified hex digest.

    Examples
    --------
    >>> verify_model_checksum() == read_expected_checksum()
    True
    """
    expected = read_expected_checksum(model_path)
    actual = file_sha256(model_path)
    if actual != expected:
        raise ChecksumError(
            f"{model_path}: sha256 {actual} does not match the committed {expected}; "
            "the file is corrupt or was not rebuilt with tools/export_backbone.py"
        )
    return actual


_ENV_ARENA_LOCK = threading.Lock()
_ENV_ARENA: list[bool] = []  # [registered?] once decided


def _share_env_arena(ort) -> bool:
    """Register one CPU arena with onnxruntime's environment for the backbone's sessions.

    Each session's arena grows to hold a batch's activations (~140 MB at batch 16); the lean
    session of :meth:`Backbone.forward_files` would keep a second one. Sessions created with
    ``session.use_env_allocators`` share this arena instead (it is thread-safe). Older
    onnxruntime builds without the call keep per-session arenas.
    """
    with _ENV_ARENA_LOCK:
        if not _ENV_ARENA:
            try:
                info = ort.OrtMemoryInfo(
                    "Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT
                )
                ort.create_and_register_allocator(info, ort.OrtArenaCfg(0, -1, -1, -1))
                _ENV_ARENA.append(True)
            except (AttributeError, RuntimeError):
                _ENV_ARENA.append(False)
        return _ENV_ARENA[0]


def open_session(model_path: str | os.PathLike, threads: int, *, spinning: bool = True):
    """An onnxruntime CPU session of the model with ``threads`` intra-op threads.

    Sequential execution, one inter-op thread, all graph optimisations; the CPU arena is the
    one shared by the backbone's sessions (see ``_share_env_arena``). With
    ``spinning=False`` idle intra-op threads sleep instead of spin-waiting for the next
    operator, so they leave their core to other threads (the file decoders, other processes).

    Examples
    --------
    >>> open_session(MODEL_PATH, 1).get_inputs()[0].name
    'image'
    >>> options = open_session(MODEL_PATH, 2, spinning=False).get_session_options()
    >>> options.get_session_config_entry("session.intra_op.allow_spinning")
    '0'
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = int(threads)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    if _share_env_arena(ort):
        options.add_session_config_entry("session.use_env_allocators", "1")
    return ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
