"""Tests for lstm_lib.training.tbptt: carried, detached state over chunks of a stream."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstm_lib.training.tbptt import detach_state, run_chunks, train_on_stream


def _lstm(seed: int = 0) -> torch.nn.LSTM:
    torch.manual_seed(seed)
    return torch.nn.LSTM(3, 5, batch_first=True).double()


def test_carried_chunks_equal_whole_sequence():
    lstm = _lstm()
    x = torch.randn(4, 30, 3, dtype=torch.float64)
    whole, (h, c) = lstm(x)
    outs, (h2, c2) = run_chunks(lstm, list(x.split(7, dim=1)))
    assert [o.shape[1] for o in outs] == [7, 7, 7, 7, 2]
    assert torch.allclose(torch.cat(outs, 1), whole, atol=1e-12, rtol=0)
    assert torch.allclose(h2, h, atol=1e-12, rtol=0) and torch.allclose(c2, c, atol=1e-12, rtol=0)
    outs0, _ = run_chunks(lstm, list(x.split(7, dim=1)), carry=False)
    assert (torch.cat(outs0, 1) - whole).abs().max() > 1e-3
    assert torch.allclose(outs0[0], whole[:, :7], atol=1e-12, rtol=0)  # first chunk: same start


def test_detach_stops_the_gradient_at_the_border():
    lstm = _lstm()
    x = torch.randn(2, 20, 3, dtype=torch.float64, requires_grad=True)
    chunks = list(x.split(10, dim=1))
    outs, _ = run_chunks(lstm, chunks, detach=True)
    outs[1].sum().backward()
    assert torch.all(x.grad[:, :10] == 0.0)
    assert x.grad[:, 10:].abs().min() > 0
    x.grad = None
    outs, _ = run_chunks(lstm, chunks, detach=False)
    outs[1].sum().backward()
    assert x.grad[:, :10].abs().min() > 0


def test_detach_state_structures():
    t = torch.ones(2, requires_grad=True) * 2
    h, c = detach_state((t, t))
    assert not h.requires_grad and not c.requires_grad and torch.equal(h, t)
    a = np.ones(3)
    assert detach_state(a) is a and detach_state(None) is None
    assert isinstance(detach_state([t]), list)
    with pytest.raises(TypeError, match="state must be"):
        detach_state("h")
    with pytest.raises(ValueError, match="at least one chunk"):
        run_chunks(_lstm(), [])


class _Recorder(torch.nn.Module):
    """Predicts y from a linear map; records which state it was handed."""

    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
        self.seen: list[object] = []

    def forward(self, x, state):
        self.seen.append(None if state is None else float(state))
        return x * self.w, torch.tensor(len(self.seen), dtype=torch.float64)


@pytest.mark.parametrize("carry", [True, False])
def test_train_on_stream_resets_each_epoch_and_learns(carry):
    model = _Recorder()
    x = torch.ones(2, 3, 1, dtype=torch.float64)
    batches = [(x, 3 * x)] * 4
    epochs: list[int] = []

    def epoch_batches(e):
        epochs.append(e)
        return batches

    hist = train_on_stream(model, epoch_batches, lambda p, y: ((p - y) ** 2).mean(),
                           steps=10, carry=carry, lr=0.1)
    assert len(hist.loss) == 10 and hist.loss[-1] < hist.loss[0]
    assert epochs == [0, 1, 2]
    if carry:  # None at each epoch start (steps 0, 4, 8), the previous state otherwise
        assert model.seen[:5] == [None, 1.0, 2.0, 3.0, None] and model.seen[8] is None
    else:
        assert all(s is None for s in model.seen)


def test_train_on_stream_validation():
    with pytest.raises(ValueError, match="steps"):
        train_on_stream(_Recorder(), lambda e: [], torch.nn.functional.mse_loss, 0)
    with pytest.raises(ValueError, match="no batches"):
        train_on_stream(_Recorder(), lambda e: [], torch.nn.functional.mse_loss, 1)
    with pytest.raises(ValueError, match="lr"):  # checked by fit
        train_on_stream(_Recorder(), lambda e: [], torch.nn.functional.mse_loss, 1, lr=0.0)


def test_run_chunks_with_the_numpy_layer_batch_of_one():
    """Each chunk's output is kept, even if the layer reuses its output buffer."""
    from lstm_lib.numpy import LSTM

    lstm = LSTM(3, 4, seed=1)
    x = np.random.default_rng(0).normal(size=(1, 12, 3))
    whole, (h, _) = lstm.forward(x)
    whole = whole.copy()
    outs, (h2, _) = run_chunks(lstm.forward, [x[:, :6], x[:, 6:]])
    assert np.abs(np.concatenate(outs, axis=1) - whole).max() < 1e-12
    assert np.abs(h2 - h).max() < 1e-12
