"""The four gallery operations (add, search, update, delete) for every image-search product.

:class:`GalleryOperations` is mixed into a :class:`~vislab.services.client.ServiceClient` whose
family declares :class:`~vislab.catalogue.Product` s.  Which categories a product takes, its
brief rule, its delete batch size: all read from the product's declaration, never branched on
its name.  It also keeps the ledger (:class:`vislab.services.ledger.Ledger`) of what the client
stored, since the service has no list call.
"""

from __future__ import annotations

import base64
import hashlib
import warnings

import pandas as pd

from vislab import frames
from vislab.catalogue.baidu_image_search import parse_brief
from vislab.engine.paths import vislab_home
from vislab.errors import InvalidParameter, TransportError, error_for_code
from vislab.services.gallery_queries import GalleryQueries
from vislab.services.ledger import Ledger
from vislab.services.params import brief_text, images_or_cont_sign, per_image_value, tag_list

__all__ = ["GalleryOperations", "GalleryLifecycleWarning"]


class GalleryLifecycleWarning(UserWarning):
    """A gallery nears its capacity, or has been idle long enough to be released soon."""


def _default_brief(ident: str) -> dict:
    return {"image": ident}


def has_more(value) -> bool:
    """The reply's ``has_more`` as a bool: documented bool, sent as ``"false"`` by the cloud's
    example and as a uint32 by the private API.

    Examples
    --------
    >>> [has_more(v) for v in (True, "false", "true", 0, 1, None)]
    [True, False, True, False, True, False]
    """
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1")
    return bool(value)


def page_info(raw, product, options) -> dict:
    """``{query: {"pn", "rn", "result_num", "has_more"}}`` of one search call (the matches
    frame's ``attrs["page"]``), from each successful query's reply."""
    pn = int(options.get("pn") or 0)
    rn = int(options.get("rn") or product.rn_default)
    return {
        query: {"pn": pn, "rn": rn, "result_num": int(reply.get("result_num") or 0),
                "has_more": has_more(reply.get("has_more"))}
        for query, reply in raw.items()
    }  # fmt: skip


