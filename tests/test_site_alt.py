"""Tests of the alt-text rule of .ci/site_test.py (the browser part needs a built book)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("playwright")
ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("site_test", ROOT / ".ci/site_test.py")
site = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(site)

SRC = "../_images/6f1d0c2e9a4b7d3c5e8f0a1b2c3d4e5f60718293a4b5c6d7e8f90123456789ab.png"


@pytest.mark.parametrize("alt, why", [
    (None, "without alt attribute"),
    ("", "empty alt"),
    ("   ", "empty alt"),
    (SRC, "file name"),                                    # what myst-nb writes without alt
    ("_images/3f2a9c.png", "file name"),
    ("figure.PNG", "file name"),
    ("6f1d0c2e9a4b7d3c5e8f0a1b2c3d4e5f", "file name"),     # a bare hash
    ("..\\_images\\6f1d0c2e9a4b7d3c5e8f.svg", "file name"),
])
def test_bad_alt_is_reported(alt, why):
    problem = site.alt_problem(SRC, alt)
    assert problem is not None and why in problem and SRC in problem


@pytest.mark.parametrize("alt", [
    "Held-out accuracy against training step: the bidirectional tagger reaches 1.0.",
    "Two curves, deadbeef and cafe",                       # hex words inside a sentence
    "Loss per step (log scale)",
])
def test_descriptive_alt_passes(alt):
    assert site.alt_problem(SRC, alt) is None


def test_alt_equal_to_src_is_reported():
    assert "file name" in site.alt_problem("plot", "plot")
