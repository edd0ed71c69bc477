"""Bahdanau's additive attention from torch ops: the twin of ``lstm_lib.numpy.attention``.

The same equations, one line each; autograd supplies the backward pass::

    u_t = tanh(W_q q + W_k k_t)         W_q (A, Hq), W_k (A, Hk); no biases
    s_t = v^T u_t                       v (A,); s_t = -inf at padded steps (t >= length)
    a   = softmax(s) over t             the weights (B, T)
    c   = sum_t a_t k_t                 the context (B, Hk)

The initial weights are ``lstm_lib.numpy.attention.attention_init``'s: the NumPy layer and
this twin built with the same sizes and seed hold identical parameters.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from lstm_lib import checks
from lstm_lib.numpy.attention import attention_init, attention_shapes, attention_sizes
from lstm_lib.torch._stack import as_tensor, load_parameters, torch_dtype


class AdditiveAttention(nn.Module):
    """Bahdanau's additive attention as an ``nn.Module``; gradients by autograd.

    ``AdditiveAttention(query_size, key_size, attention_size, dtype=np.float64, seed=0)``
    (``dtype`` float32 or float64, as a NumPy or torch dtype) holds the same weights as
    ``lstm_lib.numpy.AdditiveAttention`` built with the same arguments, as ``nn.Parameter``s
    ``W_q`` (A, Hq), ``W_k`` (A, Hk), ``v`` (A,): ``state_dict()`` has exactly those keys.
    ``forward(query (B, Hq), keys (B, T, Hk), lengths=None)`` returns
    ``(context (B, Hk), weights (B, T))``, the weights exactly 0 at t >= length.
    """

    def __init__(self, query_size: int, key_size: int, attention_size: int,
                 dtype: Any = np.float64, seed: int = 0) -> None:
        super().__init__()
        self.query_size, self.key_size, self.attention_size = attention_sizes(
            query_size, key_size, attention_size)
        self.dtype = torch_dtype(dtype)
        self._shapes = attention_shapes(self.query_size, self.key_size, self.attention_size)
        values = attention_init(self.query_size, self.key_size, self.attention_size,
                                checks.float_dtype(dtype), seed)
        self.W_q = nn.Parameter(torch.from_numpy(values["W_q"]))  # (A, Hq)
        self.W_k = nn.Parameter(torch.from_numpy(values["W_k"]))  # (A, Hk)
        self.v = nn.Parameter(torch.from_numpy(values["v"]))      # (A,)

    def load_state_dict(self, state_dict: Any, strict: bool = True, assign: bool = False) -> Any:
        """Copy parameters from torch tensors or NumPy arrays keyed W_q, W_k, v; ``strict``
        and the return value as ``torch.nn.Module.load_state_dict``'s (a missing or
        unexpected key with ``strict=True`` is a ValueError)."""
        return load_parameters(self, super().load_state_dict, state_dict, strict, assign)

    def num_parameters(self) -> int:
        """Total number of scalar parameters: A * (Hq + Hk + 1)."""
        return sum(p.numel() for p in self.parameters())

    def forward(self, query: Any, keys: Any,
                lengths: Any = None) -> tuple[torch.Tensor, torch.Tensor]:
        """query (B, Hq), keys (B, T, Hk) (tensors or NumPy arrays; keys right-padded if
        ``lengths`` is given); lengths None or B integers in [1, T].
        Returns (context (B, Hk), weights (B, T))."""
        q = as_tensor("query", query, (None, self.query_size), "(B, Hq)", self.dtype)
        batch = q.shape[0]
        k = as_tensor("keys", keys, (batch, None, self.key_size), "(B, T, Hk)", self.dtype)
        steps = k.shape[1]
        z = (q @ self.W_q.T)[:, None, :] + k @ self.W_k.T    # z_t = W_q q + W_k k_t (B, T, A)
        s = torch.tanh(z) @ self.v                           # s_t = v^T tanh(z_t)   (B, T)
        if lengths is not None:
            lens = torch.from_numpy(checks.lengths(lengths, batch, steps))
            padded = torch.arange(steps)[None, :] >= lens[:, None]     # (B, T): t >= length
            s = s.masked_fill(padded, float("-inf"))         # padded steps: weight exp(-inf) = 0
        a = torch.softmax(s, dim=1)                          # a = softmax over the steps
        context = torch.einsum("bt,bth->bh", a, k)           # c = sum_t a_t k_t
        return context, a

    def extra_repr(self) -> str:
        return (f"query_size={self.query_size}, key_size={self.key_size}, "
                f"attention_size={self.attention_size}, dtype={self.dtype}")
