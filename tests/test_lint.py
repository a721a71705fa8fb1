"""`ruff check` over the repository reports nothing (rules: [tool.ruff] in pyproject.toml).

Run it yourself before landing: `.venv/bin/ruff check .` (`--fix` applies the safe fixes).
"""
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_check_is_clean():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is not installed: it is in the dev extra (pip install -e '.[dev]')"
    out = subprocess.run([ruff, "check", "--no-cache", "--output-format", "concise", str(ROOT)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, f"ruff check found problems (see `ruff check .`):\n{out.stdout}{out.stderr}"
