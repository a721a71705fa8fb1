"""Small helpers shared by the window tests (tests/test_layout.py, tests/test_controls.py)."""
import numpy as np


def _classes(st):
    rng = np.random.default_rng(0)
    pts = np.concatenate([rng.normal(c, 0.3, (300, 2)) for c in ((-1.5, 0), (1.5, 0), (0, 1.5))])
    st.drawing.replace(pts, np.repeat(np.arange(3), 300), ["a", "b", "c"], "three colours")


def _text_of(w) -> str:
    t = getattr(w, "text", None) or getattr(w, "label", "")
    return str(t() if callable(t) else t)[:20]
