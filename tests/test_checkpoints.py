"""make check-checkpoints: a checkpoint passes against its own manifest and fails when its
weights, a metric, an argument, its data or its completion are tampered with."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from lstm_lib import checkpoints
from lstm_lib.data import sources
from lstm_lib.recipes import char_lm

TEXT = "".join(f"def f{i}(x):\n    return x * {i} + {i % 7}\n\n" for i in range(400))
ARGS = char_lm.Args(steps=60, hidden_size=16, embedding_size=8, batch_size=4, chunk_len=16,
                    lr=5e-3, eval_every=20, eval_chars=400, eval_rows=4, eval_warmup=16)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("ck")
    torch.set_num_threads(1)
    char_lm.fit_and_save(TEXT, ARGS, root / "tiny", source="tiny-text", log=lambda *_: None)
    return root / "tiny"


@pytest.fixture()
def tiny_source(monkeypatch, tmp_path):
    def use(text: str) -> Path:
        monkeypatch.setitem(sources.SOURCES, "tiny-text",
                            sources.Source(lambda: text.encode(), ".txt", "test text"))
        return tmp_path / "data"
    return use


def copy(trained: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(trained, tmp_path / "copy"))


def edit_manifest(directory: Path, change) -> None:
    path = directory / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


def test_an_honest_checkpoint_passes(trained, tiny_source):
    report = checkpoints.check(trained, cache=tiny_source(TEXT))
    assert report.ok, report.problems
    stored = char_lm.read_manifest(trained)["metrics"]
    assert set(report.metrics) == set(stored) == {"val_bpc", "test_bpc", "train_tail_bpc"}
    assert all(abs(report.metrics[k] - stored[k]) < 1e-6 for k in stored)
    assert report.replay_max_diff < 1e-5          # same machine and kernels


def test_a_changed_weight_fails(trained, tiny_source, tmp_path):
    d = copy(trained, tmp_path)
    w = char_lm.load_safetensors(d / "weights.safetensors")
    w["head.bias"][3] += 0.5      # one weight (a shift of every bias would change nothing)
    char_lm.save_safetensors(w, d / "weights.safetensors")
    report = checkpoints.check(d, cache=tiny_source(TEXT))
    assert not report.ok
    assert any(p.startswith("metric val_bpc") for p in report.problems), report.problems


def test_a_changed_metric_fails(trained, tiny_source, tmp_path):
    d = copy(trained, tmp_path)
    edit_manifest(d, lambda m: m["metrics"].update(val_bpc=m["metrics"]["val_bpc"] - 0.001))
    report = checkpoints.check(d, cache=tiny_source(TEXT))
    assert [p for p in report.problems if p.startswith("metric")] == \
        [p for p in report.problems if "val_bpc" in p] and len(report.problems) == 1


def test_a_changed_argument_fails(trained, tiny_source, tmp_path):
    d = copy(trained, tmp_path)
    edit_manifest(d, lambda m: m["args"].update(lr=m["args"]["lr"] * 2))
    report = checkpoints.check(d, cache=tiny_source(TEXT))
    assert len(report.problems) == 1 and "replayed losses" in report.problems[0]
    assert report.replay_max_diff > 10 * checkpoints.REPLAY_TOL


def test_other_data_fails(trained, tiny_source):
    report = checkpoints.check(trained, cache=tiny_source(TEXT.replace("return", "yield")))
    assert len(report.problems) == 1 and "sha256" in report.problems[0]


def test_an_unfinished_run_fails(trained, tiny_source, tmp_path):
    d = copy(trained, tmp_path)
    edit_manifest(d, lambda m: m.update(complete=False))
    report = checkpoints.check(d, cache=tiny_source(TEXT))
    assert report.problems == ["the manifest is of a run that did not complete"]


def test_missing_losses_fail(trained, tiny_source, tmp_path):
    d = copy(trained, tmp_path)
    edit_manifest(d, lambda m: m["curve"].update(train_loss=m["curve"]["train_loss"][:-1]))
    report = checkpoints.check(d, cache=tiny_source(TEXT))
    assert any("recorded losses" in p for p in report.problems)


def test_command_line_exit_status(trained, tiny_source, tmp_path, monkeypatch, capsys):
    cache = tiny_source(TEXT)
    real_check = checkpoints.check
    monkeypatch.setattr(checkpoints, "check",
                        lambda d, steps, **kw: real_check(d, steps, cache, **kw))
    monkeypatch.setattr(checkpoints, "DATA_CACHE", cache)
    assert checkpoints._main(["check", str(trained)]) == 0
    d = copy(trained, tmp_path)
    edit_manifest(d, lambda m: m["metrics"].update(test_bpc=1.0))
    assert checkpoints._main(["check", str(trained), str(d)]) == 1
    out = capsys.readouterr().out
    assert "check-checkpoints: 1 passed, 1 failed" in out and "FAIL copy" in out


def test_the_command_line_makes_each_source_once(trained, tmp_path, monkeypatch, capsys):
    counter = tmp_path / "makes"                   # the workers are other processes

    def make() -> bytes:
        with counter.open("a") as f:
            f.write("x")
        return TEXT.encode()

    monkeypatch.setitem(sources.SOURCES, "tiny-text", sources.Source(make, ".txt", "test"))
    monkeypatch.setattr(checkpoints, "DATA_CACHE", tmp_path / "data")
    d = copy(trained, tmp_path)                    # two checkpoints of one source
    assert checkpoints._main(["check", str(trained), str(d)]) == 0
    assert counter.read_text() == "x"
    assert "check-checkpoints: 2 passed, 0 failed" in capsys.readouterr().out


def test_a_source_that_cannot_be_made_fails_its_checkpoints_only(trained, tmp_path, monkeypatch,
                                                                  capsys):
    def broken() -> bytes:
        raise OSError("the package that holds it is not installed")

    monkeypatch.setitem(sources.SOURCES, "tiny-text",
                        sources.Source(lambda: TEXT.encode(), ".txt", "test"))
    monkeypatch.setitem(sources.SOURCES, "broken-text", sources.Source(broken, ".txt", "test"))
    monkeypatch.setattr(checkpoints, "DATA_CACHE", tmp_path / "data")
    d = copy(trained, tmp_path)                    # a checkpoint of the source that fails
    edit_manifest(d, lambda m: m["data"].update(source="broken-text"))
    assert checkpoints._main(["check", str(trained), str(d)]) == 1
    out = capsys.readouterr().out
    assert "check-checkpoints: 1 passed, 1 failed" in out and "FAIL copy" in out
    assert "'broken-text' could not be made: OSError: the package that holds it" in out


def test_the_book_index_names_known_recipes_and_data():
    index = checkpoints.read_index()
    assert "charlm-lstm" in index
    for name, entry in index.items():
        assert entry["data"] in sources.SOURCES, name
        module = __import__(entry["recipe"], fromlist=["Args"])
        assert hasattr(module, "evaluate_checkpoint") and hasattr(module, "replay"), name


def test_train_command_spells_the_index_arguments():
    entry = checkpoints.read_index()["charlm-lstm"]
    cmd = checkpoints.train_command("charlm-lstm", entry, Path("out"), Path("data.txt"))
    assert cmd[1:3] == ["-m", "lstm_lib.recipes.char_lm"]
    assert cmd[cmd.index("--hidden-size") + 1] == str(entry["args"]["hidden_size"])
    assert cmd[cmd.index("--text") + 1] == "data.txt"
    vowels = checkpoints.read_index()["vowels-lstm-s0"]        # a recipe that names its option
    cmd = checkpoints.train_command("vowels-lstm-s0", vowels, Path("out"), Path("v.npz"))
    assert cmd[cmd.index("--data") + 1] == "v.npz" and "--text" not in cmd


def test_unknown_source_and_name():
    with pytest.raises(ValueError, match="unknown data source"):
        sources.data_file("no-such-data")
    with pytest.raises(ValueError, match="no checkpoint"):
        checkpoints.train("no-such-checkpoint")


def test_a_curve_metric_is_compared_value_by_value():
    tol = checkpoints.METRIC_TOL
    curve = [0.5, 0.75, 1.0]
    assert checkpoints.metric_agrees([0.5, 0.75 + tol / 2, 1.0], curve)
    assert not checkpoints.metric_agrees([0.5, 0.75 + 2 * tol, 1.0], curve)   # one value off
    assert not checkpoints.metric_agrees([0.5, 0.75], curve)                   # a value missing
    assert not checkpoints.metric_agrees(0.75, curve) and not checkpoints.metric_agrees(None, curve)
    assert not checkpoints.metric_agrees(curve, 0.75)
    assert checkpoints.metric_agrees(0.75 + tol / 2, 0.75)


def test_metric_difference_is_the_largest_gap_or_none():
    assert checkpoints.metric_difference([0.5, 0.8, 1.0], [0.5, 0.75, 1.0]) == pytest.approx(0.05)
    assert checkpoints.metric_difference(0.7, 0.75) == pytest.approx(0.05)
    assert checkpoints.metric_difference([0.5], [0.5, 0.75]) is None        # another length
    assert checkpoints.metric_difference(0.5, [0.5]) is None                # another kind
    assert checkpoints.metric_difference([0.5], 0.5) is None
    assert checkpoints.metric_difference(None, 0.5) is None


def test_a_curve_can_have_its_own_tolerance():
    # the state-tracking recipe's curves are shares of 500 sequences: steps of 0.002
    from lstm_lib.recipes import state_tracking

    tol = state_tracking.CURVE_TOL
    curve = [0.5, 0.75, 1.0]
    one_flip = [0.5, 0.752, 1.0]
    assert not checkpoints.metric_agrees(one_flip, curve)                 # METRIC_TOL alone
    assert checkpoints.metric_agrees(one_flip, curve, curve_tol=tol)
    assert not checkpoints.metric_agrees([0.5, 0.756, 1.0], curve, curve_tol=tol)  # 3 flips
    assert not checkpoints.metric_agrees(0.75 + 0.002, 0.75, curve_tol=tol)  # numbers: tol
