"""The type checker passes on sandbox/ (core and app) with the configuration in pyproject.toml.

The window's state is one composed, typed object (app/state.py with the Trainer component and
the file actions as functions of it): mypy sees every attribute it uses, so this test fails on
the old mixins that reached for attributes defined in other classes.
"""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_passes_on_sandbox(tmp_path, monkeypatch):
    api = pytest.importorskip("mypy.api", reason="mypy comes with the dev extra")
    monkeypatch.chdir(ROOT)
    out, err, code = api.run(["--config-file", str(ROOT / "pyproject.toml"),
                              "--cache-dir", str(tmp_path / "mypy-cache"), "--no-error-summary"])
    assert code == 0, (out + err)[-4000:]
