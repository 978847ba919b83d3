"""The packages' public surfaces: every module declares one, every name in it exists, and
every module imports first, on its own (no import cycle hides behind another import)."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[2]
_PACKAGES = ("core", "extproc", "storage")


def _modules() -> list[str]:
    names = []
    for package in _PACKAGES:
        for path in sorted((_ROOT / package).rglob("*.py")):
            parts = path.relative_to(_ROOT).with_suffix("").parts
            if parts[-1] == "__main__" or "generated" in parts:  # __main__; protoc's output
                continue
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


@pytest.mark.parametrize("name", _modules())
def test_declares_a_public_surface_that_exists(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert isinstance(exported, list), f"{name} has no __all__"
    missing = [item for item in exported if not hasattr(module, item)]
    assert not missing, f"{name}.__all__ names what it lacks: {missing}"


def test_every_module_imports_first_on_its_own() -> None:
    script = f"""
import importlib, sys
for name in {_modules()!r}:
    for loaded in [m for m in sys.modules if m.split(".")[0] in {_PACKAGES!r}]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except ImportError as error:
        raise SystemExit(f"importing {{name}} first fails: {{error}}")
"""
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=_ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr or done.stdout
