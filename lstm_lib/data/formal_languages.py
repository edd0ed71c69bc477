"""State-tracking tasks from formal-language theory (chapter 13): parity and cycle navigation.

Both ask a model to carry a state that every input can change, at every position:

- **parity**: inputs are bits ``0``/``1``; the label at position t is the parity of the
  ones among inputs[:t + 1] (the group Z_2).
- **cycle**: inputs move a token on a cycle of ``CYCLE`` places: ``+`` one step forward,
  ``-`` one back, ``=`` stay; the label is the place, starting from 0 (the group Z_5).

``tasks_tsv_bytes()`` writes them in ``lstm_lib.recipes.state_tracking``'s format: ``task
split inputs labels`` a line; training and validation sequences have lengths 1-40, test
sequences length 256 (``TEST_LENGTH``), so the test asks for lengths never trained on.
"""

from __future__ import annotations

import numpy as np

CYCLE = 5
TRAIN_MAX = 40
TEST_LENGTH = 256
SIZES = {"train": 20_000, "val": 500, "test": 500}


def parity_labels(bits: np.ndarray) -> np.ndarray:
    """The running parity of a 0/1 array: (T,) -> (T,)."""
    return np.cumsum(bits) % 2


def cycle_labels(moves: np.ndarray) -> np.ndarray:
    """The place on the cycle after each move (+1, -1 or 0), starting from 0: (T,) -> (T,)."""
    return np.cumsum(moves) % CYCLE


def sequences(task: str, n: int, lengths: np.ndarray, rng: np.random.Generator,
              ) -> list[tuple[str, str]]:
    """``n`` random (inputs, labels) strings of the given lengths."""
    out = []
    for length in lengths[:n]:
        if task == "parity":
            x = rng.integers(0, 2, length)
            out.append(("".join(map(str, x)), "".join(map(str, parity_labels(x)))))
        elif task == "cycle":
            x = rng.integers(-1, 2, length)
            symbols = np.array(["-", "=", "+"])[x + 1]
            out.append(("".join(symbols), "".join(map(str, cycle_labels(x)))))
        else:
            raise ValueError(f"task must be 'parity' or 'cycle', got {task!r}")
    return out


def tasks_tsv_bytes(seed: int = 0) -> bytes:
    """Both tasks, every split, as the recipe's TSV (see the module docstring)."""
    rng = np.random.default_rng(seed)
    lines = []
    for task in ("parity", "cycle"):
        for split, n in SIZES.items():
            lengths = (np.full(n, TEST_LENGTH) if split == "test"
                       else rng.integers(1, TRAIN_MAX + 1, n))
            lines += [f"{task}\t{split}\t{x}\t{y}" for x, y in sequences(task, n, lengths, rng)]
    return ("\n".join(lines) + "\n").encode()
