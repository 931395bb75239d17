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

import pandas as pd

from vislab import frames
from vislab.catalogue.baidu_image_search import parse_brief
from vislab.engine.paths import vislab_home
from vislab.errors import InvalidParameter, ServiceError, error_for_code
from vislab.services.batch import run_batch
from vislab.services.ledger import Ledger
from vislab.services.params import brief_text, images_or_cont_sign, per_image_value, tag_list

__all__ = ["GalleryOperations"]


def _default_brief(ident: str) -> dict:
    return {"image": ident}


class GalleryOperations:
    """Add / search / update / delete on the products of the client's family, with a ledger."""

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
    def _send(self, ep, fields, cache_key, *, path=None):
        product = self._product_of(ep)
        op = ep.name.rsplit("_", 1)[1]
        sha = None
        if fields.get(ep.image_field):
            sha = hashlib.sha256(base64.b64decode(fields[ep.image_field])).hexdigest()
        if op == "add" and self.ledger is not None and sha is not None:
            known = self.ledger.find(self._target, product.name, sha256=sha)
            if known is not None:
                raise error_for_code(
                    216681, f"item exist: these bytes were added before as cont_sign "
                            f"{known['cont_sign']} (from the vislab ledger; not sent)",
                    table=self.spec.errors,
                )  # fmt: skip
        # Only searches are safe to answer from the cache: the others change the gallery.
        reply = super()._send(ep, fields, cache_key if op == "search" else None, path=path)
        if self.ledger is not None:
            self._record(product, op, fields, reply, sha)
        return reply

    def _record(self, product, op, fields, reply, sha) -> None:
        led, target, name = self.ledger, self._target, product.name
        cats = None
        if any(c in fields for c in product.categories):
            cats = ",".join(str(fields.get(c) or "") for c in product.categories)
        if op == "add" and reply.get("cont_sign"):
            led.record_add(target, name, reply["cont_sign"], brief=fields.get("brief"),
                           tags=cats, sha256=sha)  # fmt: skip
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
        return frames.gallery_frame(rows, service=f"{self.service}.{name}.ledger")

    # -- the four operations ---------------------------------------------------------------------
    def _add(self, product_name, images, *, brief=None, **categories):
        product = self.spec.product(product_name)
        brief = _default_brief if brief is None else brief

        def per_image(ident):
            extra = {"brief": brief_text(per_image_value(brief, ident), ident)}
            for cat in product.categories:
                extra[cat] = per_image_value(categories.get(cat), ident)
            return extra

        df = self._call(
            product.endpoint_name("add"),
            images,
            {},
            per_image=per_image,
            keep=("brief", *product.categories),
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

    def _search(self, product_name, images, **options):
        product = self.spec.product(product_name)
        df = self._call(product.endpoint_name("search"), images, options)
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

    def _update(self, product_name, images=None, *, cont_sign=None, brief=None, **categories):
        product = self.spec.product(product_name)
        signs = images_or_cont_sign(images, cont_sign)
        options = {"brief": None if brief is None else brief_text(brief, ""), **categories}
        name = product.endpoint_name("update")
        if signs is None:
            return self._call(name, images, options)
        return self._by_signs(name, [[s] for s in signs], options, "updated")

    def _delete(self, product_name, images=None, *, cont_sign=None):
        product = self.spec.product(product_name)
        signs = images_or_cont_sign(images, cont_sign)
        name = product.endpoint_name("delete")
        if signs is None:
            return self._call(name, images, {})
        signs = [s for one in signs for s in one.split(";") if s.strip()]
        size = product.max_delete_batch
        batches = [signs[i : i + size] for i in range(0, len(signs), size)]
        return self._by_signs(name, batches, {}, "deleted")

    def _by_signs(self, name, batches, options, flag) -> pd.DataFrame:
        """One request per batch of cont_signs (joined by ';'); one row per cont_sign."""
        ep = self.spec.endpoint(name)
        params = ep.wire_params({k: v for k, v in options.items() if v is not None})

        def one(batch):
            try:
                reply = self._send(ep, {**params, "cont_sign": ";".join(batch)}, None)
                return [{"image": None, "cont_sign": s, flag: True} for s in batch], reply
            except (InvalidParameter, ServiceError) as exc:
                return [{"image": None, "cont_sign": s, "error_code": exc.code,
                         "error_msg": exc.msg} for s in batch], None  # fmt: skip

        results = run_batch(one, batches, max_workers=self.max_workers, progress=self.progress,
                            desc=name)  # fmt: skip
        rows = [row for batch_rows, _ in results for row in batch_rows]
        raw = {";".join(b): reply for b, (_, reply) in zip(batches, results, strict=True) if reply}
        return frames.result_frame(ep.frame, rows, service=f"{self.service}.{name}", raw=raw)
