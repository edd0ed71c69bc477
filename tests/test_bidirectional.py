"""Tests of lstm_lib.models.bidirectional: the two-reader build equals the library's and torch's
bidirectional LSTM, forward and backward, and the layout facts the chapter relies on."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lstm_lib.torch
from lstm_lib.models.bidirectional import Bidirectional
from lstm_lib.numpy import LSTM
from lstm_lib.verify.compare import compare

B, T, I, H = 3, 6, 4, 5


def _pair(seed: int = 0) -> tuple[Bidirectional, LSTM]:
    bi = LSTM(I, H, bidirectional=True, seed=seed)
    two = Bidirectional(LSTM(I, H, seed=seed + 10), LSTM(I, H, seed=seed + 20))
    two.load_state_dict(bi.state_dict())
    return two, bi


def _torch_twin(layer: LSTM) -> torch.nn.LSTM:
    ref = torch.nn.LSTM(I, H, batch_first=True, bidirectional=True).double()
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in layer.state_dict().items()})
    return ref


def _x(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((B, T, I))


def _state(seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((2, B, H)), rng.standard_normal((2, B, H))


@pytest.mark.parametrize("state", [None, _state()])
def test_equals_library_bidirectional_forward_and_backward(state):
    two, bi = _pair()
    x = _x()
    out_a, (h_a, c_a) = two.forward(x, state)
    out_b, (h_b, c_b) = bi.forward(x, state)
    assert out_a.shape == (B, T, 2 * H) and h_a.shape == c_a.shape == (2, B, H)
    np.testing.assert_allclose(out_a, out_b, atol=1e-14)
    np.testing.assert_allclose(h_a, h_b, atol=1e-14)
    np.testing.assert_allclose(c_a, c_b, atol=1e-14)
    rng = np.random.default_rng(2)
    d_out = rng.standard_normal(out_a.shape)
    d_end = (rng.standard_normal(h_a.shape), rng.standard_normal(c_a.shape))
    dx_a, (dh_a, dc_a) = two.backward(d_out, d_end)
    dx_b, (dh_b, dc_b) = bi.backward(d_out, d_end)
    np.testing.assert_allclose(dx_a, dx_b, atol=1e-13)
    np.testing.assert_allclose(dh_a, dh_b, atol=1e-13)
    np.testing.assert_allclose(dc_a, dc_b, atol=1e-13)
    assert set(two.grads) == set(bi.grads)
    for k in bi.grads:
        np.testing.assert_allclose(two.grads[k], bi.grads[k], atol=1e-13, err_msg=k)


def test_equals_torch_bidirectional():
    two, bi = _pair(3)
    table = compare(two, {"nn.LSTM": _torch_twin(bi)}, _x(4), _state(5))
    assert "d weight_hh_l0_reverse" in table.rows and "d c0" in table.rows
    table.assert_close(1e-12)


def test_layout_of_output_and_final_states():
    two, _ = _pair()
    x = _x()
    out, (h_n, _) = two.forward(x)
    np.testing.assert_array_equal(out[..., :H], two.forward_layer.forward(x)[0])
    np.testing.assert_array_equal(h_n[0], out[:, -1, :H])  # forward reader ends at t = T-1
    np.testing.assert_array_equal(h_n[1], out[:, 0, H:])  # backward reader ends at t = 0
    assert np.abs(h_n[1] - out[:, -1, H:]).max() > 1e-3


def test_backward_half_at_t_sees_only_the_suffix():
    two, _ = _pair()
    x = _x()
    y = x.copy()
    y[:, :3] += 1.0  # change the past only (positions 0..2)
    out_x, _ = two.forward(x)
    out_y, _ = two.forward(y)
    np.testing.assert_array_equal(out_x[:, 3:, H:], out_y[:, 3:, H:])
    assert np.abs(out_x[:, 3:, :H] - out_y[:, 3:, :H]).max() > 1e-3


def test_state_dict_keys_and_parameter_count():
    two, bi = _pair()
    assert set(two.state_dict()) == set(bi.state_dict())
    assert two.num_parameters() == bi.num_parameters() == 2 * 4 * H * (I + H + 2)
    sd = two.state_dict()
    sd["weight_hh_l0"][:] = 0.0  # a copy: the layer is untouched
    assert np.abs(two.params["weight_hh_l0"]).max() > 0


def test_validation():
    with pytest.raises(TypeError):
        Bidirectional(LSTM(I, H), "not a layer")
    with pytest.raises(ValueError):
        Bidirectional(LSTM(I, H), LSTM(I, H + 1))
    with pytest.raises(ValueError):
        Bidirectional(LSTM(I, H), LSTM(I, H, bidirectional=True))
    with pytest.raises(ValueError):
        Bidirectional(LSTM(I, H, num_layers=2), LSTM(I, H, num_layers=2))
    two, _ = _pair()
    with pytest.raises(ValueError):
        two.backward(np.zeros((B, T, 2 * H)))  # before forward
    with pytest.raises(ValueError):
        two.forward(np.zeros((B, T, I + 1)))
    with pytest.raises(ValueError):
        two.forward(_x(), (np.zeros((1, B, H)), np.zeros((1, B, H))))
    two.forward(_x())
    with pytest.raises(ValueError):
        two.backward(np.zeros((B, T, H)))
    bad = two.state_dict()
    bad.pop("bias_hh_l0_reverse")
    with pytest.raises(ValueError):
        two.load_state_dict(bad)


def test_diagram_draws_every_step():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lstm_lib.viz.diagrams.bilstm import bilstm

    fig, ax = bilstm(steps=3)
    texts = [t.get_text() for t in ax.texts]
    for t in (1, 2, 3):
        assert f"$x_{{{t}}}$" in texts
        assert f"$\\overrightarrow{{h}}_{{{t}}}$" in texts
        assert f"$\\overleftarrow{{h}}_{{{t}}}$" in texts
    assert "$h_n[-2]$" in texts and "$h_n[-1]$" in texts
    assert len(ax.patches) > 3 * 5  # 5 boxes per step, plus the arrows
    plt.close(fig)
    fig, ax = bilstm(steps=2, final_states=False)
    assert "$h_n[-1]$" not in [t.get_text() for t in ax.texts]
    plt.close(fig)
    with pytest.raises(ValueError):
        bilstm(steps=1)
    with pytest.raises(TypeError):
        bilstm(steps=2.5)


def test_prefix_outputs_equal_one_pass_per_prefix():
    import torch

    from lstm_lib.models.bidirectional import prefix_outputs

    torch.manual_seed(0)
    x = torch.from_numpy(np.random.default_rng(3).standard_normal((2, 6, 3)))
    for layer in (torch.nn.LSTM(3, 4, batch_first=True, bidirectional=True).double(),
                  lstm_lib.torch.LSTM(3, 4, bidirectional=True)):
        with torch.no_grad():
            fast = prefix_outputs(layer, x)
            slow = torch.stack([layer(x[:, : t + 1])[0][:, -1] for t in range(6)], dim=1)
            whole = layer(x)[0]
        assert fast.shape == (2, 6, 8)
        assert (fast - slow).abs().max() < 1e-12
        assert (fast[..., :4] - whole[..., :4]).abs().max() == 0      # forward half: cached
        assert (fast[:, :-1, 4:] - whole[:, :-1, 4:]).abs().max() > 1e-3  # backward: not


def test_prefix_outputs_refuses_what_it_cannot_do():
    import torch

    from lstm_lib.models.bidirectional import prefix_outputs

    x = torch.zeros(2, 5, 3)
    with pytest.raises(TypeError):
        prefix_outputs(torch.nn.LSTM(3, 4, batch_first=True), x)          # one direction
    with pytest.raises(ValueError, match="num_layers=2"):
        prefix_outputs(torch.nn.LSTM(3, 4, 2, batch_first=True, bidirectional=True), x)
    with pytest.raises(ValueError, match="batch_first"):
        prefix_outputs(torch.nn.LSTM(3, 4, bidirectional=True), x)
    with pytest.raises(TypeError):
        prefix_outputs(torch.nn.LSTM(3, 4, batch_first=True, bidirectional=True), x.numpy())
