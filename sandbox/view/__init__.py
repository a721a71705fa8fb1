"""Drawing on a pygame.Surface, shared by the window and the exporter (no display needed).

    render_frame(surface, Viewport(rect, center, half_extent), traj, progress, data=points,
                 options=ViewOptions(field=True), theme=Theme.dark(scale=1.5), label="title")
"""
import os

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

from .field_view import Mesh  # noqa: E402
from .frame import RenderCache, render_frame  # noqa: E402
from .labels import time_label  # noqa: E402
from .options import LAYERS, ViewOptions  # noqa: E402
from .theme import THEMES, Theme  # noqa: E402
from .timeline import locate, positions, time_at  # noqa: E402
from .viewport import Viewport  # noqa: E402

__all__ = ["Viewport", "Theme", "ViewOptions", "render_frame", "RenderCache", "Mesh", "LAYERS",
           "THEMES", "locate", "positions", "time_at", "time_label"]
