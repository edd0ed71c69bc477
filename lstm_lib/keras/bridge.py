"""Copy weights between the PyTorch LSTM layout and Keras's ``LSTM`` and ``Dense`` layers.

PyTorch (and ``lstm_lib``) keep, per layer and direction, ``weight_ih`` ``(4H, I)``,
``weight_hh`` ``(4H, H)`` and two biases ``bias_ih``, ``bias_hh`` ``(4H,)``. Keras 3 keeps
``kernel`` ``(I, 4H)``, ``recurrent_kernel`` ``(H, 4H)`` and one ``bias`` ``(4H,)``. The gates
are stacked in the same order in both (input, forget, cell candidate, output), so

    kernel = weight_ih.T,   recurrent_kernel = weight_hh.T,   bias = bias_ih + bias_hh.

Going back, the split of the one Keras bias into two is not unique; we put it all in
``bias_ih`` and set ``bias_hh`` to zero, which gives the same outputs.

``nn.Linear`` keeps ``weight`` ``(out, in)`` and ``bias`` ``(out,)``; Keras's ``Dense`` keeps
``kernel`` ``(in, out)`` and ``bias`` ``(out,)``.

Keras is imported by the caller, never here: these functions only touch a Keras layer's
``get_weights``/``set_weights``, so importing this module does not load Keras.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lstm_lib import checks
from lstm_lib.verify.compare import Agreement

__all__ = [
    "lstm_keys",
    "lstm_to_keras_weights",
    "keras_to_lstm_weights",
    "copy_lstm_to_keras",
    "copy_keras_to_lstm",
    "copy_linear_to_keras",
    "copy_keras_to_linear",
    "copy_model_to_keras",
    "keras_shapes",
    "shape_table",
    "Agreement",
    "KerasAgreement",
    "copy_and_compare",
]


def _numpy(name: str, value: Any) -> np.ndarray:
    """A torch tensor or array-like as a NumPy array (a copy for tensors)."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    arr = np.asarray(value)
    if arr.dtype.kind != "f":
        raise TypeError(f"{name} must be floating, got dtype {arr.dtype}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def _state_dict(source: Any) -> Mapping[str, Any]:
    if isinstance(source, Mapping):
        return source
    if hasattr(source, "state_dict"):
        return source.state_dict()
    raise TypeError(
        "source must be a state_dict (mapping) or have .state_dict() "
        f"(lstm_lib LSTM, torch.nn.LSTM), got {type(source).__name__}"
    )


def lstm_keys(layer: int = 0, reverse: bool = False) -> tuple[str, str, str, str]:
    """The four ``torch.nn.LSTM`` state_dict keys of one layer and direction.

    ``lstm_keys(1, reverse=True)`` is ``("weight_ih_l1_reverse", "weight_hh_l1_reverse",
    "bias_ih_l1_reverse", "bias_hh_l1_reverse")``.
    """
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or layer < 0:
        raise ValueError(f"layer must be a non-negative int, got {layer!r}")
    suffix = f"_l{int(layer)}" + ("_reverse" if reverse else "")
    return tuple(f"{k}{suffix}" for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))


def lstm_to_keras_weights(
    source: Any, layer: int = 0, reverse: bool = False
) -> list[np.ndarray]:
    """PyTorch-layout LSTM weights -> Keras's ``[kernel (I, 4H), recurrent_kernel (H, 4H),
    bias (4H,)]``.

    ``source``: a state_dict with ``torch.nn.LSTM``'s keys (NumPy arrays or tensors) or any
    object with ``.state_dict()``; ``layer`` and ``reverse`` pick one layer and direction.
    """
    sd = _state_dict(source)
    keys = lstm_keys(layer, reverse)
    missing = [k for k in keys if k not in sd]
    if missing:
        raise ValueError(f"source has no {missing}; its keys are {sorted(sd)}")
    w_ih, w_hh, b_ih, b_hh = (_numpy(k, sd[k]) for k in keys)
    if w_hh.ndim != 2 or w_hh.shape[0] != 4 * w_hh.shape[1]:
        raise ValueError(f"{keys[1]} must have shape (4H, H), got {w_hh.shape}")
    H = w_hh.shape[1]
    if w_ih.ndim != 2 or w_ih.shape[0] != 4 * H:
        raise ValueError(f"{keys[0]} must have shape (4H, I) = ({4 * H}, I), got {w_ih.shape}")
    for k, b in ((keys[2], b_ih), (keys[3], b_hh)):
        if b.shape != (4 * H,):
            raise ValueError(f"{k} must have shape (4H,) = ({4 * H},), got {b.shape}")
    return [w_ih.T.copy(), w_hh.T.copy(), b_ih + b_hh]


