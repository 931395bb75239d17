"""Safe zip import: hostile archives are refused before anything is written."""

from __future__ import annotations

import io
import stat
import struct
import time
import zipfile
import zlib

import pytest

from vislab.easydl import ArchiveError, Dataset
from vislab.easydl.archive import ArchiveLimits, extract_zip, inspect_zip
from vislab.easydl.archive_writer import ArchiveMember, write_archives


def _files(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def _zip(path, entries):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return path


def _raw_zip(entries) -> bytes:
    """A zip written byte by byte, for what zipfile refuses to write.

    ``entries``: (raw name bytes, stored data, general-purpose flags, declared uncompressed
    size or None).  A declared size above 4 GiB goes into a ZIP64 extra field.
    """
    out, central = io.BytesIO(), io.BytesIO()
    for name, data, flags, declared in entries:
        crc = zlib.crc32(data)
        size = len(data) if declared is None else declared
        extra = b""
        field = size
        if size >= 0xFFFFFFFF:
            extra = struct.pack("<HHQ", 1, 8, size)
            field = 0xFFFFFFFF
        offset = out.tell()
        out.write(
            struct.pack(
                "<IHHHHHIIIHH",
                0x04034B50,
                45,
                flags,
                0,
                0,
                0x21,
                crc,
                len(data),
                field,
                len(name),
                len(extra),
            )
        )
        out.write(name + extra + data)
        central.write(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                (3 << 8) | 45,
                45,
                flags,
                0,
                0,
                0x21,
                crc,
                len(data),
                field,
                len(name),
                len(extra),
                0,
                0,
                0,
                (stat.S_IFREG | 0o644) << 16,
                offset,
            )
        )
        central.write(name + extra)
    cd = central.getvalue()
    start = out.tell()
    out.write(cd)
    out.write(
        struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(cd), start, 0)
    )
    return out.getvalue()


@pytest.mark.parametrize(
    "name",
    [
        "../evil.txt",
        "cat/../../evil.txt",
        "..\\evil.txt",
        "/tmp/evil.txt",
        "C:\\evil.txt",
        "\\\\host\\share\\evil.txt",
    ],
)
def test_zip_slip_and_absolute_paths_are_refused(tmp_path, name):
    z = _zip(tmp_path / "slip.zip", [("cat/1.jpg", b"fine"), (name, b"owned")])
    target = tmp_path / "out"
    with pytest.raises(ArchiveError) as err:
        extract_zip(z, target)
    assert err.value.rule == "path" and err.value.entry == name
    assert "nothing was extracted" in str(err.value)
    assert not target.exists() or _files(target) == []
    assert not (tmp_path / "evil.txt").exists()


def test_symlink_and_device_entries_are_refused(tmp_path):
    z = tmp_path / "link.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("cat/1.jpg", b"fine")
        link = zipfile.ZipInfo("cat/passwd")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    with pytest.raises(ArchiveError) as err:
        Dataset.from_zip(z, extract_to=tmp_path / "out")
    assert err.value.rule == "link"
    assert not (tmp_path / "out").exists() or _files(tmp_path / "out") == []
    fifo = tmp_path / "fifo.zip"
    with zipfile.ZipFile(fifo, "w") as zf:
        info = zipfile.ZipInfo("pipe")
        info.external_attr = (stat.S_IFIFO | 0o644) << 16
        zf.writestr(info, b"")
    with pytest.raises(ArchiveError) as err:
        inspect_zip(fifo)
    assert err.value.rule == "special"


def test_a_10_gb_declared_bomb_is_refused_before_extraction(tmp_path):
    # A tiny stored stream whose headers declare 10 GB.
    bomb = tmp_path / "bomb.zip"
    bomb.write_bytes(_raw_zip([(b"cat/huge.jpg", b"x" * 100, 0, 10 * 10**9)]))
    assert bomb.stat().st_size < 1000
    assert zipfile.ZipFile(bomb).infolist()[0].file_size == 10 * 10**9
    t0 = time.perf_counter()
    with pytest.raises(ArchiveError) as err:
        extract_zip(bomb, tmp_path / "out")
    assert err.value.rule == "entry_size" and err.value.value == 10 * 10**9
    assert time.perf_counter() - t0 < 1
    assert not (tmp_path / "out").exists()
    # Many tiny streams declaring 400 MB each: every one expands beyond the ratio cap.
    many = tmp_path / "many.zip"
    many.write_bytes(_raw_zip([(f"cat/{i}.jpg".encode(), b"x", 0, 400 * 2**20) for i in range(25)]))
    with pytest.raises(ArchiveError) as err:
        inspect_zip(many)
    assert err.value.rule == "ratio"


def test_the_total_size_cap_holds_for_honest_entries(tmp_path):
    assert ArchiveLimits().max_total_bytes == 6 * 2**30
    z = tmp_path / "big.zip"
    z.write_bytes(
        _raw_zip([(f"cat/{i}.jpg".encode(), bytes([i]) * 1000, 0, None) for i in range(5)])
    )
    with pytest.raises(ArchiveError) as err:
        extract_zip(z, tmp_path / "out", limits=ArchiveLimits(max_total_bytes=3000))
    assert err.value.rule == "total_size" and err.value.limit == 3000
    assert not (tmp_path / "out").exists()
    assert len(extract_zip(z, tmp_path / "ok", limits=ArchiveLimits(max_total_bytes=5000))) == 5


