"""The state_tracking recipe (chapter 13): its data, its models, its training and its files;
and chapter 13's copies of the layers in the char_lm recipe against the originals."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstm_lib import checkpoints
from lstm_lib.analysis import recurrences as rec
from lstm_lib.data import formal_languages as fl
from lstm_lib.recipes import char_lm
from lstm_lib.recipes import state_tracking as st


def _parity_line(split: str, bits: str) -> str:
    labels = fl.parity_labels(np.array([int(b) for b in bits]))
    return f"parity\t{split}\t{bits}\t{''.join(str(v) for v in labels)}"


TINY_TSV = "\n".join(
    [_parity_line("train", x) for x in ("0", "1", "10", "011", "1101", "00110", "111", "0101")]
    + [_parity_line("val", x) for x in ("11", "100")]
    + [_parity_line("test", x) for x in ("1" * 256, "10" * 128)]) + "\n"


@pytest.fixture
def tiny_data(tmp_path):
    path = tmp_path / "tasks.tsv"
    path.write_text(TINY_TSV)
    return path


def test_labels_of_the_tasks():
    assert fl.parity_labels(np.array([1, 0, 1, 1])).tolist() == [1, 1, 0, 1]
    assert fl.cycle_labels(np.array([1, 1, -1, -1, -1, 0])).tolist() == [1, 2, 1, 0, 4, 4]
    lines = fl.tasks_tsv_bytes().decode().splitlines()
    for line in lines[:50] + lines[-50:]:
        task, split, xs, ys = line.split("\t")
        assert len(xs) == len(ys) and (len(xs) == fl.TEST_LENGTH) == (split == "test")
        if task == "cycle":
            moves = np.array(["-=+".index(c) - 1 for c in xs])
            assert ys == "".join(map(str, fl.cycle_labels(moves)))
    assert fl.tasks_tsv_bytes() == fl.tasks_tsv_bytes()            # the same bytes every time


def test_read_tasks_and_collate_pad_and_mask(tiny_data):
    data = st.read_tasks(tiny_data, "parity")
    assert data.symbols == "01" and data.classes == "01" and len(data.inputs["train"]) == 8
    x, y = st.collate(data.inputs["train"][:3], data.labels["train"][:3])
    assert x.shape == y.shape == (3, 2) and x.dtype == torch.int64
    assert y[0, 1] == st.PAD and y[2, 1] != st.PAD
    with pytest.raises(ValueError, match="no sequences"):
        st.read_tasks(tiny_data, "cycle")


@pytest.mark.parametrize("model", st.MODELS)
def test_every_model_is_causal_and_padding_does_not_change_real_positions(model):
    torch.manual_seed(0)
    net = st.Tracker(model, 3, 2, 8, num_layers=2 if model in ("mingru", "transformer") else 1)
    net.eval()
    ids = torch.randint(0, 3, (2, 12))
    with torch.no_grad():
        full = net(ids)
        later_changed = ids.clone()
        later_changed[:, 7:] = (ids[:, 7:] + 1) % 3
        assert full.shape == (2, 12, 2)
        assert torch.allclose(full[:, :7], net(later_changed)[:, :7], atol=1e-5)
        assert not torch.allclose(full[:, 7:], net(later_changed)[:, 7:], atol=1e-5)
    with pytest.raises(ValueError, match="int64"):
        net(ids.float())


def test_mlstm_layer_parallel_equals_recurrent_inside_the_model():
    torch.manual_seed(1)
    layer = st.MLSTM(6, 8, num_heads=2).double()
    x = torch.randn(2, 9, 6, dtype=torch.float64)
    q, k, v, _ = layer.qkvo(x).chunk(4, -1)
    heads = [t.view(2, 9, 2, -1).transpose(1, 2) for t in (q, k, v)]
    i_pre, f_pre = (g.transpose(1, 2)[..., None] for g in layer.gates(x).chunk(2, -1))
    par = st.mlstm_parallel(*heads, i_pre, f_pre, eps=0.0)
    recurrent = st.mlstm_recurrent(*heads, i_pre, f_pre, eps=0.0)
    assert torch.allclose(par, recurrent, atol=1e-10)


def test_training_learns_parity_and_the_checkpoint_round_trips(tiny_data, tmp_path):
    args = st.Args(model="lstm", hidden_size=8, steps=60, batch_size=8, lr=0.02, eval_every=30)
    manifest = st.fit_and_save(tiny_data, args, tmp_path / "ck", log=lambda *_: None)
    losses = manifest["curve"]["train_loss"]
    assert len(losses) == 60 and np.mean(losses[-10:]) < 0.5 * np.mean(losses[:10])
    assert manifest["complete"] and manifest["curve"]["eval_step"] == [30, 60]
    again = st.evaluate_checkpoint(tmp_path / "ck", tiny_data)
    assert again.keys() == manifest["metrics"].keys()
    assert all(checkpoints.metric_agrees(again[k], manifest["metrics"][k], 1e-6) for k in again)
    assert len(manifest["metrics"]["test_position_accuracy"]) == 256    # the test length
    replayed = st.replay(tmp_path / "ck", tiny_data, steps=5)
    assert np.allclose(replayed, losses[:5], atol=1e-5)


def test_args_are_checked():
    with pytest.raises(ValueError, match="model"):
        st.Args(model="gru")
    with pytest.raises(ValueError, match="steps"):
        st.Args(steps=0)


def test_input_checks_of_the_functions():
    with pytest.raises(TypeError):
        st.slstm_pointwise(torch.zeros(2, 8, dtype=torch.int64), torch.zeros(2, 8),
                           torch.zeros(1, 8), torch.zeros(4, 2, 2))
    with pytest.raises(ValueError, match="states"):
        st.slstm_pointwise(torch.zeros(2, 8), torch.zeros(2, 8), torch.zeros(1, 8),
                           torch.zeros(4, 2, 3))
    q = torch.zeros(1, 1, 3, 4)
    with pytest.raises(ValueError, match="gates"):
        st.mlstm_parallel(q, q, q, torch.zeros(1, 1, 3, 2), torch.zeros(1, 1, 3, 1))
    with pytest.raises(ValueError, match="NaN"):
        st.mlstm_recurrent(q * float("nan"), q, q, torch.zeros(1, 1, 3, 1),
                           torch.zeros(1, 1, 3, 1))
    with pytest.raises(ValueError, match="mode"):
        st.MinGRU(2, 3)(torch.zeros(1, 4, 2), mode="scan")
    with pytest.raises(ValueError, match="positive"):
        st.MinGRU(2, 3)(torch.zeros(1, 4, 2), h0=torch.zeros(1, 1, 3))


# -------------------------------------------- chapter 13's layers, copied into char_lm

def test_char_lm_mingru_stack_is_the_state_tracking_mingru_and_carries_its_state():
    torch.manual_seed(2)
    stack = char_lm.MinGRUStack(5, 7, num_layers=2).double()
    layers = [st.MinGRU(5, 7).double(), st.MinGRU(7, 7).double()]
    for mine, linear in zip(layers, stack.layers, strict=True):
        mine.linear.load_state_dict(linear.state_dict())
    x = torch.randn(3, 20, 5, dtype=torch.float64)
    out, state = stack(x)
    ref = layers[1](layers[0](x, mode="sequential")[0], mode="sequential")[0]
    assert torch.allclose(out, ref, atol=1e-12) and state.shape == (2, 3, 7)
    first, mid = stack(x[:, :8])
    second, _ = stack(x[:, 8:], mid)                               # carried across a border
    assert torch.allclose(torch.cat([first, second], 1), out, atol=1e-12)


def test_char_lm_slstm_stack_is_the_state_tracking_slstm_and_carries_its_state():
    torch.manual_seed(3)
    stack = char_lm.SLSTMStack(4, 6).double()
    ref = st.SLSTM(4, 6).double()
    with torch.no_grad():
        ref.weight_ih.copy_(stack.ih[0].weight)
        ref.bias.copy_(stack.ih[0].bias)
        ref.weight_hh.copy_(stack.hh[0].weight)
    x = torch.randn(2, 15, 4, dtype=torch.float64)
    out, state = stack(x)
    assert torch.allclose(out, ref(x)[0], atol=1e-12) and state.shape == (1, 4, 2, 6)
    first, mid = stack(x[:, :6])
    second, _ = stack(x[:, 6:], mid)
    assert torch.allclose(torch.cat([first, second], 1), out, atol=1e-12)


def test_char_lm_window_transformer_reads_in_pieces_with_its_window_as_state():
    torch.manual_seed(4)
    net = char_lm.WindowTransformer(8, 8, num_layers=1).double().eval()
    x = torch.randn(1, 3 * char_lm.WINDOW, 8, dtype=torch.float64)
    with torch.no_grad():
        out, state = net(x)
        first, mid = net(x[:, :char_lm.WINDOW])
        second, _ = net(x[:, char_lm.WINDOW:], mid)
    assert state.shape == (1, char_lm.WINDOW, 8)
    assert torch.allclose(torch.cat([first, second], 1), out, atol=1e-10)
    with pytest.raises(ValueError, match="embedding_size"):
        char_lm.WindowTransformer(4, 8)


def test_generation_cost_counts():
    lstm = rec.generation_cost("lstm", 128, 32, 1, 10)
    assert lstm.state_floats == 256 and lstm.multiply_adds == 4 * 128 * (32 + 128)
    assert rec.generation_cost("mingru", 10, 4, 2, 5).multiply_adds == 2 * 10 * 4 + 2 * 10 * 10
    t1, t2 = (rec.generation_cost("transformer", 8, 8, 2, t) for t in (10, 20))
    assert t2.state_floats == 2 * t1.state_floats == 2 * 2 * 2 * 8 * 10
    assert t2.multiply_adds - t1.multiply_adds == 2 * 2 * 8 * 10
    with pytest.raises(ValueError):
        rec.generation_cost("gru", 8, 8, 1, 1)
    with pytest.raises(ValueError):
        rec.tracking_name("parity", "lstm", 7)


def test_speed_table_and_growth_exponent(tmp_path):
    path = tmp_path / "speed.csv"
    path.write_text("threads,T,implementation,seconds\n"
                    "1,64,a,0.5\n1,128,a,1.0\n1,256,a,2.0\n2,64,a,0.25\n1,64,b,1.0\n")
    table = rec.read_speed_table(path)
    assert table[1, "a"] == {64: 0.5, 128: 1.0, 256: 2.0} and table[2, "a"] == {64: 0.25}
    assert abs(rec.growth_exponent(table[1, "a"]) - 1.0) < 1e-12
    assert abs(rec.growth_exponent({10: 1.0, 20: 4.0, 40: 16.0}) - 2.0) < 1e-12
    with pytest.raises(ValueError):
        rec.growth_exponent(table[2, "a"])
    stored = rec.read_speed_table()                       # the chapter's recorded file
    assert {name for _, name in stored} == {"minGRU parallel", "minGRU sequential", "nn.LSTM"}


def test_a_tracker_manifest_holds_what_its_weights_give():
    # chapter 13 reads the trackers' curves from their manifests (read_tracking); evaluating
    # the stored weights afresh (what check-checkpoints does for all 30) gives the same
    torch.set_num_threads(1)
    stored = rec.read_tracking("parity", "lstm", 0)
    fresh = rec.evaluate_tracking("parity", "lstm", 0)
    assert stored.per_position.shape == (256,)
    np.testing.assert_allclose(fresh.per_position, stored.per_position, rtol=0, atol=1e-6)
    assert fresh.accuracy == pytest.approx(stored.accuracy, abs=1e-6)
    assert fresh.val_accuracy == pytest.approx(stored.val_accuracy, abs=1e-6)
    assert stored.solved                      # the parity LSTM, seed 0: solved
    assert len(rec.read_all_tracking()) == 30