def keras_to_lstm_weights(
    weights: list[Any], layer: int = 0, reverse: bool = False
) -> dict[str, np.ndarray]:
    """Keras's ``[kernel (I, 4H), recurrent_kernel (H, 4H), bias (4H,)]`` -> the four
    ``torch.nn.LSTM`` entries of one layer and direction (NumPy arrays).

    ``bias_ih`` gets the whole Keras bias and ``bias_hh`` zeros (their sum is what counts).
    """
    if not isinstance(weights, (list, tuple)) or len(weights) != 3:
        got = len(weights) if isinstance(weights, (list, tuple)) else type(weights).__name__
        raise ValueError(
            f"weights must be [kernel, recurrent_kernel, bias] (an LSTM with use_bias=True), "
            f"got {got}"
        )
    kernel, recurrent, bias = (
        _numpy(n, w) for n, w in zip(("kernel", "recurrent_kernel", "bias"), weights, strict=True)
    )
    if recurrent.ndim != 2 or recurrent.shape[1] != 4 * recurrent.shape[0]:
        raise ValueError(f"recurrent_kernel must have shape (H, 4H), got {recurrent.shape}")
    H = recurrent.shape[0]
    if kernel.ndim != 2 or kernel.shape[1] != 4 * H:
        raise ValueError(f"kernel must have shape (I, 4H) = (I, {4 * H}), got {kernel.shape}")
    if bias.shape != (4 * H,):
        raise ValueError(f"bias must have shape (4H,) = ({4 * H},), got {bias.shape}")
    keys = lstm_keys(layer, reverse)
    return {
        keys[0]: kernel.T.copy(),
        keys[1]: recurrent.T.copy(),
        keys[2]: bias.copy(),
        keys[3]: np.zeros_like(bias),
    }


def _get_weights(layer: Any) -> list[np.ndarray]:
    """A Keras layer's weights as NumPy arrays, like ``get_weights()`` but read from the
    backend tensors (Keras 3.15's ``get_weights`` warns under NumPy 2)."""
    return [_numpy(w.name, getattr(w, "value", w)) for w in layer.weights]


def _keras_layer(layer: Any, kind: str) -> Any:
    keras = sys.modules.get("keras")
    cls = getattr(getattr(keras, "layers", None), kind, None) if keras is not None else None
    if cls is None or not isinstance(layer, cls):
        raise TypeError(f"expected a keras.layers.{kind}, got {type(layer).__name__}")
    if not layer.use_bias:
        raise ValueError(f"the keras {kind} must have use_bias=True (PyTorch's layers have one)")
    return keras


