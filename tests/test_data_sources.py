"""lstm_lib.data.sources: ``data_file_matching`` uses a cached data file only when its SHA-256
is the one asked for, otherwise makes the source again, which must match; ``sha256_of``."""

from __future__ import annotations

import hashlib

import pytest

from lstm_lib.data import sources


@pytest.fixture()
def counted(monkeypatch):
    made = []

    def make() -> bytes:
        made.append(1)
        return b"the data"

    monkeypatch.setitem(sources.SOURCES, "counted", sources.Source(make, ".txt", "test"))
    return made


def test_a_matching_cached_file_is_used_and_a_stale_one_is_made_again(counted, tmp_path):
    digest = hashlib.sha256(b"the data").hexdigest()
    path = sources.data_file_matching("counted", digest, tmp_path)   # nothing cached: made
    assert path.read_bytes() == b"the data" and len(counted) == 1
    assert sources.data_file_matching("counted", digest, tmp_path) == path
    assert len(counted) == 1                                         # cached and matching
    path.write_bytes(b"stale")
    assert sources.data_file_matching("counted", digest, tmp_path).read_bytes() == b"the data"
    assert len(counted) == 2                                         # stale: made again


def test_a_source_that_does_not_match_raises(counted, tmp_path):
    with pytest.raises(ValueError, match="sha256"):
        sources.data_file_matching("counted", "0" * 64, tmp_path)
    with pytest.raises(ValueError, match="64 hexadecimal"):
        sources.data_file_matching("counted", "abc", tmp_path)
    with pytest.raises(ValueError, match="unknown data source"):
        sources.data_file_matching("no-such-source", "0" * 64, tmp_path)


def test_sha256_of_is_the_digest_of_the_files_bytes(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"the data")
    assert sources.sha256_of(path) == hashlib.sha256(b"the data").hexdigest()
    assert sources.sha256_of(str(path)) == sources.sha256_of(path)       # a str path too
    path.write_bytes(b"the date")
    assert sources.sha256_of(path) != hashlib.sha256(b"the data").hexdigest()