def test_a_highly_compressible_file_is_refused_by_its_ratio(tmp_path):
    z = _zip(tmp_path / "zeros.zip", [("cat/zeros.jpg", bytes(20 * 2**20))])
    info = zipfile.ZipFile(z).infolist()[0]
    assert info.file_size / info.compress_size > 100
    with pytest.raises(ArchiveError) as err:
        extract_zip(z, tmp_path / "out")
    assert err.value.rule == "ratio" and err.value.value > 100
    assert not (tmp_path / "out").exists()
    # Small repetitive files are not bombs.
    small = _zip(tmp_path / "small.zip", [("notes.txt", b"a" * 50_000)])
    assert [e.name for e in inspect_zip(small)] == ["notes.txt"]


def test_too_many_entries_are_refused(tmp_path):
    assert ArchiveLimits().max_entries == 250_000
    z = _zip(tmp_path / "many.zip", [(f"cat/{i}.jpg", b"x") for i in range(60)])
    with pytest.raises(ArchiveError) as err:
        Dataset.from_zip(z, limits=ArchiveLimits(max_entries=50))
    assert err.value.rule == "entries" and (err.value.limit, err.value.value) == (50, 60)
    assert len(inspect_zip(z, limits=ArchiveLimits(max_entries=60))) == 60


def test_duplicates_encryption_and_bad_files(tmp_path):
    dup = tmp_path / "dup.zip"
    dup.write_bytes(_raw_zip([(b"cat/1.jpg", b"a", 0, None), (b"cat/1.jpg", b"b", 0, None)]))
    with pytest.raises(ArchiveError) as err:
        inspect_zip(dup)
    assert err.value.rule == "duplicate"
    clash = _zip(tmp_path / "clash.zip", [("cat", b"a file"), ("cat/1.jpg", b"b")])
    with pytest.raises(ArchiveError) as err:
        inspect_zip(clash)
    assert err.value.rule == "duplicate"
    enc = tmp_path / "enc.zip"
    enc.write_bytes(_raw_zip([(b"cat/1.jpg", b"secret", 0x1, None)]))
    with pytest.raises(ArchiveError) as err:
        inspect_zip(enc)
    assert err.value.rule == "encrypted"
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK not really a zip")
    with pytest.raises(ArchiveError) as err:
        inspect_zip(junk)
    assert err.value.rule == "not_a_zip"
    with pytest.raises(FileNotFoundError):
        inspect_zip(tmp_path / "absent.zip")


def test_data_that_does_not_match_its_header_is_corrupt(tmp_path):
    good = _raw_zip([(b"cat/1.jpg", b"hello world", 0, None)])
    bad = tmp_path / "bad.zip"
    bad.write_bytes(good.replace(b"hello world", b"hellO world"))  # the CRC no longer fits
    with pytest.raises(ArchiveError) as err:
        extract_zip(bad, tmp_path / "out")
    assert err.value.rule == "corrupt"


def test_extraction_writes_regular_files_under_an_empty_target(tmp_path):
    z = _zip(
        tmp_path / "ok.zip",
        [
            ("fruit/apple/1.jpg", b"a"),
            ("fruit/pear/", b""),
            ("fruit/pear/2.jpg", b"b"),
            ("__MACOSX/fruit/._1.jpg", b"junk"),
            ("fruit/.DS_Store", b"junk"),
            ("fruit/./apple//3.jpg", b"c"),
        ],
    )
    written = extract_zip(z, tmp_path / "out")
    assert _files(tmp_path / "out") == [
        "fruit/apple/1.jpg",
        "fruit/apple/3.jpg",
        "fruit/pear/2.jpg",
    ]
    assert all(p.is_file() and not p.is_symlink() for p in written)
    with pytest.raises(ArchiveError) as err:  # a second extraction into the same folder
        extract_zip(z, tmp_path / "out")
    assert err.value.rule == "target"


def test_names_without_the_utf8_flag_are_read_as_gbk(tmp_path):
    # Chinese Windows archivers store names in GBK without the UTF-8 flag.
    z = tmp_path / "gbk.zip"
    z.write_bytes(_raw_zip([("苹果/1.jpg".encode("gbk"), b"x", 0, None)]))
    assert [e.name for e in inspect_zip(z)] == ["苹果/1.jpg"]
    ds = Dataset.from_zip(z)
    assert ds.classes == ["苹果"]
    assert "class_name" in set(ds.check()["rule"])


def test_write_archives_splits_within_the_budget(tmp_path):
    members = [
        ArchiveMember(f"c{i % 3}/{i}.jpg", 1000, lambda i=i: bytes([i]) * 1000) for i in range(10)
    ]
    paths = write_archives(members, tmp_path / "set.zip", max_bytes=3500)
    assert [p.name for p in paths] == [f"set_part{i}.zip" for i in range(1, 5)]
    assert all(p.stat().st_size <= 3500 for p in paths)
    names = [n for p in paths for n in zipfile.ZipFile(p).namelist()]
    assert sorted(names) == sorted(m.name for m in members)
    again = write_archives(members, tmp_path / "again.zip", max_bytes=3500)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in paths]  # deterministic
    with pytest.raises(ArchiveError) as err:
        write_archives(members, tmp_path / "tiny.zip", max_bytes=900)
    assert err.value.rule == "budget"
    assert not list(tmp_path.glob("tiny*"))
