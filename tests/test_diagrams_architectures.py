"""Tests of the five-shapes diagram (lstm_lib.viz.diagrams.architectures)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

from lstm_lib.viz.diagrams import architectures as arch  # noqa: E402


def counts(ax):
    boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    return len(boxes), len(arrows)


# (boxes, arrows) for 3 steps: inputs, cells, Dense read-outs, outputs; input arrows, two
# arrows per read-out (h_t -> Dense -> y_t), state arrows
EXPECTED = {
    "one-to-one": (3, 2),                             # the Dense box is the model itself
    "one-to-many": (1 + 3 + 3 + 3, 3 + 2 * 3 + 2),   # one x fed to all 3 steps (RepeatVector)
    "many-to-one": (3 + 3 + 1 + 1, 3 + 2 * 1 + 2),
    "many-to-many": (3 + 3 + 3 + 3, 3 + 2 * 3 + 2),
    "encoder-decoder": (6 + 6 + 3 + 3, 3 + 3 + 2 * 3 + 2 + 2 + 1),  # + the (h, c) hand-over
}


@pytest.mark.parametrize("kind", arch.KINDS)
def test_each_shape_has_its_boxes_and_arrows(kind):
    fig, ax = arch.architecture(kind, steps=3)
    assert counts(ax) == EXPECTED[kind]
    texts = [t.get_text() for t in ax.texts]
    assert arch.TITLES.get(kind, kind) in texts and arch.RECIPES[kind] in texts
    plt.close(fig)


def test_outputs_per_shape():
    def outputs(kind):
        fig, ax = arch.architecture(kind, steps=4)
        n = sum(t.get_text().startswith("$y") for t in ax.texts)
        plt.close(fig)
        return n

    assert outputs("one-to-one") == 1
    assert outputs("many-to-one") == 1
    assert outputs("one-to-many") == 4
    assert outputs("many-to-many") == 4
    assert outputs("encoder-decoder") == 4


def test_every_recurrent_output_comes_through_a_dense_readout():
    for kind in arch.KINDS:
        fig, ax = arch.architecture(kind, steps=3)
        texts = [t.get_text() for t in ax.texts]
        n_out = sum(t.startswith("$y") for t in texts)
        assert texts.count("Dense") == n_out, kind    # one-to-one: the model is the Dense
        plt.close(fig)


def test_encoder_decoder_hands_over_h_and_c():
    fig, ax = arch.architecture("encoder-decoder", steps=2)
    texts = [t.get_text() for t in ax.texts]
    assert "$h, c$" in texts
    assert texts.count("enc") == 2 and texts.count("dec") == 2
    plt.close(fig)


def test_five_shapes_holds_all_five():
    fig, ax = arch.five_shapes(steps=3)
    assert counts(ax) == tuple(map(sum, zip(*EXPECTED.values(), strict=True)))
    texts = [t.get_text() for t in ax.texts]
    for kind in arch.KINDS:
        assert arch.TITLES.get(kind, kind) in texts
    plt.close(fig)


def test_validation():
    with pytest.raises(ValueError, match="kind must be one of"):
        arch.architecture("two-to-one")
    with pytest.raises(ValueError, match="positive int"):
        arch.five_shapes(steps=0)
    assert arch.columns("encoder-decoder", 3) == 6
    assert arch.panel_width("many-to-one", 4) > arch.panel_width("many-to-one", 3)
