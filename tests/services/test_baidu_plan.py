"""The cost planner reproduces the billing guide's worked example and its tables; plan= sets
the clients' QPS; gallery_frame warns about the gallery's lifecycle."""

from __future__ import annotations

import sqlite3
import time

import pytest

from vislab import baidu
from vislab.errors import InvalidParameter
from vislab.services.baidu_plan import payg_cost
from vislab.services.gallery_ops import GalleryLifecycleWarning


def test_the_worked_example_exactly():
    # Same-image add, 1.51 M billable calls in a month (spec §6).
    assert payg_cost(1_510_000) == 500_000 * 0.02 + 500_000 * 0.015 + 510_000 * 0.01 == 22_600
    options = baidu.plan(adds=1_510_000, product="same_hq")
    by = options.set_index("option")
    assert by.loc["pay-as-you-go", "total_cny"] == 22_600.0
    assert by.loc["packs", "total_cny"] == 13_000 + 7_500 + 10_000 * 0.02 == 20_700.0
    assert by.loc["packs", "packs"] == "add: 1 x 1,000k + 1 x 500k, 10,000 pay-as-you-go"
    assert options["option"].tolist() == ["packs", "pay-as-you-go"]  # cheapest first
    assert by.loc["packs", "qps"] == 10 and by.loc["packs", "hours"] == round(1.51e6 / 36000, 2)


def test_tiers_free_resources_and_qps():
    assert payg_cost(500_000) == 10_000 and payg_cost(1_000_000) == 17_500
    assert payg_cost(0) == 0
    # Free resources first: 50 k adds and 5 k picture-book searches for a personal account.
    small = baidu.plan(adds=50_000, searches=5_000, product="picturebook", free=True)
    free = small.set_index("option").loc["free test resources"]
    assert free["total_cny"] == 0 and free["qps"] == 2 and free["hours"] == round(55_000 / 7200, 2)
    over = baidu.plan(adds=60_000, searches=40_000, product="similar", free=True,
                      verification="enterprise").set_index("option")  # fmt: skip
    # enterprise: 100 k adds and 30 k searches free -> only 10 k searches are billed
    assert over.loc["pay-as-you-go", "total_cny"] == 10_000 * 0.02
    assert "free test resources" not in over.index
    # Finishing 3.6 M calls in 50 hours needs 20 QPS: 10 add-on QPS for 3 days.
    fast = baidu.plan(searches=3_600_000, hours=50).set_index("option")
    assert fast.loc["packs", "qps"] == 20 and fast.loc["packs", "qps_cny"] == 10 * 10 * 3
    with pytest.raises(InvalidParameter, match="verification"):
        baidu.plan(adds=1, verification="company")
    with pytest.raises(InvalidParameter, match="product"):
        baidu.plan(adds=1, product="logo")


def test_plan_option_sets_the_default_qps():
    assert baidu.ImageSearch(plan="free", ledger=False).session.limiter.qps == 2
    assert baidu.ImageSearch(plan="paid", ledger=False).session.limiter.qps == 10
    assert baidu.ImageSearch(plan="paid", qps=4, ledger=False).session.limiter.qps == 4
    with pytest.raises(InvalidParameter, match="'free' or 'paid'"):
        baidu.ImageSearch(plan="gold", ledger=False)


def test_gallery_frame_warns_about_the_lifecycle(tmp_path, monkeypatch, photos):
    monkeypatch.setenv("VISLAB_HOME", str(tmp_path))
    client = baidu.ImageSearch(progress=False)
    client.similar_add({"cat": photos["chelsea"], "cup": photos["coffee"]})
    assert client.gallery_frame("similar").attrs["lifecycle"] == []
    client._LIFECYCLE = {"capacity": 2, "idle_days": 365}  # a gallery at its limit
    with pytest.warns(GalleryLifecycleWarning, match="near the gallery's 2 limit"):
        client.gallery_frame("similar")
    client._LIFECYCLE = type(client)._LIFECYCLE
    # The ledger's last add was 340 days ago: the gallery is about to be released.
    with sqlite3.connect(client.ledger.path) as db:
        db.execute("UPDATE adds SET added = ?", (time.time() - 340 * 86400,))
    with pytest.warns(GalleryLifecycleWarning, match="for 340 days.*released"):
        client.gallery_frame("similar")
