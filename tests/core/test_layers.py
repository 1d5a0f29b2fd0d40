"""The import contracts of `.importlinter` (run by `dev.py lint`) fail on a forbidden import.

A probe module is written into the tree for the length of one run of the linter, as a developer's
mistake would be, and removed again."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.contracts import PrivateImport, private_imports

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(*contracts: str) -> subprocess.CompletedProcess[str]:
    options = [option for contract in contracts for option in ("--contract", contract)]
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", *options],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        # The linter wraps its report to the terminal's width.
        env={**os.environ, "COLUMNS": "400"},
    )


@pytest.fixture
def probe() -> object:
    name = f"layer_probe_{uuid.uuid4().hex[:8]}"
    path = ROOT / "integrations" / f"{name}.py"
    path.write_text(
        '"""A deliberate breach of the layers, written by tests/core/test_layers.py."""\n'
        "import accounting.families\n"
        "import sandbox.routers\n"
        "from accounting.families import _lines\n"
    )
    try:
        yield f"integrations.{name}"
    finally:
        path.unlink()


def test_forbidden_imports_break_the_contracts(probe: str) -> None:
    result = _lint("layers", "sandbox-unseen", "private-names")

    assert result.returncode == 1, result.stdout
    assert f"{probe} -> accounting.families (l.2, l.4)" in result.stdout
    assert f"{probe} -> sandbox.routers (l.3)" in result.stdout
    assert f"{probe} (l.4) imports the private accounting.families._lines" in result.stdout
    assert "Contracts: 0 kept, 3 broken." in result.stdout


def test_private_names_are_read_from_the_source_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "probeapp"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "mod.py").write_text(
        "from otherapp.tools import (\n"
        "    public,\n"
        "    _hidden,\n"
        ")\n"
        "from . import _own\n"
        "import otherapp._secret\n"
        "from otherapp import __version__\n"
        "from unknown import _elsewhere\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    found = private_imports("probeapp.mod", {"probeapp", "otherapp"})

    # A multi-line import is read whole; an app's own private names, dunders and packages that are
    # not apps are not the contract's business.
    assert found == [
        PrivateImport("probeapp.mod", 1, "otherapp.tools._hidden"),
        PrivateImport("probeapp.mod", 6, "otherapp._secret"),
    ]
