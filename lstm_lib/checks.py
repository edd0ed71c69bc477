"""Input validation shared by the NumPy and torch implementations.

Every public entry point calls these before doing any work, so that a wrong input fails
early with a message that says what was expected and what came, never deep inside NumPy.
Wrong shapes and values raise ``ValueError``; a wrong kind of dtype raises ``TypeError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


def positive_int(name: str, value: Any) -> int:
    """Return ``value`` if it is an int >= 1, else raise ``ValueError``/``TypeError``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a positive int, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int, got {value}")
    return int(value)


def positive_float(name: str, value: Any) -> float:
    """``value`` as a float if it is a finite real number > 0, else ValueError/TypeError."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a positive number, got {type(value).__name__}")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value}")
    return float(value)


def generator(value: Any, name: str = "seed", allow_seed: bool = True) -> np.random.Generator:
    """The random source of a data function: a ``numpy.random.Generator`` is returned as it
    is; with ``allow_seed``, a non-negative int seeds a new one (``np.random.default_rng``).
    Another kind raises ``TypeError``, a negative seed ``ValueError``."""
    if isinstance(value, np.random.Generator):
        return value
    if allow_seed and isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"{name} must be a non-negative int, got {value}")
        return np.random.default_rng(int(value))
    kinds = ("a non-negative int or a numpy.random.Generator" if allow_seed
             else "a numpy.random.Generator (np.random.default_rng(seed))")
    raise TypeError(f"{name} must be {kinds}, got {type(value).__name__}")


def float_dtype(dtype: Any) -> np.dtype:
    """Normalise a float dtype given as NumPy or torch dtype; only float32/float64 allowed."""
    if type(dtype).__module__ == "torch":  # torch.float32 -> "float32"
        dtype = str(dtype).replace("torch.", "")
    try:
        dt = np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"dtype must be float32 or float64, got {dtype!r}") from err
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"dtype must be float32 or float64, got {dt}")
    return dt


def _dtype_kind(x: Any) -> str:
    """'f' for real floating, 'i' for integer/bool, 'c' for complex, '?' otherwise."""
    if isinstance(x, np.ndarray):
        return {"f": "f", "i": "i", "u": "i", "b": "i", "c": "c"}.get(x.dtype.kind, "?")
    import torch

    if isinstance(x, torch.Tensor):
        if x.is_complex():
            return "c"
        return "f" if x.is_floating_point() else "i"
    return "?"


def array(
    name: str,
    x: Any,
    shape: tuple[int | None, ...],
    dims: str,
    *,
    allow_torch: bool = False,
) -> Any:
    """Check that ``x`` is a finite real float array of the given shape.

    ``shape`` holds the expected size of each axis, ``None`` where any size >= 1 is fine;
    ``dims`` names the axes for messages, e.g. ``"(B, T, I)"``. Returns ``x`` unchanged.
    """
    kinds = "a NumPy array" + (" or torch tensor" if allow_torch else "")
    if _dtype_kind(x) == "?":
        if isinstance(x, (list, tuple)) or np.isscalar(x):
            raise TypeError(
                f"{name} must be {kinds}, got {type(x).__name__}; wrap it in np.asarray")
        raise TypeError(f"{name} must be {kinds}, got {type(x).__name__}")
    if not allow_torch and not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array, got {type(x).__name__}")
    kind = _dtype_kind(x)
    if kind != "f":
        what = "complex" if kind == "c" else "integer/bool"
        raise TypeError(f"{name} must have a real floating dtype, got {what} dtype {x.dtype}")
    got = tuple(x.shape)
    if len(got) != len(shape):
        raise ValueError(
            f"{name} must have {len(shape)} dimensions {dims}, got {len(got)} with shape {got}"
        )
    for axis, (want, have) in enumerate(zip(shape, got, strict=True)):
        if have == 0:
            raise ValueError(f"{name} must not be empty, got shape {got} {dims}")
        if want is not None and have != want:
            raise ValueError(
                f"{name} must have shape {dims} = {_fmt(shape)}, got {got} (axis {axis} differs)"
            )
    finite = np.isfinite(x).all() if isinstance(x, np.ndarray) else bool(x.isfinite().all())
    if not finite:
        raise ValueError(f"{name} contains NaN or inf")
    return x


def _fmt(shape: tuple[int | None, ...]) -> str:
    return "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"


def state_dict(
    given: Mapping[str, Any], expected: Mapping[str, tuple[int, ...]], owner: str,
    strict: bool = True,
) -> None:
    """Check a state_dict: the same keys as ``expected`` and the same shape for each key.

    ``strict=False`` (as ``torch.nn.Module.load_state_dict``): missing and unexpected keys
    are allowed; the keys of ``expected`` that are given are still checked (dtype, shape).
    """
    if not isinstance(strict, bool):
        raise TypeError(f"strict must be a bool, got {type(strict).__name__}")
    if not isinstance(given, Mapping):
        raise TypeError(f"state_dict must be a mapping, got {type(given).__name__}")
    if strict:
        missing = sorted(set(expected) - set(given))
        extra = sorted(set(given) - set(expected))
        if missing:
            raise ValueError(f"{owner}.load_state_dict: missing key(s) {missing}")
        if extra:
            raise ValueError(f"{owner}.load_state_dict: unexpected key(s) {extra}")
    for key, shape in expected.items():
        if key not in given:
            continue
        value = given[key]
        if _dtype_kind(value) == "?":
            raise TypeError(f"{owner}.load_state_dict: {key} must be an array or tensor, "
                            f"got {type(value).__name__}")
        if _dtype_kind(value) != "f":
            raise TypeError(f"{owner}.load_state_dict: {key} must be floating, got {value.dtype}")
        if tuple(value.shape) != tuple(shape):
            raise ValueError(
                f"{owner}.load_state_dict: {key} must have shape {tuple(shape)}, "
                f"got {tuple(value.shape)}"
            )


def lengths(lengths: Any, batch: int, steps: int) -> np.ndarray:
    """Validate the sequence lengths of a right-padded batch and return them as int64.

    lengths: B integers, each in [1, T], as a NumPy array, a list/tuple or a torch tensor
    (1-D, integer dtype). batch: B; steps: T, the padded length (x is (B, T, ...)).
    Returns a (B,) int64 NumPy array. Not 1-D of size B, or a value outside [1, T], raises
    ``ValueError``; a bool, float or other non-integer dtype raises ``TypeError``.
    """
    what = f"lengths must be {batch} integers in [1, {steps}] (1-D of size B = {batch})"
    if type(lengths).__module__.startswith("torch"):
        lengths = lengths.detach().cpu().numpy()
    elif isinstance(lengths, (list, tuple)):
        if any(isinstance(v, bool) for v in lengths):
            raise TypeError(f"{what}, got bools in {lengths!r}")
        try:
            lengths = np.asarray(lengths)
        except ValueError as err:  # ragged nesting
            raise ValueError(f"{what}, got a ragged {type(lengths).__name__}") from err
    elif not isinstance(lengths, np.ndarray):
        raise TypeError(f"{what}, as a NumPy array, list or torch tensor; "
                        f"got {type(lengths).__name__}")
    if lengths.dtype.kind not in "iu":
        raise TypeError(f"{what}, got dtype {lengths.dtype}")
    if lengths.ndim != 1 or lengths.shape[0] != batch:
        raise ValueError(f"{what}, got shape {tuple(lengths.shape)}")
    low, high = int(lengths.min()), int(lengths.max())
    if low < 1 or high > steps:
        bad = lengths[(lengths < 1) | (lengths > steps)]
        raise ValueError(f"{what}, got {bad.tolist()[:5]} (min {low}, max {high})")
    return lengths.astype(np.int64)


def positive_strides(x: Any) -> Any:
    """``x`` itself, unless it is a NumPy array with a negative stride (a flipped view such
    as ``x[:, ::-1]``): then a C-contiguous copy, since ``torch.as_tensor``,
    ``torch.from_numpy`` and ``torch.tensor`` refuse such an array. Use it on any user array
    before handing it to torch."""
    if isinstance(x, np.ndarray) and any(st < 0 for st in x.strides):
        return np.ascontiguousarray(x)
    return x


def series(name: str, values: Any, allow_nan: bool = False) -> np.ndarray:
    """Validate a 1-D series ``values`` (N,) of real numbers, N >= 1, and return it as float64.

    TypeError for a non-array or a non-real dtype; ValueError for another shape, inf, or NaN
    (NaN is allowed with ``allow_nan``: a missing value), each naming ``name``.
    """
    if not isinstance(values, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array, got {type(values).__name__}")
    if values.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {values.dtype}")
    if values.ndim != 1 or values.shape[0] == 0:
        raise ValueError(f"{name} must have shape (N,) with N >= 1, got {values.shape}")
    v = values.astype(np.float64, copy=False)
    if np.isinf(v).any() or (not allow_nan and np.isnan(v).any()):
        raise ValueError(f"{name} contains {'inf' if allow_nan else 'NaN or inf'}")
    return v
