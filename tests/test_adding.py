"""lstm_lib.data.adding: the adding problem of Hochreiter & Schmidhuber (1997)."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_lib.data.adding import SOLVED_TOL, adding_problem, baseline, solved_fraction


@pytest.mark.parametrize("T", [6, 22, 50, 101])
def test_shapes_dtypes_and_value_range(T):
    x, y = adding_problem(64, T, seed=0)
    assert x.shape == (64, T, 2) and y.shape == (64, 1)
    assert x.dtype == np.float64 and y.dtype == np.float64
    assert np.all(np.abs(x[..., 0]) <= 1.0)
    x32, y32 = adding_problem(8, T, seed=0, dtype=np.float32)
    assert x32.dtype == np.float32 and y32.dtype == np.float32


def test_exactly_two_markers_placed_per_the_paper():
    T = 100
    x, _ = adding_problem(5000, T, seed=1)
    m = x[..., 1]
    assert set(np.unique(m)) <= {-1.0, 0.0, 1.0}
    assert np.all((m == 1).sum(axis=1) == 2)
    first, second = [], []
    for row in m:
        pos = np.flatnonzero(row == 1)
        first.append(pos[0])
        second.append(pos[1])
        # every mark lies in the first T/2 - 1 steps, at least one in the first ten
        assert pos[1] < T // 2 - 1 and pos[0] < 10
        # the first and last steps carry -1 unless marked; nothing else is -1
        assert row[-1] == -1
        assert row[0] == (1 if pos[0] == 0 else -1)
        assert np.all(row[1:-1][row[1:-1] != 1] == 0)
    # the latest mark reaches every step up to T/2 - 2; the early one covers the first ten
    assert max(second) == T // 2 - 2 and set(first) == set(range(10))


def test_target_formula_and_first_step_rule():
    x, y = adding_problem(2000, 30, seed=2)
    xs, _ = adding_problem(2000, 30, seed=2, target="sum")
    np.testing.assert_array_equal(x, xs)                       # same draws, other target
    _, ys = adding_problem(2000, 30, seed=2, target="sum")
    marked = np.where(x[..., 1] == 1, x[..., 0], 0.0).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(ys, marked, atol=1e-15)
    np.testing.assert_allclose(y, 0.5 + marked / 4, atol=1e-15)
    assert np.all((y >= 0) & (y <= 1))
    first_marked = x[:, 0, 1] == 1
    assert first_marked.any() and np.all(x[first_marked, 0, 0] == 0)   # "X1 set to zero"


def test_seeding_and_generator_advance():
    a = adding_problem(16, 20, seed=3)
    b = adding_problem(16, 20, seed=3)
    np.testing.assert_array_equal(a[0], b[0])
    rng = np.random.default_rng(3)
    c = adding_problem(16, 20, seed=rng)
    d = adding_problem(16, 20, seed=rng)
    np.testing.assert_array_equal(a[0], c[0])                   # an int seed = a fresh Generator
    assert not np.array_equal(c[0], d[0])                       # a Generator moves on


def test_baseline_matches_simulation():
    T = 100
    _, y = adding_problem(400_000, T, seed=4)
    err = np.abs(y - 0.5)
    b = baseline(T)
    assert abs(b["mse"] - np.mean(err ** 2)) < 3e-4
    assert abs(b["mae"] - np.mean(err)) < 2e-3
    assert abs(b["solved"] - np.mean(err < SOLVED_TOL)) < 3e-3
    assert abs(solved_fraction(np.full_like(y, 0.5), y) - b["solved"]) < 3e-3


def test_solved_fraction():
    y = np.array([[0.5], [0.2], [0.9]])
    assert solved_fraction(y + np.array([[0.039], [-0.041], [0.0]]), y) == pytest.approx(2 / 3)
    with pytest.raises(ValueError):
        solved_fraction(y[:, 0], y[:, 0])


def test_bad_arguments():
    with pytest.raises(ValueError, match="at least 6"):
        adding_problem(4, 5)
    with pytest.raises(ValueError):
        adding_problem(0, 20)
    with pytest.raises(ValueError, match="target"):
        adding_problem(4, 20, target="product")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        adding_problem(4, 20, dtype=np.int32)
    with pytest.raises(ValueError, match="non-negative"):  # a wrong value, not a wrong kind
        adding_problem(4, 20, seed=-1)
    with pytest.raises(ValueError):
        baseline(100, tol=0.0)
