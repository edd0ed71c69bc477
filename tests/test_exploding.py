"""Tests for lstm_lib.analysis.exploding: the recall RNN, its training run and the read-out
diagnosis."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstm_lib.analysis.exploding import (
    ReadoutDiagnosis,
    RecallRNN,
    diagnose_readout,
    growth_per_step,
    train_recall,
)
from lstm_lib.data.recall import recall_batches
from lstm_lib.training import clipping


def test_recall_rnn_weights_and_shapes() -> None:
    model = RecallRNN(hidden_size=8, rho=1.3, seed=0)
    w = model.rnn.weight_hh_l0.detach().numpy()
    np.testing.assert_allclose(np.linalg.svd(w, compute_uv=False), 1.3, atol=1e-12)
    x, _ = recall_batches(5, 7, seed=0)(0)
    assert model(x).shape == (5,) and model.last_state(x).shape == (5, 8)
    same = RecallRNN(hidden_size=8, rho=1.3, seed=0)
    for a, b in zip(model.parameters(), same.parameters(), strict=True):
        assert torch.equal(a, b)
    state = torch.random.get_rng_state()
    RecallRNN(hidden_size=8, seed=3)
    assert torch.equal(state, torch.random.get_rng_state())  # the global generator is untouched
    with pytest.raises(ValueError):
        model(np.zeros((5, 7, 2)))                 # one input channel only
    with pytest.raises(ValueError):
        RecallRNN(seed=-1)


def test_clipped_run_learns_and_caps_every_step() -> None:
    run = train_recall(1.0, steps=60, hidden_size=8, length=10)
    applied = np.array(run.history.applied_norm)
    assert applied.max() <= 1.0 + 1e-12 and len(run.history.loss) == 60
    assert np.mean(run.history.loss[-10:]) < np.mean(run.history.loss[:10])


def test_diagnosis_of_a_saturated_network_is_exact() -> None:
    """Force every unit to +-1 in the same pattern: lambda_max = H + 1 and no recurrent
    gradient, so one read-out step multiplies the loss by (1 - 2 lr (H + 1))^2."""
    h, lr = 12, 0.1                                # lambda_max = 13 > 1 / lr: unstable
    model = RecallRNN(hidden_size=h, rho=1.0, seed=0)
    with torch.no_grad():
        model.rnn.weight_hh_l0.zero_()
        model.rnn.weight_ih_l0.zero_()
        model.rnn.bias_hh_l0.zero_()
        model.rnn.bias_ih_l0.copy_(torch.full((h,), 50.0, dtype=torch.float64))
        model.readout.weight.fill_(1e6)            # the error dwarfs the targets
    x, y = recall_batches(16, 5, seed=1)(0)
    d = diagnose_readout(model, x, y, lr=lr)
    assert isinstance(d, ReadoutDiagnosis)
    assert d.saturated == 1.0 and d.same_pattern and d.recurrent_grad == 0.0
    assert d.feature_norm2 == pytest.approx(h + 1) and d.lambda_max == pytest.approx(h + 1)
    assert d.predicted_growth == pytest.approx((1 - 2 * lr * (h + 1)) ** 2)
    # one SGD step on the read-out grows the loss by the predicted factor
    with torch.no_grad():
        loss_before = float(((model(x) - torch.from_numpy(y)) ** 2).mean())
        for p in model.readout.parameters():
            p -= lr * p.grad
        loss_after = float(((model(x) - torch.from_numpy(y)) ** 2).mean())
    assert d.predicted_growth == pytest.approx(2.56)
    assert loss_after / loss_before == pytest.approx(d.predicted_growth, rel=1e-6)


def test_diagnosis_of_an_unsaturated_network() -> None:
    model = RecallRNN(hidden_size=8, rho=0.5, seed=0)
    x, y = recall_batches(16, 5, seed=1)(0)
    d = diagnose_readout(model, x, y, lr=0.1)
    assert d.saturated < 0.5 and not d.same_pattern and d.recurrent_grad > 0
    assert 1.0 <= d.lambda_max <= d.feature_norm2 + 1e-12   # M's trace bounds its top eigenvalue
    with pytest.raises(TypeError):
        diagnose_readout(torch.nn.Linear(1, 1), x, y, lr=0.1)
    with pytest.raises(ValueError):
        diagnose_readout(model, x, y, lr=0.0)


def test_growth_per_step() -> None:
    loss = 2.0 * 3.0 ** np.arange(6)
    assert growth_per_step(loss, 5) == pytest.approx(3.0)
    assert growth_per_step(np.array([1.0, 4.0, 1.0]), 2) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        growth_per_step(loss, 6)
    with pytest.raises(ValueError):
        growth_per_step(np.array([1.0, np.inf, 2.0]), 2)
    with pytest.raises(TypeError):
        growth_per_step(loss, 2.0)
    assert clipping.global_norm({"a": np.ones(4)}) == 2.0  # module imports stay consistent
