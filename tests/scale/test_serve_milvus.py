"""`vislab serve --gallery-backend milvus`: the emulated image search on a Milvus Lite file."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ServeProcess
from vislab import baidu

pytest.importorskip("milvus_lite", reason="the milvus extra is part of the test extras")
pytestmark = pytest.mark.slow


def test_image_search_served_on_milvus_lite(tmp_path, photo_files):
    uri = tmp_path / "galleries.db"
    env = {**os.environ, "VISLAB_HOME": str(tmp_path / "home")}
    server = ServeProcess("--gallery-backend", "milvus", "--milvus-uri", str(uri), env=env)
    try:
        client = baidu.ImageSearch(base_url=server.url, progress=False, ledger=False)
        added = client.similar_add({n: str(p) for n, p in photo_files.items()}, tags=[3])
        assert added["error_code"].isna().all(), added
        hits = client.similar_search({"q": str(photo_files["coffee"])}, rn=2)
        assert hits.loc[0, "brief"] == {"image": "coffee"} and hits.loc[0, "score"] > 0.99
        with pytest.warns(Warning, match="216681"):
            again = client.similar_add({"coffee": str(photo_files["coffee"])})
        assert again["error_code"].tolist() == [216681]
    finally:
        server.stop()
    assert uri.exists()  # the vectors are in the Milvus Lite file, not in memory
    from pymilvus import MilvusClient

    milvus = MilvusClient(str(uri))
    assert "vislab_similar__default" in milvus.list_collections()
    milvus.close()


def test_serve_refuses_an_unreachable_milvus_server(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "vislab", "serve", "--port", "0", "--gallery-backend", "milvus",
         "--milvus-uri", "http://127.0.0.1:9"],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "VISLAB_HOME": str(tmp_path)},
    )  # fmt: skip
    assert out.returncode == 2
    assert "cannot reach Milvus at http://127.0.0.1:9" in out.stderr
