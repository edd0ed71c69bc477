"""Tests for lstm_lib.training.clipping: the global norm, clipping by it (NumPy and torch), and
the norms the training loop records before and after clipping."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstm_lib.training import clipping as C
from lstm_lib.training.loop import fit


def _grads() -> dict[str, np.ndarray]:
    return {"a": np.array([3.0, 0.0]), "b": np.array([[0.0], [4.0]], dtype=np.float32)}


def test_global_norm() -> None:
    assert C.global_norm(_grads()) == pytest.approx(5.0)
    with pytest.raises(ValueError, match="non-empty"):
        C.global_norm({})
    with pytest.raises(TypeError, match="NumPy array"):
        C.global_norm({"a": [1.0]})
    mixed = [torch.tensor([[3.0]]), np.array([0.0, 4.0], dtype=np.float32)]
    assert C.global_norm(mixed) == 5.0  # torch tensors and NumPy arrays alike


def test_clip_by_global_norm_above_and_below() -> None:
    clipped, norm = C.clip_by_global_norm(_grads(), 1.0)
    assert norm == pytest.approx(5.0)
    assert C.global_norm(clipped) == pytest.approx(1.0, abs=1e-7)
    assert np.allclose(clipped["a"], [0.6, 0.0]) and np.allclose(clipped["b"], [[0.0], [0.8]])
    assert clipped["b"].dtype == np.float32
    same, norm2 = C.clip_by_global_norm(_grads(), 10.0)
    assert norm2 == pytest.approx(5.0)
    for k, g in _grads().items():
        assert np.array_equal(same[k], g)
    original = _grads()
    C.clip_by_global_norm(original, 1.0)
    assert original["a"][0] == 3.0  # the input is not modified


def test_clip_by_global_norm_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="> 0"):
        C.clip_by_global_norm(_grads(), 0.0)
    with pytest.raises(ValueError, match="not finite"):
        C.clip_by_global_norm({"a": np.array([np.inf])}, 1.0)


def _model_with_grads(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1))
    model(torch.randn(5, 4) * 10).pow(2).sum().backward()
    return model


@pytest.mark.parametrize("max_norm", [0.1, 1e6])
def test_clip_torch_grads_matches_torch(max_norm: float) -> None:
    ours, ref = _model_with_grads(), _model_with_grads()
    norm = C.clip_torch_grads_(ours.parameters(), max_norm)
    ref_norm = torch.nn.utils.clip_grad_norm_(ref.parameters(), max_norm)
    assert norm == pytest.approx(float(ref_norm), rel=1e-6)
    for p, q in zip(ours.parameters(), ref.parameters(), strict=True):
        assert torch.allclose(p.grad, q.grad, rtol=1e-5, atol=0)
    after = np.sqrt(sum(float((p.grad.double() ** 2).sum()) for p in ours.parameters()))
    assert after == pytest.approx(min(norm, max_norm), rel=1e-6)


def test_clip_torch_grads_needs_gradients() -> None:
    with pytest.raises(ValueError, match="no parameter has a gradient"):
        C.clip_torch_grads_(torch.nn.Linear(2, 2).parameters(), 1.0)
    with pytest.raises(ValueError, match="norm must be"):
        C.clip_torch_grads_(_model_with_grads().parameters(), 1.0, norm=-1.0)


def test_clip_torch_grads_uses_a_given_norm() -> None:
    ours, ref = _model_with_grads(), _model_with_grads()
    norm = C.global_grad_norm(ours.parameters())
    assert C.clip_torch_grads_(ours.parameters(), 0.1, norm=norm) == norm
    C.clip_torch_grads_(ref.parameters(), 0.1)
    for p, q in zip(ours.parameters(), ref.parameters(), strict=True):
        assert torch.equal(p.grad, q.grad)  # the same scaling, bit for bit


@pytest.mark.parametrize("clip", [None, 0.05])
def test_fit_records_the_norms_before_and_as_applied(clip: float | None) -> None:
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1, dtype=torch.float64)
    xs = torch.randn(6, 16, 3, dtype=torch.float64) * 5
    lr = 0.01
    weights = []  # the parameters at the start of every step, and after the last

    def loss_fn(m, batch):
        return m(batch).pow(2).mean()

    def get_batch(step):
        weights.append([p.detach().clone() for p in model.parameters()])
        return xs[step]

    hist = fit(model, loss_fn, get_batch, 6, optimizer=torch.optim.SGD(model.parameters(), lr=lr),
               clip=clip)
    weights.append([p.detach().clone() for p in model.parameters()])
    before, applied = [], []  # measured independently: a fresh gradient, and the SGD step / lr
    for step in range(6):
        probe = torch.nn.Linear(3, 1, dtype=torch.float64)
        with torch.no_grad():
            for p, w in zip(probe.parameters(), weights[step], strict=True):
                p.copy_(w)
        loss_fn(probe, xs[step]).backward()
        before.append(float(torch.linalg.vector_norm(
            torch.cat([p.grad.flatten() for p in probe.parameters()]))))
        update = torch.cat([(b - a).flatten() for a, b in zip(*weights[step: step + 2])])
        applied.append(float(torch.linalg.vector_norm(update)) / lr)
    np.testing.assert_allclose(hist.grad_norm, before, rtol=1e-12)
    np.testing.assert_allclose(hist.applied_norm, applied, rtol=1e-8)
    if clip is None:
        assert hist.applied_norm == hist.grad_norm
    else:
        assert (np.array(hist.grad_norm) > 2 * clip).all()  # every step is clipped ...
        np.testing.assert_allclose(hist.applied_norm, clip, rtol=1e-12)  # ... to the threshold


@pytest.mark.parametrize("max_norm", [0.1, 1.0, 100.0])
def test_clip_by_global_norm_with_eps_is_torchs_rule(max_norm: float) -> None:
    rng = np.random.default_rng(5)
    grads = {"w": 3 * rng.standard_normal((4, 3)), "b": 3 * rng.standard_normal(4)}
    tensors = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True)
               for g in grads.values()]
    for t, g in zip(tensors, grads.values()):
        t.grad = torch.tensor(g)
    total_t = torch.nn.utils.clip_grad_norm_(tensors, max_norm)
    clipped, total = C.clip_by_global_norm(grads, max_norm, eps=1e-6)
    assert abs(total - total_t.item()) < 1e-12
    for t, g in zip(tensors, clipped.values()):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=0, atol=1e-13)
    if max_norm == 100.0:  # below the limit: unchanged
        np.testing.assert_array_equal(clipped["w"], grads["w"])
    with pytest.raises(ValueError, match="eps"):
        C.clip_by_global_norm(grads, 1.0, eps=-1.0)
