"""lstm_lib.torch.variants.chrono_keep_bias_: chrono biases for the keeping gate only."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstm_lib.torch.variants import chrono_biases, chrono_init_, chrono_keep_bias_


@pytest.mark.parametrize("cell, gates", [(torch.nn.LSTM, 4), (torch.nn.GRU, 3)])
def test_only_the_keep_rows_change(cell, gates):
    H, T = 6, 40
    torch.manual_seed(0)
    rnn = cell(2, H, num_layers=2, bidirectional=True, batch_first=True)
    before = {k: v.clone() for k, v in rnn.state_dict().items()}
    assert chrono_keep_bias_(rnn, T, seed=3) is rnn
    keep = np.zeros(gates * H, dtype=bool)
    keep[H:2 * H] = True
    for k, (key, value) in enumerate((n, v) for n, v in rnn.state_dict().items()
                                     if n.startswith("bias_ih")):
        _, b_f = chrono_biases(H, T, seed=3 + k)
        np.testing.assert_allclose(value[H:2 * H].numpy(), b_f, rtol=1e-6)
        assert torch.equal(value[~keep], before[key][~keep])
        hh = key.replace("bias_ih", "bias_hh")
        assert torch.all(rnn.state_dict()[hh][H:2 * H] == 0)
        assert torch.equal(rnn.state_dict()[hh][~keep], before[hh][~keep])
    for key in before:
        if key.startswith("weight"):
            assert torch.equal(rnn.state_dict()[key], before[key])


def test_lstm_keeps_its_input_gate_and_shares_chrono_forget_bias():
    H, T = 8, 50
    torch.manual_seed(1)
    full = torch.nn.LSTM(2, H, batch_first=True)
    keep_only = torch.nn.LSTM(2, H, batch_first=True)
    keep_only.load_state_dict(full.state_dict())
    default_i = keep_only.bias_ih_l0[:H].detach().clone()
    chrono_init_(full, T, seed=0)
    chrono_keep_bias_(keep_only, T, seed=0)
    assert torch.equal(full.bias_ih_l0[H:2 * H], keep_only.bias_ih_l0[H:2 * H])  # same b_f
    assert torch.equal(keep_only.bias_ih_l0[:H], default_i)                       # b_i untouched
    assert not torch.equal(full.bias_ih_l0[:H], keep_only.bias_ih_l0[:H])


def test_gru_update_gate_starts_at_u_over_one_plus_u():
    """With zero weights, input and state, z = sigmoid(log u) = u / (1 + u): h_1 = (1 - z) n."""
    H, T = 5, 30
    gru = torch.nn.GRU(1, H, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        for p in gru.parameters():
            p.zero_()
        gru.bias_ih_l0[2 * H:] = 0.5                    # n = tanh(0.5) at the first step
    chrono_keep_bias_(gru, T, seed=2)
    _, b_f = chrono_biases(H, T, seed=2)
    u = np.exp(b_f)
    z = u / (1 + u)
    out, _ = gru(torch.zeros(1, 1, 1, dtype=torch.float64))
    np.testing.assert_allclose(out[0, 0].detach().numpy(), (1 - z) * np.tanh(0.5), rtol=1e-12)


def test_bad_modules():
    with pytest.raises(ValueError, match="no gate"):
        chrono_keep_bias_(torch.nn.RNN(2, 3), 10)
    with pytest.raises(ValueError, match="LSTM or GRU"):
        chrono_keep_bias_(torch.nn.Linear(2, 3), 10)
    with pytest.raises(ValueError, match="t_max"):
        chrono_keep_bias_(torch.nn.GRU(2, 3), 1.5)
