"""Random, sorted and bucketed batches, and the padding each plan costs."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_lib.training.batching import (
    ORDERS,
    epoch_cpu_seconds,
    epoch_plans,
    make_batches,
    padding_cost,
    plan_matrix,
)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 80), batch_size=st.integers(1, 20), pool=st.integers(1, 5),
       order=st.sampled_from(ORDERS), seed=st.integers(0, 1000))
def test_every_index_once_and_batch_sizes(n, batch_size, pool, order, seed):
    lengths = np.random.default_rng(seed).integers(1, 30, size=n)
    plan = make_batches(lengths, batch_size, order, seed=seed, pool=pool)
    flat = np.concatenate(plan)
    assert sorted(flat.tolist()) == list(range(n)) and flat.dtype == np.int64
    sizes = [len(b) for b in plan]
    assert all(1 <= s <= batch_size for s in sizes)
    if order != "bucketed":      # buckets end in short batches too
        assert sorted(sizes, reverse=True)[:-1] == [batch_size] * (len(plan) - 1)
    cost = padding_cost(lengths, plan)
    assert cost.real_steps == lengths.sum()
    assert cost.slots == sum(len(b) * lengths[b].max() for b in plan)
    assert cost.padded_steps == cost.slots - cost.real_steps >= 0
    assert cost.loop_steps == sum(lengths[b].max() for b in plan)
    m = plan_matrix(lengths, plan)
    assert m.shape == (n, lengths.max()) and (m == 1).sum() == cost.real_steps
    assert (m > 0).sum() == cost.slots


def test_sorted_batches_are_contiguous_in_length():
    lengths = np.random.default_rng(0).integers(1, 50, size=200)
    plan = make_batches(lengths, 16, "sorted", seed=0)
    ranges = sorted((lengths[b].min(), lengths[b].max()) for b in plan)
    for (lo1, hi1), (lo2, _) in zip(ranges, ranges[1:]):
        assert lo1 <= hi1 <= lo2                    # batches do not overlap in length
    # sorting pads least; random most; bucketing in between (on average over seeds)
    frac = {o: np.mean([padding_cost(lengths, make_batches(lengths, 16, o, seed=s))
                        .padded_fraction for s in range(10)]) for o in ORDERS}
    assert frac["sorted"] < frac["bucketed"] < frac["random"]


def test_same_seed_same_plan_and_generator_advances():
    lengths = np.arange(1, 41)
    a = make_batches(lengths, 8, "bucketed", seed=3)
    b = make_batches(lengths, 8, "bucketed", seed=3)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    rng = np.random.default_rng(3)
    e1, e2 = make_batches(lengths, 8, "random", seed=rng), make_batches(lengths, 8, "random",
                                                                         seed=rng)
    assert not all(np.array_equal(x, y) for x, y in zip(e1, e2, strict=True))


def test_padding_cost_by_hand():
    lengths = np.array([3, 1, 2, 5])
    cost = padding_cost(lengths, [np.array([0, 1]), np.array([2, 3])])
    # batch 1: 2 rows x 3 steps, real 4; batch 2: 2 rows x 5 steps, real 7
    assert (cost.slots, cost.real_steps, cost.padded_steps, cost.loop_steps) == (16, 11, 5, 8)
    assert cost.padded_fraction == pytest.approx(5 / 16)
    m = plan_matrix(lengths, [np.array([0, 1]), np.array([2, 3])], total_length=6)
    np.testing.assert_array_equal(m[1], [1, 0.5, 0.5, 0, 0, 0])


def test_bad_inputs():
    with pytest.raises(ValueError, match="order"):
        make_batches([1, 2], 1, "shuffled")
    with pytest.raises(TypeError, match="integers"):
        make_batches(np.array([1.0, 2.0]), 1)
    with pytest.raises(ValueError, match=">= 1"):
        make_batches([0, 2], 1)
    with pytest.raises(ValueError, match="positive"):
        make_batches([1, 2], 0)
    with pytest.raises(ValueError, match="outside"):
        padding_cost([1, 2], [np.array([0, 2])])
    with pytest.raises(ValueError, match="non-empty"):
        padding_cost([1, 2], [])
    with pytest.raises(ValueError, match="at least"):
        plan_matrix([1, 4], [np.array([0, 1])], total_length=3)


def test_epoch_plans_one_generator_new_plan_each_epoch():
    lengths = np.arange(1, 41)
    plans = epoch_plans(lengths, 8, "bucketed", n_epochs=3, seed=5)
    rng = np.random.default_rng(5)
    by_hand = [make_batches(lengths, 8, "bucketed", seed=rng) for _ in range(3)]
    assert len(plans) == 3
    for p, q in zip(plans, by_hand, strict=True):
        assert all(np.array_equal(a, b) for a, b in zip(p, q, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(plans[0], plans[1], strict=True))
    with pytest.raises(ValueError, match="positive"):
        epoch_plans(lengths, 8, n_epochs=0)


def test_epoch_cpu_seconds_runs_each_batch_cut_to_its_longest():
    import torch

    lengths = np.array([2, 5, 3, 1])
    x = torch.zeros(4, 6, 3)
    seen = []

    class Probe(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(()))

        def forward(self, xb):
            seen.append(tuple(xb.shape))
            return xb * self.w, None

    plan = [np.array([0, 2]), np.array([1, 3])]
    t = epoch_cpu_seconds(Probe(), x, lengths, plan)
    assert t >= 0 and seen == [(2, 3, 3), (2, 5, 3)]
    with pytest.raises(TypeError, match="torch.Tensor"):
        epoch_cpu_seconds(Probe(), np.zeros((4, 6, 3)), lengths, plan)
    with pytest.raises(ValueError, match="at most T"):
        epoch_cpu_seconds(Probe(), torch.zeros(4, 4, 3), lengths, plan)
    with pytest.raises(ValueError, match="outside"):
        epoch_cpu_seconds(Probe(), x, lengths, [np.array([0, 4])])
