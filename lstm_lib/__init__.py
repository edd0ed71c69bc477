"""lstm_lib: the NumPy and PyTorch recurrent networks behind the executable LSTM book.

- ``lstm_lib.numpy``: RNN and LSTM in NumPy, with hand-written backprop through time.
- ``lstm_lib.torch``: the same equations from torch ops; gradients from autograd.
Both share one parameter layout, that of ``torch.nn.LSTM``.
"""

from __future__ import annotations

import os
import random
import sys

# NumPy and torch each keep a pool of OpenMP threads; spinning idle threads of one slow the
# other down badly on a small machine. Let them sleep, unless the user decided otherwise.
# This only takes effect if torch has not been imported yet.
if "torch" not in sys.modules:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global random generators with ``seed``."""
    import numpy as np
    import torch

    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - seeding the legacy global generator is the point
    torch.manual_seed(seed)


__all__ = ["seed_everything", "__version__"]
