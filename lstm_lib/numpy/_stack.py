"""Layers x directions: the part of a recurrent layer that the RNN and the LSTM share.

A subclass supplies the recurrence of one direction over one sequence (``_run`` and
``_run_backward``, time-major); this base class validates inputs, owns the parameters in
``torch.nn.LSTM``'s layout, feeds each layer the concatenated outputs of the one below,
runs the backward direction on the time-reversed sequence, and routes gradients back down.

Variable lengths (``lengths=``, right-padded x) follow ``torch.nn``'s packed sequences: the
stack builds a (T, B, 1) ``mask`` (1.0 at real steps, 0.0 at padding) that each recurrence
uses to carry its state over padded steps, reverses each sequence within its own length for
the backward direction (so both directions read their real steps first and the padding
after), zeroes the output past each length and ignores ``d_output`` there.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from lstm_lib import checks, params


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` did not load: as ``torch.nn.Module.load_state_dict``'s result."""

    missing_keys: list[str]
    unexpected_keys: list[str]


def incompatible_keys(given: dict[str, Any], expected: dict[str, Any]) -> IncompatibleKeys:
    """The keys of ``expected`` not in ``given`` and those of ``given`` not in ``expected``,
    each in its dict's order (torch's order)."""
    return IncompatibleKeys([k for k in expected if k not in given],
                            [k for k in given if k not in expected])


def load_params(params_: dict[str, np.ndarray], state_dict: dict[str, Any],
                shapes: dict[str, tuple[int, ...]], dtype: Any, owner: str,
                strict: bool = True) -> IncompatibleKeys:
    """The body of every NumPy layer's ``load_state_dict``: check ``state_dict`` against
    ``shapes`` (``checks.state_dict``), copy each known key into ``params_`` (NumPy arrays or
    torch tensors, cast to ``dtype``) and return the missing and unexpected keys."""
    checks.state_dict(state_dict, shapes, owner, strict=strict)
    for k, v in state_dict.items():
        if k not in shapes:
            continue
        if not isinstance(v, np.ndarray):
            v = v.detach().cpu().numpy()
        params_[k] = np.array(v, dtype=dtype, copy=True)
    return incompatible_keys(state_dict, shapes)


Weights = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def time_mask(lengths: np.ndarray, steps: int, dtype: Any) -> np.ndarray:
    """(T, B, 1) array of ``dtype``: 1.0 where step t < lengths[b], else 0.0 (time-major).

    lengths: (B,) int64, as returned by ``checks.lengths``."""
    return (np.arange(steps)[:, None] < lengths[None, :]).astype(dtype)[..., None]


def reverse_index(lengths: np.ndarray, steps: int) -> np.ndarray:
    """(T, B) int64 index that reverses each sequence within its own length.

    ``rev[t, b] = lengths[b] - 1 - t`` for t < lengths[b], else ``t``: gathering
    ``x[rev[t, b], b]`` puts a sequence's real steps first, its last one first, and leaves
    the padding after them. The gather is its own inverse (applied twice: the identity)."""
    t = np.arange(steps)[:, None]
    return np.where(t < lengths[None, :], lengths[None, :] - 1 - t, t)


