"""The environment the book's stored outputs were made with, and how yours differs from it.

    report = check()          # versions of this process
    print(report.text())      # one line per package, then one note per difference

The book pins Python 3.11, ``numpy==2.4.6`` and the CPU build of ``torch==2.13.0``
(``requirements.txt``; every package at an exact version in ``requirements.lock``). Another
environment runs the book too, on Colab for instance: the chapters then print other digits
in places, and ``check`` says so in plain lines (not ``warnings.warn``, whose text carries a
file path and would differ from run to run). Nothing here raises on a different version.

``check`` takes every fact as an argument, so a test can hand it a stand-in ``google.colab``
module or another torch version string.
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: The versions the stored outputs were made with (``python`` is major.minor).
PINNED: dict[str, str] = {"python": "3.11", "numpy": "2.4.6", "torch": "2.13.0"}

_UNSET: Any = object()


@dataclass(frozen=True)
class EnvironmentReport:
    """What :func:`check` found.

    ``versions``: package -> version string (``python``, ``numpy``, ``torch``, ``lstm_lib``);
    ``cuda``: the CUDA version torch was built for, or None for a CPU build; ``on_colab``:
    True if ``google.colab`` is loaded; ``notes``: one sentence per difference from
    :data:`PINNED` (empty in the pinned environment).
    """

    versions: dict[str, str]
    cuda: str | None
    on_colab: bool
    notes: list[str] = field(default_factory=list)

    @property
    def pinned(self) -> bool:
        """True if nothing differs from the pinned environment."""
        return not self.notes

    def text(self) -> str:
        """The report as printable lines: the versions, then the verdict or the notes.

        Python is shown as major.minor, the precision of :data:`PINNED` (3.11.7 and 3.11.9
        print the same report); a note still names the full version when it differs.
        """
        shown = {name: ".".join(version.split(".")[:2]) if name == "python" else version
                 for name, version in self.versions.items()}
        lines = [f"{name:10s} {version}" for name, version in shown.items()]
        lines.append(f"{'build':10s} " + (f"CUDA {self.cuda}" if self.cuda else "CPU"))
        if self.pinned:
            lines.append("This is the pinned environment: the stored outputs were made with it.")
        else:
            lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def _release(version: str) -> str:
    """``"2.13.0+cpu"`` -> ``"2.13.0"``: the version without its local build label."""
    return version.split("+", 1)[0]


def check(versions: Mapping[str, str] | None = None, cuda: Any = _UNSET,
          modules: Mapping[str, Any] | None = None) -> EnvironmentReport:
    """Compare an environment with :data:`PINNED`; never raises on a difference.

    ``versions``: package -> version string; default the running Python, numpy, torch and
    lstm_lib. Missing keys are read from the running process. ``cuda``: torch's CUDA
    version string, or None for a CPU build; default ``torch.version.cuda``. ``modules``:
    the loaded modules (default ``sys.modules``); ``"google.colab"`` among them means Colab.
    Returns :class:`EnvironmentReport`.
    """
    found = dict(versions or {})
    for key, value in found.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"versions must map names to version strings, got "
                            f"{key!r}: {type(value).__name__}")
    if "python" not in found:
        found["python"] = platform.python_version()
    if "numpy" not in found:
        import numpy
        found["numpy"] = numpy.__version__
    if "torch" not in found or cuda is _UNSET:
        import torch
        found.setdefault("torch", torch.__version__)
        if cuda is _UNSET:
            cuda = torch.version.cuda
    if "lstm_lib" not in found:
        import lstm_lib
        found["lstm_lib"] = lstm_lib.__version__
    if cuda is not None and not isinstance(cuda, str):
        raise TypeError(f"cuda must be a version string or None, got {type(cuda).__name__}")
    loaded = sys.modules if modules is None else modules
    on_colab = "google.colab" in loaded
    order = ("python", "numpy", "torch", "lstm_lib")
    ordered = {k: found[k] for k in order} | {k: v for k, v in found.items() if k not in order}

    notes = []
    if on_colab:
        notes.append("running on Colab, with Colab's own numpy and torch: some printed digits "
                     "will differ from the stored outputs")
    py = ".".join(ordered["python"].split(".")[:2])
    if py != PINNED["python"]:
        notes.append(f"Python {ordered['python']} is not the pinned {PINNED['python']}")
    for name in ("numpy", "torch"):
        if _release(ordered[name]) != PINNED[name]:
            notes.append(f"{name} {ordered[name]} is not the pinned {PINNED[name]}: some "
                         "printed digits may differ from the stored outputs")
    if cuda is not None:
        notes.append(f"this torch is a CUDA build (CUDA {cuda}); the book pins the CPU build "
                     "and runs everything on the CPU")
    return EnvironmentReport(ordered, cuda, on_colab, notes)


__all__ = ["PINNED", "EnvironmentReport", "check"]
