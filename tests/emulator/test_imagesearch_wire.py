"""Image search over the wire: the spec's replies and error codes, from a real `vislab serve`."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
import requests
from PIL import Image

from vislab import catalogue
from vislab.catalogue.baidu_image_search import ID as SERVICE
from vislab.catalogue.baidu_image_search import PRODUCT_NAMES as PRODUCTS
from vislab.catalogue.baidu_image_search import PRODUCTS as _DECLARED
from vislab.emulator.app import EmulatorApp

BASE_PATHS = {p.name: p.base_path for p in _DECLARED}
SIMILAR = BASE_PATHS["similar"]


@pytest.fixture(scope="module")
def token(served):
    reply = requests.post(f"{served.url}/oauth/2.0/token", params={
        "grant_type": "client_credentials", "client_id": served.api_key,
        "client_secret": served.secret_key}, timeout=10).json()  # fmt: skip
    return reply["access_token"]


@pytest.fixture(scope="module")
def post(served, token):
    def post(path, **data):
        resp = requests.post(served.url + path, params={"access_token": token}, data=data,
                             timeout=60)  # fmt: skip
        assert resp.status_code == 200
        assert resp.headers["Content-Type"].startswith("application/json")
        return resp.json()

    return post


def b64(array, fmt="JPEG") -> str:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, fmt)
    return base64.b64encode(buf.getvalue()).decode()


@pytest.fixture(scope="module")
def pictures():
    """Real photos, each with a unique pixel so other tests' adds never collide with these."""
    from skimage import data

    out = {}
    for i, name in enumerate(["chelsea", "coffee", "astronaut", "rocket", "camera"]):
        img = np.asarray(getattr(data, name)())
        img = np.repeat(img[..., None], 3, 2) if img.ndim == 2 else img.copy()
        img[0, 0] = (i * 37 % 256, 11, 222)
        out[name] = img
    return out


def test_all_twenty_endpoints_are_routed():
    eps = catalogue.endpoints(SERVICE)
    assert len(eps) == 20
    assert {e.name.rsplit("_", 1)[1] for e in eps} == {"add", "search", "delete", "update"}
    app = EmulatorApp()
    for ep in eps:
        status, _, body = app.handle("POST", ep.path, {}, {}, b"")
        assert json.loads(body)["error_code"] != 3, ep.path  # known route (missing fields)


def test_add_search_update_delete_cycle(post, pictures):
    cat = b64(pictures["chelsea"])
    added = post(f"{SIMILAR}/add", image=cat, brief='{"name": "cat", "id": "666"}', tags="100,11")
    assert set(added) == {"log_id", "cont_sign"} and isinstance(added["log_id"], int)
    a, b = (int(x) for x in added["cont_sign"].split(","))
    assert 0 <= a < 2**32 and 0 <= b < 2**32
    post(f"{SIMILAR}/add", image=b64(pictures["coffee"]), brief="coffee.jpg", tags="100")

    found = post(f"{SIMILAR}/search", image=cat, tags="100,11", tag_logic="0", rn="5")
    assert found["result_num"] == len(found["result"]) >= 1
    assert found["has_more"] in (True, False)
    top = found["result"][0]
    assert set(top) == {"cont_sign", "score", "brief"}
    assert top == {"cont_sign": added["cont_sign"], "score": 1.0,
                   "brief": '{"name": "cat", "id": "666"}'}  # fmt: skip
    either = post(f"{SIMILAR}/search", image=cat, tags="100,11", tag_logic="1", rn="1000")
    assert either["result_num"] >= 2
    assert all(0.0 <= r["score"] <= 1.0 for r in either["result"])

    assert post(f"{SIMILAR}/add", image=cat, brief="again")["error_code"] == 216681
    assert set(post(f"{SIMILAR}/update", cont_sign=added["cont_sign"], brief="renamed",
                    tags="7")) == {"log_id"}  # fmt: skip
    hit = post(f"{SIMILAR}/search", image=cat, tags="7")["result"][0]
    assert hit["brief"] == "renamed"
    # image beats cont_sign: this deletes the cat, not the unknown signature.
    assert set(post(f"{SIMILAR}/delete", image=cat, cont_sign="1,2")) == {"log_id"}
    gone = post(f"{SIMILAR}/search", image=cat, tags="7")
    assert gone["result_num"] == 0 and gone["result"] == []
    assert post(f"{SIMILAR}/delete", cont_sign=added["cont_sign"])["error_code"] == 216680
    assert (
        post(f"{SIMILAR}/update", cont_sign=added["cont_sign"], brief="x")["error_code"] == 216680
    )


def test_batch_delete_by_cont_sign(post, pictures):
    base = BASE_PATHS["materiel"]
    signs = [post(f"{base}/add", image=b64(pictures[n]), brief=n)["cont_sign"]
             for n in ("astronaut", "rocket")]  # fmt: skip
    assert set(post(f"{base}/delete", cont_sign=";".join(signs))) == {"log_id"}
    assert post(f"{base}/delete", cont_sign=";".join(signs))["error_code"] == 216680
    too_many = ";".join(f"1,{i}" for i in range(101))
    assert post(f"{base}/delete", cont_sign=too_many)["error_code"] == 216100


