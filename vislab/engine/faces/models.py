"""The face models' files: where they are, their sha256 check, one onnxruntime session each.

The ONNX files in ``vislab/engine/models/faces/`` are build products of
``tools/export_face_models.py`` (provenance, licences and training data in
``vislab/engine/models/README.md`` and ``manifest.json`` next to them), committed with a
``<model>.onnx.sha256`` in ``sha256sum`` format. Nothing is downloaded at run time: a missing
file raises :class:`~vislab.engine.faces.errors.FaceModelsMissing`, which names the extra.
"""

from __future__ import annotations

import threading
from pathlib import Path

from vislab.engine.faces.errors import FaceModelsMissing
from vislab.engine.onnx_model import MODELS_DIR, open_session, verify_model_checksum

FACE_MODELS_DIR = MODELS_DIR / "faces"
FACE_MODEL_NAMES = ("blazeface", "faceres", "emotion")
# Face crops are small: one intra-op thread per session keeps a call from taking both cores.
SESSION_THREADS = 1

_LOCK = threading.Lock()
_SESSIONS: dict[str, object] = {}


def face_model_path(name: str) -> Path:
    """The path of one face model's ONNX file.

    Examples
    --------
    >>> face_model_path("blazeface").name
    'blazeface.onnx'
    """
    if name not in FACE_MODEL_NAMES:
        raise ValueError(f"unknown face model {name!r}; one of {', '.join(FACE_MODEL_NAMES)}")
    return FACE_MODELS_DIR / f"{name}.onnx"


def faces_available() -> bool:
    """Whether the face models are installed (the files and their checksums are present).

    Notebook cells and tests use it to skip cleanly; the calls themselves raise
    :class:`~vislab.engine.faces.errors.FaceModelsMissing` instead.

    Examples
    --------
    >>> faces_available()
    True
    """
    return all(
        face_model_path(n).exists() and face_model_path(n).with_suffix(".onnx.sha256").exists()
        for n in FACE_MODEL_NAMES
    )


def face_session(name: str):
    """The onnxruntime session of a face model, opened once after its sha256 is verified.

    Raises
    ------
    FaceModelsMissing
        The file or its checksum is not installed.
    vislab.engine.onnx_model.ChecksumError
        The file does not match its committed checksum.

    Examples
    --------
    >>> face_session("emotion").get_inputs()[0].shape[1:]
    [64, 64, 1]
    """
    with _LOCK:
        session = _SESSIONS.get(name)
        if session is None:
            path = face_model_path(name)
            for needed in (path, path.with_suffix(".onnx.sha256")):
                if not needed.exists():
                    raise FaceModelsMissing(needed.name)
            verify_model_checksum(path)
            session = open_session(path, SESSION_THREADS, spinning=False)
            _SESSIONS[name] = session
        return session
