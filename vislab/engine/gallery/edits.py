"""The edits of a stored gallery (:meth:`Gallery.update` and :meth:`Gallery.delete`).

A mixin of :class:`~vislab.engine.gallery.facade.Gallery`: the methods stay on the class
(IDEs, ``help()``) while the facade module keeps to building, adding and searching.  Each
edit changes the store (the record of truth) first and then the loaded index, under the
gallery's writer lock.

Examples
--------
>>> from vislab.engine.gallery import Gallery
>>> issubclass(Gallery, GalleryEdits)
True
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from vislab.engine.errors import MissingTarget
from vislab.engine.gallery.records import GalleryEntry, ImageFeatures
from vislab.engine.hashing import content_sign, parse_cont_sign

__all__ = ["GalleryEdits"]


class GalleryEdits:
    """``update`` and ``delete`` for a class with ``policy``, ``_store``, ``_index``,
    ``_lock`` and ``_sync_external`` (the Gallery facade).

    Examples
    --------
    >>> sorted(m for m in vars(GalleryEdits) if not m.startswith("_"))
    ['delete', 'update']
    """

    def _sign_of(self, cont_sign, image) -> str:
        if image is not None:
            return image.cont_sign if isinstance(image, ImageFeatures) else content_sign(image)
        if cont_sign is None:
            raise MissingTarget("give cont_sign or image")
        return parse_cont_sign(cont_sign)

    def update(
        self, cont_sign: str | None = None, *, image=None, brief: str | None = None, tags=None
    ) -> GalleryEntry:
        """Change the brief and/or tags of one stored image.

        Parameters
        ----------
        cont_sign : str, optional
            The stored image's signature (one only).
        image : numpy.ndarray, optional
            Locate the stored image by its pixels instead (wins over ``cont_sign``).
        brief : str, optional
            New brief (<= 256 bytes); ``None`` keeps it.
        tags : sequence, optional
            New tag slots; ``None`` keeps them.  A ``None`` item keeps that slot and a missing
            second item clears slot 2, so ``(7,)`` sets tags to just 7 and ``(None, 9)``
            (product: ``class_id2`` only) keeps slot 1.

        Returns
        -------
        GalleryEntry
            The entry after the change.

        Raises
        ------
        vislab.engine.errors.ItemNotFound
            No such image.

        Examples
        --------
        >>> import tempfile
        >>> from vislab.engine.gallery import Gallery
        >>> from skimage import data
        >>> g = Gallery("similar", home=tempfile.mkdtemp())
        >>> e = g.add(data.coffee(), brief="old", tags=[1])
        >>> g.update(e.cont_sign, brief="new", tags=[2, 3]).tags
        (2, 3)
        """
        sign = self._sign_of(cont_sign, image)
        new_brief = None if brief is None else self.policy.check_brief(brief)
        slots = None
        if tags is not None:
            checked = self.policy.check_slots(tags)
            given = [tags] if isinstance(tags, (int, np.integer)) else list(tags)
            # An explicit None keeps that slot; a slot not given at all is cleared (0).
            slots = tuple(None if i < len(given) and given[i] is None else (checked[i] or 0)
                          for i in range(2))  # fmt: skip
        with self._lock:
            self._sync_external()
            row_id, entry = self._store.update(sign, brief=new_brief, slots=slots)
            if self._index is not None:
                new_slots = None if slots is None else tuple(t or 0 for t in entry.slots)
                self._index.update(row_id, brief=new_brief, slots=new_slots)
        return entry

    def delete(self, cont_sign: str | Iterable[str] | None = None, *, image=None) -> list[str]:
        """Delete stored images at once (locally there is no delayed deletion).

        Parameters
        ----------
        cont_sign : str or iterable of str, optional
            One signature, a ``;``-joined batch (``"1,2;3,4"``) or a list of them.
        image : numpy.ndarray, optional
            Delete the image with these pixels (wins over ``cont_sign``).

        Returns
        -------
        list of str
            The signatures that were deleted (unknown ones in a batch are skipped).

        Raises
        ------
        vislab.engine.errors.ItemNotFound
            None of the given images is stored.

        Examples
        --------
        >>> import tempfile
        >>> from vislab.engine.gallery import Gallery
        >>> from skimage import data
        >>> g = Gallery("similar", home=tempfile.mkdtemp())
        >>> e = g.add(data.coffee(), brief="x")
        >>> g.delete(e.cont_sign) == [e.cont_sign], g.count()
        (True, 0)
        """
        if image is not None:
            signs = [self._sign_of(None, image)]
        elif cont_sign is None:
            raise MissingTarget("give cont_sign or image")
        else:
            items = cont_sign.split(";") if isinstance(cont_sign, str) else list(cont_sign)
            signs = list(dict.fromkeys(parse_cont_sign(s) for s in items if str(s).strip()))
        if not signs:
            raise MissingTarget("cont_sign is empty: give one or more signatures")
        with self._lock:
            self._sync_external()
            found = self._store.delete(signs)
            if self._index is not None:
                self._index.remove([row_id for _, row_id in found])
        return [s for s, _ in found]
