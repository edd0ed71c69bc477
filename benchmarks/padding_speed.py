"""Time per epoch of random, sorted and bucketed batches on Japanese Vowels (chapter 9).

Usage: python benchmarks/padding_speed.py [--threads N] [--reps R]

Chapter 9 prints the work each batch order computes (padded fraction, slots); seconds depend
on the machine and its load, so the chapter prints none and this script measures them. One
epoch is the forward and backward passes of a ``torch.nn.LSTM`` (12 -> 32, float32, batches
of 32, no packing, each batch cut to its own longest member) over the 270 training
utterances, with ``lstm_lib.training.batching.epoch_cpu_seconds``. The orders are interleaved and
each
epoch's plan is drawn anew, as a training loop draws them; the table gives the median CPU
time per epoch, its ratio to random batches (measured in the same run), and the padded
fraction.
"""

from __future__ import annotations

import argparse
import os

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--reps", type=int, default=15)
    args = parser.parse_args()

    import torch
    from torch import nn

    from lstm_lib.data.vowels import load_vowels, pad
    from lstm_lib.training.batching import ORDERS, epoch_cpu_seconds, epoch_plans, padding_cost

    torch.set_num_threads(args.threads)
    train = load_vowels("train")
    batch = pad(train.sequences)
    lengths = batch.lengths
    x = torch.from_numpy(batch.x.astype(np.float32))
    torch.manual_seed(0)
    layer = nn.LSTM(12, 32, batch_first=True)
    plans = {o: epoch_plans(lengths, 32, o, n_epochs=args.reps + 1, seed=1) for o in ORDERS}
    seconds: dict[str, list[float]] = {o: [] for o in ORDERS}
    for rep in range(args.reps + 1):
        for o in ORDERS:
            took = epoch_cpu_seconds(layer, x, lengths, plans[o][rep])
            if rep:  # the first round warms up
                seconds[o].append(took)
    med = {o: float(np.median(seconds[o])) for o in ORDERS}
    frac = {o: np.mean([padding_cost(lengths, p).padded_fraction for p in plans[o]])
            for o in ORDERS}
    print(f"Japanese Vowels, 270 utterances, nn.LSTM(12, 32) fwd+bwd, batches of 32, "
          f"{args.threads} thread(s), median of {args.reps} epochs, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"| {'batches':8s} | {'CPU ms / epoch':>14s} | {'vs random':>9s} | "
          f"{'padded fraction':>15s} |")
    print(f"|{'-' * 10}|{'-' * 16}|{'-' * 11}|{'-' * 17}|")
    for o in ORDERS:
        print(f"| {o:8s} | {1e3 * med[o]:14.1f} | {med[o] / med['random']:8.2f}x | "
              f"{frac[o]:15.3f} |")


if __name__ == "__main__":
    main()
