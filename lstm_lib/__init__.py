"""lstm_lib: the NumPy and PyTorch recurrent networks behind the executable LSTM book.

- ``lstm_lib.numpy``: RNN and LSTM in NumPy, with hand-written backprop through time.
- ``lstm_lib.torch``: the same equations from torch ops; gradients from autograd.
Both share one parameter layout, that of ``torch.nn.LSTM``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# NumPy and torch each keep a pool of threads whose idle threads busy-wait; in one process
# on a small machine they take each other's cores. lstm_lib.threads sets short waits for
# the pools not loaded yet, and limits NumPy's BLAS to one thread when NumPy and torch were
# loaded first (LSTM_LIB_THREAD_POLICY=off: do nothing). See lstm_lib/threads.py.
from lstm_lib import threads as _threads

_threads.apply_policy()

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


@contextmanager
def torch_seeded(seed: Any) -> Iterator[None]:
    """A block whose torch draws come from ``torch.manual_seed(seed)``; after it torch's
    global (CPU) generator is as it was before, as if the block had drawn nothing
    (``torch.random.fork_rng(devices=[])``). The one seeded block of ``lstm_lib``:

        with lstm_lib.torch_seeded(seed):
            self.readout = torch.nn.Linear(H, 1)   # the same weights for the same seed

    ``seed``: a non-negative int (a NumPy integer too), else ValueError; or None: the block
    draws from the global generator's current state, which is still restored after it.
    """
    import numpy as np
    import torch

    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
                             or seed < 0):
        raise ValueError(f"seed must be a non-negative int or None, got {seed!r}")
    with torch.random.fork_rng(devices=[]):
        if seed is not None:
            torch.manual_seed(int(seed))
        yield


__all__ = ["seed_everything", "torch_seeded", "__version__"]
