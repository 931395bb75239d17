"""Trained EasyDL versions on disk, and the registry of published models (no pandas).

Layout under the vislab home folder (:func:`vislab.engine.paths.vislab_home`)::

    <home>/easydl/<model name>/V1/meta.json      name, version, kind, classes, dataset hash,
                                                 parameters, metrics, timings, threshold
    <home>/easydl/<model name>/V1/weights.npz    the heads' arrays (never pickle)
    <home>/easydl/<model name>/V1/<other files>  e.g. the dataset record and the evaluation
    <home>/easydl/published.json                 suffix -> {"name", "version", "kind"}

A version is written **atomically**: every file goes into a hidden temporary folder beside
the versions (``.tmp-V3-<pid>-<random>``), each file and the folder are flushed to disk, and
the folder is renamed to ``V3`` in one step, under a lock file so two trainings of the same
model take different numbers. A process killed while writing leaves at most a hidden
temporary folder, which is never listed and is removed by the next save; every earlier
version stays loadable. The published registry is written the same way (temporary file,
flush, rename).

Weights are ``.npz`` files read with ``allow_pickle=False``; the meaning of each array is in
:mod:`vislab.engine.training.runtime`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from vislab.engine.paths import ensure_dir, vislab_home
from vislab.engine.training.trained import Detection, TrainedModel
from vislab.errors import InvalidParameter, StorageError

__all__ = [
    "Detection",
    "TrainedModel",
    "ModelStore",
    "MODEL_NAME_RE",
    "check_model_name",
    "SUFFIX_RE",
    "FORMAT",
    "MAX_PUBLISHED",
]

#: Version of the on-disk format written into every ``meta.json``.
FORMAT = 1
#: Model names become folder names: letters, digits, ``_`` and ``-``, at most 64.
MODEL_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]{0,63}")
#: A published URL suffix (EasyDL's custom endpoint suffix): letters, digits and ``_``.
SUFFIX_RE = re.compile(r"[A-Za-z0-9_]{1,64}")
_VERSION_RE = re.compile(r"V([1-9][0-9]{0,5})")
#: Further files of a version: a plain name, or one inside the ``images/`` folder.
_FILE_RE = re.compile(r"(images/)?[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}")
#: EasyDL's limit of published models per account (spec F6).
MAX_PUBLISHED = 10
KINDS = ("classification", "detection")

try:  # POSIX advisory locks; where there are none (Windows) saves are not serialised
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None


def check_model_name(name) -> str:
    """Return ``name`` if it can name a model folder; a typed error otherwise.

    Examples
    --------
    >>> check_model_name("defects_qc")
    'defects_qc'
    >>> check_model_name("../x")
    Traceback (most recent call last):
    ...
    vislab.errors.InvalidParameter: a model name is 1-64 letters, digits, '_' or '-' (starting with a letter or digit), got '../x'
    """
    if not isinstance(name, str) or not MODEL_NAME_RE.fullmatch(name):
        raise InvalidParameter(
            "a model name is 1-64 letters, digits, '_' or '-' (starting with a letter or "
            f"digit), got {name!r}",
            name="name",
        )
    return name


def _version_number(version) -> int:
    match = _VERSION_RE.fullmatch(str(version)) if isinstance(version, str) else None
    if match is None:
        raise InvalidParameter(f"a version is 'V1', 'V2', ...; got {version!r}", name="version")
    return int(match.group(1))


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # some filesystems cannot open folders
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def _locked(lock_path: Path):
    ensure_dir(lock_path.parent, what="EasyDL model folder")
    with open(lock_path, "a+") as handle:
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _write_json_atomic(path: Path, data) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    _fsync_file(tmp)
    os.replace(tmp, path)
    _fsync_dir(path.parent)


class ModelStore:
    """The trained versions under ``<home>/easydl`` and the published-models registry.

    Parameters
    ----------
    home : path-like, optional
        The vislab home folder; default :func:`~vislab.engine.paths.vislab_home` (read on
        every call, so a changed ``VISLAB_HOME`` is followed).

    Examples
    --------
    >>> import tempfile
    >>> store = ModelStore(tempfile.mkdtemp())
    >>> store.models(), store.next_version("defects")
    ([], 'V1')
    """

    def __init__(self, home: str | os.PathLike | None = None):
        self._home = None if home is None else Path(home).expanduser()

    @property
    def root(self) -> Path:
        """``<home>/easydl``."""
        return (self._home if self._home is not None else vislab_home()) / "easydl"

    def __repr__(self) -> str:
        return f"ModelStore({str(self.root)!r})"

    # ----------------------------------------------------------------- versions
    def models(self) -> list[str]:
        """Names of the models with at least one complete version, sorted."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name
            for p in self.root.iterdir()
            if p.is_dir() and MODEL_NAME_RE.fullmatch(p.name) and self.versions(p.name)
        )

    def versions(self, name: str) -> list[str]:
        """Complete versions of a model, oldest first (``["V1", "V2", ...]``)."""
        folder = self.root / check_model_name(name)
        if not folder.is_dir():
            return []
        found = [
            p
            for p in folder.iterdir()
            if p.is_dir() and _VERSION_RE.fullmatch(p.name) and (p / "meta.json").is_file()
        ]
        return [p.name for p in sorted(found, key=lambda p: int(p.name[1:]))]

    def next_version(self, name: str) -> str:
        """The version the next training of ``name`` will get."""
        folder = self.root / check_model_name(name)
        taken = (
            [int(p.name[1:]) for p in folder.iterdir() if _VERSION_RE.fullmatch(p.name)]
            if folder.is_dir()
            else []
        )
        return f"V{max(taken, default=0) + 1}"

    def save(
        self,
        name: str,
        arrays: Mapping[str, np.ndarray],
        meta: Mapping,
        *,
        files: Mapping[str, bytes | str] | None = None,
    ) -> TrainedModel:
        """Write the next version of ``name`` atomically and return it loaded.

        Parameters
        ----------
        name : str
            Model name (:data:`MODEL_NAME_RE`).
        arrays : mapping of str to numpy.ndarray
            The weights (numeric arrays only), written to ``weights.npz``.
        meta : mapping
            JSON-serialisable metadata; must hold ``kind`` and ``classes``. ``name``,
            ``version``, ``format`` and ``created`` are filled in.
        files : mapping of str to bytes or str, optional
            Further files of the version: plain names (``"dataset.json"``) or names in its
            ``images/`` folder (``"images/00001"``).

        Returns
        -------
        TrainedModel
        """
        check_model_name(name)
        meta = dict(meta)
        if meta.get("kind") not in KINDS:
            raise InvalidParameter(
                f"meta['kind'] must be one of {KINDS}, got {meta.get('kind')!r}", name="kind"
            )
        for key, value in arrays.items():
            if np.asarray(value).dtype == object:
                raise InvalidParameter(
                    f"array {key!r} holds Python objects; weights are numeric "
                    "arrays only (no pickle)",
                    name="arrays",
                )
        folder = ensure_dir(self.root / name, what="EasyDL model folder")
        with _locked(folder / ".lock"):
            for stale in folder.glob(".tmp-*"):  # left by a killed writer (we hold the lock)
                shutil.rmtree(stale, ignore_errors=True)
            version = self.next_version(name)
            meta.update(
                name=name,
                version=version,
                format=FORMAT,
                created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            )
            tmp = folder / f".tmp-{version}-{os.getpid()}-{secrets.token_hex(4)}"
            try:
                tmp.mkdir()
                with open(tmp / "weights.npz", "wb") as handle:
                    np.savez(handle, **{k: np.asarray(v) for k, v in arrays.items()})
                for fname, content in (files or {}).items():
                    if not _FILE_RE.fullmatch(fname) or fname in ("meta.json", "weights.npz"):
                        raise InvalidParameter(f"bad version file name {fname!r}", name="files")
                    data = content.encode() if isinstance(content, str) else bytes(content)
                    target = tmp / fname
                    target.parent.mkdir(exist_ok=True)
                    target.write_bytes(data)
                (tmp / "meta.json").write_text(
                    json.dumps(meta, indent=1, sort_keys=True, default=_json_default)
                )
                for path in tmp.rglob("*"):
                    if path.is_file():
                        _fsync_file(path)
                    else:
                        _fsync_dir(path)
                _fsync_dir(tmp)
                os.rename(tmp, folder / version)
                _fsync_dir(folder)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
        return self.load(name, version)

    def load(self, name: str, version: str | None = None) -> TrainedModel:
        """A stored version (the latest when ``version`` is None).

        Raises
        ------
        vislab.errors.InvalidParameter
            No such model or version (the message lists what exists).
        vislab.errors.StorageError
            The version's files are damaged.
        """
        versions = self.versions(name)
        if not versions:
            known = ", ".join(self.models()[:10]) or "none yet"
            raise InvalidParameter(
                f"no trained model named {name!r} (models: {known}); "
                "train one with vislab.easydl.train",
                name="name",
            )
        if version is None:
            version = versions[-1]
        _version_number(version)
        if version not in versions:
            raise InvalidParameter(
                f"{name} has no version {version!r}; it has {', '.join(versions)}", name="version"
            )
        folder = self.root / name / version
        try:
            meta = json.loads((folder / "meta.json").read_text())
            with np.load(folder / "weights.npz", allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except (OSError, ValueError) as exc:
            raise StorageError(
                f"the files of {name} {version} in {folder} cannot be read "
                f"({type(exc).__name__}: {exc}); train the model again",
                path=folder,
            ) from None
        return TrainedModel(folder, meta, arrays)

    def read_file(self, name: str, version: str, fname: str) -> bytes | None:
        """A further file of a version (see :meth:`save`), or None if it has none."""
        _version_number(version)
        if not _FILE_RE.fullmatch(fname):
            raise InvalidParameter(f"bad version file name {fname!r}", name="fname")
        path = self.root / check_model_name(name) / version / fname
        return path.read_bytes() if path.is_file() else None

    # ----------------------------------------------------------------- published registry
    @property
    def _registry(self) -> Path:
        return self.root / "published.json"

    def published(self) -> dict[str, dict]:
        """Published models: URL suffix -> ``{"name", "version", "kind", "published"}``."""
        try:
            return json.loads(self._registry.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise StorageError(
                f"the published-models file {self._registry} cannot be read "
                f"({exc}); move it away and publish again",
                path=self._registry,
            ) from None

    def publish(
        self,
        name: str,
        version: str | None = None,
        *,
        kind: str | None = None,
        suffix: str | None = None,
    ) -> dict:
        """Serve ``name`` at ``suffix`` with ``version``; a newer version keeps the suffix.

        Parameters
        ----------
        name : str
        version : str, optional
            Default: the latest.
        kind : str, optional
            Must equal the model's kind when given.
        suffix : str, optional
            The URL suffix (letters, digits, ``_``). Default: the suffix the model is already
            published at, else its name with ``-`` turned into ``_``.

        Returns
        -------
        dict
            The registry entry, with ``suffix``.

        Raises
        ------
        vislab.errors.InvalidParameter
            Unknown model/version, kind mismatch, a suffix taken by another model, or an
            eleventh published model (EasyDL allows 10 per account).

        Examples
        --------
        >>> import tempfile
        >>> store = ModelStore(tempfile.mkdtemp())
        >>> store.publish("nothing")
        Traceback (most recent call last):
        ...
        vislab.errors.InvalidParameter: no trained model named 'nothing' (models: none yet); train one with vislab.easydl.train
        """
        model = self.load(name, version)
        if kind is not None and kind != model.kind:
            raise InvalidParameter(f"{name} is a {model.kind} model, not {kind}", name="kind")
        ensure_dir(self.root, what="EasyDL folder")
        with _locked(self.root / ".lock"):
            registry = self.published()
            current = [s for s, e in registry.items() if e["name"] == name]
            if suffix is None:
                suffix = current[0] if current else name.replace("-", "_")
            if not isinstance(suffix, str) or not SUFFIX_RE.fullmatch(suffix):
                raise InvalidParameter(
                    f"a URL suffix is 1-64 letters, digits or '_', got {suffix!r}", name="suffix"
                )
            taken = registry.get(suffix)
            if taken is not None and taken["name"] != name:
                raise InvalidParameter(
                    f"suffix {suffix!r} already serves model {taken['name']!r}; choose another",
                    name="suffix",
                )
            names = {e["name"] for e in registry.values()} | {name}
            if len(names) > MAX_PUBLISHED:
                raise InvalidParameter(
                    f"at most {MAX_PUBLISHED} models can be published (EasyDL's limit per account)",
                    name="name",
                )
            for old in current:  # one URL per model: moving it frees the old suffix
                registry.pop(old)
            entry = {
                "name": name,
                "version": model.version,
                "kind": model.kind,
                "published": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
            registry[suffix] = entry
            _write_json_atomic(self._registry, registry)
        return {"suffix": suffix, **entry}

    def unpublish(self, suffix: str) -> dict | None:
        """Stop serving ``suffix``; returns the removed entry (None if it was not published)."""
        ensure_dir(self.root, what="EasyDL folder")
        with _locked(self.root / ".lock"):
            registry = self.published()
            entry = registry.pop(suffix, None)
            if entry is not None:
                _write_json_atomic(self._registry, registry)
        return entry

    def resolve(self, kind: str, suffix: str) -> TrainedModel | None:
        """The model published at ``suffix`` for ``kind``, or None (unknown, other kind, or
        its version no longer loadable)."""
        entry = self.published().get(suffix)
        if entry is None or entry.get("kind") != kind:
            return None
        try:
            return self.load(entry["name"], entry["version"])
        except (InvalidParameter, StorageError):
            return None


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