def copy_lstm_to_keras(source: Any, keras_layer: Any, layer: int = 0,
                       reverse: bool = False, batch_size: int | None = None) -> None:
    """Set a ``keras.layers.LSTM``'s weights from PyTorch-layout weights (in place).

    ``source``: state_dict or object with ``.state_dict()`` (``lstm_lib`` LSTM or LSTMLayer,
    ``torch.nn.LSTM``); ``layer``/``reverse`` pick which of its layers and directions.
    An unbuilt Keras layer is built for inputs ``(batch_size, T, I)`` first (a stateful
    Keras layer needs a fixed ``batch_size``). The Keras layer must use ``tanh``/``sigmoid``
    (its defaults) and ``use_bias=True``, else the outputs could not match.
    """
    keras = _keras_layer(keras_layer, "LSTM")
    if (keras_layer.activation is not keras.activations.tanh
            or keras_layer.recurrent_activation is not keras.activations.sigmoid):
        raise ValueError(
            "the keras LSTM must use activation='tanh' and recurrent_activation='sigmoid' "
            "(the LSTM of PyTorch and lstm_lib)"
        )
    kernel, recurrent, bias = lstm_to_keras_weights(source, layer, reverse)
    I, H = kernel.shape[0], recurrent.shape[0]
    if keras_layer.units != H:
        raise ValueError(f"the keras LSTM has units={keras_layer.units}, the source has H={H}")
    if not keras_layer.built:
        if batch_size is not None:
            batch_size = checks.positive_int("batch_size", batch_size)
        elif keras_layer.stateful:
            raise ValueError("a stateful keras LSTM needs a fixed batch size: pass batch_size=B "
                             "(or build the layer first)")
        keras_layer.build((batch_size, None, I))
    want = _get_weights(keras_layer)[0].shape
    if want != kernel.shape:
        raise ValueError(
            f"the keras LSTM's kernel is {want} (input size {want[0]}), the source's input "
            f"size is {I}"
        )
    keras_layer.set_weights([kernel, recurrent, bias])


def copy_keras_to_lstm(keras_layer: Any, target: Any, layer: int = 0,
                       reverse: bool = False) -> None:
    """Load a built ``keras.layers.LSTM``'s weights into ``target`` (in place).

    ``target`` has ``state_dict()``/``load_state_dict()`` in ``torch.nn.LSTM``'s layout
    (``lstm_lib`` LSTM or LSTMLayer, ``torch.nn.LSTM``); only the entries of ``layer`` and
    direction ``reverse`` change, converted to the dtype (and type) they had.
    """
    _keras_layer(keras_layer, "LSTM")
    if not keras_layer.built:
        raise ValueError("the keras LSTM is not built yet: call it on an input or .build() it")
    if not (hasattr(target, "state_dict") and hasattr(target, "load_state_dict")):
        raise TypeError(
            f"target must have state_dict()/load_state_dict(), got {type(target).__name__}"
        )
    new = keras_to_lstm_weights(_get_weights(keras_layer), layer, reverse)
    current = dict(target.state_dict())
    for key, value in new.items():
        if key not in current:
            raise ValueError(f"target has no {key}; its keys are {sorted(current)}")
        old = current[key]
        if tuple(old.shape) != value.shape:
            raise ValueError(f"{key}: target has shape {tuple(old.shape)}, keras gives "
                             f"{value.shape}")
        current[key] = _like(value, old)
    target.load_state_dict(current)


def _like(value: np.ndarray, old: Any) -> Any:
    """``value`` as the same kind (tensor or array) and dtype as ``old``."""
    if hasattr(old, "detach"):
        import torch

        return torch.as_tensor(checks.positive_strides(value), dtype=old.dtype, device=old.device)
    return np.asarray(value, dtype=np.asarray(old).dtype)


def copy_linear_to_keras(linear: Any, dense: Any) -> None:
    """Set a ``keras.layers.Dense``'s kernel ``(in, out)`` and bias from ``torch.nn.Linear``'s
    ``weight`` ``(out, in)`` and ``bias``; an unbuilt Dense is built for ``in`` first."""
    _keras_layer(dense, "Dense")
    if not (hasattr(linear, "weight") and getattr(linear, "bias", None) is not None):
        raise TypeError(f"linear must be an nn.Linear with a bias, got {type(linear).__name__}")
    w = _numpy("weight", linear.weight)
    b = _numpy("bias", linear.bias)
    if dense.units != w.shape[0]:
        raise ValueError(f"the keras Dense has units={dense.units}, the Linear has "
                         f"out_features={w.shape[0]}")
    if not dense.built:
        dense.build((None, w.shape[1]))
    want = _get_weights(dense)[0].shape
    if want != (w.shape[1], w.shape[0]):
        raise ValueError(f"the keras Dense's kernel is {want}, the Linear gives "
                         f"{(w.shape[1], w.shape[0])}")
    dense.set_weights([w.T.copy(), b])


