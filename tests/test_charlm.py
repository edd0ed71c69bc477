"""Tests for lstm_lib.charlm: the character model, bpc, training, the NumPy twin, sampling."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lstm_lib.charlm import (
    CharLM,
    DecayingAdam,
    bits_per_char,
    count_parameters,
    float64_copy,
    hidden_for_budget,
    numpy_lstm_bpc,
    sample,
    sample_stats,
    stream_bpc,
    train_charlm,
)
from lstm_lib.data.text import CharVocab, eval_layout

TEXT = "def add(a, b):\n    return a + b\n\n" * 40


@pytest.fixture(scope="module")
def vocab():
    return CharVocab.from_text(TEXT)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("layers", [1, 2])
def test_parameter_count_formula(cell, layers):
    m = CharLM(11, 7, cell, num_layers=layers)
    assert sum(p.numel() for p in m.parameters()) == count_parameters(cell, 11, 7, layers)


def test_hidden_for_budget_matches_the_lstm():
    n = count_parameters("lstm", 97, 128)
    for cell in ("gru", "rnn"):
        H = hidden_for_budget(cell, 97, n)
        got = count_parameters(cell, 97, H)
        assert abs(got - n) <= abs(count_parameters(cell, 97, H + 1) - n)
        assert abs(got - n) <= abs(count_parameters(cell, 97, H - 1) - n)
        assert abs(got - n) / n < 0.02


def test_forward_shapes_seed_and_checks(vocab):
    m, m2 = CharLM(vocab.size, 8, seed=3), CharLM(vocab.size, 8, seed=3)
    assert all(torch.equal(a, b) for a, b in zip(m.state_dict().values(),
                                                 m2.state_dict().values()))
    before = torch.rand(1)
    torch.manual_seed(0)
    CharLM(vocab.size, 8, seed=5)
    after_model = torch.rand(1)
    torch.manual_seed(0)
    assert torch.equal(after_model, torch.rand(1))   # the global generator is untouched
    del before
    ids = torch.from_numpy(vocab.encode(TEXT[:30])).view(3, 10)
    logits, (h, c) = m(ids)
    assert logits.shape == (3, 10, vocab.size) and h.shape == c.shape == (1, 3, 8)
    with pytest.raises(TypeError):
        m(torch.zeros(3, 10))
    with pytest.raises(ValueError):
        m(torch.zeros(30, dtype=torch.int64))
    with pytest.raises(ValueError):
        CharLM(vocab.size, 8, dropout=0.5)        # between layers needs 2 layers
    with pytest.raises(ValueError):
        CharLM(vocab.size, 8, cell="lstmx")
    with pytest.raises(ValueError):
        CharLM(vocab.size, 8, output_dropout=1.0)


def test_bits_per_char_is_cross_entropy_in_bits():
    logits = torch.zeros(2, 3, 8)                  # uniform over 8 symbols: 3 bits
    assert float(bits_per_char(logits, torch.zeros(2, 3, dtype=torch.int64))) == \
        pytest.approx(3.0)
    with pytest.raises(ValueError):
        bits_per_char(logits, torch.zeros(2, 4, dtype=torch.int64))


def test_stream_bpc_equals_the_mean_over_scored_positions(vocab):
    m = CharLM(vocab.size, 6, seed=1).double()
    ids = vocab.encode(TEXT[:400])
    lay = eval_layout(len(ids), 3, 10)
    got = stream_bpc(m, ids, lay, chunk_len=17)     # chunks: the state is carried
    with torch.no_grad():
        logits, _ = m(torch.from_numpy(ids[lay.inputs]))
        logp = torch.log_softmax(logits, -1).numpy()
    picked = np.take_along_axis(logp, ids[lay.inputs + 1][..., None], -1)[..., 0]
    assert got == pytest.approx(-picked[lay.mask].mean() / math.log(2), rel=1e-12)


def test_numpy_lstm_reproduces_the_torch_bpc(vocab):
    m = CharLM(vocab.size, 9, seed=2)
    ids = vocab.encode(TEXT[:500])
    lay = eval_layout(len(ids), 4, 20)
    ref = stream_bpc(float64_copy(m), ids, lay)
    assert abs(numpy_lstm_bpc(m, ids, lay) - ref) < 1e-12
    for chunk_len in (1, 7, 10_000):                      # the state carries across chunks
        assert abs(numpy_lstm_bpc(m, ids, lay, chunk_len=chunk_len) - ref) < 1e-12
    with pytest.raises(ValueError):
        numpy_lstm_bpc(CharLM(vocab.size, 4, "gru"), ids, lay)


def test_unit_forget_bias(vocab):
    m = CharLM(vocab.size, 5, num_layers=2, unit_forget_bias=True)
    for k in (0, 1):
        b_ih, b_hh = getattr(m.rnn, f"bias_ih_l{k}"), getattr(m.rnn, f"bias_hh_l{k}")
        assert torch.equal(b_ih[5:10] + b_hh[5:10], torch.ones(5))
    plain = CharLM(vocab.size, 5, num_layers=2)
    assert torch.equal(plain.rnn.bias_ih_l0[:5], m.rnn.bias_ih_l0[:5])  # other gates as drawn
    with pytest.raises(ValueError):
        CharLM(vocab.size, 5, "gru", unit_forget_bias=True)


def test_decaying_adam_schedule():
    p = [torch.nn.Parameter(torch.zeros(1))]
    opt = DecayingAdam(p, 1.0, steps=10, decay=0.5, final=0.1)
    rates = [opt.rate(t) for t in range(10)]
    assert rates[:5] == [1.0] * 5 and rates[-1] == pytest.approx(0.1)
    assert all(a >= b for a, b in zip(rates, rates[1:]))
    for _ in range(3):
        p[0].grad = torch.ones(1)
        opt.step()
    assert opt.param_groups[0]["lr"] == rates[2]
    assert DecayingAdam(p, 0.5, steps=4, decay=0).rate(3) == 0.5


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_training_lowers_the_bpc(vocab, cell):
    ids = vocab.encode(TEXT)
    m = CharLM(vocab.size, 24, cell, seed=0)
    lay = eval_layout(len(ids), 4, 8)
    before = stream_bpc(m, ids, lay)
    hist = train_charlm(m, ids, steps=60, batch_size=4, chunk_len=16, lr=2e-2,
                        eval_fn=lambda mm: {"bpc": stream_bpc(mm, ids, lay)}, eval_every=30)
    after = stream_bpc(m, ids, lay)
    assert len(hist.loss) == 60 and hist.metrics["bpc"][-1] == pytest.approx(after)
    assert before > math.log2(vocab.size) - 0.5 and after < before - 1.5


def test_sampling_is_seeded_and_follows_the_temperature(vocab):
    ids = vocab.encode(TEXT)
    m = CharLM(vocab.size, 24, seed=0)
    train_charlm(m, ids, steps=80, batch_size=4, chunk_len=16, lr=2e-2)
    m64 = float64_copy(m)
    a = sample(m64, vocab, "def ", 200, 0.5, seed=1)
    assert len(a) == 200 and a == sample(m64, vocab, "def ", 200, 0.5, seed=1)
    hot1 = sample(m64, vocab, "def ", 200, 2.0, seed=1)
    assert hot1 != sample(m64, vocab, "def ", 200, 2.0, seed=2)   # another seed, other draws
    words = set(TEXT.replace("(", " ").replace(")", " ").replace(",", " ").split())
    cold = sample_stats(sample(m64, vocab, "def ", 400, 0.3, seed=1), words)
    hot = sample_stats(sample(m64, vocab, "def ", 400, 3.0, seed=1), words)
    assert cold.word_fraction > hot.word_fraction + 0.2
    assert cold.distinct_fraction < hot.distinct_fraction - 0.2
    with pytest.raises(ValueError):
        sample(m64, vocab, "", 10, 1.0, seed=0)
    with pytest.raises(ValueError):
        sample(m64, vocab, "d", 10, 0.0, seed=0)


def test_sample_stats_by_hand():
    s = sample_stats("x = foo(1)\nx = foo(1)\n$ bar\n", {"x", "foo"})
    assert s.n_words == 5 and s.word_fraction == pytest.approx(4 / 5)
    assert s.distinct_fraction == pytest.approx(3 / 5)
    # tokens: x = foo ( 1 ) twice (12), then $ (error) and bar: 14 tokens, 1 error
    assert s.error_token_fraction == pytest.approx(1 / 14)
    empty = sample_stats("", set())
    assert math.isnan(empty.word_fraction) and empty.n_words == 0
    with pytest.raises(TypeError):
        sample_stats(b"x", set())
