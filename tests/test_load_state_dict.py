"""The layers' load_state_dict(strict=...), torch twins and NumPy layers, behaves as
torch.nn.Module's: strict=True rejects a missing or an unexpected key, strict=False loads the
keys it knows and reports the rest, with the same missing and unexpected keys as the torch.nn
layer of the same shape."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lstm_lib.numpy as lnp
import lstm_lib.torch as lt

I, H = 3, 4
LAYERS = [  # (class name, constructor keywords): the same in lstm_lib.numpy, .torch, torch.nn
    ("LSTM", {"num_layers": 2, "bidirectional": True}), ("GRU", {}),
    ("RNN", {"nonlinearity": "relu"}), ("LSTMCell", {}), ("GRUCell", {}), ("RNNCell", {}),
]


def pairs(impl) -> list:
    """(ours, theirs) constructors: ``impl``'s layer and the torch.nn layer of the same shape."""
    return [((lambda n=name, kw=kw: getattr(impl, n)(I, H, **kw)),
             (lambda n=name, kw=kw: getattr(torch.nn, n)(I, H, dtype=torch.float64, **kw)))
            for name, kw in LAYERS]


PAIRS = pairs(lt)
IDS = [name for name, _ in LAYERS]


def _partial(module: torch.nn.Module) -> tuple[dict, str]:
    """The module's state_dict, every value + 1, less its first key, plus a stray key."""
    sd = {k: v.detach().numpy() + 1.0 for k, v in module.state_dict().items()}
    dropped = next(iter(sd))
    del sd[dropped]
    sd["stray.weight"] = np.zeros(2)
    return sd, dropped


@pytest.mark.parametrize(("ours", "theirs"), PAIRS, ids=IDS)
def test_strict_rejects_missing_and_unexpected_keys(ours, theirs):
    twin, ref = ours(), theirs()
    full = {k: v.detach().clone() for k, v in twin.state_dict().items()}
    missing = dict(full)
    missing.pop(next(iter(full)))
    for bad in (missing, {**full, "stray.weight": torch.zeros(2)}):
        with pytest.raises(RuntimeError):
            ref.load_state_dict(bad)                   # torch's own verdict ...
        with pytest.raises(ValueError, match="missing|unexpected"):
            twin.load_state_dict(bad)                  # ... ours, the same (a ValueError)
        with pytest.raises(ValueError, match="missing|unexpected"):
            twin.load_state_dict(bad, strict=True)
    assert twin.load_state_dict(full) == ref.load_state_dict(full)  # no key left out


@pytest.mark.parametrize(("ours", "theirs"), PAIRS, ids=IDS)
def test_non_strict_loads_what_it_knows_and_reports_the_rest(ours, theirs):
    twin, ref = ours(), theirs()
    before = {k: v.detach().clone() for k, v in twin.state_dict().items()}
    sd, dropped = _partial(twin)
    got = twin.load_state_dict(sd, strict=False)
    want = ref.load_state_dict({k: torch.as_tensor(v) for k, v in sd.items()}, strict=False)
    assert got.missing_keys == want.missing_keys == [dropped]
    assert got.unexpected_keys == want.unexpected_keys == ["stray.weight"]
    after = twin.state_dict()
    assert torch.equal(after[dropped], before[dropped])            # left as it was
    for k, v in sd.items():
        if k != "stray.weight":
            np.testing.assert_array_equal(after[k].numpy(), v)    # loaded


@pytest.mark.parametrize(("ours", "theirs"), PAIRS[:1] + PAIRS[3:4], ids=["LSTM", "LSTMCell"])
def test_non_strict_still_checks_shapes_and_strict_is_a_bool(ours, theirs):
    twin = ours()
    sd = {k: v.detach().clone() for k, v in twin.state_dict().items()}
    key = next(iter(sd))
    sd[key] = torch.zeros(1, dtype=torch.float64)
    with pytest.raises(ValueError, match="shape"):
        twin.load_state_dict(sd, strict=False)
    with pytest.raises(TypeError, match="strict"):
        twin.load_state_dict(twin.state_dict(), strict=1)


NUMPY_PAIRS = pairs(lnp)


@pytest.mark.parametrize(("ours", "theirs"), NUMPY_PAIRS, ids=IDS)
def test_numpy_layers_take_strict_as_torch_does(ours, theirs):
    layer, ref = ours(), theirs()
    full = {k: v + 1.0 for k, v in layer.state_dict().items()}
    dropped = next(iter(full))
    missing = {k: v for k, v in full.items() if k != dropped}
    for bad in (missing, {**full, "stray.weight": np.zeros(2)}):
        with pytest.raises(ValueError, match="missing|unexpected"):
            layer.load_state_dict(bad)                 # strict=True, the default
    before = layer.state_dict()[dropped].copy()
    partial = {**missing, "stray.weight": np.zeros(2)}
    got = layer.load_state_dict(partial, strict=False)
    want = ref.load_state_dict({k: torch.as_tensor(v) for k, v in partial.items()}, strict=False)
    assert got.missing_keys == want.missing_keys == [dropped]
    assert got.unexpected_keys == want.unexpected_keys == ["stray.weight"]
    after = layer.state_dict()
    np.testing.assert_array_equal(after[dropped], before)          # left as it was
    for k, v in missing.items():
        np.testing.assert_array_equal(after[k], v, err_msg=k)       # the rest loaded
    assert layer.load_state_dict(full) == ([], [])