def test_product_class_ids(post, pictures):
    base = BASE_PATHS["product"]
    cup = b64(pictures["coffee"])
    sign = post(f"{base}/add", image=cup, brief="cup", class_id1="5", class_id2="9")["cont_sign"]
    assert post(f"{base}/search", image=cup, class_id1="5")["result"][0]["cont_sign"] == sign
    assert post(f"{base}/search", image=cup, class_id1="5", class_id2="9")["result_num"] >= 1
    assert sign not in [r["cont_sign"] for r in
                        post(f"{base}/search", image=cup, class_id1="9")["result"]]  # fmt: skip
    assert set(post(f"{base}/update", cont_sign=sign, class_id2="10")) == {"log_id"}
    assert post(f"{base}/search", image=cup, class_id1="5", class_id2="10")["result"][0][
        "cont_sign"] == sign  # fmt: skip
    assert set(post(f"{base}/delete", cont_sign=sign)) == {"log_id"}


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"brief": "x"}, 216101),  # neither image nor url
        ({"image": "", "brief": "x"}, 216200),
        ({"image": "@@not base64@@", "brief": "x"}, 216203),
        ({"image": base64.b64encode(b"not an image").decode(), "brief": "x"}, 216201),
        ({"image": "SMALL", "brief": "x"}, 216203),  # 40 x 40 px < 50 px: "cannot handle"
        ({"image": "OK"}, 216101),  # brief missing
        ({"image": "OK", "brief": "x" * 257}, 216100),
        ({"image": "OK", "brief": "x", "tags": "1,2,3"}, 216100),
        ({"image": "OK", "brief": "x", "tags": "0"}, 216100),
        ({"image": "OK", "brief": "x", "tags": "65536"}, 216100),
        ({"image": "BLANK", "brief": "x"}, 216203),
    ],
)
def test_add_errors(post, fields, code):
    from skimage import data

    images = {"SMALL": b64(np.asarray(data.chelsea())[:40, :40]),
              "OK": b64(np.asarray(data.horse(), dtype=np.uint8) * 255),
              "BLANK": b64(np.full((80, 80, 3), 200, np.uint8))}  # fmt: skip
    fields = {k: images.get(v, v) if k == "image" else v for k, v in fields.items()}
    reply = post(f"{SIMILAR}/add", **fields)
    assert reply["error_code"] == code, reply
    assert isinstance(reply["error_msg"], str) and isinstance(reply["log_id"], int)


@pytest.mark.parametrize(
    ("product", "fields", "code"),
    [
        ("similar", {"rn": "0"}, 216100),
        ("similar", {"rn": "1001"}, 216100),
        ("similar", {"pn": "1000"}, 216100),
        ("similar", {"tag_logic": "2"}, 216100),
        ("picturebook", {"rn": "101"}, 216100),
        ("picturebook", {"pn": "100"}, 216100),
        ("materiel", {"rn": "301"}, 216100),
    ],
)
def test_search_parameter_errors(post, pictures, product, fields, code):
    base = BASE_PATHS[product]
    post(f"{base}/add", image=b64(pictures["camera"]), brief="camera")  # make sure it exists
    assert post(f"{base}/search", image=b64(pictures["camera"]), **fields)["error_code"] == code


def test_image_limits_per_product(post, pictures):
    # product: shortest side >= 300 px; picture-book: aspect ratio <= 10:1.
    small = b64(pictures["chelsea"][:200, :200])
    assert post(f"{BASE_PATHS['product']}/add", image=small, brief="x")["error_code"] == 216203
    strip = b64(np.tile(pictures["camera"][:160, :], (1, 4, 1)))  # 160 x 2048 px: 12.8:1
    assert post(f"{BASE_PATHS['picturebook']}/add", image=strip, brief="x")["error_code"] == 216203
    assert post(f"{BASE_PATHS['materiel']}/add", image=strip, brief="strip")["cont_sign"]


def test_update_and_delete_need_a_target(post, pictures):
    post(f"{SIMILAR}/add", image=b64(pictures["rocket"]), brief="rocket")
    assert post(f"{SIMILAR}/update", brief="x")["error_code"] == 216101
    assert post(f"{SIMILAR}/update", cont_sign="1,2;3,4", brief="x")["error_code"] == 216100
    assert post(f"{SIMILAR}/delete")["error_code"] == 216101
    assert post(f"{SIMILAR}/delete", cont_sign="nonsense")["error_code"] == 216100


def test_search_before_any_add_is_not_initialized(tmp_path):
    from skimage import data

    app = EmulatorApp(home=tmp_path)
    body = f"image={requests.utils.quote(b64(data.coffee()))}".encode()
    for product in PRODUCTS:
        _, _, out = app.handle("POST", f"{BASE_PATHS[product]}/search", {}, {}, body)
        assert json.loads(out)["error_code"] == 216017
    # An add creates the gallery; an emptied gallery then answers an empty result.
    add = f"image={requests.utils.quote(b64(data.coffee()))}&brief=c".encode()
    sign = json.loads(app.handle("POST", f"{SIMILAR}/add", {}, {}, add)[2])["cont_sign"]
    app.handle("POST", f"{SIMILAR}/delete", {}, {}, f"cont_sign={sign}".encode())
    reply = json.loads(app.handle("POST", f"{SIMILAR}/search", {}, {}, body)[2])
    assert reply["result_num"] == 0 and reply["has_more"] is False
