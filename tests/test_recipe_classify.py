"""The sequence-classification recipe: its data format, splits, model, training, checkpoint
files and the checker's functions (evaluate_checkpoint, replay)."""

from __future__ import annotations

import ast
import hashlib
import io
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from lstm_lib.recipes import classify as C

RECIPE_FILE = Path(C.__file__)


def toy_data(n: int = 60, seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """Three classes told apart by the mean of channel 0; lengths 2..9, two channels."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    seqs = [rng.normal(size=(int(k), 2)) + [1.5 * (c - 1), 0.0]
            for k, c in zip(rng.integers(2, 10, n), y, strict=True)]
    return seqs, y


def write_toy(path: Path, with_split: bool = True) -> Path:
    seqs, y = toy_data()
    split = ["test" if i % 5 == 0 else "train" for i in range(len(y))] if with_split else None
    C.save_npz(path, seqs, y, split, ["a", "b", "c"])
    return path


def test_the_recipe_imports_only_stdlib_numpy_and_torch():
    tree = ast.parse(RECIPE_FILE.read_text())
    roots = {(a.name if isinstance(node, ast.Import) else node.module).split(".")[0]
             for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)
             for a in (node.names if isinstance(node, ast.Import) else [node])}
    assert roots <= {"__future__", "argparse", "copy", "hashlib", "json", "os", "platform",
                     "struct", "sys", "time", "collections", "dataclasses", "pathlib",
                     "typing", "numpy", "torch"}


def test_npz_round_trip_and_bytes_are_deterministic(tmp_path):
    seqs, y = toy_data()
    buffers = []
    for _ in range(2):
        buf = io.BytesIO()
        C.save_npz(buf, seqs, y, ["train"] * len(y), ["a", "b", "c"])
        buffers.append(buf.getvalue())
    assert buffers[0] == buffers[1]
    path = tmp_path / "d.npz"
    path.write_bytes(buffers[0])
    data = C.load_npz(path)
    assert data.classes == ["a", "b", "c"] and data.split.tolist() == ["train"] * len(y)
    assert all(np.array_equal(a, b) for a, b in zip(data.sequences, seqs, strict=True))
    assert np.array_equal(data.labels, y)
    np.savez(tmp_path / "bad.npz", frames=np.zeros((5, 2)), lengths=[2, 2], labels=[0, 1])
    with pytest.raises(ValueError, match="sum of lengths"):
        C.load_npz(tmp_path / "bad.npz")


def test_vowels_source_is_byte_deterministic_and_in_the_recipes_format(tmp_path):
    from lstm_lib.data.vowels import vowels_npz_bytes

    raw = vowels_npz_bytes()
    assert hashlib.sha256(raw).digest() == hashlib.sha256(vowels_npz_bytes()).digest()
    (tmp_path / "v.npz").write_bytes(raw)
    data = C.load_npz(tmp_path / "v.npz")
    lengths = np.array([len(s) for s in data.sequences])
    assert (data.split == "train").sum() == 270 and (data.split == "test").sum() == 370
    assert data.sequences[0].shape[1] == 12 and lengths.min() == 7 and lengths.max() == 29
    assert data.classes[0] == "speaker 1" and len(data.classes) == 9


def test_splits_are_stratified_fixed_by_split_seed_and_respect_the_file(tmp_path):
    data = C.load_npz(write_toy(tmp_path / "d.npz"))
    a = C.split_indices(data, C.Args(seed=0))
    b = C.split_indices(data, C.Args(seed=5))                # another model seed
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert np.array_equal(a["test"], np.flatnonzero(data.split == "test"))
    assert np.bincount(data.labels[a["val"]]).tolist() == [3, 3, 3]   # 0.2 of 16 each
    assert len(np.intersect1d(a["train"], a["val"])) == 0
    c = C.split_indices(data, C.Args(split_seed=1))
    assert not np.array_equal(a["val"], c["val"])
    no_split = C.load_npz(write_toy(tmp_path / "e.npz", with_split=False))
    parts = C.split_indices(no_split, C.Args())
    assert sum(len(v) for v in parts.values()) == 60
    assert np.bincount(no_split.labels[parts["test"]]).tolist() == [4, 4, 4]


def test_collate_pads_post_or_pre_and_to_a_total_length():
    items = [(torch.ones(2, 1), 0), (2 * torch.ones(3, 1), 1)]
    x, n, y = C.collate(items)
    assert x[:, :, 0].tolist() == [[1, 1, 0], [2, 2, 2]]
    assert n.tolist() == [2, 3] and y.tolist() == [0, 1]
    x, _, _ = C.collate(items, "pre", total_length=4)
    assert x[:, :, 0].tolist() == [[0, 0, 1, 1], [0, 2, 2, 2]]


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("pooling", ["last", "mean"])
def test_a_masking_model_ignores_the_pads(bidirectional, pooling):
    seqs, _ = toy_data(6)
    items = [(torch.as_tensor(s), 0) for s in seqs]
    torch.manual_seed(0)
    m = C.Classifier(2, 4, 3, bidirectional=bidirectional, pooling=pooling,
                     dtype=torch.float64)
    x, n, _ = C.collate(items, total_length=12)
    with torch.no_grad():
        batch = m(x, n)
        alone = torch.cat([m(s[None], torch.tensor([len(s)])) for s, _ in items])
        noisy = m(x + 5.0 * (torch.arange(12)[None, :, None] >= n[:, None, None]), n)
    assert (batch - alone).abs().max() < 1e-12 and (noisy - batch).abs().max() < 1e-12
    unmasked = C.Classifier(2, 4, 3, bidirectional=bidirectional, masking=False,
                            pooling=pooling, dtype=torch.float64)
    unmasked.load_state_dict(m.state_dict())
    with torch.no_grad():
        assert (unmasked(x, n) - batch).abs().max() > 1e-4   # it reads the pads


def test_fit_save_evaluate_and_replay(tmp_path):
    data = write_toy(tmp_path / "d.npz")
    args = C.Args(steps=30, hidden_size=6, eval_every=10, batch_size=8, lr=1e-2)
    manifest = C.fit_and_save(data, args, tmp_path / "ck", source="toy", log=lambda s: None)
    files = sorted(p.name for p in (tmp_path / "ck").iterdir())
    assert files == ["manifest.json", "preprocess.json", "weights.safetensors"]
    stored = json.loads((tmp_path / "ck" / "manifest.json").read_text())
    assert stored == json.loads(json.dumps(manifest))
    assert stored["complete"] and stored["steps"] == 30 and len(stored["curve"]["train_loss"]) == 30
    assert stored["curve"]["eval_step"] == [10, 20, 30] and stored["kept_step"] in (10, 20, 30)
    assert stored["data"]["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert stored["data"]["splits"] == {"train": 39, "val": 9, "test": 12}
    assert set(stored["metrics"]) == {f"{p}_{m}" for p in ("train", "val", "test")
                                      for m in ("loss", "accuracy")}
    again = C.evaluate_checkpoint(tmp_path / "ck", data)
    assert all(abs(again[k] - v) < 1e-6 for k, v in stored["metrics"].items())
    assert stored["metrics"]["train_accuracy"] > 0.6                       # it learned
    replayed = C.replay(tmp_path / "ck", data, 12)
    assert max(abs(a - b) for a, b in zip(replayed, stored["curve"]["train_loss"],
                                          strict=False)) < 1e-6
    # a wrong argument fails the replay by far more than the tolerance
    for wrong in (dict(seed=1), dict(lr=1.2e-2), dict(hidden_size=7)):
        (tmp_path / "ck" / "manifest.json").write_text(json.dumps(
            {**stored, "args": {**stored["args"], **wrong}}))
        other = C.replay(tmp_path / "ck", data, 12)
        assert max(abs(a - b) for a, b in zip(other, stored["curve"]["train_loss"],
                                              strict=False)) > 10 * C.REPLAY_TOL, wrong
    (tmp_path / "ck" / "manifest.json").write_text(json.dumps(stored))
    model, prep = C.load(tmp_path / "ck")
    pred = C.predict(model, prep, C.load_npz(data).sequences)
    assert pred.shape == (60,) and pred.dtype == np.int64


def test_training_is_exactly_deterministic(tmp_path):
    data = C.load_npz(write_toy(tmp_path / "d.npz"))
    args = C.Args(steps=15, hidden_size=5, batch_size=8, dropout=0.3, num_layers=2)
    runs = []
    for _ in range(2):
        prep, items = C.prepare(data, args)
        runs.append(C.train(C.build_model(args, 2, 3), items["train"], args, prep))
    assert runs[0] == runs[1]


def test_command_line_trains_with_the_checkers_options(tmp_path):
    data = write_toy(tmp_path / "d.npz")
    out = tmp_path / "ck"
    assert C.main(["--text", str(data), "--out", str(out), "--source", "toy", "--threads", "1",
                   "--steps", "5", "--masking", "False", "--bidirectional", "false",
                   "--eval-every", "5"]) == 0
    args = C.read_manifest(out)["args"]
    assert args["masking"] is False and args["bidirectional"] is False
    prep = json.loads((out / "preprocess.json").read_text())
    assert prep["pad_to"] == 9 and prep["classes"] == ["a", "b", "c"]   # the longest sequence
    with pytest.raises(SystemExit):
        C.main(["--data", str(data), "--out", str(out), "--masking", "maybe"])


def test_args_check_their_values():
    with pytest.raises(ValueError, match="pooling"):
        C.Args(pooling="max")
    with pytest.raises(ValueError, match="steps"):
        C.Args(steps=0)
    with pytest.raises(ValueError, match="masking"):
        C.Args(masking="no")
    assert replace(C.Args(), dtype="float64").dtype == "float64"
