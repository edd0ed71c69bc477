"""The (Bi)LSTM sequence classifier: masked pooling, packing, and training."""

import numpy as np
import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstm_lib.data.vowels import pad
from lstm_lib.models.seqclass import (
    SequenceClassifier,
    accuracy,
    last_step,
    masked_mean,
    predict,
    train_classifier,
)


def ragged(seed, n=6, F=3):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(int(k), F)) for k in rng.integers(1, 8, size=n)]


def test_last_step_and_masked_mean_by_hand():
    out = torch.arange(2 * 4 * 1, dtype=torch.float64).reshape(2, 4, 1)   # rows 0..3, 4..7
    n = np.array([2, 4])
    assert last_step(out, n)[:, 0].tolist() == [1.0, 7.0]
    assert masked_mean(out, n)[:, 0].tolist() == [0.5, 5.5]
    assert out.mean(1)[:, 0].tolist() == [1.5, 5.5]      # the plain mean counts the pads
    with pytest.raises(ValueError, match="lengths"):
        last_step(out, np.array([0, 4]))
    with pytest.raises(TypeError, match="lengths"):
        masked_mean(out, np.array([1.0, 2.0]))


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("pooling", ["last", "mean"])
def test_masking_model_sees_each_sequence_as_if_alone(bidirectional, pooling):
    seqs = ragged(0)
    p = pad(seqs, total_length=9)
    m = SequenceClassifier(3, 5, 4, bidirectional=bidirectional, pooling=pooling, seed=1)
    with torch.no_grad():
        batch = m(p.x, p.lengths)
        alone = torch.cat([m(s[None], [len(s)]) for s in seqs])
        # the padded values do not matter: fill the pads with something else
        other = pad(seqs, value=7.0, total_length=9)
        batch7 = m(other.x, other.lengths)
    assert batch.shape == (6, 4)
    assert (batch - alone).abs().max() < 1e-12 and (batch7 - batch).abs().max() < 1e-12


def test_model_without_masking_reads_the_pads():
    seqs = ragged(0)
    p = pad(seqs, total_length=9)
    m = SequenceClassifier(3, 5, 4, bidirectional=False, masking=False, seed=1)
    masked = SequenceClassifier(3, 5, 4, bidirectional=False, masking=True, seed=1)
    with torch.no_grad():
        a, b = m(p.x, p.lengths), masked(p.x, p.lengths)
        out, _ = m.lstm(torch.as_tensor(p.x))
        assert (m.features(p.x, p.lengths) - out[:, -1]).abs().max() == 0  # after the pads
    # same weights (same seed), different answers: the pads changed the state
    assert torch.equal(m.lstm.weight_hh_l0, masked.lstm.weight_hh_l0)
    assert (a - b).abs().max() > 1e-3


def test_features_match_packed_torch():
    seqs = ragged(3)
    p = pad(seqs)
    m = SequenceClassifier(3, 4, 2, bidirectional=True, seed=0)
    x, n = torch.as_tensor(p.x), torch.as_tensor(p.lengths)
    with torch.no_grad():
        out, (h_n, _) = m.lstm(pack_padded_sequence(x, n, batch_first=True,
                                                    enforce_sorted=False))
        out, _ = pad_packed_sequence(out, batch_first=True)
        feats = m.features(p.x, p.lengths)
    H = 4
    assert (feats[:, :H] - last_step(out, n)[:, :H]).abs().max() < 1e-15    # forward end
    assert (feats[:, H:] - out[:, 0, H:]).abs().max() < 1e-15               # backward end


def test_training_learns_a_length_free_task():
    # class = sign of the mean of channel 0; lengths 1..7; a learnable, honest task
    rng = np.random.default_rng(0)
    seqs = [rng.normal(size=(int(k), 2)) + [s, 0] for k, s in
            zip(rng.integers(1, 8, 200), rng.choice([-1.0, 1.0], 200))]
    y = np.array([int(s[:, 0].mean() > 0) for s in seqs])
    p = pad(seqs)
    m = SequenceClassifier(2, 8, 2, bidirectional=False, seed=0)
    before = accuracy(m, p.x, p.lengths, y)
    hist = train_classifier(m, p.x, p.lengths, y, 150, batch_size=32, lr=0.02,
                            order="bucketed", seed=0)
    after = accuracy(m, p.x, p.lengths, y)
    assert len(hist.loss) == 150 and hist.loss[-1] < 0.5 * hist.loss[0]
    assert after > 0.9 and after > before
    assert predict(m, p.x, p.lengths).dtype == np.int64
    # the same seed trains the same model
    m2 = SequenceClassifier(2, 8, 2, bidirectional=False, seed=0)
    train_classifier(m2, p.x, p.lengths, y, 150, batch_size=32, lr=0.02, order="bucketed",
                     seed=0)
    assert torch.equal(m.head.weight, m2.head.weight)


def test_bad_inputs():
    with pytest.raises(ValueError, match="pooling"):
        SequenceClassifier(3, 4, 2, pooling="max")
    with pytest.raises(TypeError, match="masking"):
        SequenceClassifier(3, 4, 2, masking=1)
    with pytest.raises(ValueError, match="seed"):
        SequenceClassifier(3, 4, 2, seed=-1)
    m = SequenceClassifier(3, 4, 2)
    p = pad(ragged(0))
    with pytest.raises(ValueError, match=r"\(B, T, I\)"):
        m(p.x[..., :2], p.lengths)
    with pytest.raises(ValueError, match="lengths"):
        m(p.x, p.lengths + 100)
    with pytest.raises(ValueError, match="y must"):
        train_classifier(m, p.x, p.lengths, np.full(6, 5), 1)
    with pytest.raises(TypeError, match="integer"):
        accuracy(m, p.x, p.lengths, np.zeros(6))
