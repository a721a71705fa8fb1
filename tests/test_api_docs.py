"""docs/API.md is runnable: its Python blocks run in order, in a fresh folder, as a user would."""
import os
import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "API.md"


def code_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_api_doc_examples_run(tmp_path):
    blocks = code_blocks(DOC.read_text(encoding="utf-8"))
    assert len(blocks) >= 6  # the page's examples, not an empty match
    script = "\n\n".join(blocks)
    (tmp_path / "doc_example.py").write_text(script, encoding="utf-8")
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, "doc_example.py"], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    out = run.stdout
    assert "data torch.Size([101, 1000, 2])" in out  # flow default: Euler-Maruyama, 100 steps
    assert "UserError" in out and "2 columns" in out
    for name in ("ring.safetensors", "smiley.html", "smiley.png", "ring.html", "tree.html", "tree.png"):
        assert (tmp_path / name).stat().st_size > 1000, name
    page = (tmp_path / "smiley.html").read_text(encoding="utf-8")
    assert "DSW.mount" in page and "<script src" not in page
