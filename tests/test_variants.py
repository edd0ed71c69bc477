"""lstm_lib.torch.variants: LSTMs with parts removed, the stack of them, chrono init."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstm_lib.torch import LSTM
from lstm_lib.torch.lstm import lstm_step
from lstm_lib.torch.variants import (
    PARTS,
    AblatedLSTM,
    AblationStack,
    ablated_step,
    chrono_biases,
    chrono_init_,
    keep_vector,
)

ABLATIONS = [(), ("forget",), ("input",), ("output",), ("output_tanh",)]


def _x(B=3, T=6, I=2, seed=0):
    return torch.tensor(np.random.default_rng(seed).normal(size=(B, T, I)))


def test_no_ablation_is_the_lstm_bit_for_bit_and_nn_lstm_to_roundoff():
    x = _x()
    ours = AblatedLSTM(2, 4, seed=3)
    twin = LSTM(2, 4, seed=3)
    ref = torch.nn.LSTM(2, 4, batch_first=True, dtype=torch.float64)
    ref.load_state_dict(ours.state_dict())
    out, (h, c) = ours(x)
    out_t, (h_t, c_t) = twin(x)
    out_r, (h_r, c_r) = ref(x)
    assert torch.equal(out, out_t) and torch.equal(c, c_t)
    for a, b in ((out, out_r), (h, h_r), (c, c_r)):
        assert (a - b).abs().max() < 1e-12
    (out.sum() + c.sum()).backward()
    (out_r.sum() + c_r.sum()).backward()
    for name, p in ours.named_parameters():
        assert (p.grad - getattr(ref, name).grad).abs().max() < 1e-12, name


def test_ablated_step_with_everything_kept_is_lstm_step():
    g = torch.Generator().manual_seed(0)
    z, c = torch.randn(5, 12, generator=g), torch.randn(5, 3, generator=g)
    ref = lstm_step(z, c)
    for keep in ((1, 1, 1, 1), tuple(torch.ones(1, 1) for _ in range(4))):
        got = ablated_step(z, c, keep)
        for k in ref:
            assert torch.equal(got[k], ref[k]), k


@pytest.mark.parametrize("ablate", ABLATIONS[1:])
def test_removed_part_is_the_identity_and_its_weights_get_no_gradient(ablate):
    x = _x(T=8)
    model = AblatedLSTM(2, 5, seed=1, ablate=ablate)
    tr = model.trace(x)
    gate = {"forget": "f", "input": "i", "output": "o"}
    H = 5
    if ablate[0] in gate:
        assert torch.all(tr[gate[ablate[0]]] == 1.0)
    else:  # h = o * c
        assert torch.equal(tr["h"], tr["o"] * tr["c"])
    # the other gates still vary
    assert tr["i" if ablate[0] != "input" else "f"].std() > 1e-3
    out, _ = model(x)
    out.pow(2).sum().backward()
    rows = {"input": slice(0, H), "forget": slice(H, 2 * H), "output": slice(3 * H, 4 * H)}
    if ablate[0] in rows:
        r = rows[ablate[0]]
        for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
            g = getattr(model, name).grad
            assert torch.all(g[r] == 0), name
            assert g.abs().sum() > 0


def test_ablated_forward_matches_a_direct_loop():
    x = _x(B=2, T=5, I=3)
    model = AblatedLSTM(3, 4, seed=2, ablate=("forget", "output_tanh"))
    sd = {k: v.detach() for k, v in model.state_dict().items()}
    h = c = torch.zeros(2, 4, dtype=torch.float64)
    for t in range(5):
        z = x[:, t] @ sd["weight_ih_l0"].T + sd["bias_ih_l0"] + h @ sd["weight_hh_l0"].T \
            + sd["bias_hh_l0"]
        i, _, g, o = z.chunk(4, dim=-1)
        c = c + torch.sigmoid(i) * torch.tanh(g)          # f = 1
        h = torch.sigmoid(o) * c                          # no output tanh
    out, (h_n, c_n) = model(x)
    assert (h_n[0] - h).abs().max() < 1e-12 and (c_n[0] - c).abs().max() < 1e-12
    assert (out[:, -1] - h).abs().max() < 1e-12


def test_stack_members_equal_stand_alone_models_values_and_gradients():
    x, y = _x(B=4, T=7), torch.randn(4, 1, dtype=torch.float64)
    stack = AblationStack(2, 3, ABLATIONS, seeds=[0, 1, 2, 3, 4], dtype=np.float64,
                          chrono_t_max=10)
    pred = stack(x)
    assert pred.shape == (5, 4, 1)
    loss = stack.per_member_loss(pred, y)
    loss.sum().backward()
    for m, ablate in enumerate(ABLATIONS):
        lstm, lin = stack.member(m)
        assert lstm.ablate == frozenset(ablate)
        p = lin(lstm(x)[0][:, -1])
        assert (p - pred[m]).abs().max() < 1e-12
        lm = ((p - y) ** 2).mean()
        assert abs(lm.item() - loss[m].item()) < 1e-12
        lm.backward()
        for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            assert (getattr(lstm, f"{k}_l0").grad - getattr(stack, k).grad[m]).abs().max() < 1e-12
        assert (lin.weight.grad - stack.readout_weight.grad[m]).abs().max() < 1e-12
        assert (lin.bias.grad - stack.readout_bias.grad[m]).abs().max() < 1e-12


def test_stack_member_weights_follow_seed_and_chrono():
    stack = AblationStack(2, 3, [(), ()], seeds=[7, 8], dtype=np.float64, chrono_t_max=10)
    lstm, _ = stack.member(0)
    ref = chrono_init_(AblatedLSTM(2, 3, seed=7), 10, 7)
    for k, v in ref.state_dict().items():
        assert torch.equal(v, lstm.state_dict()[k]), k
    assert not torch.equal(stack.weight_hh[0], stack.weight_hh[1])


def test_stack_clip_is_torch_clip_per_member():
    x, y = _x(B=4, T=5), torch.randn(4, 1, dtype=torch.float64) * 10
    stack = AblationStack(2, 3, ABLATIONS[:3], seeds=[0, 1, 2], dtype=np.float64)
    stack.per_member_loss(stack(x), y).sum().backward()
    norms = stack.clip_grad_norm_(0.5)
    for m in range(3):
        lstm, lin = stack.member(m)
        ((lin(lstm(x)[0][:, -1]) - y) ** 2).mean().backward()
        ps = list(lstm.parameters()) + list(lin.parameters())
        total = torch.nn.utils.clip_grad_norm_(ps, 0.5)
        assert abs(total.item() - norms[m].item()) < 1e-10
        assert (lstm.weight_hh_l0.grad - stack.weight_hh.grad[m]).abs().max() < 1e-12
        assert (lin.weight.grad - stack.readout_weight.grad[m]).abs().max() < 1e-12
    assert stack.grad_norms().max() <= 0.5 + 1e-9


def test_chrono_init_on_nn_lstm():
    T = 50
    lstm = torch.nn.LSTM(2, 16, num_layers=2, batch_first=True)
    before = {k: v.clone() for k, v in lstm.state_dict().items()}
    chrono_init_(lstm, T, seed=0)
    H = 16
    for layer in range(2):
        b, bh = getattr(lstm, f"bias_ih_l{layer}").detach(), getattr(lstm, f"bias_hh_l{layer}")
        b_f = b[H:2 * H]
        assert torch.all(b_f >= 0) and torch.all(b_f <= np.log(T - 1) + 1e-6)
        assert torch.equal(b[:H], -b_f)
        assert torch.all(bh[:2 * H] == 0)
        assert torch.equal(b[2 * H:], before[f"bias_ih_l{layer}"][2 * H:])
        assert torch.equal(getattr(lstm, f"weight_hh_l{layer}"), before[f"weight_hh_l{layer}"])
    b_i, b_f = chrono_biases(16, T, seed=0)
    np.testing.assert_allclose(lstm.bias_ih_l0.detach().numpy()[H:2 * H], b_f, atol=1e-6)
    assert np.array_equal(b_i, -b_f)


def test_bad_arguments():
    assert keep_vector(()) == (1.0, 1.0, 1.0, 1.0)
    assert keep_vector("output_tanh") == (1.0, 1.0, 1.0, 0.0)
    assert set(PARTS) == {"forget", "input", "output", "output_tanh"}
    with pytest.raises(ValueError, match="unknown"):
        AblatedLSTM(2, 3, ablate=("peephole",))
    with pytest.raises(ValueError, match="same length"):
        AblationStack(2, 3, [()], seeds=[0, 1])
    with pytest.raises(ValueError, match="t_max"):
        chrono_biases(4, 1.5)
    with pytest.raises(ValueError):
        chrono_init_(torch.nn.Linear(2, 3), 10)
    stack = AblationStack(2, 3, [()], seeds=[0])
    with pytest.raises(ValueError):
        stack(torch.zeros(2, 4, 3))
    with pytest.raises(ValueError):
        stack.member(1)
