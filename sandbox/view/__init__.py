"""Drawing on a pygame.Surface, shared by the window and the exporter (no display needed)."""
from .field_view import Mesh
from .frame import RenderCache, locate, positions, render_frame, time_at, time_label
from .options import LAYERS, ViewOptions
from .theme import THEMES, Theme
from .viewport import Viewport

__all__ = ["Viewport", "Theme", "ViewOptions", "render_frame", "RenderCache", "Mesh", "LAYERS",
           "THEMES", "locate", "positions", "time_at", "time_label"]
