"""The shared training loop: it learns, records, clips, evaluates, and stops on divergence."""

import copy
import math

import pytest
import torch

import lstm_lib
from lstm_lib.training import clipping
from lstm_lib.training.clipping import global_grad_norm
from lstm_lib.training.loop import fit


def regression():
    lstm_lib.seed_everything(0)
    x = torch.randn(64, 3)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
    return torch.nn.Linear(3, 1), (x, y)


def mse(model, batch):
    x, y = batch
    return ((model(x) - y) ** 2).mean()


def test_fit_learns_and_records():
    model, batch = regression()
    hist = fit(model, mse, lambda step: batch, 300, lr=0.05,
               eval_fn=lambda m: {"mse": float(mse(m, batch))}, eval_every=100)
    assert hist.step == list(range(300)) and len(hist.loss) == len(hist.grad_norm) == 300
    assert hist.loss[-1] < 1e-3 * hist.loss[0]
    assert hist.eval_step == [100, 200, 300] and len(hist.metrics["mse"]) == 3
    assert hist.metrics["mse"][-1] < hist.metrics["mse"][0]


def test_clip_bounds_the_applied_update_norm():
    model, batch = regression()
    with torch.no_grad():
        model.weight.mul_(100)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    before = [p.detach().clone() for p in model.parameters()]
    hist = fit(model, mse, lambda s: batch, 1, optimizer=opt, clip=0.5)
    assert hist.grad_norm[0] > 0.5  # the recorded norm is before clipping ...
    step = math.sqrt(sum(float(((p.detach() - b) ** 2).sum())
                         for p, b in zip(model.parameters(), before)))
    assert step == pytest.approx(0.5, rel=1e-6)  # ... and the applied one is clipped (float32)
    assert hist.applied_norm[0] == pytest.approx(0.5, rel=1e-6)


def test_recorded_norms_are_the_gradients_norms_without_clipping():
    model, batch = regression()
    twin = copy.deepcopy(model)
    hist = fit(model, mse, lambda s: batch, 5)
    opt = torch.optim.Adam(twin.parameters(), lr=1e-2)  # fit's default: the same 5 steps
    for step in range(5):
        opt.zero_grad()
        mse(twin, batch).backward()
        flat = torch.cat([p.grad.double().flatten() for p in twin.parameters()])
        assert hist.grad_norm[step] == pytest.approx(float(torch.linalg.vector_norm(flat)),
                                                     rel=1e-12)
        opt.step()
    assert hist.applied_norm == hist.grad_norm  # nothing clipped: the same numbers


@pytest.mark.parametrize(("clip", "per_step"), [(None, 1), (1e9, 1), (1e-3, 2)])
def test_fit_measures_the_global_norm_once_per_step(monkeypatch, clip, per_step):
    calls = []
    measure = clipping.global_norm
    monkeypatch.setattr(clipping, "global_norm", lambda g: calls.append(1) or measure(g))
    model, batch = regression()
    hist = fit(model, mse, lambda s: batch, 4, clip=clip)
    # once before clipping; once more only where clipping scaled the gradients (the applied
    # norm), never inside clip_torch_grads_
    assert len(calls) == per_step * 4
    if clip == 1e-3:
        assert all(g > clip for g in hist.grad_norm)
        assert hist.applied_norm == pytest.approx([clip] * 4, rel=1e-6)


def test_divergence_stops_training():
    model, batch = regression()
    hist = fit(model, lambda m, b: mse(m, b) * float("inf"), lambda s: batch, 50)
    assert hist.diverged and len(hist.loss) == 1 and math.isinf(hist.loss[0])
    assert not math.isfinite(hist.grad_norm[0]) and math.isnan(hist.applied_norm[0])


def test_without_stop_on_divergence_training_goes_on():
    model, batch = regression()

    def loss_fn(m, step):  # infinite at step 2 only
        return mse(m, batch) * (float("inf") if step == 2 else 1.0)

    steps = list(range(5))
    hist = fit(model, loss_fn, lambda s: steps[s], 5, clip=1.0, stop_on_divergence=False)
    assert not hist.diverged and hist.step == steps  # no early stop, and no clipping error
    assert math.isinf(hist.loss[2]) and all(math.isfinite(v) for v in hist.loss[:2])
    assert not math.isfinite(hist.grad_norm[2])
    assert hist.applied_norm[2] is hist.grad_norm[2]  # not clipped: recorded as measured
    stopped = fit(regression()[0], loss_fn, lambda s: steps[s], 5, clip=1.0)
    assert stopped.diverged and stopped.step == [0, 1, 2]


def test_fit_validates_arguments():
    model, batch = regression()
    with pytest.raises(ValueError, match="steps"):
        fit(model, mse, lambda s: batch, 0)
    with pytest.raises(ValueError, match="clip"):
        fit(model, mse, lambda s: batch, 1, clip=-1.0)


def test_global_grad_norm():
    p = torch.nn.Parameter(torch.zeros(2))
    p.grad = torch.tensor([3.0, 4.0])
    q = torch.nn.Parameter(torch.zeros(1))  # no gradient: skipped
    assert global_grad_norm([p, q]) == 5.0
    assert global_grad_norm([q]) == 0.0


def test_progress_is_off_under_make_and_on_for_people(monkeypatch):
    from lstm_lib.training.loop import progress

    items = range(3)
    monkeypatch.setenv("LSTM_LIB_PROGRESS", "0")
    assert progress(items) is items
    monkeypatch.setenv("LSTM_LIB_PROGRESS", "1")
    bar = progress(items, desc="x")
    assert bar is not items and list(bar) == [0, 1, 2]
