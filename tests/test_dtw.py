"""DTW_D in NumPy and through dtaidistance's C code, and 1-nearest-neighbour under it."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_lib.baselines.dtw import dtw_distance, dtw_matrix, nearest_neighbour


def test_dtw_by_hand():
    a = np.array([[0.0], [1.0], [2.0]])
    assert dtw_distance(a, a) == 0.0
    # b repeats a's middle frame: warping absorbs it at no cost
    assert dtw_distance(a, np.array([[0.0], [1.0], [1.0], [2.0]])) == 0.0
    # one frame against three: every frame of b meets a's only frame
    assert dtw_distance(np.array([[1.0]]), a) == pytest.approx(np.sqrt(1 + 0 + 1))
    # two channels: squared Euclidean frame cost
    assert dtw_distance(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]])) == pytest.approx(5.0)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), F=st.integers(1, 4))
def test_c_matrix_equals_the_numpy_definition(seed, F):
    rng = np.random.default_rng(seed)
    qs = [rng.normal(size=(int(k), F)) for k in rng.integers(1, 9, size=3)]
    rs = [rng.normal(size=(int(k), F)) for k in rng.integers(1, 9, size=4)]
    d = dtw_matrix(qs, rs)
    ref = np.array([[dtw_distance(q, r) for r in rs] for q in qs])
    assert d.shape == (3, 4)
    np.testing.assert_allclose(d, ref, rtol=1e-12, atol=1e-12)


def test_nearest_neighbour_and_symmetry():
    rng = np.random.default_rng(0)
    refs = [rng.normal(size=(5, 2)) + c for c in (0.0, 5.0, 10.0)]
    queries = [r[:3] + 0.01 for r in refs[::-1]]            # near refs 2, 1, 0
    nn = nearest_neighbour(refs, np.array([7, 8, 9]), queries)
    assert nn.nearest.tolist() == [2, 1, 0] and nn.prediction.tolist() == [9, 8, 7]
    assert nn.distance.shape == (3,) and (nn.distance > 0).all()
    d = dtw_matrix(refs, refs)
    np.testing.assert_allclose(d, d.T, atol=1e-12)
    np.testing.assert_allclose(np.diag(d), 0, atol=1e-12)


def test_bad_inputs():
    x = [np.zeros((3, 2))]
    with pytest.raises(TypeError, match="list of"):
        dtw_matrix(np.zeros((2, 3, 2)), x)
    with pytest.raises(ValueError, match=r"\(T_i, F\)"):
        dtw_matrix([np.zeros((3, 3))], x)
    with pytest.raises(ValueError, match="NaN"):
        dtw_distance(np.full((2, 1), np.nan), np.zeros((2, 1)))
    with pytest.raises(ValueError, match="labels"):
        nearest_neighbour(x, np.array([1, 2]), x)
