"""Tests of lstm_lib.training.losses.cross_entropy: per sequence and per step, as chapters 3 and 5
use it."""

import numpy as np
import pytest
import torch

from lstm_lib.models.readout import RecurrentReadout
from lstm_lib.training.losses import cross_entropy


def test_per_step_labels_match_torch():
    model = RecurrentReadout(3, 4, 5, seed=0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 6, 3)).astype(np.float32)
    labels = rng.integers(0, 5, size=(2, 6))
    got = cross_entropy(model, (x, labels))
    logits, _ = model(torch.from_numpy(x))
    want = torch.nn.functional.cross_entropy(logits.reshape(12, 5),
                                             torch.from_numpy(labels).reshape(12))
    assert got.shape == () and torch.allclose(got, want)
    # by hand: the mean over the 12 labelled steps of -log softmax(logits)[label]
    z = logits.detach().double().numpy()
    log_p = z - np.log(np.exp(z).sum(-1, keepdims=True))
    by_hand = -np.take_along_axis(log_p, labels[..., None], axis=-1).mean()
    assert float(got.detach()) == pytest.approx(by_hand, rel=1e-6)
    want_grad, = torch.autograd.grad(want, model.head.weight)
    got.backward()                                       # a loss fit can train on ...
    torch.testing.assert_close(model.head.weight.grad, want_grad)  # ... with the right gradient


def test_one_label_per_example():
    lin = torch.nn.Linear(2, 3)
    x, labels = torch.randn(4, 2), torch.tensor([0, 2, 1, 2])
    want = torch.nn.functional.cross_entropy(lin(x), labels)
    assert torch.allclose(cross_entropy(lin, (x, labels)), want)
    assert cross_entropy(lin, (x, torch.tensor([0, 0, 0, 0]))) != want


def test_bad_labels():
    lin = torch.nn.Linear(2, 3)
    x = torch.randn(4, 2)
    with pytest.raises(TypeError):
        cross_entropy(lin, (x, torch.zeros(4)))           # float labels
    with pytest.raises(ValueError, match=r"\(4,\)"):
        cross_entropy(lin, (x, torch.zeros(4, 1, dtype=torch.long)))
    with pytest.raises(ValueError):
        cross_entropy(lin, x)