def copy_keras_to_linear(dense: Any, linear: Any) -> None:
    """Load a built ``keras.layers.Dense``'s weights into ``torch.nn.Linear`` (in place)."""
    import torch

    _keras_layer(dense, "Dense")
    if not dense.built:
        raise ValueError("the keras Dense is not built yet: call it on an input or .build() it")
    kernel, bias = (_numpy(n, w) for n, w in zip(("kernel", "bias"), _get_weights(dense),
                                                 strict=True))
    if tuple(linear.weight.shape) != kernel.T.shape:
        raise ValueError(f"the Linear's weight is {tuple(linear.weight.shape)}, keras gives "
                         f"{kernel.T.shape}")
    with torch.no_grad():
        linear.weight.copy_(torch.as_tensor(kernel.T))
        linear.bias.copy_(torch.as_tensor(bias))


def _torch_layers(model: Any) -> list[Any]:
    """The layers with weights of a torch model, in registration order: LSTMs (anything with
    ``weight_ih_l0``) and ``nn.Linear``; wrappers such as ``TimeDistributed`` are looked into."""
    from torch import nn

    found = []
    for module in model.modules():
        if hasattr(module, "weight_ih_l0") or isinstance(module, nn.Linear):
            found.append(module)
        elif any(True for _ in module.parameters(recurse=False)):
            raise ValueError(f"cannot copy a {type(module).__name__} to Keras (only LSTM layers "
                             "and nn.Linear)")
    return found


def _keras_layers(model: Any, keras: Any) -> list[Any]:
    found = []
    for layer in model.layers:
        while isinstance(layer, keras.layers.TimeDistributed):
            layer = layer.layer
        if isinstance(layer, (keras.layers.LSTM, keras.layers.Dense)):
            found.append(layer)
        elif layer.weights:
            raise ValueError(f"cannot copy weights to a keras {type(layer).__name__} "
                             "(only LSTM and Dense)")
    return found


def copy_model_to_keras(model: Any, keras_model: Any) -> list[tuple[str, str]]:
    """Copy every weight of a torch ``model`` into a Keras model built from the same layers.

    The layers with weights are paired in order: the torch model's LSTM layers (single-layer,
    unidirectional) and ``nn.Linear`` in registration order, against the Keras model's
    ``LSTM`` and ``Dense`` layers (inside ``TimeDistributed`` too) in ``keras_model.layers``
    order. The kinds must match pair by pair (LSTM with LSTM, Linear with Dense) and so must
    the sizes. Returns the pairs' class names, e.g. ``[("LSTMLayer", "LSTM"), ("Linear",
    "Dense")]``.
    """
    keras = sys.modules.get("keras")
    if keras is None or not isinstance(keras_model, keras.Model):
        raise TypeError(f"keras_model must be a keras.Model, got {type(keras_model).__name__}")
    ours, theirs = _torch_layers(model), _keras_layers(keras_model, keras)
    if len(ours) != len(theirs):
        raise ValueError(
            f"the torch model has {len(ours)} layers with weights "
            f"{[type(m).__name__ for m in ours]}, the keras model {len(theirs)} "
            f"{[type(k).__name__ for k in theirs]}"
        )
    pairs = []
    for i, (m, k) in enumerate(zip(ours, theirs, strict=True)):
        is_lstm = hasattr(m, "weight_ih_l0")
        if is_lstm != isinstance(k, keras.layers.LSTM):
            raise ValueError(f"layer {i}: cannot pair a torch {type(m).__name__} with a keras "
                             f"{type(k).__name__}")
        if is_lstm:
            if "weight_ih_l1" in dict(m.named_parameters()) or any(
                    "reverse" in n for n, _ in m.named_parameters()):
                raise ValueError(f"layer {i}: only one-layer, one-direction LSTMs pair with a "
                                 "keras LSTM")
            copy_lstm_to_keras(m, k)
        else:
            copy_linear_to_keras(m, k)
        pairs.append((type(m).__name__, type(k).__name__))
    return pairs


