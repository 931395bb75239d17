"""Dask column inputs on Dask's local threads: the lazy frame is the in-process frame.

These run without a ``distributed`` cluster (its own tests are in ``test_dask_cluster.py``):
the schema, one partition per input partition, error rows, and bad input.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from vislab import baidu, batch, catalogue
from vislab.errors import InvalidImage, InvalidParameter, TransportError
from vislab.scale.schema import conform, frame_meta

dd = pytest.importorskip("dask.dataframe", reason="the dask extra is part of the test extras")


@pytest.fixture(scope="module")
def image_paths(tmp_path_factory, photos):
    folder = tmp_path_factory.mktemp("dask-photos")
    paths = []
    for name, array in photos.items():
        for size in (96, 160):
            path = folder / f"{name}-{size}.jpg"
            Image.fromarray(array).resize((size, size)).save(path, quality=90)
            paths.append(str(path))
    return sorted(paths)


def _in_process(method, paths, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return method(paths, **options)


def test_from_paths_glob_and_list(image_paths, tmp_path):
    folder = str(image_paths[0]).rsplit("/", 1)[0]
    lazy = batch.from_paths(f"{folder}/*.jpg", npartitions=3)
    assert lazy.npartitions == 3
    assert lazy["image"].compute().tolist() == image_paths
    assert batch.from_paths(image_paths, partition_size=3).npartitions == 3
    with pytest.raises(InvalidImage, match="matches no file"):
        batch.from_paths(str(tmp_path / "*.png"))
    with pytest.raises(InvalidParameter, match="npartitions"):
        batch.from_paths(image_paths, npartitions=0)
    with pytest.raises(InvalidParameter, match="empty"):
        batch.from_paths([])


def test_labels_equal_in_process_frame(image_paths):
    client = baidu.ImageClassify(progress=False)
    lazy = client.advanced_general(batch.from_paths(image_paths, npartitions=3)["image"],
                                   baike_num=1)  # fmt: skip
    assert isinstance(lazy, dd.DataFrame)
    assert lazy.npartitions == 3
    meta = frame_meta(catalogue.get("baidu.image_classify", "advanced_general"))
    assert lazy.dtypes.equals(meta.dtypes)
    got = lazy.compute()
    assert got.dtypes.equals(meta.dtypes)
    want = _in_process(client.advanced_general, image_paths, baike_num=1)
    # The in-process frame shows the columns that occur; the Dask frame declares them all.
    assert set(want.columns) <= set(got.columns)
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True)[list(want.columns)], want, check_dtype=False
    )
    for col in want.columns:
        assert got[col].dtype == want[col].dtype, col


def test_partition_of_failures_keeps_its_error_rows(image_paths, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    inputs = [str(tmp_path / "missing-1.jpg"), str(broken), *image_paths[:2]]
    lazy = baidu.ImageClassify(progress=False).dish_detect(
        batch.from_paths(inputs, npartitions=2)["image"]
    )
    parts = [lazy.get_partition(i).compute() for i in range(2)]
    failed, good = parts
    assert failed["image"].tolist() == inputs[:2]
    assert failed["error_code"].dtype == "Int64"
    assert failed["error_code"].notna().all()
    assert failed["error_rule"].tolist() == ["missing", "decode"]
    assert failed["error_msg"].str.len().gt(0).all()
    assert good["error_code"].isna().all() and set(good["image"]) == set(inputs[2:])
    assert parts[0].dtypes.equals(parts[1].dtypes)


def test_search_hits_and_gallery_adds(image_paths, tmp_path, monkeypatch):
    monkeypatch.setenv("VISLAB_HOME", str(tmp_path))
    client = baidu.ImageSearch(progress=False, ledger=tmp_path / "ledger.sqlite")
    added = client.similar_add(batch.from_paths(image_paths, npartitions=2), tags=[5]).compute()
    assert added["error_code"].isna().all(), added
    assert added["cont_sign"].nunique() == len(image_paths)
    hits = client.similar_search(batch.from_paths(image_paths[:3], npartitions=3)["image"],
                                 rn=2).compute()  # fmt: skip
    want = _in_process(client.similar_search, image_paths[:3], rn=2)
    pd.testing.assert_frame_equal(hits.reset_index(drop=True)[list(want.columns)], want,
                                  check_dtype=False)  # fmt: skip
    # Each query finds itself first.
    top = hits[hits["rank"] == 1].set_index("query")["cont_sign"]
    signs = added.set_index("image")["cont_sign"]
    assert all(top[q] == signs[q] for q in image_paths[:3])


def test_every_emulated_reply_parses_into_declared_columns(image_paths):
    # conform() refuses a column its endpoint does not declare, so a Dask frame never drops
    # one silently: every image endpoint of the classify client must pass.
    client = baidu.ImageClassify(progress=False)
    for ep in catalogue.service("baidu.image_classify").endpoints:
        if ep.image != "required" or ep.name.endswith("_add"):
            continue
        df = _in_process(getattr(client, ep.name), image_paths[:2])
        out = conform(df, frame_meta(ep))
        assert out["error_code"].isna().all(), (ep.name, out)


def test_bad_dask_input_and_bad_option_fail_at_once(image_paths):
    client = baidu.ImageClassify(progress=False)
    frame = dd.from_pandas(pd.DataFrame({"path": image_paths}), npartitions=2)
    with pytest.raises(InvalidParameter, match="has: path"):
        client.advanced_general(frame)
    with pytest.raises(InvalidParameter):
        client.advanced_general(frame["path"], baike_num=-3)
    assert client.advanced_general(frame["path"]).npartitions == 2


def test_unreachable_scheduler_is_one_typed_error():
    with pytest.raises(TransportError, match=r"tcp://127\.0\.0\.1:9\b") as info:
        batch.connect("tcp://127.0.0.1:9", timeout=1)
    assert info.value.code == "connection"


def test_numpy_column_values_are_not_dask():
    # A pandas input still runs in process and returns pandas.
    rng = np.random.default_rng(0)
    out = _in_process(baidu.ImageClassify(progress=False).logo_search,
                      {"noise": rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)})  # fmt: skip
    assert isinstance(out, pd.DataFrame)
