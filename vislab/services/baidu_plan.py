"""What a month of Baidu image-search calls costs and how long it takes: ``vislab.baidu.plan``.

The tables are the billing guide's (image-search spec §6), as data:

* free test resources per interface and verification level (one-off, valid 365 days, 2 QPS,
  failed calls count too);
* QPS: 2 free (not guaranteed), 10 once paying (pay-as-you-go enabled or a pack bought);
  QPS add-ons for paying users at 10 CNY per QPS per day or 150 CNY per QPS per month;
* pay-as-you-go tiers per interface and month: up to 500 k calls 0.020 CNY each, 500 k-1 M
  0.015, beyond 1 M 0.010 (the same for add and search of all five products);
* prepaid packs (valid 12 months, stackable) per interface.

Consumption order: free resources, then packs, then pay-as-you-go.  Choices where the guide
is silent: the 10 paid QPS are taken as shared by the account's adds and searches (the guide
says "per account"), so the hours are for all calls in a row; tiers count each interface
(add, search) separately, as the worked example does for adds.
"""

from __future__ import annotations

import itertools
import math

import pandas as pd

from vislab.errors import InvalidParameter

__all__ = ["plan", "payg_cost", "FREE_QPS", "PAID_QPS"]

FREE_QPS, PAID_QPS = 2.0, 10.0
#: QPS add-on prices (CNY per QPS): per day, per month.
QPS_PER_DAY, QPS_PER_MONTH = 10.0, 150.0
#: (calls up to, CNY per call) of each pay-as-you-go tier, per interface and month.
PAYG_TIERS = ((500_000, 0.020), (1_000_000, 0.015), (math.inf, 0.010))
PACK_SIZES = (100_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000)
PACK_PRICES = {
    "add": (1_700, 7_500, 13_000, 25_000, 40_000, 60_000),
    "search": (1_500, 6_000, 10_000, 20_000, 30_000, 40_000),
}
#: Free test resources: (personal, enterprise) calls per interface.
FREE_CALLS = {
    ("add", "same_hq"): (50_000, 100_000), ("add", "similar"): (50_000, 100_000),
    ("add", "product"): (50_000, 100_000), ("add", "picturebook"): (50_000, 100_000),
    ("add", "materiel"): (50_000, 100_000),
    ("search", "same_hq"): (10_000, 30_000), ("search", "similar"): (10_000, 30_000),
    ("search", "product"): (10_000, 30_000), ("search", "picturebook"): (5_000, 10_000),
    ("search", "materiel"): (5_000, 10_000),
}  # fmt: skip
_LEVELS = ("personal", "enterprise")


def payg_cost(calls: int) -> float:
    """Pay-as-you-go CNY for ``calls`` billable calls of one interface in one month.

    Parameters
    ----------
    calls : int
        Billable (successful) calls.

    Returns
    -------
    float
        CNY, rounded to the fen.

    Examples
    --------
    >>> payg_cost(1_510_000)   # the billing guide's worked example
    22600.0
    """
    cost, low = 0.0, 0
    for high, price in PAYG_TIERS:
        if calls <= low:
            break
        cost += (min(calls, high) - low) * price
        low = high
    return round(cost, 2)


