"""Tests of lstm_lib.models.readout.RecurrentReadout, lstm_lib.training.loop.batch_stream and
lstm_lib.params.layer_state_dict: the plumbing chapters 3, 6, 7 and 8 share."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lstm_lib.torch
from lstm_lib.models.readout import RecurrentReadout
from lstm_lib.params import layer_state_dict
from lstm_lib.torch.variants import chrono_biases
from lstm_lib.training.loop import batch_stream, fit
from lstm_lib.training.tbptt import run_chunks

B, T, I, H = 3, 7, 4, 5


def x_in(seed=0, dtype=torch.float32):
    return torch.from_numpy(np.random.default_rng(seed).standard_normal((B, T, I))).to(dtype)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_steps_readout_is_head_of_every_output(cell, bidirectional):
    model = RecurrentReadout(I, H, 2, cell=cell, bidirectional=bidirectional, seed=1)
    y, state = model(x_in())
    out, ref_state = model.rnn(x_in())
    D = 2 if bidirectional else 1
    assert y.shape == (B, T, 2) and model.head.in_features == D * H
    torch.testing.assert_close(y, model.head(out), rtol=0, atol=0)
    h_n = state[0] if cell == "lstm" else state
    assert h_n.shape == (D, B, H)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_last_readout_uses_the_final_state(cell):
    model = RecurrentReadout(I, H, 1, cell=cell, readout="last", seed=2)
    y, _ = model(x_in())
    out, _ = model.rnn(x_in())
    assert y.shape == (B, 1)
    torch.testing.assert_close(y, model.head(out[:, -1]))


def test_bidirectional_last_readout_is_not_the_last_output_step():
    model = RecurrentReadout(I, H, 1, bidirectional=True, readout="last", seed=3)
    y, (h_n, _) = model(x_in())
    out, _ = model.rnn(x_in())
    torch.testing.assert_close(y, model.head(torch.cat([out[:, -1, :H], out[:, 0, H:]], -1)))
    assert (model.head(out[:, -1]) - y).abs().max() > 1e-3      # the classic bug differs


def test_seed_gives_the_same_weights_and_leaves_the_global_generator_alone():
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    a, b = RecurrentReadout(I, H, 2, seed=7), RecurrentReadout(I, H, 2, seed=7)
    assert torch.equal(torch.rand(1), expected_next)
    c = RecurrentReadout(I, H, 2, seed=8)
    for (name, p), q, r in zip(a.named_parameters(), b.parameters(), c.parameters(),
                               strict=True):
        assert torch.equal(p, q), name
        assert not torch.equal(p, r), name
    torch.manual_seed(7)                                    # seed=7 is manual_seed(7), then build
    ref = torch.nn.LSTM(I, H, batch_first=True)
    assert torch.equal(ref.weight_hh_l0, a.rnn.weight_hh_l0)


def test_chrono_init_sets_gate_biases():
    model = RecurrentReadout(I, H, 1, readout="last", chrono_t_max=50, seed=4)
    b_i, b_f = chrono_biases(H, 50, seed=4)
    bias = model.rnn.bias_ih_l0.detach().double().numpy()
    np.testing.assert_allclose(bias[:H], b_i, rtol=1e-6)
    np.testing.assert_allclose(bias[H:2 * H], b_f, rtol=1e-6)
    assert np.all(model.rnn.bias_hh_l0.detach().numpy()[: 2 * H] == 0)
    default = RecurrentReadout(I, H, 1, readout="last", seed=4)
    assert np.abs(default.rnn.bias_ih_l0.detach().numpy()).max() <= 1 / np.sqrt(H)


def test_forget_bias_is_set_like_keras_unit_forget_bias():
    model = RecurrentReadout(I, H, 1, readout="last", bidirectional=True, forget_bias=1.0, seed=4)
    default = RecurrentReadout(I, H, 1, readout="last", bidirectional=True, seed=4)
    for sfx in ("_l0", "_l0_reverse"):
        b_ih = getattr(model.rnn, "bias_ih" + sfx).detach()
        b_hh = getattr(model.rnn, "bias_hh" + sfx).detach()
        assert torch.equal(b_ih[H:2 * H], torch.ones(H)) and torch.equal(b_hh[H:2 * H],
                                                                          torch.zeros(H))
        ref = getattr(default.rnn, "bias_ih" + sfx).detach()
        assert torch.equal(b_ih[:H], ref[:H]) and torch.equal(b_ih[2 * H:], ref[2 * H:])
    assert torch.equal(model.rnn.weight_hh_l0, default.rnn.weight_hh_l0)


def test_state_is_carried_like_nn_lstm():
    model = RecurrentReadout(I, H, 2, seed=5, dtype=torch.float64)
    x = x_in(dtype=torch.float64)
    whole, _ = model(x)
    parts, _ = run_chunks(model, [x[:, :3], x[:, 3:]])
    torch.testing.assert_close(torch.cat(parts, 1), whole, rtol=0, atol=1e-12)


@pytest.mark.parametrize("kwargs, err", [
    (dict(cell="gru", chrono_t_max=10), ValueError),
    (dict(cell="lstm2"), ValueError),
    (dict(readout="first"), ValueError),
    (dict(bidirectional=1), TypeError),
    (dict(seed=-1), ValueError),
    (dict(dtype=torch.int64), TypeError),
    (dict(cell="rnn", forget_bias=1.0), ValueError),
    (dict(chrono_t_max=10, forget_bias=1.0), ValueError),
    (dict(forget_bias=float("nan")), ValueError),
])
def test_bad_arguments(kwargs, err):
    with pytest.raises(err):
        RecurrentReadout(I, H, 2, **kwargs)


def test_bad_inputs():
    model = RecurrentReadout(I, H, 2)
    with pytest.raises(TypeError, match="torch tensor"):
        model(np.zeros((B, T, I), dtype=np.float32))
    with pytest.raises(ValueError, match=r"\(B, T, I\)"):
        model(torch.zeros(B, T, I + 1))
    with pytest.raises(ValueError):
        model(torch.full((B, T, I), float("nan")))


def test_batch_stream_same_seed_same_batches():
    draw = lambda rng: rng.standard_normal(3)  # noqa: E731
    a, b, c = batch_stream(draw, 5), batch_stream(draw, 5), batch_stream(draw, 6)
    first = [a(s) for s in range(3)]
    assert all(np.array_equal(x, b(s)) for s, x in enumerate(first))
    assert not np.array_equal(first[0], first[1])            # fresh at every step
    assert not np.array_equal(first[0], c(0))
    rng = np.random.default_rng(5)
    assert np.array_equal(batch_stream(draw, rng)(0), first[0])   # a Generator is used as is


def test_batch_stream_trains_with_fit():
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 1)
    w = torch.tensor([[1.5], [-0.5]])

    def draw(rng):
        x = torch.from_numpy(rng.standard_normal((32, 2))).float()
        return x, x @ w

    hist = fit(model, lambda m, b: ((m(b[0]) - b[1]) ** 2).mean(), batch_stream(draw, 0), 200,
               lr=0.05)
    assert hist.loss[-1] < 1e-3 * hist.loss[0]


def test_batch_stream_bad_arguments():
    with pytest.raises(TypeError):
        batch_stream(3, 0)
    with pytest.raises(ValueError):
        batch_stream(lambda rng: 0, -1)
    with pytest.raises(TypeError):
        batch_stream(lambda rng: 0, "seed")


def test_layer_state_dict_runs_one_layer_alone():
    torch.manual_seed(0)
    deep = torch.nn.LSTM(I, H, num_layers=3, batch_first=True).double()
    x = x_in(dtype=torch.float64)
    seq = x
    with torch.no_grad():
        out, (h_n, _) = deep(x)
        for layer in range(3):
            one = lstm_lib.torch.LSTM(seq.shape[-1], H)
            one.load_state_dict(layer_state_dict(deep, layer))
            seq, (h, _) = one(seq)
            torch.testing.assert_close(h[0], h_n[layer], rtol=0, atol=1e-12)
    torch.testing.assert_close(seq, out, rtol=0, atol=1e-12)
    sd = deep.state_dict()
    got = layer_state_dict(sd, 2)
    assert sorted(got) == ["bias_hh_l0", "bias_ih_l0", "weight_hh_l0", "weight_ih_l0"]
    assert got["weight_hh_l0"] is sd["weight_hh_l2"]


def test_layer_state_dict_reverse_direction():
    torch.manual_seed(1)
    bi = torch.nn.LSTM(I, H, batch_first=True, bidirectional=True).double()
    back = torch.nn.LSTM(I, H, batch_first=True).double()
    back.load_state_dict(layer_state_dict(bi, 0, reverse=True))
    x = x_in(dtype=torch.float64)
    with torch.no_grad():
        out, _ = bi(x)
        out_b, _ = back(x.flip(1))
    torch.testing.assert_close(out_b.flip(1), out[..., H:], rtol=0, atol=1e-12)


def test_layer_state_dict_bad_arguments():
    sd = torch.nn.LSTM(I, H).state_dict()
    with pytest.raises(ValueError, match="weight_ih_l1"):
        layer_state_dict(sd, 1)
    with pytest.raises(ValueError, match="_reverse"):
        layer_state_dict(sd, 0, reverse=True)
    with pytest.raises(ValueError):
        layer_state_dict(sd, -1)
    with pytest.raises(TypeError):
        layer_state_dict(sd, 0, reverse="yes")
    with pytest.raises(TypeError):
        layer_state_dict([1, 2], 0)


def test_cells_is_the_recipes_table():
    from lstm_lib.models.readout import CELLS
    from lstm_lib.recipes import char_lm

    assert CELLS is char_lm.CELLS  # one definition
    assert {k: v.__name__ for k, v in CELLS.items()} == {"lstm": "LSTM", "gru": "GRU",
                                                         "rnn": "RNN"}
