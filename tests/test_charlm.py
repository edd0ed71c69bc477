"""lstm_lib.analysis.charlm: the language-model chapter's measurements of a char_lm checkpoint."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from lstm_lib.analysis import charlm
from lstm_lib.baselines.ngram_lm import NGramLM
from lstm_lib.numpy import LSTM
from lstm_lib.recipes import char_lm as recipe

TEXT = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(200))


@pytest.fixture(scope="module")
def ck(tmp_path_factory):
    torch.set_num_threads(1)
    args = recipe.Args(steps=20, hidden_size=10, embedding_size=5, batch_size=4, chunk_len=16,
                       eval_every=10, eval_chars=200, eval_rows=3, eval_warmup=8)
    root = tmp_path_factory.mktemp("ck")
    recipe.fit_and_save(TEXT, args, root / "tiny", source="test", log=lambda *_: None)
    return charlm.load_checkpoint("tiny", root=root)


def test_load_checkpoint(ck, tmp_path):
    assert ck.args.hidden_size == 10 and ck.parameters == ck.manifest["parameters"]
    assert not ck.model.training
    with pytest.raises(ValueError, match="make train"):
        charlm.load_checkpoint("missing", root=tmp_path)


def test_untrained_is_the_seeded_initialisation(ck):
    a, b = charlm.untrained(ck), charlm.untrained(ck)
    assert all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())
    assert not torch.equal(a.head.weight, ck.model.head.weight)
    state = torch.random.get_rng_state()
    charlm.untrained(ck)
    assert torch.equal(state, torch.random.get_rng_state())      # the global generator untouched


def test_numpy_twin_reproduces_the_torch_scores_in_float64(ck):
    model = charlm.load_checkpoint(ck.name, root=ck.directory.parent).model.double()
    ids = ck.vocab.encode(TEXT[:1500])
    ours = charlm.numpy_log2_probs(model, ids, rows=3, warmup=8, chunk_len=50)
    ref = recipe.log2_probs(model, ids, 3, 8)
    assert ours.shape == ref.shape and np.abs(ours - ref).max() < 1e-12
    with pytest.raises(TypeError):
        charlm.numpy_log2_probs(model, ids.astype(float))


def test_cell_states_match_one_trace_of_the_whole_text(ck):
    model = ck.model
    ids = ck.vocab.encode(TEXT[:300])
    c = charlm.cell_states(copy.deepcopy(model).double(), ids)
    lstm = LSTM(5, 10)
    lstm.load_state_dict(model.rnn.state_dict())
    whole = lstm.trace(model.embed.weight.detach().double().numpy()[ids][None])["c"][0, 0]
    assert c.shape == (300, 10) and np.abs(c - whole).max() < 1e-12


def brute_force_repeats(reference: np.ndarray, ids: np.ndarray, m: int) -> np.ndarray:
    windows = {tuple(reference[i: i + m]) for i in range(len(reference) - m + 1)}
    mask = np.zeros(len(ids), dtype=bool)
    for s in range(len(ids) - m + 1):
        if tuple(ids[s: s + m]) in windows:
            mask[s: s + m] = True
    return mask


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_long_repeat_mask_against_brute_force(seed):
    rng = np.random.default_rng(seed)
    reference = rng.integers(0, 3, 400)
    ids = np.concatenate([rng.integers(0, 3, 50), reference[100:130], rng.integers(0, 3, 60),
                          reference[5:12]])
    for m in (4, 8, 20):
        assert (charlm.long_repeat_mask(reference, ids, m)
                == brute_force_repeats(reference, ids, m)).all(), m
    got = charlm.long_repeat_mask(reference, ids, 20)
    assert got[50:80].all() and not got[-7:].any()


def test_long_repeat_mask_edge_cases():
    assert not charlm.long_repeat_mask(np.arange(5), np.arange(3), 4).any()
    with pytest.raises(ValueError):
        charlm.long_repeat_mask(np.arange(5), np.arange(5).reshape(1, 5), 2)
    with pytest.raises(TypeError):
        charlm.long_repeat_mask(np.arange(5.0), np.arange(5), 2)


def test_primed_bits_reward_a_text_seen_before():
    rng = np.random.default_rng(0)
    text = "".join(rng.choice(list("abcdefgh"), 20_000))
    fresh = "".join(rng.choice(list("abcdefgh"), 5_000))
    assert charlm.primed_bits(text, text[:5_000], "lzma") < 0.2       # a copy costs little
    assert charlm.primed_bits(text, fresh, "lzma") > 2.5              # random text: ~3 bits
    assert charlm.primed_bits("", fresh, "bz2") > 2.5
    with pytest.raises(ValueError):
        charlm.primed_bits("a", "b", "zip")


def test_ngram_sample_is_seeded_and_follows_the_counts():
    ids = np.array([0, 1, 2] * 300)
    lm = NGramLM(3, 4).fit(ids)
    out = charlm.ngram_sample(lm, 3, [0.01, 0.01, 0.01], np.array([0, 1]), 60, 0.5, seed=2)
    assert out.tolist() == ([2, 0, 1] * 20)                          # cold: the counted cycle
    hot = charlm.ngram_sample(lm, 3, [1.0, 1.0, 1.0], np.array([0, 1]), 400, 3.0, seed=2)
    assert (hot == charlm.ngram_sample(lm, 3, [1.0] * 3, np.array([0, 1]), 400, 3.0, 2)).all()
    assert set(hot.tolist()) == {0, 1, 2, 3}                         # hot: everything appears
    with pytest.raises(ValueError):
        charlm.ngram_sample(lm, 3, [1.0] * 3, np.array([0]), 5)


def test_tokenizes_and_sample_stats():
    assert charlm.tokenizes("x = f(a, b)") and charlm.tokenizes("    return (x +")
    assert charlm.tokenizes('"""docstring opens')
    assert not charlm.tokenizes("x = 'open") and not charlm.tokenizes("a $ b")
    # characters that are no operator (Python 3.12's tokenize reads them as operators)
    for line in ("see `x`", "a ? b", "a ! b", "don't"):
        assert not charlm.tokenizes(line), line
    assert charlm.tokenizes('f"{x!r}" != y') and charlm.tokenizes("a != b")
    s = charlm.sample_stats("x = 1\n\ny = 'a\nfoo bar foo\n", {"x", "foo"})
    assert (s.n_lines, s.n_words) == (3, 6)                  # x, y, a, foo, bar, foo
    assert s.line_fraction == pytest.approx(2 / 3) and s.word_fraction == pytest.approx(3 / 6)
    assert s.distinct_fraction == pytest.approx(5 / 6)
    with pytest.raises(TypeError):
        charlm.sample_stats(b"x", set())
