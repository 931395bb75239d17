"""Gallery questions built on the four operations: every hit to the end of the service's
paging window (``search_all``), "is this image stored?" (``exists``) and "empty the gallery"
(``reset``, from the ledger: the service has no clear call).

:class:`GalleryQueries` is a mixin of :class:`~vislab.services.gallery_ops.GalleryOperations`;
it only calls ``_search``, ``_delete``, ``_call`` and the ledger, so the cloud and the
private-deployment clients share it.
"""

from __future__ import annotations

import warnings

import pandas as pd

from vislab import frames
from vislab.errors import InvalidParameter
from vislab.images import expand_images, prepare_image

__all__ = ["GalleryQueries", "PagingWindowWarning"]


class PagingWindowWarning(UserWarning):
    """A query still had more hits where the service's paging window ends."""


class GalleryQueries:
    """``search_all``, ``exists`` and ``reset`` for the products of the client's family."""

    def search_all(self, product, images, *, page_size=None, errors=None, **options):
        """Every hit of each query, paging with ``pn``/``rn`` to the end of the window.

        Pages are requested while a query's reply says ``has_more`` and the next page starts
        inside the product's window (1000 results, ``pn`` 0..999, for same/similar/product;
        100 for picture-book; 300 for fabric); a query that fills the window may have hits
        the service cannot page to: it is named in ``attrs["truncated"]`` and one
        :class:`PagingWindowWarning`.

        Parameters
        ----------
        product : str
            ``"similar"``, ``"same_hq"``, ...
        images : image or many
            The queries.
        page_size : int, optional
            ``rn`` per request (default the product's default page, e.g. 300).
        errors : {"row", "raise"}, optional
            The failure rule (a query failing on a page keeps the hits of earlier pages and
            an error row).
        **options
            The product's search filters (``tags``, ``tag_logic``, ``class_id1``...).

        Returns
        -------
        DataFrame
            Matches frame with ranks over all pages; ``attrs["pages"]`` lists each query's
            pages (``pn``, ``rn``, ``result_num``, ``has_more``), ``attrs["truncated"]`` the
            queries cut by the window.

        Examples
        --------
        >>> import tempfile
        >>> from skimage import data
        >>> from vislab.baidu import ImageSearch
        >>> client = ImageSearch(progress=False, ledger=False)  # doctest: +SKIP
        >>> hits = client.search_all("similar", data.coffee(), page_size=100)  # doctest: +SKIP
        """
        prod = self.spec.product(product)
        for key in ("pn", "rn"):
            if key in options:
                raise InvalidParameter(f"search_all pages by itself: give page_size=, not "
                                       f"{key}=", name=key)  # fmt: skip
        size = int(page_size or prod.rn_default)
        if not 1 <= size <= prod.rn_max:
            raise InvalidParameter(f"page_size must be in 1..{prod.rn_max} for {prod.name}, "
                                   f"got {page_size!r}", name="page_size")  # fmt: skip
        pending = dict(expand_images(images))
        order = list(pending)
        window = prod.pn_max + 1  # the most results a query can reach (1000, 100, 300)
        parts, pages, pn = [], {q: [] for q in order}, 0
        while pending and pn < window:
            rn = min(size, window - pn)
            df = self._search(prod.name, pending, pn=pn, rn=rn, errors=errors, **options)
            page = df.attrs.get("page", {})
            df = df.copy()
            df["rank"] = df["rank"] + pn  # ranks over all pages
            parts.append(df)
            for query, info in page.items():
                pages[query].append(info)
            pending = {q: s for q, s in pending.items() if page.get(q, {}).get("has_more")}
            pn += rn
        out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        # A query that filled the window may have more hits than the service can page to
        # (its has_more is about the window, not the gallery).
        counts = out[out["cont_sign"].notna()].groupby("query").size()
        truncated = [q for q in order if q in pending or counts.get(q, 0) >= window]
        # An empty row is only kept for a query that has no hit on any page.
        hit = out["cont_sign"].notna() | out["error_code"].notna()
        has_hits = set(out.loc[hit, "query"])
        out = out[hit | ~out["query"].isin(has_hits)]
        rank = {q: i for i, q in enumerate(order)}
        out = out.sort_values(["query", "rank"], key=lambda c: c.map(rank) if c.name == "query"
                              else c, kind="stable").reset_index(drop=True)  # fmt: skip
        result = frames.result_frame("matches", out.to_dict("records"),
                                     service=f"{self.service}.{prod.name}_search_all")  # fmt: skip
        result.attrs["pages"] = pages
        result.attrs["truncated"] = truncated
        if truncated:
            warnings.warn(
                f"{len(truncated)} of {len(order)} queries filled the {prod.name} paging "
                f"window ({window} results, pn 0..{prod.pn_max}): the service cannot return "
                "any further hits — narrow the search with categories instead. "
                "attrs['truncated'] names them.",
                PagingWindowWarning,
                stacklevel=2,
            )
        return result

    def exists(self, product, images, *, min_score=0.99, errors=None):
        """Whether each image is stored in the gallery -> frame with ``exists`` per image.

        The ledger answers first (the same bytes as an add sent, after the same preparing);
        an image it does not know is searched for, and counts as stored when the best hit
        scores at least ``min_score`` (an image the ledger never saw may have been added by
        another program).

        Parameters
        ----------
        product : str
            ``"similar"``, ``"same_hq"``, ...
        images : image or many
            The images to look up.
        min_score : float
            Score of the best hit above which a searched image counts as stored.
        errors : {"row", "raise"}, optional
            The failure rule of the searches.

        Returns
        -------
        DataFrame
            Gallery frame: ``image``, ``cont_sign``, ``brief`` of the stored copy, plus
            ``exists`` (bool), ``score`` and ``how`` (``"ledger"`` or ``"search"``).

        Examples
        --------
        >>> from skimage import data
        >>> from vislab.baidu import ImageSearch
        >>> client = ImageSearch(progress=False)  # doctest: +SKIP
        >>> client.exists("similar", {"cup": data.coffee()})["exists"].tolist()  # doctest: +SKIP
        [False]
        """
        prod = self.spec.product(product)
        ep = self.spec.endpoint(prod.endpoint_name("add"))
        pairs = expand_images(images)
        rows, unknown = {}, {}
        for ident, source in pairs:
            known = None
            if self.ledger is not None:
                try:
                    prepared = prepare_image(source, ep.limits, ident=ident, fit=self.fit)
                    known = self.ledger.find(self._target, prod.name, sha256=prepared.sha256)
                except Exception:  # unreadable here: the search below says why, in a row
                    known = None
            if known is not None:
                rows[ident] = {"image": ident, "cont_sign": known["cont_sign"],
                               "brief": known["brief"], "exists": True, "score": None,
                               "how": "ledger"}  # fmt: skip
            else:
                unknown[ident] = source
        if unknown:
            found = self._search(prod.name, unknown, rn=1, errors=errors)
            for _, row in found.iterrows():
                ident, score = row["query"], row.get("score")
                ok = row.get("error_code") is None or pd.isna(row.get("error_code"))
                stored = bool(ok and pd.notna(score) and float(score) >= min_score)
                rows[ident] = {"image": ident, "cont_sign": row["cont_sign"] if stored else None,
                               "brief": row["brief"] if stored else None, "exists": stored,
                               "score": None if pd.isna(score) else float(score),
                               "how": "search"}  # fmt: skip
                for col in frames.ERROR_COLUMNS:
                    if not ok:
                        rows[ident][col] = row.get(col)
        ordered = [rows[ident] for ident, _ in pairs]
        return frames.gallery_frame(ordered, service=f"{self.service}.{prod.name}_exists")

    def reset(self, product):
        """Delete every image the ledger knows in one gallery (the service has no clear call).

        Images added by other programs, or by this client without a ledger, are not known
        and stay; the service's own advice for a full clear is a new app.

        Parameters
        ----------
        product : str
            ``"similar"``, ``"same_hq"``, ...

        Returns
        -------
        DataFrame
            The delete's gallery frame: ``deleted`` or the error per ``cont_sign``.

        Examples
        --------
        >>> from vislab.baidu import ImageSearch
        >>> ImageSearch(progress=False).reset("similar")  # doctest: +SKIP
        """
        prod = self.spec.product(product)
        if self.ledger is None:
            raise InvalidParameter("reset deletes what the ledger knows; this client keeps "
                                   "none (ledger=False)", name="ledger")  # fmt: skip
        signs = [e["cont_sign"] for e in self.ledger.entries(self._target, prod.name)]
        if not signs:
            return frames.gallery_frame([], service=f"{self.service}.{prod.name}_delete")
        return self._delete(prod.name, cont_sign=signs)
