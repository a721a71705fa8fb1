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
    assert len(texts) == 5, list(html)  # model card, trajectory, animation, 2D tree, digits tree
    card, player, anim, tree, digits = texts
    assert "DiffusionModel" in card and "flow matching" in card and "moons" in card
    for view in (player, anim):
        assert "DSW.mount" in view and '"kind":"animation"' in view
    assert '"kind":"tree"' in tree and '"pos2d":{' in tree  # 2D source: hover shows positions
    assert '"kind":"tree"' in digits and "a handwritten 8" in digits and '"pos2d":null' in digits
    assert "Euler\u2013Maruyama (sampler=&#x27;euler_maruyama&#x27;)" in card  # display name, and the id to pass
    assert '"data":{' in anim and '"data":null' in player  # animate adds the training data
    assert (tmp_path / "moons.html").stat().st_size > 100_000
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "sliced Wasserstein" in printed


MISTAKES = [
    "import os, signal, threading\nimport numpy as np\nimport sandbox, tdl\nmodel = sandbox.shipped('moons')",
    "sandbox.train('moonz')",                                  # a wrong data set name
    "sandbox.sample(model, 100, stesp=10)",                    # a typo'd keyword
    "sandbox.train(np.zeros((2, 1000)))",                      # an array the wrong way round
    "sandbox.sample(model, 10_000_000)",                       # more than memory holds
    # Ctrl-C (Kernel > Interrupt sends SIGINT) in a long training, then the cell run again
    "threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()\n"
    "m = sandbox.train('moons', steps=100_000)",
    "m = sandbox.train('moons', steps=20)\nprint(m)",
    "print(sandbox.sample(m, 50, steps=5))",
    "sandbox.animate(m, 50, steps=4).save('a.gif', size='64x48', seconds=0.4, progress=True)",
    "t = tdl.sample('sandbox2d', preset='moons', instances=16, steps=3, progress=False)",
    "tree = tdl.embed(t, n_iter=30)",  # a bar by default in a notebook: the digits' defaults take minutes
    "import lessons\nlessons.run('nine')",                     # a lesson that does not exist
    "lessons.run(7)",                                          # no display here: the lesson as text
]


def test_mistakes_in_a_notebook_are_one_line_and_cells_run_again(tmp_path, monkeypatch):
    """What a student sees in Jupyter: each mistake one line (not 8-12 frames of the package), an
    interrupted training re-runs, print(traj) is one line, a bar when asked, no tqdm IProgress warning."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.delenv("DIFFUSION_SANDBOX_TRACEBACK", raising=False)
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in MISTAKES])
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = {k: o for k, c in enumerate(nb.cells) for o in c.outputs if o.output_type == "error"}
    assert sorted(errors) == [1, 2, 3, 4, 5, 11], {k: o.ename for k, o in errors.items()}
    for k, needle in [(1, "neither a file nor a preset"), (2, "did you mean 'steps'?"),
                      (3, "must have 2 columns (x, y), got shape (2, 1000)"), (4, "more than this machine can spare"),
                      (11, "unknown lesson 'nine'")]:
        assert errors[k].ename == "UserError" and needle in errors[k].evalue, errors[k]
        assert len(errors[k].traceback) == 1 and needle in errors[k].traceback[0], errors[k].traceback
    # Ctrl-C: one line that says where training stopped (was 17 frames ending inside torch)
    assert isinstance(errors[5].traceback, list) and len(errors[5].traceback) == 1, errors[5].traceback
    assert errors[5].ename == "Interrupted" and "training interrupted at step" in errors[5].traceback[0]
    streams = {k: "".join(o.get("text", "") for o in c.outputs if o.output_type == "stream")
               for k, c in enumerate(nb.cells)}
    assert "<DiffusionModel flow on 'moons', 20 steps>" in streams[6]
    assert streams[7].startswith("Trajectory(5 steps of 50 particles") and streams[7].count("\n") == 1, streams[7]
    assert "render a.gif" in streams[8] and (tmp_path / "a.gif").stat().st_size > 0
    # a text bar stays as its last state (leave=False left a line of spaces: an empty red box in JupyterLab)
    assert "100%" in streams[8].rstrip().split("\r")[-1], repr(streams[8][-200:])
    assert not any("IProgress" in text for text in streams.values()), streams
    assert "embedding: 100%" in streams[10] and streams[9] == "", (streams[9], streams[10][-200:])
    assert "7. The forward process and the score" in streams[12] and "no display" in streams[12], streams[12]
