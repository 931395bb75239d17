"""Trained EasyDL versions on the pandas side: predict, count, read the report, list models.

A :class:`ModelVersion` wraps one stored version (:class:`vislab.engine.training.TrainedModel`)
and answers with vislab's frames: a labels frame from a classifier, a boxes frame from a
detector, a counts frame (``image, label, count``) from a detector's density head. Like every
vislab call it keeps **every input image**: an image that cannot be read keeps one row with
``error_code``, ``error_msg`` and ``error_rule`` filled.

:func:`models` lists every model and version with its headline metric (accuracy for a
classifier, mAP for a detector — EasyDL's own headlines); :func:`load` opens one.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from vislab.easydl.version_inputs import (
    COUNTS,
    _error_row,
    _inputs,
    _SafeLoader,
    _warn_failures,
    counts_frame,
)
from vislab.engine.training.store import ModelStore, TrainedModel
from vislab.errors import InvalidParameter
from vislab.frames import boxes_frame, labels_frame

__all__ = ["ModelVersion", "load", "models", "counts_frame", "COUNTS"]


class ModelVersion:
    """One trained version of an EasyDL model: its report, its predictions, its counts.

    Returned by :func:`vislab.easydl.train` and :func:`load`.

    Attributes
    ----------
    name, version, kind : str
    classes : list of str
        Classes (labels), ``"other"`` last when trained with ``other_class=True``.
    report : EvaluationReport
        The evaluation on the held-out images.
    recommended_threshold : float or None
        Detection: the best-F1 threshold of the held-out sweep (the API's ``threshold``).
    meta : dict
        The version's metadata (dataset hash, parameters, metrics, timings).

    Parameters
    ----------
    model : vislab.engine.training.TrainedModel
        The stored version.
    store : vislab.engine.training.ModelStore, optional
        The store it was read from (default: the one under ``VISLAB_HOME``).

    Examples
    --------
    >>> import tempfile
    >>> import vislab.easydl as easydl
    >>> from vislab.datasets.samples import defects
    >>> home = tempfile.mkdtemp()
    >>> v = easydl.train(defects(n_per_class=20, size=64), name="doc_qc", home=home,
    ...                  progress=False)  # doctest: +ELLIPSIS
    doc_qc V1: classification, 4 classes, 64 training / 16 held-out images, ... s; accuracy ...
    >>> v
    ModelVersion('doc_qc', 'V1', classification, 4 classes, accuracy=...)
    >>> easydl.load("doc_qc", home=home).version
    'V1'
    """

    def __init__(self, model: TrainedModel, store: ModelStore | None = None):
        self._model = model
        self._store = store or ModelStore()
        self._report = None

    # ----------------------------------------------------------------- description
    @property
    def name(self) -> str:
        """The model's name."""
        return self._model.name

    @property
    def version(self) -> str:
        """The version, ``"V1"``, ``"V2"``..."""
        return self._model.version

    @property
    def kind(self) -> str:
        """``"classification"`` or ``"detection"``."""
        return self._model.kind

    @property
    def classes(self) -> list[str]:
        """The classes, ``"other"`` last when trained with ``other_class=True``."""
        return list(self._model.classes)

    @property
    def meta(self) -> dict:
        """The version's metadata (dataset hash, parameters, metrics, timings)."""
        return self._model.meta

    @property
    def folder(self) -> Path:
        """The version's folder under ``VISLAB_HOME/easydl``."""
        return self._model.folder

    @property
    def model(self) -> TrainedModel:
        """The engine-side :class:`~vislab.engine.training.TrainedModel`."""
        return self._model

    @property
    def recommended_threshold(self) -> float | None:
        """Detection: the best-F1 threshold on the held-out images (None for a classifier)."""
        return self._model.recommended_threshold

    @property
    def report(self):
        """The :class:`~vislab.easydl.EvaluationReport` on the held-out images."""
        if self._report is None:
            from vislab.easydl.report import EvaluationReport

            raw = self._store.read_file(self.name, self.version, "evaluation.json")
            self._report = EvaluationReport.from_record(json.loads(raw), self.meta)
        return self._report

    def __repr__(self) -> str:
        head = self.meta.get("headline", {})
        value = head.get("value")
        shown = "" if value is None else f", {head.get('name')}={value:.3f}"
        return (
            f"ModelVersion({self.name!r}, {self.version!r}, {self.kind}, "
            f"{len(self.classes)} classes{shown})"
        )

    def _repr_html_(self) -> str:
        return f"<p><b>{self!r}</b></p>" + self.report._repr_html_()

    # ----------------------------------------------------------------- answers
    def predict(
        self,
        images,
        *,
        top_num: int | None = None,
        threshold: float | None = None,
        progress: bool = True,
    ) -> pd.DataFrame:
        """Labels (classification) or boxes (detection) for images.

        Parameters
        ----------
        images
            Anything vislab takes as images (a path, a glob, a list, a dict, a Series, arrays,
            bytes) or a :class:`vislab.easydl.Dataset`.
        top_num : int, optional
            Classification: labels per image, best first (default: every class; "other"
            counts like any class).
        threshold : float, optional
            Detection: keep boxes with ``score >= threshold``; default the version's
            :attr:`recommended_threshold`.
        progress : bool, default True
            Show a progress bar.

        Returns
        -------
        DataFrame
            A labels frame (``image, rank, label, score``) or a boxes frame (``image, label,
            score, x, y, w, h``), every input image kept (failures as error rows).

        Raises
        ------
        vislab.errors.InvalidParameter
            ``top_num`` below 1 or ``threshold`` outside 0..1.

        Examples
        --------
        >>> import tempfile
        >>> from vislab.datasets.samples import defects
        >>> from vislab.easydl import train
        >>> ds = defects(n_per_class=20, size=64)
        >>> v = train(ds, name="doc_predict", home=tempfile.mkdtemp(),
        ...           progress=False)  # doctest: +ELLIPSIS
        doc_predict V1: ...
        >>> df = v.predict(ds.subset(ds.images[:2]), top_num=2, progress=False)
        >>> df[["image", "rank"]].shape, sorted(df["rank"].unique().tolist())
        ((4, 2), [1, 2])
        """
        idents, load = _inputs(images)
        safe = _SafeLoader(load)
        service = f"easydl.{self.kind}/{self.name}/{self.version}"
        rows: list[dict] = []
        if self.kind == "classification":
            if top_num is not None and (not isinstance(top_num, (int, np.integer)) or top_num < 1):
                raise InvalidParameter(
                    f"top_num must be a positive integer, got {top_num!r}", name="top_num"
                )
            ranked = self._model.classify_many(
                idents, top_num=top_num, load=safe, progress=progress
            )
            for ident, top in zip(idents, ranked, strict=True):
                if ident in safe.errors:
                    rows.append(_error_row(ident, safe.errors[ident]))
                    continue
                rows.extend(
                    {"image": ident, "rank": r, "label": label, "score": score}
                    for r, (label, score) in enumerate(top, start=1)
                )
            out = labels_frame(rows, service=service)
        else:
            cut = self._threshold(threshold)
            for ident, analysis in zip(idents, self._analyse(idents, safe, progress), strict=True):
                if ident in safe.errors:
                    rows.append(_error_row(ident, safe.errors[ident]))
                    continue
                found = [d for d in self._model._detections(analysis, cut)]
                rows.extend(
                    {
                        "image": ident,
                        "label": d.name,
                        "score": d.score,
                        "x": d.x,
                        "y": d.y,
                        "w": d.w,
                        "h": d.h,
                    }
                    for d in found
                )
                if not found:
                    rows.append({"image": ident})
            out = boxes_frame(rows, service=service)
            out.attrs["threshold"] = cut
        _warn_failures(safe.errors)
        return out

    def count(self, images, *, progress: bool = True) -> pd.DataFrame:
        """Objects per image and label, from the detector's density head.

        The count is the sum of a predicted density map, not the number of boxes: touching
        and overlapping objects are counted without having to be separated.

        Parameters
        ----------
        images
            As for :meth:`predict`.
        progress : bool, default True
            Show a progress bar.

        Returns
        -------
        DataFrame
            A counts frame: ``image, label, count`` (float), one row per (image, label).

        Raises
        ------
        vislab.errors.InvalidParameter
            The version is a classifier.

        Examples
        --------
        >>> import tempfile
        >>> from vislab.datasets.samples import cells
        >>> from vislab.easydl import train
        >>> ds = cells(n_images=6, size=128)  # doctest: +SKIP
        >>> v = train(ds, name="doc_count", home=tempfile.mkdtemp(), epochs=20,
        ...           progress=False)  # doctest: +SKIP
        >>> v.count(ds.subset(ds.images[:1]), progress=False).columns[:3].tolist()
        ... # doctest: +SKIP
        ['image', 'label', 'count']
        """
        if self.kind != "detection":
            raise InvalidParameter(
                f"{self.name} {self.version} is a classification model: "
                "count() needs a detection model",
                name="kind",
            )
        idents, load = _inputs(images)
        safe = _SafeLoader(load)
        rows: list[dict] = []
        for ident, analysis in zip(idents, self._analyse(idents, safe, progress), strict=True):
            if ident in safe.errors:
                rows.append(_error_row(ident, safe.errors[ident]))
                continue
            rows.extend(
                {"image": ident, "label": label, "count": float(c)}
                for label, c in zip(self.classes, analysis.counts, strict=True)
            )
        _warn_failures(safe.errors)
        return counts_frame(rows, service=f"easydl.count/{self.name}/{self.version}")

    def _analyse(self, idents, load, progress):
        return self._model.analyse_many(idents, load=load, progress=progress)

    def _threshold(self, threshold):
        if threshold is None:
            return self.recommended_threshold or 0.0
        value = float(threshold)
        if not 0.0 <= value <= 1.0:
            raise InvalidParameter(
                f"threshold must be in 0..1, got {threshold!r}", name="threshold"
            )
        return value

    def export(self, folder):
        """Write the offline model (ONNX, labels, preprocessing) into a folder.

        Parameters
        ----------
        folder : path-like
            Where to write it.

        Returns
        -------
        pathlib.Path
            The folder written (:mod:`vislab.easydl.export`, part of EasyDL's publishing).

        Examples
        --------
        >>> v.export("exported/")  # doctest: +SKIP
        """
        from vislab.easydl import export as export_module

        return export_module.export_version(self, folder)


def load(name: str, version: str | None = None, *, home=None) -> ModelVersion:
    """Open a trained version (the latest when ``version`` is None).

    Parameters
    ----------
    name : str
        The model's name.
    version : str, optional
        ``"V1"``, ``"V2"``...
    home : path-like, optional
        Another vislab home folder.

    Returns
    -------
    ModelVersion
        The version.

    Examples
    --------
    >>> load("no_such_model")
    Traceback (most recent call last):
    ...
    vislab.errors.InvalidParameter: no trained model named 'no_such_model' (models: ...); train one with vislab.easydl.train
    """
    store = ModelStore(home)
    return ModelVersion(store.load(name, version), store)


def models(*, home=None) -> pd.DataFrame:
    """Every trained model and version, with its headline metric.

    Parameters
    ----------
    home : path-like, optional
        Another vislab home folder.

    Returns
    -------
    DataFrame
        One row per (model, version): ``model, version, kind, classes, train_images,
        test_images, metric`` (``accuracy`` or ``mAP``), ``value``, ``algorithm``,
        ``base_version``, ``created``, ``published`` (the URL suffix serving it, if any).

    Examples
    --------
    >>> import tempfile
    >>> models(home=tempfile.mkdtemp()).columns.tolist()[:4]
    ['model', 'version', 'kind', 'classes']
    """
    store = ModelStore(home)
    served = {(e["name"], e["version"]): s for s, e in store.published().items()}
    rows = []
    for name in store.models():
        for version in store.versions(name):
            try:
                meta = json.loads((store.root / name / version / "meta.json").read_text())
            except (OSError, ValueError):
                continue  # damaged: load() names it; the list stays usable
            head = meta.get("headline", {})
            data = meta.get("dataset", {})
            rows.append(
                {
                    "model": name,
                    "version": version,
                    "kind": meta.get("kind"),
                    "classes": len(meta.get("classes", [])),
                    "train_images": data.get("train_images"),
                    "test_images": data.get("test_images"),
                    "metric": head.get("name"),
                    "value": head.get("value"),
                    "algorithm": meta.get("parameters", {}).get("algorithm"),
                    "base_version": meta.get("parameters", {}).get("base_version"),
                    "created": meta.get("created"),
                    "published": served.get((name, version)),
                }
            )
    cols = [
        "model",
        "version",
        "kind",
        "classes",
        "train_images",
        "test_images",
        "metric",
        "value",
        "algorithm",
        "base_version",
        "created",
        "published",
    ]
    return pd.DataFrame(rows, columns=cols)