def keras_shapes(keras_model: Any) -> list[tuple[str, tuple[Any, ...] | list[tuple[Any, ...]]]]:
    """The output shape of each layer of a built Keras model, ``None`` for the batch axis:
    ``[("Input", (None, 13)), ("RepeatVector", (None, 8, 13)), ...]``; a layer with several
    outputs (an LSTM with ``return_state``) gives a list of shapes."""
    keras = sys.modules.get("keras")
    if keras is None or not isinstance(keras_model, keras.Model):
        raise TypeError(f"keras_model must be a keras.Model, got {type(keras_model).__name__}")
    rows: list[tuple[str, Any]] = [("Input", tuple(t.shape)) for t in keras_model.inputs]
    for layer in keras_model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        name = type(layer).__name__
        if isinstance(layer, keras.layers.TimeDistributed):
            name = f"TimeDistributed({type(layer.layer).__name__})"
        out = layer.output
        rows.append((name, [tuple(o.shape) for o in out] if isinstance(out, (list, tuple))
                     else tuple(out.shape)))
    return rows


def shape_table(model: Any, keras_model: Any, x: Any) -> str:
    """Each layer's output shape, a torch ``nn.Sequential`` of ``lstm_lib.keras.layers`` layers
    next to the Keras model built from the same layers, as a printable table.

    ``x``: an input ``(B, ...)`` for the torch model (array or tensor). The shapes come from
    ``lstm_lib.keras.layers.trace_shapes`` and ``keras_shapes``; Keras writes ``None`` for the
    batch axis. Raises ``ValueError`` if the layer counts or any shape apart from the batch
    axis differ.
    """
    from lstm_lib.keras.layers import trace_shapes

    ours, theirs = trace_shapes(model, x), keras_shapes(keras_model)
    if len(ours) != len(theirs):
        raise ValueError(f"the torch model has {len(ours)} rows {[n for n, _ in ours]}, the "
                         f"keras model {len(theirs)} {[n for n, _ in theirs]}")
    lines = [f"{'lstm_lib.keras.layers':28s} {'shape':16s} {'Keras':24s} shape"]
    for (name, shape), (k_name, k_shape) in zip(ours, theirs, strict=True):
        if _without_batch(shape) != _without_batch(k_shape):
            raise ValueError(f"{name} gives {shape}, keras's {k_name} {k_shape}")
        lines.append(f"{name:28s} {str(shape):16s} {k_name:24s} {k_shape}")
    return "\n".join(lines)


def _without_batch(shape: Any) -> Any:
    if isinstance(shape, list):
        return [tuple(s)[1:] for s in shape]
    return tuple(shape)[1:]


@dataclass(repr=False)
class KerasAgreement(Agreement):
    """What ``copy_and_compare`` found: a ``lstm_lib.verify.compare.Agreement`` table of one row
    (``"output"``) and one column (``"keras"``), whose ``max_diff`` is the largest absolute
    difference of the outputs, and the layer ``pairs`` whose weights were copied (torch class
    name, keras class name)."""

    pairs: list[tuple[str, str]] = field(default_factory=list)

    def __str__(self) -> str:
        copied = ", ".join(f"{a} -> {b}" for a, b in self.pairs)
        return f"weights copied: {copied}\nmax |keras - lstm_lib| = {self.max_diff:.1e}"

    __repr__ = __str__


def copy_and_compare(model: Any, keras_model: Any, x: Any) -> KerasAgreement:
    """Copy ``model``'s weights into ``keras_model`` (``copy_model_to_keras``), run both on
    ``x`` (array ``(B, ...)``; the torch model gets it as a tensor, without gradients) and
    return the ``KerasAgreement``: the pairs copied and ``max |keras(x) - model(x)|``."""
    import torch

    pairs = copy_model_to_keras(model, keras_model)
    with torch.no_grad():
        ours = model(torch.as_tensor(checks.positive_strides(np.asarray(x))))
        theirs = keras_model(x)
        theirs = (theirs.detach().cpu() if hasattr(theirs, "detach")
                  else torch.as_tensor(np.asarray(theirs)))
    if tuple(ours.shape) != tuple(theirs.shape):
        raise ValueError(f"the torch model gives {tuple(ours.shape)}, keras "
                         f"{tuple(theirs.shape)}")
    diff = float((theirs - ours).abs().max())
    return KerasAgreement(["keras"], {"output": [diff]}, pairs=pairs)
