"""The forecasting recipe: its data loader, leak-free preparation, forecasts from the past
alone, checkpoint files and the checker's functions (evaluate_checkpoint, replay); the
book's ensemble built from its checkpoints."""

from __future__ import annotations

import ast
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from lstm_lib.recipes import forecast as F

RECIPE_FILE = Path(F.__file__)


def toy_series(n: int = 150, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 10 + 0.02 * t + np.sin(2 * np.pi * t / 12) + 0.1 * rng.standard_normal(n)


def write_csv(path: Path, values: np.ndarray) -> Path:
    lines = ["t,value"] + [f"{i},{'' if np.isnan(v) else repr(float(v))}"
                           for i, v in enumerate(values)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_recipe_imports_only_stdlib_numpy_and_torch():
    tree = ast.parse(RECIPE_FILE.read_text())
    roots = {(a.name if isinstance(node, ast.Import) else node.module).split(".")[0]
             for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)
             for a in (node.names if isinstance(node, ast.Import) else [node])}
    assert roots <= {"__future__", "argparse", "copy", "hashlib", "json", "os", "platform",
                     "struct", "sys", "time", "collections", "dataclasses", "pathlib",
                     "typing", "numpy", "torch"}


def test_load_series_reads_csv_with_header_and_gaps_and_npy(tmp_path):
    v = toy_series(20)
    v[3] = np.nan
    got = F.load_series(write_csv(tmp_path / "s.csv", v))
    np.testing.assert_array_equal(got, v)                      # repr reads back exactly
    (tmp_path / "plain.csv").write_text("1.5\n2\n\n3\n")
    np.testing.assert_array_equal(F.load_series(tmp_path / "plain.csv"), [1.5, 2, 3])
    np.save(tmp_path / "s.npy", v)
    np.testing.assert_array_equal(F.load_series(tmp_path / "s.npy"), v)


def test_series_sources_are_byte_deterministic_csvs(tmp_path):
    from lstm_lib.data.real_series import load_co2, monthly_means, series_csv_bytes

    monthly = monthly_means(load_co2())
    raw = series_csv_bytes(monthly)
    assert raw == series_csv_bytes(monthly_means(load_co2()))
    assert raw.startswith(b"time,co2\n1958-03,")
    (tmp_path / "c.csv").write_bytes(raw)
    np.testing.assert_array_equal(F.load_series(tmp_path / "c.csv"), monthly.values)


def test_gaps_are_filled_only_inside_the_training_part():
    v = np.array([1.0, np.nan, 3.0, 4.0, np.nan, 6.0])
    np.testing.assert_array_equal(F.fill_gaps(v, 6), [1, 2, 3, 4, 5, 6])
    np.testing.assert_array_equal(F.fill_gaps(v[:4], 3), [1, 2, 3, 4])
    with pytest.raises(ValueError, match="only inside the training part"):
        F.fill_gaps(v, 4)                     # the gap at 4 is scored
    with pytest.raises(ValueError, match="only inside the training part"):
        F.fill_gaps(v, 5)                     # filling 4 would read 6.0, a validation value
    with pytest.raises(ValueError, match="train_end"):
        F.fill_gaps(v, 0)                     # na[-1:] would have checked the last value only


def test_preparation_scales_on_the_training_part_alone():
    v = toy_series()
    args = F.Args(window=12, horizon=6, n_val=24, n_test=24, difference=12, method="direct")
    prep, filled, w = F.prepare(v, args)
    d = v[12:102] - v[:90]
    assert (prep.low, prep.high) == (d.min(), d.max()) and w["train_end"] == 102
    assert w["X"].shape == (90 - 12 - 6 + 1, 12, 1) and w["Y"].shape == (73, 6)
    later = v.copy()
    later[102:] *= 10.0
    assert F.prepare(later, args)[0] == prep


def test_undo_difference_round_trips_past_one_period():
    v = toy_series(80)
    o = np.array([30, 40])
    d_true = np.stack([v[k:k + 20] - v[k - 12:k + 8] for k in o])
    np.testing.assert_allclose(F.undo_difference(d_true, v, o, 12),
                               np.stack([v[k:k + 20] for k in o]))


@pytest.mark.parametrize("method", ["recursive", "direct"])
def test_forecasts_use_only_the_past(method):
    v = toy_series(60)
    torch.manual_seed(0)
    model = F.Forecaster(4, 5 if method == "direct" else 1)
    prep = F.Preprocess(9.0, 12.0, 12, 8, method, model.n_out)
    later = v.copy()
    later[40:] = 0.0
    o = np.array([30, 40])
    np.testing.assert_array_equal(F.forecast(model, prep, v, o, 5),
                                  F.forecast(model, prep, later, o, 5))


def test_fit_save_evaluate_and_replay(tmp_path):
    data = write_csv(tmp_path / "s.csv", toy_series())
    args = F.Args(steps=40, window=12, hidden_size=5, horizon=6, n_val=24, n_test=24,
                  eval_every=20)
    manifest = F.fit_and_save(data, args, tmp_path / "ck", source="toy", log=lambda s: None)
    assert sorted(p.name for p in (tmp_path / "ck").iterdir()) == [
        "manifest.json", "preprocess.json", "weights.safetensors"]
    stored = json.loads((tmp_path / "ck" / "manifest.json").read_text())
    assert stored == json.loads(json.dumps(manifest)) and stored["complete"]
    assert len(stored["curve"]["train_loss"]) == 40 and stored["curve"]["eval_step"] == [20, 40]
    assert stored["data"]["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert set(stored["metrics"]) == {"val_rmse", "test_rmse"} | {
        f"test_rmse_h{h}" for h in range(1, 7)}
    again = F.evaluate_checkpoint(tmp_path / "ck", data)
    assert all(abs(again[k] - v) < 1e-6 for k, v in stored["metrics"].items())
    losses = stored["curve"]["train_loss"]
    assert max(abs(a - b) for a, b in zip(F.replay(tmp_path / "ck", data, 20), losses,
                                          strict=False)) < 1e-7
    for wrong in (dict(seed=1), dict(lr=1.1e-2), dict(window=11), dict(hidden_size=6)):
        (tmp_path / "ck" / "manifest.json").write_text(json.dumps(
            {**stored, "args": {**stored["args"], **wrong}}))
        other = F.replay(tmp_path / "ck", data, 20)
        assert max(abs(a - b) for a, b in zip(other, losses, strict=False)) > \
            10 * F.REPLAY_TOL, wrong
    (tmp_path / "ck" / "manifest.json").write_text(json.dumps(stored))
    # the book's ensemble of checkpoints gives each member's forecasts, averaged
    from lstm_lib.models.forecast import LSTMForecaster

    ens = LSTMForecaster.from_checkpoints([tmp_path / "ck"])
    model, prep = F.load(tmp_path / "ck")
    v = F.load_series(data)
    o = np.arange(102, 121)
    np.testing.assert_allclose(ens.forecast(v, o), F.forecast(model, prep, v, o, 6),
                               rtol=1e-12)


def test_command_line_trains_and_forecasts(tmp_path, capsys):
    data = write_csv(tmp_path / "s.csv", toy_series())
    out = tmp_path / "ck"
    assert F.main(["--text", str(data), "--out", str(out), "--threads", "1", "--steps", "3",
                   "--window", "6", "--horizon", "4", "--n-val", "20", "--n-test", "20",
                   "--method", "direct"]) == 0
    capsys.readouterr()
    assert F.main(["--data", str(data), "--forecast", str(out), "--horizon", "4"]) == 0
    assert len(capsys.readouterr().out.split()) == 4