class RecurrentStack:
    """Base of ``lstm_lib.numpy.RNN`` and ``LSTM``; see those for the public contract."""

    gates: int = 1  # blocks of H rows in each weight: 4 for the LSTM (i, f, g, o), 1 for the RNN
    state_names: tuple[str, ...] = ("h",)  # ("h", "c") for the LSTM

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        dtype: Any = np.float64,
        seed: int = 0,
    ) -> None:
        self.input_size, self.hidden_size, self.num_layers, self.num_directions = (
            params.layer_config(input_size, hidden_size, num_layers, bidirectional))
        self.bidirectional = bidirectional
        self.dtype = checks.float_dtype(dtype)
        self._shapes = params.shapes(
            self.input_size, self.hidden_size, self.num_layers, self.num_directions, self.gates
        )
        self.params = params.init(self._shapes, self.hidden_size, self.dtype, seed)
        self.grads: dict[str, np.ndarray] = {}
        self._step_parts: dict[str, list[np.ndarray]] = {}
        self._caches: list[list[Any]] | None = None
        self._buffers: dict[tuple, dict[str, np.ndarray]] = {}
        self._mask: np.ndarray | None = None  # (T, B, 1) of the last forward with lengths
        self._rev: np.ndarray | None = None   # its per-sequence reversal, as a (T*B,) index

    # ----------------------------------------------------------------------- parameters
    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the parameters, keys and shapes exactly as ``torch.nn.LSTM``'s."""
        return {k: v.copy() for k, v in self.params.items()}

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy parameters from a dict of NumPy arrays or torch tensors (same keys/shapes).

        ``strict`` as ``torch.nn.Module.load_state_dict``: ``True`` rejects a missing or an
        unexpected key (ValueError); ``False`` loads the keys it knows and leaves the others.
        Returns the missing and unexpected keys, as torch does.
        """
        return load_params(self.params, state_dict, self._shapes, self.dtype,
                           type(self).__name__, strict)

    def num_parameters(self) -> int:
        """Total number of scalar parameters."""
        return sum(v.size for v in self.params.values())

    def _weights(self, layer: int, direction: int) -> Weights:
        w_ih, w_hh, b_ih, b_hh = params.layer_keys(layer, direction)
        p = self.params
        return p[w_ih], p[w_hh], p[b_ih], p[b_hh]

    # ----------------------------------------------------------------------- checks
    def _state_shape(self, batch: int) -> tuple[int, int, int]:
        return (self.num_directions * self.num_layers, batch, self.hidden_size)

    def _check_state(self, state: Any, batch: int, what: str) -> tuple[np.ndarray, ...]:
        """Return the state as a tuple of float arrays (zeros if ``state`` is None)."""
        shape = self._state_shape(batch)
        names = self.state_names
        if state is None:
            return tuple(np.zeros(shape, self.dtype) for _ in names)
        parts = (state,) if len(names) == 1 else state
        if len(names) > 1 and (not isinstance(state, (tuple, list)) or len(state) != len(names)):
            raise ValueError(f"{what} must be a tuple ({', '.join(n + '_0' for n in names)}), "
                             f"got {type(state).__name__}")
        out = []
        for name, part in zip(names, parts, strict=True):
            checks.array(f"{what} {name}", part, shape, "(D*num_layers, B, H)")
            out.append(np.asarray(part, dtype=self.dtype))
        return tuple(out)

    # ----------------------------------------------------------------------- forward
    def forward(self, x: np.ndarray, state: Any = None,
                lengths: Any = None) -> tuple[np.ndarray, Any]:
        """Run the layer over a batch of sequences.

        x: (B, T, I) float array. state: the initial state, None for zeros; for the LSTM a
        tuple (h_0, c_0), for the RNN h_0, each (D*num_layers, B, H).
        lengths: None (every sequence has T steps) or B integers in [1, T] (array, list or
        tensor): x is right-padded and the result is ``torch.nn``'s on
        ``pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)``.
        Returns (output, final state): output (B, T, D*H) is the last layer's h at every
        step (forward direction in [..., :H], backward in [..., H:]), 0 past each length;
        the final state has the shape of the initial one (LSTM: (h_n, c_n); RNN: h_n), each
        sequence's state at its own last step (the backward direction's at step 0).
        """
        checks.array("x", x, (None, None, self.input_size), "(B, T, I)")
        batch, steps = x.shape[0], x.shape[1]
        init = self._check_state(state, batch, "state")
        mask = rev = None
        if lengths is not None:
            lens = checks.lengths(lengths, batch, steps)
            mask = time_mask(lens, steps, self.dtype)  # (T, B, 1)
            rev = (reverse_index(lens, steps) * batch + np.arange(batch)).ravel()  # into (T*B)
        self._mask, self._rev = mask, rev
        layer_in = np.ascontiguousarray(x.transpose(1, 0, 2), dtype=self.dtype)  # (T, B, I)
        finals = [np.empty(self._state_shape(batch), self.dtype) for _ in self.state_names]
        self._caches = []
        for layer in range(self.num_layers):
            outs, caches = [], []
            for d in range(self.num_directions):
                k = layer * self.num_directions + d
                buf = self._buffer(layer, d, layer_in.shape)
                xs = layer_in if d == 0 else self._reverse(layer_in, buf, "x_rev")
                extra = {} if mask is None else {"mask": mask}
                cache = self._run(xs, self._weights(layer, d), tuple(s[k] for s in init),
                                  buf, **extra)
                hs = cache["h"][1:]  # (T, B, H), h_1 .. h_T in the order this direction read
                if mask is not None:
                    hs = np.multiply(hs, mask, out=get(buf, "h_out", hs.shape, self.dtype))
                outs.append(hs if d == 0 else self._reverse(hs))
                for final, name in zip(finals, self.state_names, strict=True):
                    final[k] = cache[name][-1]
                caches.append(cache)
            self._caches.append(caches)
            layer_in = np.concatenate(outs, axis=-1) if len(outs) > 1 else outs[0]
        self._batch_time = (batch, steps)
        output = layer_in.transpose(1, 0, 2).copy()  # a copy: layer_in may live in a work buffer
        return output, (finals[0] if len(finals) == 1 else tuple(finals))

    def _reverse(self, a: np.ndarray, buf: dict[str, np.ndarray] | None = None,
                 name: str = "") -> np.ndarray:
        """(T, B, F) in the input's time order <-> the backward direction's reading order:
        ``a[::-1]`` (a view) without lengths; with them, each sequence reversed within its
        own length (a gather, into ``buf[name]`` if given). Its own inverse."""
        if self._rev is None:
            return a[::-1]
        T, B, F = a.shape
        out = None if buf is None else get(buf, name, a.shape, a.dtype)
        flat = np.take(a.reshape(T * B, F), self._rev, axis=0,
                       out=None if out is None else out.reshape(T * B, F))
        return flat.reshape(T, B, F)

    __call__ = forward

    def _buffer(self, layer: int, direction: int, shape: tuple[int, ...]) -> dict[str, np.ndarray]:
        """Work arrays for one (layer, direction), reused while the call shape stays the same."""
        key = (layer, direction, shape)
        if key not in self._buffers:
            if len(self._buffers) > 4 * self.num_layers * self.num_directions:
                self._buffers.clear()
            self._buffers[key] = {}
        return self._buffers[key]

    def trace(self, x: np.ndarray, state: Any = None,
              lengths: Any = None) -> dict[str, np.ndarray]:
        """Run forward and return what every step computed, for plots and teaching.

        Returns a dict of (D*num_layers, B, T, H) arrays in the input's time order: for the
        LSTM the gates ``i``, ``f``, ``g``, ``o`` and the states ``c``, ``h``; for the RNN ``h``.
        With ``lengths``, the values past each length are 0.
        """
        self.forward(x, state, lengths)
        assert self._caches is not None
        out: dict[str, list[np.ndarray]] = {}
        for layer_caches in self._caches:
            for d, cache in enumerate(layer_caches):
                for name, steps in self._trace_steps(cache).items():  # (T, B, H) each
                    if self._mask is not None:
                        steps = steps * self._mask
                    steps = steps if d == 0 else self._reverse(steps)
                    out.setdefault(name, []).append(steps.transpose(1, 0, 2))
        return {k: np.stack(v) for k, v in out.items()}

    # ----------------------------------------------------------------------- backward
    def backward(self, d_output: np.ndarray, d_state: Any = None) -> tuple[np.ndarray, Any]:
        """Backprop through time for the last ``forward``.

        d_output: (B, T, D*H), the gradient of the loss with respect to ``output``.
        d_state: gradient with respect to the final state, shaped like it, or None for zero.
        Returns (dx, d_initial_state): dx (B, T, I) and the gradient with respect to the
        initial state (LSTM: (dh_0, dc_0); RNN: dh_0). Fills ``self.grads`` (state_dict keys)
        and ``self.step_grads`` (``h`` and, for the LSTM, ``c``: (D*num_layers, B, T, H), the
        total gradient of the loss with respect to each step's state).
        """
        if self._caches is None:
            raise ValueError("backward called before forward: run forward(x) first")
        batch, steps = self._batch_time
        hd = self.num_directions * self.hidden_size
        checks.array("d_output", d_output, (batch, steps, hd), "(B, T, D*H)")
        d_final = self._check_state(d_state, batch, "d_state")
        d_in = np.ascontiguousarray(d_output.transpose(1, 0, 2), dtype=self.dtype)  # (T, B, D*H)
        if self._mask is not None:
            d_in = d_in * self._mask  # d_output past each length is ignored
        d_init = [np.empty(self._state_shape(batch), self.dtype) for _ in self.state_names]
        parts: dict[str, list[Any]] = {n: [None] * len(d_init[0]) for n in self.state_names}
        H = self.hidden_size
        for layer in reversed(range(self.num_layers)):
            d_below = None
            for d in range(self.num_directions):
                k = layer * self.num_directions + d
                d_hs = d_in[..., d * H:(d + 1) * H]
                d_hs = d_hs if d == 0 else self._reverse(d_hs)
                cache = self._caches[layer][d]
                dxs, grads, d_start, per_step = self._run_backward(
                    cache, self._weights(layer, d), d_hs, tuple(g[k] for g in d_final)
                )
                dxs = dxs if d == 0 else self._reverse(dxs)
                d_below = dxs if d_below is None else d_below + dxs
                for key, g in zip(params.layer_keys(layer, d), grads, strict=True):
                    self.grads[key] = g
                for i, name in enumerate(self.state_names):
                    d_init[i][k] = d_start[i]
                    parts[name][k] = per_step[name] if d == 0 else self._reverse(per_step[name])
            d_in = d_below
        self._step_parts = parts
        dx = np.ascontiguousarray(d_in.transpose(1, 0, 2))
        return dx, (d_init[0] if len(d_init) == 1 else tuple(d_init))

    @property
    def step_grads(self) -> dict[str, np.ndarray]:
        """After ``backward``: the total gradient of the loss with respect to every step's
        state, ``h`` (and ``c`` for the LSTM), each (D*num_layers, B, T, H), in the input's
        time order. Assembled (as new arrays) when read, so a backward that nobody asks
        this of does not pay for it."""
        return {name: np.stack([p.transpose(1, 0, 2) for p in per_k])
                for name, per_k in self._step_parts.items()}

    # ----------------------------------------------------------------------- per subclass
    def _run(self, xs: np.ndarray, w: Weights, start: tuple[np.ndarray, ...],
             buf: dict[str, np.ndarray], mask: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """The recurrence of one direction, time-major: xs (T, B, F) in reading order;
        ``mask`` None (every step real) or (T, B, 1) of 1.0/0.0, the state carried over
        where it is 0. Returns the cache (with ``h``: (T+1, B, H), states h_0 .. h_T)."""
        raise NotImplementedError

    def _run_backward(self, cache: dict[str, np.ndarray], w: Weights, d_hs: np.ndarray,
                      d_end: tuple[np.ndarray, ...]) -> tuple:
        raise NotImplementedError

    def _trace_steps(self, cache: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(input_size={self.input_size}, "
                f"hidden_size={self.hidden_size}, num_layers={self.num_layers}, "
                f"bidirectional={self.bidirectional}, dtype={self.dtype.name})")


class CellBase:
    """A cell is a one-layer layer run for one step, so cell and layer share every line of
    their math. Parameters carry ``torch.nn.LSTMCell``'s / ``RNNCell``'s keys."""

    layer_class: type[RecurrentStack] = RecurrentStack
    _KEYS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")

    def __init__(self, input_size: int, hidden_size: int, dtype: Any = np.float64,
                 seed: int = 0) -> None:
        self._layer = self.layer_class(input_size, hidden_size, dtype=dtype, seed=seed)
        self.input_size, self.hidden_size = self._layer.input_size, self._layer.hidden_size
        self.dtype = self._layer.dtype
        self.grads: dict[str, np.ndarray] = {}

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``."""
        sd = self._layer.state_dict()
        return {k: sd[f"{k}_l0"] for k in self._KEYS}

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy parameters from NumPy arrays or torch tensors with the torch cell's keys;
        ``strict`` and the result as the layer's ``load_state_dict``."""
        shapes = params.cell_shapes(self.input_size, self.hidden_size, self.layer_class.gates)
        checks.state_dict(state_dict, shapes, type(self).__name__, strict=strict)
        self._layer.load_state_dict({f"{k}_l0": v for k, v in state_dict.items() if k in shapes},
                                    strict=False)
        return incompatible_keys(state_dict, shapes)

    def _check_backward(self, name: str, grad: np.ndarray) -> int:
        """Raise unless a forward ran and ``grad`` is (B, H); return B."""
        if self._layer._caches is None:
            raise ValueError("backward called before forward: run forward(x) first")
        batch = self._layer._batch_time[0]
        checks.array(name, grad, (batch, self.hidden_size), "(B, H)")
        return batch

    def _cell_grads(self) -> dict[str, np.ndarray]:
        return {k: self._layer.grads[f"{k}_l0"] for k in self._KEYS}

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(input_size={self.input_size}, "
                f"hidden_size={self.hidden_size})")


def projection(xs: np.ndarray, w_ih: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """The input's contribution to every step at once: one GEMM over all T*B rows.

    xs: (T, B, I); w_ih: (G*H, I); b: (G*H,); out: (T, B, G*H), filled and returned.
    """
    T, B, I = xs.shape
    np.matmul(xs.reshape(T * B, I), w_ih.T, out=out.reshape(T * B, -1))
    out += b
    return out


def weight_grads(dz: np.ndarray, xs: np.ndarray, hs_prev: np.ndarray,
                 w_ih: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Parameter and input gradients from the pre-activation gradients of all steps.

    dz: (T, B, G*H) gradient w.r.t. the pre-activations; xs: (T, B, I) the inputs;
    hs_prev: (T, B, H) the state each step received. Returns (dW_ih, dW_hh, db, dxs):
    three large GEMMs after the loop instead of T small ones inside it. db is the gradient
    of both b_ih and b_hh (they are added).
    """
    T, B, GH = dz.shape
    dz2 = dz.reshape(T * B, GH)
    dw_ih = dz2.T @ xs.reshape(T * B, -1)
    dw_hh = dz2.T @ hs_prev.reshape(T * B, -1)
    db = dz2.sum(axis=0)
    dxs = (dz2 @ w_ih).reshape(T, B, -1)
    return dw_ih, dw_hh, db, dxs


def get(buf: dict[str, np.ndarray], name: str, shape: tuple[int, ...],
        dtype: np.dtype) -> np.ndarray:
    """A work array from ``buf``, allocated on first use for this call shape."""
    a = buf.get(name)
    if a is None or a.shape != shape or a.dtype != dtype:
        a = buf[name] = np.empty(shape, dtype)
    return a
