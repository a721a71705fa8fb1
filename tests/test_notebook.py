"""examples/quickstart.ipynb runs headless (nbclient) and its outputs hold the card and the players."""
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "quickstart.ipynb"


def test_example_notebook_runs_and_shows_players(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # the kernel is another process: one thread, as the suite
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code")  # stored clean
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    html = {}
    for k, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.outputs:
            assert out.output_type != "error", out
            if "text/html" in out.get("data", {}):
                html[k] = out["data"]["text/html"]
    texts = list(html.values())
    assert len(texts) == 4, list(html)  # model card, trajectory, animation, tree
    card, player, anim, tree = texts
    assert "DiffusionModel" in card and "flow matching" in card and "moons" in card
    for view in (player, anim):
        assert "DSW.mount" in view and '"kind":"animation"' in view
    assert '"kind":"tree"' in tree and '"pos2d":{' in tree  # 2D source: hover shows positions
    assert '"data":{' in anim and '"data":null' in player  # animate adds the training data
    assert (tmp_path / "moons.html").stat().st_size > 100_000
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "sliced Wasserstein" in printed
