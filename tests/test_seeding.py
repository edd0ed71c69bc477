"""lstm_lib.seed_everything and lstm_lib.torch_seeded: seeding the global generators, and the
one seeded block the modules share."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

import lstm_lib


def _draws() -> tuple[float, float, float]:
    return random.random(), float(np.random.random()), float(torch.rand(()))  # noqa: NPY002


def test_seed_everything_seeds_python_numpy_and_torch():
    lstm_lib.seed_everything(7)
    first = _draws()
    lstm_lib.seed_everything(7)
    assert _draws() == first
    lstm_lib.seed_everything(8)
    assert all(a != b for a, b in zip(_draws(), first, strict=True))  # each one seeded


@pytest.mark.parametrize("seed", [-1, 1.5, True, "0", None, np.float64(2.0)])
def test_seed_everything_rejects_anything_but_a_non_negative_int(seed):
    random.seed(123)
    before = random.random()
    random.seed(123)
    with pytest.raises(ValueError, match="non-negative int"):
        lstm_lib.seed_everything(seed)
    assert random.random() == before  # nothing was seeded


def test_torch_seeded_draws_from_the_seed_and_restores_the_global_generator():
    torch.manual_seed(0)
    expected_next = torch.rand(3)
    torch.manual_seed(0)
    with lstm_lib.torch_seeded(5):
        inside = torch.rand(3)
    torch.manual_seed(5)
    assert torch.equal(inside, torch.rand(3))            # the block's draws: manual_seed(5)
    torch.manual_seed(0)
    with lstm_lib.torch_seeded(np.int64(5)):
        torch.rand(10)
    assert torch.equal(torch.rand(3), expected_next)     # as if the block drew nothing
    torch.manual_seed(0)
    with lstm_lib.torch_seeded(None):
        unseeded = torch.rand(3)
    assert torch.equal(unseeded, expected_next)          # None: the global state's draws ...
    assert torch.equal(torch.rand(3), unseeded)          # ... and it is restored after


@pytest.mark.parametrize("seed", [-1, 1.5, True, "3"])
def test_torch_seeded_rejects_bad_seeds(seed):
    with pytest.raises(ValueError, match="non-negative int or None"), lstm_lib.torch_seeded(seed):
        pass
