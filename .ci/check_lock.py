"""Check that the venv is the lock, and the lock is requirements.txt resolved.

Usage: python .ci/check_lock.py requirements.txt requirements.lock

Fails (exit 1), naming each package, when
- a package pinned in requirements.txt is missing from the lock or locked at another
  version (requirements.txt changed and `make lock` was not run);
- `pip freeze --all` of the running Python (editable installs aside) differs from the lock:
  a package missing, extra, or at another version.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")


def canonical(name: str) -> str:
    """PEP 503 name: lower case, runs of -, _ and . as one -."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lines: list[str]) -> dict[str, str]:
    """{canonical name: version} for every `name==version` line."""
    found = {}
    for line in lines:
        m = PIN.match(line.strip())
        if m:
            found[canonical(m.group(1))] = m.group(2)
    return found


def same_version(wanted: str, got: str) -> bool:
    """== semantics for a pin without a local label: 2.13.0 matches 2.13.0+cpu."""
    return got == wanted or ("+" not in wanted and got.split("+")[0] == wanted)


def main(requirements: Path, lock: Path) -> int:
    top = pins(requirements.read_text(encoding="utf-8").splitlines())
    locked = pins(lock.read_text(encoding="utf-8").splitlines())
    problems = []
    for name, version in sorted(top.items()):
        if name not in locked:
            problems.append(f"{name}=={version} is in {requirements} but not in {lock}")
        elif not same_version(version, locked[name]):
            problems.append(f"{name}: {requirements} pins {version}, {lock} has {locked[name]}")
    freeze = subprocess.run([sys.executable, "-m", "pip", "freeze", "--all",
                             "--exclude-editable"], capture_output=True, text=True, check=True)
    installed = pins(freeze.stdout.splitlines())
    for name in sorted(set(locked) | set(installed)):
        if name not in installed:
            problems.append(f"{name}=={locked[name]} is locked but not installed")
        elif name not in locked:
            problems.append(f"{name}=={installed[name]} is installed but not in {lock}")
        elif installed[name] != locked[name]:
            problems.append(f"{name}: locked {locked[name]}, installed {installed[name]}")
    if problems:
        print(f"check_lock: the venv and {lock} disagree ({len(problems)}):")
        for p in problems:
            print(f"  {p}")
        print("  run `make lock` after changing requirements.txt; `make distclean` then "
              "`make venv` for a clean venv")
        return 1
    print(f"check_lock: pip freeze == {lock} ({len(installed)} packages)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
