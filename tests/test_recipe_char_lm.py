"""The char_lm recipe: standalone, deterministic, its files readable, its scores consistent."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from lstm_lib.data.text import split_by_position
from lstm_lib.recipes import char_lm as r

RECIPES = Path(r.__file__).parent
TEXT = "".join(f"class C{i}:\n    x = '{i}'  # n\n\n" for i in range(300)) + "\u00e9\u2192"
TINY = r.Args(steps=30, hidden_size=12, embedding_size=6, batch_size=4, chunk_len=16,
              eval_every=10, eval_chars=300, eval_rows=4, eval_warmup=8)
ALLOWED = {"argparse", "hashlib", "json", "math", "os", "platform", "struct", "sys", "time",
           "collections", "dataclasses", "pathlib", "typing", "__future__", "numpy", "torch",
           "csv", "io", "random", "functools", "itertools", "copy", "re", "statistics",
           "sktime", "statsmodels", "pandas"}


@pytest.mark.parametrize("path", sorted(RECIPES.glob("[!_]*.py")), ids=lambda p: p.name)
def test_a_recipe_imports_only_the_standard_library_numpy_torch_and_its_data_package(path):
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add((node.module or "").split(".")[0])
    assert "lstm_lib" not in names and names <= ALLOWED, names - ALLOWED


def test_vocab_round_trip_and_unknown_characters():
    v = r.Vocab.from_text("abca")
    assert v.size == 4 and v.decode(v.encode("cab")) == "cab"
    assert v.encode("az").tolist() == [0, v.unk_id] and v.encode("").dtype == np.int64
    assert r.Vocab.from_json(v.to_json()).symbols == v.symbols
    assert r.Vocab.from_text("aab", min_count=2).chars == ("a",)
    with pytest.raises(TypeError):
        v.encode(b"ab")


def test_split_is_by_position():
    text = "x" * 80 + "y" * 10 + "z" * 10
    parts = r.split_text(text, 0.1, 0.1)
    assert parts == {"train": "x" * 80, "val": "y" * 10, "test": "z" * 10}
    s = split_by_position(len(text), 0.1, 0.1)                # lstm_lib's slices: the same cut
    assert [text[s.train], text[s.val], text[s.test]] == list(parts.values())
    with pytest.raises(ValueError):
        r.split_text("ab", 0.1, 0.1)


def test_stream_batches_rows_continue_from_batch_to_batch():
    ids = np.arange(1000)
    x, y = r.stream_batches(ids, 4, 8)
    assert x.shape == y.shape == (31, 4, 8) and (y == x + 1).all()
    rows = x.transpose(1, 0, 2).reshape(4, -1)       # each row: one contiguous stretch
    assert (np.diff(rows, axis=1) == 1).all() and rows[1, 0] == rows[0, -1] + 1


@pytest.mark.parametrize("n, rows, warmup", [(1000, 7, 16), (5000, 32, 128), (50, 1, 0)])
def test_eval_positions_score_each_position_once_after_the_warmup(n, rows, warmup):
    inputs, targets = r.eval_positions(n, rows, warmup)
    length = (n - 1 - warmup) // rows
    assert inputs.shape == (rows, warmup + length)
    assert (np.diff(inputs, axis=1) == 1).all()                      # each row: a stretch
    assert (targets == np.arange(warmup + 1, warmup + 1 + rows * length)).all()
    assert inputs.max() + 1 < n and (targets - 1 - warmup >= inputs[:, :1].repeat(length, 1)
                                     .reshape(-1)).all()          # warmup characters before
    with pytest.raises(ValueError):
        r.eval_positions(10, 5, 8)


def test_learning_rate_schedule():
    a = r.Args(steps=100, lr=1.0, decay=0.3, final_lr=0.1)
    assert r.learning_rate(a, 0) == r.learning_rate(a, 69) == 1.0
    assert r.learning_rate(a, 99) == pytest.approx(0.1) and r.learning_rate(a, 85) < 1.0


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("ck") / "m"
    manifest = r.fit_and_save(TEXT, TINY, out, source="test", log=lambda *_: None)
    return out, manifest


def test_the_manifest_records_the_run(trained):
    out, manifest = trained
    assert manifest == json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] and manifest["steps"] == 30 == len(manifest["curve"]["train_loss"])
    assert manifest["curve"]["eval_step"] == [10, 20, 30]
    assert manifest["data"]["sha256"] == r.sha256_of(TEXT)
    assert manifest["args"] == {**r.Args().__dict__, **TINY.__dict__}
    model, vocab = r.load(out)
    assert manifest["parameters"] == sum(p.numel() for p in model.parameters())
    assert manifest["curve"]["train_loss"][-1] < manifest["curve"]["train_loss"][0] - 0.3


def test_load_gives_back_the_trained_model(trained):
    out, manifest = trained
    model, vocab = r.load(out)
    ids = vocab.encode(r.split_text(TEXT, 0.05, 0.05)["val"])
    assert r.bpc(model, ids, TINY.eval_rows, TINY.eval_warmup) == pytest.approx(
        manifest["metrics"]["val_bpc"], abs=1e-5)
    assert not model.training


def test_replay_repeats_the_recorded_losses(trained):
    out, manifest = trained
    path = out.parent / "text.txt"
    path.write_text(TEXT, encoding="utf-8")
    again = r.replay(out, path, steps=12)
    assert np.allclose(again, manifest["curve"]["train_loss"][:12], atol=1e-5)


def test_safetensors_round_trip_and_layout(tmp_path):
    tensors = {"a": torch.arange(6, dtype=torch.float32).reshape(2, 3),
               "b": torch.tensor([1.5], dtype=torch.float64), "c": torch.tensor([7])}
    r.save_safetensors(tensors, tmp_path / "t.safetensors", {"k": "v"})
    raw = (tmp_path / "t.safetensors").read_bytes()
    size = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8: 8 + size])
    assert size % 8 == 0 and header["__metadata__"] == {"k": "v"}
    assert header["a"] == {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}
    back = r.load_safetensors(tmp_path / "t.safetensors")
    assert all(torch.equal(back[k], tensors[k]) for k in tensors)


def test_the_safetensors_package_reads_our_files(tmp_path):
    import safetensors.torch as st  # in the lock: the reference our hand-written format must meet
    tensors = {"w": torch.randn(3, 4), "b": torch.randn(4, dtype=torch.float64)}
    r.save_safetensors(tensors, tmp_path / "ours.safetensors")
    theirs = st.load_file(tmp_path / "ours.safetensors")
    assert all(torch.equal(theirs[k], tensors[k]) for k in tensors)
    st.save_file(tensors, tmp_path / "theirs.safetensors")
    ours = r.load_safetensors(tmp_path / "theirs.safetensors")
    assert all(torch.equal(ours[k], tensors[k]) for k in tensors)


def test_every_stored_checkpoint_reads_the_same_with_the_safetensors_package():
    import safetensors.torch as st
    files = sorted((Path(__file__).parents[1] / "checkpoints").glob("*/weights.safetensors"))
    assert len(files) >= 22
    from lstm_lib.recipes import classify, forecast  # each recipe carries its own reader
    for f in files:
        theirs = st.load_file(f)
        for recipe in (r, classify, forecast):
            ours = recipe.load_safetensors(f)
            assert ours.keys() == theirs.keys(), (f.parent.name, recipe.__name__)
            assert all(torch.equal(ours[k], theirs[k]) for k in ours), f.parent.name


def test_log2_probs_do_not_depend_on_the_chunk_length(trained):
    model, vocab = r.load(trained[0])
    ids = vocab.encode(TEXT[:2000])
    a = r.log2_probs(model.double(), ids, 3, 10, chunk_len=1024)
    b = r.log2_probs(model, ids, 3, 10, chunk_len=7)
    assert a.shape == ((2000 - 1 - 10) // 3 * 3,) and np.abs(a - b).max() < 1e-12


def test_sampling_is_seeded(trained):
    model, vocab = r.load(trained[0])
    a = r.sample(model, vocab, "class", 50, 0.8, seed=3)
    assert a == r.sample(model, vocab, "class", 50, 0.8, seed=3) and len(a) == 50
    assert a != r.sample(model, vocab, "class", 50, 0.8, seed=4)
    with pytest.raises(ValueError):
        r.sample(model, vocab, "", 5)


def test_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match="cell"):
        r.Args(cell="bert")
    with pytest.raises(ValueError, match="steps"):
        r.Args(steps=0)
    with pytest.raises(ValueError, match="val_fraction"):
        r.Args(val_fraction=0.6, test_fraction=0.5)
    model = r.CharModel(5, hidden_size=4, embedding_size=2)
    with pytest.raises(ValueError, match="int64"):
        model(torch.zeros(2, 3))


def test_command_line_trains_and_samples(tmp_path, capsys):
    (tmp_path / "t.txt").write_text(TEXT, encoding="utf-8")
    flags = ["--steps", "12", "--hidden-size", "8", "--embedding-size", "4", "--batch-size",
             "2", "--chunk-len", "8", "--eval-every", "6", "--eval-chars", "100",
             "--eval-rows", "2", "--threads", "1"]
    assert r.main(["--text", str(tmp_path / "t.txt"), "--out", str(tmp_path / "m"), *flags]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["steps"] == 12 and set(summary) >= {"val_bpc", "test_bpc"}
    assert r.main(["--sample", str(tmp_path / "m"), "--chars", "20", "--prime", "cl"]) == 0
    assert len(capsys.readouterr().out) == 21
