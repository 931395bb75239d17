"""VISLAB_HOME and its files: every problem is a typed error that names the path."""

from __future__ import annotations

import pytest

from vislab import baidu
from vislab.engine.paths import gallery_path, vislab_home
from vislab.errors import InvalidParameter, StorageError


def test_gallery_names_must_match_whole(tmp_path):
    assert gallery_path("similar", "posters", home=tmp_path).name == "posters.sqlite"
    for bad in ("posters\n", "../etc", ".hidden", "a/b", "x" * 200, ""):
        with pytest.raises(InvalidParameter, match="gallery name"):
            gallery_path("similar", bad, home=tmp_path)


def test_home_that_is_a_file(tmp_path, monkeypatch):
    file = tmp_path / "home.txt"
    file.write_text("not a folder")
    monkeypatch.setenv("VISLAB_HOME", str(file))
    with pytest.raises(StorageError, match="is a file, not a folder") as info:
        vislab_home()
    assert info.value.path == str(file)
    with pytest.raises(StorageError):
        baidu.ImageSearch(progress=False)  # its ledger lives in the home folder


def test_home_path_too_long(tmp_path, monkeypatch):
    monkeypatch.setenv("VISLAB_HOME", str(tmp_path / ("d" * 300)))
    with pytest.raises(StorageError, match="too long"):
        baidu.ImageSearch(progress=False)


def test_corrupt_gallery_file_is_named(tmp_path, monkeypatch, photos):
    monkeypatch.setenv("VISLAB_HOME", str(tmp_path))
    bad = gallery_path("similar", home=tmp_path)
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"garbage, not sqlite" * 200)
    client = baidu.ImageSearch(progress=False, ledger=False)
    with pytest.warns(UserWarning):
        df = client.similar_add({"cat": photos["chelsea"]})
    assert df["error_code"].tolist() == [282000]
    assert str(bad) in df["error_msg"][0] and "not a SQLite database" in df["error_msg"][0]
    ledger = tmp_path / "ledger.sqlite"
    ledger.write_bytes(b"junk" * 500)
    with pytest.raises(StorageError, match="ledger file .* not a SQLite database"):
        baidu.ImageSearch(progress=False, ledger=ledger)
