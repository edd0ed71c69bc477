"""lstm_lib.numpy.optim: Adam against torch's, step for step."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstm_lib.numpy import LSTM
from lstm_lib.numpy.optim import Adam


def _params(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"w": rng.normal(size=(4, 3)), "b": rng.normal(size=(4,)),
            "s": rng.normal(size=(2, 2, 2))}


@pytest.mark.parametrize("kwargs", [
    {},
    {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6},
    {"lr": 0.01, "weight_decay": 0.1},
])
def test_adam_matches_torch_over_many_steps(kwargs):
    params = _params(0)
    tparams = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    opt = Adam(params, **kwargs)
    topt = torch.optim.Adam(list(tparams.values()), **kwargs)
    rng = np.random.default_rng(1)
    for _ in range(30):
        grads = {k: rng.normal(size=v.shape) * rng.uniform(0.01, 10) for k, v in params.items()}
        for k, p in tparams.items():
            p.grad = torch.tensor(grads[k])
        opt.step(grads)
        topt.step()
    assert opt.t == 30
    for k in params:
        np.testing.assert_allclose(params[k], tparams[k].detach().numpy(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(opt.m[k], topt.state[tparams[k]]["exp_avg"].numpy(),
                                   rtol=0, atol=1e-12)
        np.testing.assert_allclose(opt.v[k], topt.state[tparams[k]]["exp_avg_sq"].numpy(),
                                   rtol=0, atol=1e-12)


def test_adam_first_step_moves_each_weight_by_lr():
    # After one step m/sqrt(v) = sign(g) after bias correction: every weight moves by ~lr.
    params = _params(2)
    before = {k: v.copy() for k, v in params.items()}
    grads = {k: np.random.default_rng(3).normal(size=v.shape) for k, v in params.items()}
    Adam(params, lr=0.01).step(grads)
    for k in params:
        np.testing.assert_allclose(before[k] - params[k], 0.01 * np.sign(grads[k]), rtol=1e-5)


def test_adam_updates_in_place_the_arrays_a_numpy_layer_uses():
    layer = LSTM(2, 3, seed=0)
    x = np.random.default_rng(0).normal(size=(4, 5, 2))
    out0, _ = layer.forward(x)
    layer.backward(np.ones_like(out0))
    weight = layer.params["weight_hh_l0"]
    Adam(layer.params, lr=0.1).step(layer.grads)
    assert layer.params["weight_hh_l0"] is weight       # same array, changed in place
    out1, _ = layer.forward(x)
    assert np.abs(out1 - out0).max() > 1e-3


def test_adam_rejects_bad_input():
    params = _params(0)
    with pytest.raises(ValueError, match="lr"):
        Adam(params, lr=0.0)
    with pytest.raises(ValueError, match="betas"):
        Adam(params, betas=(0.9, 1.0))
    with pytest.raises(TypeError):
        Adam({"w": np.zeros(3, dtype=np.int64)})
    opt = Adam(params)
    with pytest.raises(ValueError, match="missing"):
        opt.step({"w": np.zeros((4, 3))})
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    grads["b"] = np.zeros(5)
    with pytest.raises(ValueError, match="shape"):
        opt.step(grads)
    grads["b"] = np.full(4, np.nan)
    with pytest.raises(ValueError, match="NaN"):
        opt.step(grads)
