"""``<product>_signup`` of the private deployment: a tenant registers with one product's
service; a second signup answers 104, and a strict box answers 103 to a tenant it does not
know (in-process and over `vislab serve`)."""

from __future__ import annotations

import itertools

import pytest
import requests

from tests.engine import _edits
from vislab import baidu
from vislab.errors import AuthError, FailedImagesWarning, InvalidRequest
from vislab.frames import error_rows, ok_rows

_TENANTS = itertools.count()


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("VISLAB_HOME", str(tmp_path))
    monkeypatch.delenv("VISLAB_PRIVATE_STRICT", raising=False)
    return tmp_path


@pytest.fixture(scope="module")
def photos():
    return _edits.load_photos(("chelsea", "coffee"))


@pytest.fixture(params=["private-local", "private-serve"])
def box(request, home):
    tenant = f"signup-{next(_TENANTS)}-{id(request)}"
    if request.param == "private-local":
        return baidu.PrivateImageSearch(appid=tenant, progress=False)
    served = request.getfixturevalue("served")
    return baidu.PrivateImageSearch(appid=tenant, base_url=served.url, progress=False,
                                    ledger=home / "ledger.sqlite")  # fmt: skip


def test_signup_once_then_104_as_row_or_raise(box, photos):
    first = box.similar_signup()
    assert first.shape[0] == 1 and error_rows(first).empty
    assert first.loc[0, ["image", "appid", "registered"]].tolist() == [
        "similar", box.appid, True]  # fmt: skip
    assert first.attrs["service"] == "baidu.image_search_private.similar_signup"
    with pytest.warns(FailedImagesWarning, match="104"):
        again = box.similar_signup()  # errors="row" is the default
    assert ok_rows(again).empty
    assert again.loc[0, "image"] == "similar" and again.loc[0, "appid"] == box.appid
    assert again["error_code"].tolist() == [104]
    assert "already exists" in again.loc[0, "error_msg"]
    with pytest.raises(InvalidRequest) as info:
        box.similar_signup(errors="raise")
    assert info.value.code == 104
    # A signed-up tenant starts with an empty index and takes adds as before.
    assert int(box.similar_snapshot().loc[0, "index_size"]) == 0
    box.similar_add({"cat": photos["chelsea"]}, errors="raise")
    assert int(box.similar_snapshot().loc[0, "index_size"]) == 1
    # Tenants are per product service: the same appid is new to picture-book.
    assert box.picturebook_signup(errors="raise").loc[0, "registered"]


def test_open_emulator_creates_tenants_on_first_use(box, photos):
    """Without strict mode a tenant never signed up works as before; it then exists."""
    added = box.product_add({"cup": photos["coffee"]}, errors="raise")
    assert added["cont_sign"].str.fullmatch(r"\d+,\d+").all()
    with pytest.warns(FailedImagesWarning):
        late = box.product_signup()
    assert late["error_code"].tolist() == [104]


def test_strict_emulator_answers_103_until_signup(home, photos, monkeypatch):
    monkeypatch.setenv("VISLAB_PRIVATE_STRICT", "1")
    box = baidu.PrivateImageSearch(appid="strict-shop", progress=False)
    # 103 is an auth error: even under errors="row" a batch that fails for it as a whole
    # raises once (the batch rule for auth), instead of a frame of identical rows.
    with pytest.raises(AuthError, match="not registered") as info:
        box.similar_add({"cat": photos["chelsea"], "cup": photos["coffee"]})
    assert info.value.code == 103
    assert "signup" in str(info.value) and "secret key" not in str(info.value)  # what to do
    with pytest.raises(AuthError) as info:
        box.similar_search(photos["chelsea"], errors="raise")
    assert info.value.code == 103
    with pytest.raises(AuthError):
        box.similar_snapshot(errors="raise")
    assert not list(home.rglob("private-strict-shop.sqlite"))  # a refusal creates nothing
    box.similar_signup(errors="raise")
    box.similar_add({"cat": photos["chelsea"]}, errors="raise")
    hits = box.similar_search(photos["chelsea"], rn=1, errors="raise")
    assert hits.loc[0, "brief"] == {"image": "cat"}
    with pytest.warns(FailedImagesWarning):
        assert box.similar_signup()["error_code"].tolist() == [104]
    # Registered with similar only: another product's service still refuses the tenant.
    with pytest.raises(AuthError):
        box.same_hq_search(photos["chelsea"], errors="raise")


def test_signup_on_the_wire_of_vislab_serve(served):
    url = f"{served.url}/similar/RTSAsService/signup"
    body = {"appid": f"wire-signup-{next(_TENANTS)}", "from": "test", "logid": 7,
            "format": "json"}  # fmt: skip
    ok = requests.post(url, json=body, timeout=60).json()
    assert ok["err_no"] == 0 and not ok.get("data_items")
    dup = requests.post(url, json=body, timeout=60).json()
    assert dup["err_no"] == 104 and "already exists" in dup["err_msg"]
    bad = requests.post(url, json={**body, "appid": "a,b"}, timeout=60).json()
    assert bad["err_no"] == 1 and "appid" in bad["err_msg"]


def test_host_mode_sends_signup_to_each_services_port(home):
    import http.server
    import threading

    from tests.services.test_imagesearch_private import _Box

    servers = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Box) for _ in range(2)]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    retrieval, picture = (s.server_address[1] for s in servers)
    try:
        box = baidu.PrivateImageSearch("127.0.0.1", appid="shop", port=retrieval,
                                       picturebook_port=picture, progress=False,
                                       ledger=False)  # fmt: skip
        similar = box.similar_signup(errors="raise")
        book = box.picturebook_signup(errors="raise")
    finally:
        for s in servers:
            s.shutdown()
            s.server_close()
    (p1, path1, body1), (p2, path2, _) = _Box.seen[-2:]
    assert (p1, path1) == (retrieval, "/RTSAsService/signup")
    assert (p2, path2) == (picture, "/RTSAsService/signup")
    # The common envelope only: the spec names no other signup field.
    assert set(body1) == {"appid", "from", "logid", "format"} and body1["appid"] == "shop"
    assert similar.loc[0, "registered"] and book.loc[0, "image"] == "picturebook"
