"""Tests for lstm_lib.params.param_count against the layers whose parameters it counts."""

from __future__ import annotations

import pytest
import torch

from lstm_lib.params import param_count


@pytest.mark.parametrize(("I", "H"), [(1, 1), (3, 2), (10, 32)])
def test_param_count_matches_torch_layers(I: int, H: int) -> None:
    def n(layer: torch.nn.Module) -> int:
        return sum(p.numel() for p in layer.parameters())

    assert param_count(I, H) == n(torch.nn.LSTM(I, H)) == n(torch.nn.LSTMCell(I, H))
    assert param_count(I, H, blocks=3) == n(torch.nn.GRU(I, H))
    assert param_count(I, H, blocks=1) == n(torch.nn.RNN(I, H))
    assert param_count(I, H, biases=0) == n(torch.nn.LSTM(I, H, bias=False))
    assert param_count(I, H, biases=1) == param_count(I, H) - 4 * H  # Keras: one bias


def test_param_count_formula() -> None:
    assert param_count(3, 2, blocks=4, biases=2) == 4 * (6 + 4 + 4) == 56
    assert param_count(128, 256, biases=1) == 394_240  # keras.layers.LSTM(256), 128 inputs


def test_param_count_checks_inputs() -> None:
    with pytest.raises(ValueError, match="input_size"):
        param_count(0, 2)
    with pytest.raises(TypeError, match="hidden_size"):
        param_count(3, 2.0)
    with pytest.raises(ValueError, match="blocks"):
        param_count(3, 2, blocks=0)
    with pytest.raises(ValueError, match="biases"):
        param_count(3, 2, biases=3)
    with pytest.raises(TypeError, match="biases"):
        param_count(3, 2, biases=True)
