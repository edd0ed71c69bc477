"""Shared test set-up: float64 reference modules, a quiet progress bar, few threads."""

import os

os.environ.setdefault("LSTM_LIB_PROGRESS", "0")

import torch  # noqa: E402

torch.set_num_threads(1)
