"""The seq2seq recipe: its data file, masking of the pads, decoding, determinism, files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from lstm_lib.recipes import seq2seq as S

PAIRS = ([("train", "a", "x" * (n % 7 + 1) + "y" * (n % 3), str(n % 7) + str(n % 3))
          for n in range(120)]
         + [("val", "a", "x" * (n % 7 + 1), str(n % 7) + "0") for n in range(20)]
         + [("test", "a", "y" + "x" * (n % 5 + 1), str(n % 5)) for n in range(10)])
TINY = S.Args(steps=30, embedding_size=8, hidden_size=8, decoder_size=12, attention_size=6,
              batch_size=16, lr=1e-2, eval_every=10, eval_size=10)


def write(path: Path) -> Path:
    S.save_tsv(path, PAIRS)
    return path


def model_and_vocab(attention: bool = True) -> tuple[S.Seq2Seq, S.Vocab]:
    vocab = S.Vocab.fit(PAIRS + [("train", "b", "y", "1")])
    args = S.Args(**{**TINY.__dict__, "attention": attention, "dtype": "float64"})
    return S.build_model(args, vocab).eval(), vocab


def test_tsv_round_trip_and_bad_files(tmp_path):
    assert S.load_tsv(write(tmp_path / "d.tsv")) == PAIRS
    (tmp_path / "bad.tsv").write_text("split\ttag\tsource\n")
    with pytest.raises(ValueError, match="header"):
        S.load_tsv(tmp_path / "bad.tsv")
    with pytest.raises(ValueError, match="four"):
        S.save_tsv(tmp_path / "x.tsv", [("train", "a", "b\tc", "1")])


def test_vocab_encodes_a_tag_then_characters():
    vocab = S.Vocab.fit(PAIRS)
    assert vocab.source[:3] == ["<pad>", "<unk>", "<a>"] and vocab.tags == ["a"]
    ids = vocab.encode_source("a", "xyq")
    assert ids[0] == 2 and ids[-1] == 1                             # unknown character
    assert vocab.decode_target(vocab.encode_target("60")[1:]) == "60"
    with pytest.raises(ValueError, match="tag"):
        vocab.encode_source("b", "x")


@pytest.mark.parametrize("attention", [True, False])
def test_pads_change_nothing_and_padded_keys_get_no_weight(attention):
    model, vocab = model_and_vocab(attention)
    short = (vocab.encode_source("a", "xxy"), vocab.encode_target("31"))
    long = (vocab.encode_source("a", "xxxxxxxyy"), vocab.encode_target("6"))
    src, lengths, tgt = S.collate([short, long])
    with torch.no_grad():
        alone = model(*S.collate([short])[:2], S.collate([short])[2])
        batch = model(src, lengths, tgt)[:1, : alone.shape[1]]
        assert (alone - batch).abs().max() < 1e-12
        memory = model.encode(src, lengths)
        assert (memory["keys"][0, 4:] == 0).all()
        if attention:
            _, w = model.attention(memory["h"], memory["keys"], memory["lengths"])
            assert (w[0, 4:] == 0).all() and torch.allclose(w.sum(1), torch.ones(2,
                                                           dtype=torch.float64))


def test_the_backward_direction_reads_each_source_from_its_own_end():
    model, vocab = model_and_vocab()
    item = (vocab.encode_source("a", "xxyx"), [1, 2])
    src, lengths, _ = S.collate([item])
    with torch.no_grad():
        memory = model.encode(src, lengths)
        by_hand, _ = model.encoder_bw(model.embed(src.flip(1)))
        assert (memory["keys"][0, :, 8:] - by_hand[0].flip(0)).abs().max() < 1e-12


def test_attention_matches_its_formula():
    torch.manual_seed(0)
    att = S.AdditiveAttention(3, 4, 5, dtype=torch.float64)
    q, k = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 6, 4, dtype=torch.float64)
    context, w = att(q, k, torch.tensor([6, 2]))
    scores = torch.tanh((k @ att.W_k.T) + (q @ att.W_q.T)[:, None]) @ att.v
    expect = torch.softmax(scores[0], 0)
    assert (w[0] - expect).abs().max() < 1e-14 and (w[1, 2:] == 0).all()
    assert (context[0] - expect @ k[0]).abs().max() < 1e-14
    assert set(att.state_dict()) == {"W_q", "W_k", "v"} and att.W_q.shape == (5, 3)


def test_beam_one_is_greedy_and_a_wider_beam_is_never_less_probable():
    model, vocab = model_and_vocab()
    items = [(vocab.encode_source("a", "x" * k + "y"), [1, 2]) for k in range(1, 8)]
    src, lengths, _ = S.collate(items)
    g, _ = S.greedy(model, src, lengths)
    b1, s1 = S.beam_search(model, src, lengths, 1)
    assert [vocab.decode_target(r) for r in g.tolist()] == \
        [vocab.decode_target(r) for r in b1.tolist()]
    _, s3 = S.beam_search(model, src, lengths, 3)
    assert (s3 >= s1 - 1e-12).all()


def test_fit_save_evaluate_replay_and_translate(tmp_path):
    data = write(tmp_path / "d.tsv")
    manifest = S.fit_and_save(data, TINY, tmp_path / "ck", source="toy", log=lambda *a, **k: None)
    files = sorted(p.name for p in (tmp_path / "ck").iterdir())
    assert files == ["manifest.json", "vocab.json", "weights.safetensors"]
    stored = json.loads((tmp_path / "ck" / "manifest.json").read_text())
    assert stored == json.loads(json.dumps(manifest)) and stored["complete"]
    assert len(stored["curve"]["train_loss"]) == 30 and stored["curve"]["eval_step"] == [10, 20, 30]
    assert set(stored["metrics"]) == {"test_loss", "test_a_exact"}
    again = S.evaluate_checkpoint(tmp_path / "ck", data)
    assert all(abs(again[k] - v) < 1e-9 for k, v in stored["metrics"].items())
    replayed = S.replay(tmp_path / "ck", data, 12)
    assert max(abs(a - b) for a, b in zip(replayed, stored["curve"]["train_loss"],
                                          strict=False)) < 1e-6
    for wrong in (dict(seed=1), dict(lr=1.2e-2), dict(teacher_forcing=0.5)):
        (tmp_path / "ck" / "manifest.json").write_text(json.dumps(
            {**stored, "args": {**stored["args"], **wrong}}))
        other = S.replay(tmp_path / "ck", data, 12)
        assert max(abs(a - b) for a, b in zip(other, stored["curve"]["train_loss"],
                                              strict=False)) > 10 * S.REPLAY_TOL, wrong
    (tmp_path / "ck" / "manifest.json").write_text(json.dumps(stored))
    model, vocab = S.load(tmp_path / "ck")
    out = S.translate(model, vocab, ["xxx", "xy"], tag="a")
    assert len(out) == 2 and all(set(o) <= set("0123456789") for o in out)
    assert set(S.translate(model, vocab, [("a", "xxx")], beam_size=3)[0]) <= set("0123456789")
    with pytest.raises(ValueError, match="tag"):
        S.translate(model, vocab, ["xxx"])


def test_training_is_exactly_deterministic_with_sampled_inputs():
    vocab = S.Vocab.fit(PAIRS)
    items = S.items_of(PAIRS, vocab)["train"]
    args = S.Args(**{**TINY.__dict__, "teacher_forcing": 0.5, "steps": 8})
    runs = [S.train(S.build_model(args, vocab), items, args) for _ in range(2)]
    assert runs[0] == runs[1]


def test_command_line_trains_with_the_checkers_options(tmp_path):
    data = write(tmp_path / "d.tsv")
    out = tmp_path / "ck"
    assert S.main(["--data", str(data), "--out", str(out), "--source", "toy", "--threads", "1",
                   "--steps", "4", "--attention", "False", "--eval-every", "2",
                   "--hidden-size", "4", "--decoder-size", "6", "--eval-size", "5"]) == 0
    assert S.read_manifest(out)["args"]["attention"] is False
    with pytest.raises(SystemExit):
        S.main(["--data", str(data), "--out", str(out), "--attention", "maybe"])


def test_args_check_their_values():
    with pytest.raises(ValueError, match="teacher_forcing"):
        S.Args(teacher_forcing=1.5)
    with pytest.raises(ValueError, match="steps"):
        S.Args(steps=0)
    with pytest.raises(ValueError, match="attention"):
        S.Args(attention="no")
