"""The layering of docs/architecture.md holds: import-linter's contracts (.importlinter) pass."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "BROKEN" not in result.stdout and "Contracts: 5 kept, 0 broken." in result.stdout


def test_contracts_cover_every_top_level_package_of_the_service():
    """A new top-level package must join the contracts (or it would sit outside the layering)."""
    config = (ROOT / ".importlinter").read_text()
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests"}
    missing = {name for name in packages if f"\n    {name}\n" not in config}
    assert not missing, f"packages missing from .importlinter root_packages: {sorted(missing)}"