class GalleryOperations(GalleryQueries):
    """Add / search / update / delete on the products of the client's family, with a ledger
    (and, from :class:`~vislab.services.gallery_queries.GalleryQueries`, ``search_all``,
    ``exists`` and ``reset``)."""

    #: The family's code for "these bytes are stored already" (cloud: 216681 "item exist").
    _DUPLICATE_CODE = 216681

    def _open_ledger(self, ledger, filter_deleted: bool) -> None:
        if ledger is True:
            ledger = vislab_home() / "ledger.sqlite"
        self.ledger = Ledger(ledger) if ledger else None
        self.filter_deleted = bool(filter_deleted)
        where = getattr(self.transport, "base_url", None)
        if where is None:
            # Local galleries live in the home folder: one target per home.
            self._target = f"local:{vislab_home()}"
        else:
            # A hash, never the key itself: the ledger file must hold no secret.
            digest = hashlib.sha256(self._account.encode()).hexdigest()[:12]
            self._target = f"{where}#{digest}"

    def _product_of(self, ep):
        name, _ = ep.name.rsplit("_", 1)
        return self.spec.product(name)

    # -- wire hook: the ledger sees every request ----------------------------------------------
    def _send(self, ep, fields, cache_key, *, path=None, ident=None):
        product = self._product_of(ep)
        op = ep.name.rsplit("_", 1)[1]
        sha = None
        if fields.get(ep.image_field):
            sha = hashlib.sha256(base64.b64decode(fields[ep.image_field])).hexdigest()
        if op == "add" and self.ledger is not None and sha is not None:
            known = self.ledger.find(self._target, product.name, sha256=sha)
            job = getattr(self, "_job", None)
            rerun = known is not None and job is not None
            if rerun and (known["job"], known["image"]) == (job, ident):
                # Dask runs this partition again (a worker died): its first run stored it.
                return {"cont_sign": known["cont_sign"]}
            if known is not None:
                raise error_for_code(
                    self._DUPLICATE_CODE,
                    f"item exist: these bytes were added before as cont_sign "
                    f"{known['cont_sign']} (from the vislab ledger; not sent)",
                    table=self.spec.errors,
                )
        # Only searches are safe to answer from the cache: the others change the gallery.
        try:
            reply = super()._send(ep, fields, cache_key if op == "search" else None, path=path)
        except TransportError as exc:
            if op != "add" or not exc.sent:
                raise
            reply = self._resolve_timed_out_add(product, ep, fields, exc)
        if self.ledger is not None:
            # Recorded as it commits, with the caller's identifier: a crash mid-batch loses
            # no stored image from the ledger.
            self._record(product, op, fields, reply, sha, ident)
        return reply

    def _resolve_timed_out_add(self, product, ep, fields, exc):
        """An add whose answer never came may still have been stored: look for it.

        The add is not sent again (it is not idempotent: a second send would answer 216681
        "item exist" and lose the cont_sign).  Instead the same image is searched for; a hit
        carrying the very brief that was sent, with a near-identical score, is taken as the
        stored entry.  Otherwise the timeout stands, saying what a search found.
        """
        search = self.spec.endpoint(product.endpoint_name("search"))
        # The search carries what the add carried of its own parameters (a tenant id...).
        query = {p.name: fields[p.name] for p in search.params if p.name in fields}
        if ep.image_field in fields:
            query[search.image_field] = fields[ep.image_field]
        else:  # the add sent a url for the service to fetch
            query[search.url_field] = fields[ep.url_field]
        query["rn"] = "5"
        try:
            reply = super()._send(search, query, None)
        except Exception:
            exc.msg += " — the add may or may not be stored (a search for it failed too)"
            raise exc from None
        for hit in reply.get("result") or []:
            if hit.get("brief") == fields.get("brief") and float(hit.get("score") or 0) >= 0.99:
                return {"cont_sign": hit.get("cont_sign"), "resolved_after": "timeout"}
        exc.msg += (
            " — a search for the image finds no stored copy, so it was not stored: "
            "run the add again"
        )
        raise exc from None

    def _record(self, product, op, fields, reply, sha, ident=None) -> None:
        led, target, name = self.ledger, self._target, product.name
        cats = None
        if any(c in fields for c in product.categories):
            cats = ",".join(str(fields.get(c) or "") for c in product.categories)
        if op == "add" and reply.get("cont_sign"):
            led.record_add(target, name, reply["cont_sign"], brief=fields.get("brief"),
                           tags=cats, sha256=sha, image=ident,
                           job=getattr(self, "_job", None))  # fmt: skip
        elif op == "delete":
            if sha is not None:
                led.mark_deleted(target, name, sha256=sha)
            else:
                signs = [s for s in str(fields.get("cont_sign", "")).split(";") if s.strip()]
                led.mark_deleted(target, name, cont_signs=signs)
        elif op == "update":
            sign = fields.get("cont_sign")
            if sha is not None:
                known = led.find(target, name, sha256=sha)
                sign = known["cont_sign"] if known else None
            if sign:
                led.update(target, name, sign, brief=fields.get("brief"), tags=cats)

    # -- reading the ledger ---------------------------------------------------------------------
    def gallery_frame(self, product: str, *, include_deleted: bool = False) -> pd.DataFrame:
        """What this client stored in a gallery, from the ledger -> gallery frame.

        Columns: ``image`` (identifier at add time), ``cont_sign``, ``brief`` (parsed),
        ``tags``, then ``added`` and ``deleted`` (times) and ``sha256`` of the bytes sent.
        The gallery's lifecycle facts show as :class:`GalleryLifecycleWarning` (and in
        ``attrs["lifecycle"]``): 90 % of the 500 k capacity reached, or no recorded activity
        for 11 months (a gallery unused for a year is released).

        Parameters
        ----------
        product : str
            One of the family's products (``"similar"``, ``"materiel"``...).
        include_deleted : bool
            Also list images deleted through this client.

        Examples
        --------
        >>> import tempfile
        >>> from skimage import data
        >>> from vislab.baidu import ImageSearch
        >>> client = ImageSearch(progress=False, ledger=f"{tempfile.mkdtemp()}/ledger.sqlite")
        >>> _ = client.materiel_add({"bricks": data.brick()}, tags=[7])  # doctest: +SKIP
        >>> client.gallery_frame("materiel")[["image", "tags"]].to_dict("records")  # doctest: +SKIP
        [{'image': 'bricks', 'tags': [7]}]
        """
        name = self.spec.product(product).name
        if self.ledger is None:
            raise InvalidParameter("this client keeps no ledger (ledger=False)", name="ledger")
        rows = []
        for e in self.ledger.entries(self._target, name, include_deleted=include_deleted):
            rows.append({
                "image": e["image"], "cont_sign": e["cont_sign"], "brief": parse_brief(e["brief"]),
                "tags": tag_list(e["tags"]), "added": pd.Timestamp(e["added"], unit="s"),
                "deleted": None if e["deleted"] is None else pd.Timestamp(e["deleted"], unit="s"),
                "sha256": e["sha256"],
            })  # fmt: skip
        df = frames.gallery_frame(rows, service=f"{self.service}.{name}.ledger")
        self._lifecycle_warnings(name, df)
        return df

    #: The cloud gallery's lifecycle (billing guide): an initial capacity of 500 k images
    #: (each console request adds up to 500 k more), and release after a year unused.
    #: ``None`` for a family without such rules (a private box reports its own capacity).
    _LIFECYCLE: dict | None = {"capacity": 500_000, "idle_days": 365}

    def _lifecycle_warnings(self, product: str, df) -> None:
        facts = self._LIFECYCLE
        if not facts or df.empty:
            return
        notes = []
        live = int(df["deleted"].isna().sum()) if "deleted" in df.columns else len(df)
        if live >= 0.9 * facts["capacity"]:
            notes.append(
                f"{live:,} images are near the gallery's {facts['capacity']:,} limit: request "
                "an expansion in the console (up to +500,000 each, 1-3 working days)"
            )
        last = max(t for t in [*df["added"], *df.get("deleted", [])] if t is not None and
                   not pd.isna(t))  # fmt: skip
        idle = (pd.Timestamp.now() - last).days
        if idle >= facts["idle_days"] - 30:
            notes.append(
                f"no add or delete through this client for {idle} days: a gallery unused for "
                f"{facts['idle_days']} days (no add, search...) is released, images and all"
            )
        df.attrs["lifecycle"] = notes
        for note in notes:
            warnings.warn(f"{self.service} {product} gallery: {note}", GalleryLifecycleWarning,
                          stacklevel=3)  # fmt: skip

    # -- the four operations ---------------------------------------------------------------------
    def _add(self, product_name, images, *, brief=None, errors=None, **options):
        product = self.spec.product(product_name)
        brief = _default_brief if brief is None else brief
        # Categories may differ per image; other options (a tenant id) are per call.
        categories = {cat: options.pop(cat, None) for cat in product.categories}
        options = {k: v for k, v in options.items() if v is not None}

        def per_image(ident):
            extra = {"brief": brief_text(per_image_value(brief, ident, name="brief"), ident)}
            for cat in product.categories:
                extra[cat] = per_image_value(categories.get(cat), ident, name=cat)
            return extra

        df = self._call(
            product.endpoint_name("add"),
            images,
            options,
            per_image=per_image,
            keep=("brief", *product.categories),
            errors=errors,
        )
        if self.ledger is not None and "cont_sign" in df.columns:
            for ident, sign, code in zip(df["image"], df["cont_sign"], df["error_code"],
                                         strict=True):  # fmt: skip
                if isinstance(sign, str) and code is None:
                    self.ledger.set_image(self._target, product.name, sign, ident)
        if "tags" in df.columns:
            df["tags"] = [tag_list(v) for v in df["tags"]]
        if "brief" in df.columns:
            df["brief"] = [parse_brief(b) for b in df["brief"]]
        return df

    def _search(self, product_name, images, *, errors=None, **options):
        product = self.spec.product(product_name)
        df = self._call(product.endpoint_name("search"), images, options, errors=errors)
        df.attrs["page"] = page_info(df.attrs.get("raw", {}), product, options)
        if self.ledger is None or not self.filter_deleted:
            return df
        gone = self.ledger.deleted(self._target, product.name)
        if not gone or "cont_sign" not in df.columns:
            return df
        drop = df["cont_sign"].isin(gone)
        if not drop.any():
            return df
        kept = df[~drop].copy()
        # A query whose every hit was deleted keeps one empty row: nothing vanishes silently.
        lost = [q for q in dict.fromkeys(df.loc[drop, "query"]) if q not in set(kept["query"])]
        if lost:
            kept = pd.concat([kept, pd.DataFrame({"query": lost})], ignore_index=True)
        order = {q: i for i, q in enumerate(dict.fromkeys(df["query"]))}
        kept = kept.sort_values(["query", "rank"], key=lambda c: c.map(order) if c.name == "query"
                                else c).reset_index(drop=True)  # fmt: skip
        kept["rank"] = kept.groupby("query").cumcount().add(1).where(kept["cont_sign"].notna())
        kept.attrs = df.attrs
        return kept

    def _update(
        self, product_name, images=None, *, cont_sign=None, brief=None, errors=None, **categories
    ):
        product = self.spec.product(product_name)
        signs = images_or_cont_sign(images, cont_sign)
        options = {"brief": None if brief is None else brief_text(brief, ""), **categories}
        name = product.endpoint_name("update")
        if signs is None:
            return self._call(name, images, options, errors=errors)
        return self._call_without_image(
            name, [[s] for s in signs], "cont_sign", options, flag="updated", errors=errors
        )

    def _delete(self, product_name, images=None, *, cont_sign=None, errors=None, **options):
        product = self.spec.product(product_name)
        signs = images_or_cont_sign(images, cont_sign)
        name = product.endpoint_name("delete")
        options = {k: v for k, v in options.items() if v is not None}
        if signs is None:
            return self._call(name, images, options, errors=errors)
        signs = [s for one in signs for s in one.split(";") if s.strip()]
        size = product.max_delete_batch
        batches = [signs[i : i + size] for i in range(0, len(signs), size)]
        return self._call_without_image(
            name, batches, "cont_sign", options, flag="deleted", errors=errors
        )
