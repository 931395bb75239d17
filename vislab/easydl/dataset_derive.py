"""New datasets from a :class:`~vislab.easydl.Dataset`: subsets, the usable part, a stratified
train/test split and merges (same-named classes merge, as EasyDL's console merges uploads).

The methods of :class:`DerivedDatasets` are :class:`~vislab.easydl.Dataset`'s own (it inherits
them); they build their results with ``Dataset._derive``, so a derived dataset keeps the
sources, classes, origin and notes of the one it came from.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pandas as pd

from vislab.easydl.errors import DatasetError
from vislab.easydl.identity import renamed_clashes
from vislab.easydl.split import stratified_test_mask

if TYPE_CHECKING:
    from vislab.easydl.dataset import Dataset

__all__ = ["DerivedDatasets"]


class DerivedDatasets:
    """:meth:`subset`, :meth:`usable`, :meth:`split` and :meth:`merge` of a Dataset.

    Examples
    --------
    >>> from vislab.easydl import Dataset
    >>> issubclass(Dataset, DerivedDatasets)
    True
    """

    def subset(self, images: Iterable[str]) -> Dataset:
        """The dataset restricted to ``images`` (in this dataset's order), same classes.

        Parameters
        ----------
        images : iterable of str
            Identifiers; each must be in the dataset.

        Returns
        -------
        Dataset

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from vislab.easydl import Dataset
        >>> t = pd.DataFrame({"image": ["a", "b", "c"], "label": ["ok", "ok", "bad"]})
        >>> ds = Dataset.from_frames(t, images={k: np.zeros((40, 40), np.uint8) for k in "abc"})
        >>> ds.subset(["c", "a"]).images, ds.subset(["a"]).classes
        (['a', 'c'], ['bad', 'ok'])
        """
        wanted = {str(i) for i in images}
        unknown = sorted(wanted - set(self._table["image"]))
        if unknown:
            raise DatasetError(f"no such images in this dataset: {unknown[:5]}")
        table = self._table[self._table["image"].isin(wanted)]
        boxes = None if self._boxes is None else self._boxes[self._boxes["image"].isin(wanted)]
        return self._derive(table, boxes)

    def usable(self) -> Dataset:
        """The dataset without the images that cannot be read (``frame["error"]`` set).

        Returns
        -------
        Dataset

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from vislab.easydl import Dataset
        >>> t = pd.DataFrame({"image": ["a", "b"], "label": ["ok", "ok"]})
        >>> ds = Dataset.from_frames(t, images={"a": np.zeros((40, 40), np.uint8),
        ...                                     "b": b"garbage"})
        >>> ds.usable().images
        ['a']
        """
        return self.subset(self._table.loc[self._table["error"].isna(), "image"])

    def _strata(self) -> list:
        if self.kind == "classification":
            return self._table["label"].tolist()
        sets = self._boxes.groupby("image")["label"].agg(lambda s: tuple(sorted(set(s))))
        return [sets.get(i, ()) for i in self._table["image"]]

    def split(self, *, test_size=0.2, seed: int = 0) -> tuple[Dataset, Dataset]:
        """Split into a training and a test dataset, stratified.

        Classification stratifies by class; detection by each image's *set* of labels (cells
        only, cells and debris, nothing...).  Rounding and pooling: :mod:`vislab.easydl.split`.

        Parameters
        ----------
        test_size : float or int, default 0.2
            A fraction in (0, 1) (the test count is rounded up, as scikit-learn does) or a
            number of images.
        seed : int, default 0
            Same seed, same split.

        Returns
        -------
        (Dataset, Dataset)
            Train and test, each in this dataset's order, with all classes.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from vislab.easydl import Dataset
        >>> t = pd.DataFrame({"image": [f"i{k}" for k in range(10)],
        ...                   "label": ["ok"] * 6 + ["bad"] * 4})
        >>> ds = Dataset.from_frames(t, images={i: np.zeros((40, 40), np.uint8) for i in t.image})
        >>> train, test = ds.split(test_size=0.5, seed=1)
        >>> len(train), len(test), test.frame.groupby("label").size().to_dict()
        (5, 5, {'bad': 2, 'ok': 3})
        """
        test = stratified_test_mask(self._strata(), test_size, seed=seed)
        ids = self._table["image"].to_numpy()
        return self.subset(ids[~test]), self.subset(ids[test])

    def merge(self, other: Dataset) -> Dataset:
        """Both datasets in one: same-named classes merge, as EasyDL's console merges a new
        upload into a dataset.

        An image of ``other`` whose identifier is taken is renamed ``name~2.jpg``.

        Parameters
        ----------
        other : Dataset
            A dataset of the same kind.

        Returns
        -------
        Dataset
            A new dataset; neither input changes.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from vislab.easydl import Dataset
        >>> px = {"a": np.zeros((40, 40), np.uint8)}
        >>> one = Dataset.from_frames(pd.DataFrame({"image": ["a"], "label": ["ok"]}), images=px)
        >>> two = Dataset.from_frames(pd.DataFrame({"image": ["a"], "label": ["bad"]}), images=px)
        >>> m = one.merge(two)
        >>> m.images, m.classes
        (['a', 'a~2'], ['bad', 'ok'])
        """
        from vislab.easydl.dataset import Dataset

        if not isinstance(other, Dataset):
            raise DatasetError(f"can only merge a Dataset, got {type(other).__name__}")
        if other.kind != self.kind:
            raise DatasetError(
                f"cannot merge a {other.kind} dataset into a {self.kind} one: "
                "EasyDL keeps classification and detection data apart"
            )
        rename = renamed_clashes(self._table["image"], other._table["image"])

        def new_id(frame):
            return frame.assign(image=frame["image"].map(lambda v: rename.get(v, v)))

        table = pd.concat([self._table, new_id(other._table)], ignore_index=True)
        boxes = None
        if self.kind == "detection":
            boxes = pd.concat([self._boxes, new_id(other._boxes)], ignore_index=True)
        sources = dict(self._sources)
        sources.update({rename.get(k, k): v for k, v in other._sources.items()})
        origin = " + ".join(o for o in (self.origin, other.origin) if o)
        return self._derive(
            table,
            boxes,
            classes=set(self._classes) | set(other._classes),
            origin=origin,
            notes=self._notes + other._notes,
            keep=self._keep + other._keep,
            sources=sources,
        )