def _best_packs(calls: int, interface: str) -> tuple[float, dict[int, int], int]:
    """The cheapest packs + pay-as-you-go for ``calls``: (CNY, {size: count}, remainder)."""
    prices = PACK_PRICES[interface]
    best = (payg_cost(calls), {}, calls)
    if calls <= 0:
        return best
    # Counts beyond these are dominated by a bigger pack (e.g. 5 x 100 k costs more than
    # 500 k); the 10 M pack may be needed any number of times.
    ranges = [range(10), range(4), range(4), range(4), range(4), range(calls // PACK_SIZES[-1] + 2)]
    for counts in itertools.product(*ranges):
        covered = sum(c * s for c, s in zip(counts, PACK_SIZES, strict=True))
        packs = sum(c * p for c, p in zip(counts, prices, strict=True))
        if packs >= best[0]:
            continue
        rest = max(0, calls - covered)
        total = round(packs + payg_cost(rest), 2)
        if total < best[0]:
            best = (total, {s: c for s, c in zip(PACK_SIZES, counts, strict=True) if c}, rest)
    return best


def _describe(packs: dict[int, int]) -> str:
    return " + ".join(f"{c} x {s // 1000:,}k" for s, c in sorted(packs.items(), reverse=True))


def plan(adds=0, searches=0, *, product="similar", verification="personal", free=False,
         hours=None):  # fmt: skip
    """Options for a month of image-search calls: cost, QPS and duration, cheapest first.

    Parameters
    ----------
    adds, searches : int
        Billable calls this month (the guide bills successful calls only).
    product : {"same_hq", "similar", "product", "picturebook", "materiel"}
        Sets the free search quota (picture-book and fabric have smaller ones).
    verification : {"personal", "enterprise"}
        The account's real-name verification (sets the free test resources).
    free : bool
        Whether the one-off free test resources are still unused (consumed first).
    hours : float, optional
        The time the job may take; options that need more than 10 QPS to finish in it get
        the QPS add-on they need (per day or per month, whichever is cheaper).

    Returns
    -------
    DataFrame
        One row per option (``option``, ``add_cny``, ``search_cny``, ``qps_cny``,
        ``total_cny``, ``qps``, ``hours``, ``packs``, ``note``), cheapest first.

    Examples
    --------
    >>> options = plan(adds=1_510_000, product="same_hq")
    >>> options[["option", "total_cny"]].to_dict("records")
    [{'option': 'packs', 'total_cny': 20700.0}, {'option': 'pay-as-you-go', 'total_cny': 22600.0}]
    >>> options.loc[0, "packs"]
    'add: 1 x 1,000k + 1 x 500k, 10,000 pay-as-you-go'
    """
    if verification not in _LEVELS:
        raise InvalidParameter(f"verification must be 'personal' or 'enterprise', got "
                               f"{verification!r}", name="verification")  # fmt: skip
    if ("add", product) not in FREE_CALLS:
        names = sorted({p for _, p in FREE_CALLS})
        raise InvalidParameter(f"product must be one of {names}, got {product!r}",
                               name="product")  # fmt: skip
    volume = {"add": int(adds), "search": int(searches)}
    if min(volume.values()) < 0 or hours is not None and not float(hours) > 0:
        raise InvalidParameter("adds and searches must be >= 0 and hours > 0", name="adds")
    level = _LEVELS.index(verification)
    free_left = {i: FREE_CALLS[(i, product)][level] if free else 0 for i in volume}
    billable = {i: max(0, n - free_left[i]) for i, n in volume.items()}
    total_calls = sum(volume.values())
    rows = []
    if free and not any(billable.values()):
        rows.append(_row("free test resources", {"add": 0.0, "search": 0.0}, {}, {},
                         total_calls, FREE_QPS, None,
                         "2 QPS, not guaranteed; valid 365 days"))  # fmt: skip
    payg = {i: payg_cost(n) for i, n in billable.items()}
    rows.append(_row("pay-as-you-go", payg, {}, billable, total_calls, PAID_QPS, hours,
                     "tiers reset monthly"))  # fmt: skip
    best = {i: _best_packs(n, i) for i, n in billable.items()}
    if any(b[1] for b in best.values()):
        rows.append(_row("packs", {i: b[0] for i, b in best.items()},
                         {i: b[1] for i, b in best.items()}, {i: b[2] for i, b in best.items()},
                         total_calls, PAID_QPS, hours,
                         "packs valid 12 months; the rest pay-as-you-go"))  # fmt: skip
    frame = pd.DataFrame(rows).sort_values(["total_cny", "hours"], kind="stable")
    frame = frame.reset_index(drop=True)
    frame.attrs["kind"] = "plan"
    return frame


def _row(option, cost, packs, rest, calls, qps, hours, note) -> dict:
    qps_cny, extra = 0.0, 0
    if hours is not None and calls / (qps * 3600) > hours:
        extra = math.ceil(calls / (float(hours) * 3600) - qps)
        days = math.ceil(float(hours) / 24)
        per_day, per_month = extra * QPS_PER_DAY * days, extra * QPS_PER_MONTH
        qps_cny = float(min(per_day, per_month))
        note += f"; +{extra} QPS add-on ({'per day' if per_day <= per_month else 'per month'})"
    text = "; ".join(
        f"{i}: {_describe(p)}" + (f", {rest.get(i, 0):,} pay-as-you-go" if rest.get(i) else "")
        for i, p in packs.items() if p
    )  # fmt: skip
    speed = qps + extra
    return {"option": option, "add_cny": cost["add"], "search_cny": cost["search"],
            "qps_cny": qps_cny, "total_cny": round(cost["add"] + cost["search"] + qps_cny, 2),
            "qps": speed, "hours": round(calls / speed / 3600, 2), "packs": text or None,
            "note": note}  # fmt: skip
