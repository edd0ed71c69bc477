"""Tests for lstm_lib.training.losses.mse and predictions (the fit-style squared error)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstm_lib.training.loop import fit
from lstm_lib.training.losses import mse, predictions


class Pair(torch.nn.Module):
    """Returns (prediction, state), as torch.nn.LSTM does."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(3, 1, dtype=torch.float64)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        return self.lin(x), None


def test_mse_matches_the_formula_for_arrays_and_tensors() -> None:
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    x = np.random.default_rng(0).standard_normal((4, 3))       # float64 -> model's float32
    y = np.random.default_rng(1).standard_normal((4, 2))
    expected = ((model(torch.from_numpy(x).float()) - torch.from_numpy(y).float()) ** 2).mean()
    assert torch.allclose(mse(model, (x, y)), expected)
    assert torch.allclose(mse(model, (torch.from_numpy(x).float(), torch.from_numpy(y))),
                          expected)
    assert mse(model, (x, y)).dtype == torch.float32


def test_a_tuple_output_is_read_by_its_first_element() -> None:
    model = Pair()
    x = torch.randn(5, 3, dtype=torch.float64)
    assert predictions(model, x).shape == (5, 1)
    assert mse(model, (x, torch.zeros(5, 1, dtype=torch.float64))).ndim == 0


def test_shape_mismatch_is_an_error_not_a_broadcast() -> None:
    model = torch.nn.Linear(3, 1)
    x = torch.randn(5, 3)
    with pytest.raises(ValueError, match=r"\(5, 1\)"):
        mse(model, (x, torch.zeros(5)))             # (5, 1) - (5,) would broadcast to (5, 5)
    with pytest.raises(TypeError):
        mse(model, (x, torch.zeros(5, 1, dtype=torch.long)))
    with pytest.raises(TypeError):
        mse(model, ([[1.0, 2.0, 3.0]], torch.zeros(1, 1)))
    with pytest.raises(ValueError):
        mse(model, (x,))
    with pytest.raises(TypeError):
        predictions(lambda t: t, x)


def test_mse_trains_with_fit() -> None:
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    rng = np.random.default_rng(0)
    w = np.array([[1.0], [-2.0], [0.5]])

    def get_batch(step: int) -> tuple[np.ndarray, np.ndarray]:
        xb = rng.standard_normal((32, 3))
        return xb, xb @ w

    hist = fit(model, mse, get_batch, 200, lr=0.05)
    assert hist.loss[-1] < 1e-3 < hist.loss[0]
