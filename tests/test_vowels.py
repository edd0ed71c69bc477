"""Japanese Vowels from sktime, offline, and padding a batch of unequal lengths."""

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_lib.data.vowels import (
    N_CHANNELS,
    N_SPEAKERS,
    channel_stats,
    load_vowels,
    pad,
    standardize,
    unpad,
)

os.environ.setdefault("KERAS_BACKEND", "torch")


@pytest.fixture(scope="module")
def train():
    return load_vowels("train")


def test_the_official_split(train):
    test = load_vowels("test")
    assert len(train) == 270 and len(test) == 370
    for split in (train, test):
        assert all(s.dtype == np.float64 and s.shape[1] == N_CHANNELS for s in split.sequences)
        assert split.lengths.min() == 7 and split.labels.dtype == np.int64
        assert set(split.labels) == set(range(N_SPEAKERS))
    assert train.lengths.max() == 26 and test.lengths.max() == 29
    # 30 training utterances per speaker; 24 to 88 test utterances per speaker
    assert (np.bincount(train.labels) == 30).all()
    counts = np.bincount(test.labels)
    assert counts.min() == 24 and counts.max() == 88 and counts.sum() == 370


def test_first_frame_is_the_file_s(train):
    # the first values of the first series of JapaneseVowels_TRAIN.ts, channels 0 and 1
    assert train.sequences[0][:3, 0] == pytest.approx([1.860936, 1.891651, 1.939205])
    assert train.sequences[0][0, 1] == pytest.approx(-0.207383)
    assert train.labels[0] == 0 and len(train.sequences[0]) == 20


def test_load_rejects_other_splits():
    with pytest.raises(ValueError, match="'train' or 'test'"):
        load_vowels("TRAIN")
    with pytest.raises(TypeError, match="'train' or 'test'"):
        load_vowels(1)


def ragged(rng, n, F=3, low=1, high=9):
    return [rng.normal(size=(int(k), F)) for k in rng.integers(low, high + 1, size=n)]


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 6), extra=st.integers(0, 3), seed=st.integers(0, 10_000),
       padding=st.sampled_from(["post", "pre"]), value=st.sampled_from([0.0, -1.5]))
def test_pad_places_every_frame_and_unpad_inverts(n, extra, seed, padding, value):
    seqs = ragged(np.random.default_rng(seed), n)
    longest = max(len(s) for s in seqs)
    p = pad(seqs, padding=padding, value=value, total_length=longest + extra)
    T = longest + extra
    assert p.x.shape == (n, T, 3) and p.mask.shape == (n, T) and p.padding == padding
    assert p.lengths.tolist() == [len(s) for s in seqs]
    assert (p.mask.sum(1) == p.lengths).all()
    for b, s in enumerate(seqs):
        k = len(s)
        real = slice(0, k) if padding == "post" else slice(T - k, T)
        np.testing.assert_array_equal(p.x[b, real], s)
        assert p.mask[b, real].all() and (~p.mask[b]).sum() == T - k
        assert (p.x[b][~p.mask[b]] == value).all()
    assert p.padded_fraction == pytest.approx(1 - p.lengths.sum() / (n * T))
    back = unpad(p.x, p.lengths, padding=padding)
    for a, s in zip(back, seqs, strict=True):
        np.testing.assert_array_equal(a, s)


def test_pad_matches_keras_pad_sequences():
    keras = pytest.importorskip("keras")
    seqs = ragged(np.random.default_rng(1), 5)
    for padding in ("post", "pre"):
        ours = pad(seqs, padding=padding).x
        theirs = keras.utils.pad_sequences(seqs, padding=padding, dtype="float64", value=0.0)
        np.testing.assert_array_equal(ours, theirs)


def test_pad_dtype_and_bad_inputs():
    seqs = ragged(np.random.default_rng(2), 3)
    assert pad(seqs, dtype=np.float32).x.dtype == np.float32
    with pytest.raises(ValueError, match="'post' or 'pre'"):
        pad(seqs, padding="left")
    with pytest.raises(ValueError, match="at least the longest"):
        pad([np.zeros((3, 2)), np.zeros((1, 2))], total_length=2)
    with pytest.raises(TypeError, match="list of"):
        pad(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="must not be empty"):
        pad([])
    with pytest.raises(ValueError, match="same F"):
        pad([np.zeros((2, 3)), np.zeros((2, 4))])
    with pytest.raises(ValueError, match="must not be empty"):
        pad([np.zeros((0, 3))])
    with pytest.raises(ValueError, match="NaN"):
        pad([np.full((2, 3), np.nan)])
    with pytest.raises(TypeError, match="floating"):
        pad([np.zeros((2, 3), dtype=int)])
    with pytest.raises(TypeError, match="float32 or float64"):
        pad(seqs, dtype=np.int32)
    with pytest.raises(TypeError, match="number"):
        pad(seqs, value="0")
    p = pad(seqs)
    with pytest.raises(ValueError, match="lengths"):
        unpad(p.x, p.lengths[:-1])
    with pytest.raises(TypeError, match="lengths"):
        unpad(p.x, p.lengths.astype(float))


def test_channel_stats_count_real_frames_only():
    seqs = [np.array([[1.0, 10.0], [3.0, 30.0]]), np.array([[5.0, 50.0]])]
    mean, std = channel_stats(seqs)
    np.testing.assert_allclose(mean, [3.0, 30.0])
    np.testing.assert_allclose(std, [np.std([1, 3, 5]), np.std([10, 30, 50])])
    padded = pad(seqs).x.reshape(-1, 2)                 # the pad (zeros) would pull the mean
    assert not np.allclose(padded.mean(0), mean)
    z = standardize(seqs, mean, std)
    np.testing.assert_allclose(np.concatenate(z).mean(0), 0, atol=1e-15)
    np.testing.assert_allclose(np.concatenate(z).std(0), 1)
    with pytest.raises(ValueError, match="positive"):
        standardize(seqs, mean, np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match=r"\(F,\)"):
        standardize(seqs, mean[:1], std)
