"""Colours and sizes of everything drawn: dark, light and high-contrast themes, presenter scale.

Class colours are the Okabe–Ito palette (distinguishable with the common colour-vision
deficiencies), adjusted per background so each reads as data and as samples, ordered so class 0
(what a first drawing gets) is never the particles' hue: data and samples must not share a colour.
`scale` is the presenter scale: it multiplies font size, line width and point size so a projected
window stays legible from the back of a room.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, replace

Color = tuple[int, int, int]

# on a dark background: Okabe-Ito's blue lightened and its reddish purple darkened a little. Drawn
# as data (blended into the background, `class_strength`) the blue had a contrast of 1.65 on the dark
# theme, and purple and grey nearly met for a deuteranope (CIE76 distance 6.7). With these and
# class_strength 0.6 the data read at 2.36 or more, the samples at 4.4 or more, and every two classes
# stay 11.5 or more apart in normal, deuteranope and protanope vision (Machado 2009 simulation),
# samples and data alike (tests/test_theme_colors.py)
OKABE_ITO_ON_DARK: tuple[Color, ...] = (
    (86, 180, 233),   # sky blue
    (0, 158, 115),    # bluish green
    (195, 105, 157),  # reddish purple
    (240, 228, 66),   # yellow
    (42, 129, 195),   # blue
    (213, 94, 0),     # vermillion
    (180, 180, 180),  # grey
    (230, 159, 0),    # orange
)

# on the light theme's paper the pale Okabe-Ito colours wash out as data (yellow 1.13, sky blue 1.52,
# grey 1.41 once blended behind the samples; a projector flattens them further), and darkened to the
# same lightness the warm ones met for a deuteranope (vermillion and orange 1.3 apart, gold and orange
# 1.5): these were searched (hue kept, lightness and chroma free) for the largest smallest distance
# between two classes in normal, deuteranope and protanope vision with the samples at a contrast of 3
# or more and the data at 2.3 or more; 10.5 apart at worst
OKABE_ITO_ON_LIGHT: tuple[Color, ...] = (
    (34, 149, 202),   # sky blue
    (55, 150, 115),   # bluish green
    (190, 110, 155),  # reddish purple
    (122, 103, 6),    # yellow, as dark olive gold
    (0, 114, 178),    # blue
    (186, 110, 64),   # vermillion, as terracotta
    (94, 94, 94),     # grey
    (181, 123, 8),    # orange
)

_FONTS: dict[tuple[int, bool, int], object] = {}
# one font object per thread (the exporter may render in a worker while the window draws), and
# font creation serialised: FreeType's library object is not safe to use from two threads at once
_FONT_LOCK = threading.Lock()


def blend(a: Color, b: Color, w: float) -> Color:
    """`a` moved a fraction `w` towards `b` (opaque stand-in for alpha drawing, which is slow)."""
    return tuple(int(round(x + (y - x) * w)) for x, y in zip(a, b))  # type: ignore[return-value]


@dataclass(frozen=True)
class Theme:
    name: str = "dark"
    background: Color = (17, 19, 26)
    panel: Color = (28, 31, 41)
    panel_border: Color = (60, 65, 80)
    text: Color = (225, 228, 235)
    text_dim: Color = (140, 146, 160)
    accent: Color = (86, 180, 233)
    particle: Color = (255, 190, 70)
    data: Color = (120, 130, 150)
    data_strength: float = 0.45    # how far the data colour is blended into the background
    class_strength: float = 0.6    # the same for data drawn in class colours (blue needs it)
    trace: Color = (110, 150, 220)
    trace_strength: float = 0.55
    contour: tuple[Color, ...] = ((70, 110, 170), (90, 160, 200), (140, 210, 220), (220, 240, 240))
    field: Color = (120, 200, 150)
    mesh: Color = (120, 120, 170)
    highlight: Color = (255, 80, 120)
    grid: Color = (32, 35, 46)
    error: Color = (240, 90, 80)
    class_colors: tuple[Color, ...] = OKABE_ITO_ON_DARK
    scale: float = 1.0
    base_font: int = 16
    base_line: float = 1.0
    base_point: float = 1.0

    # sizes in pixels after the presenter scale
    @property
    def font_px(self) -> int:
        return max(8, int(round(self.base_font * self.scale)))

    @property
    def line_px(self) -> int:
        return max(1, int(round(self.base_line * self.scale)))

    @property
    def point_px(self) -> int:
        """Radius of a particle in pixels (0 means a single pixel)."""
        return max(0, int(round(self.base_point * self.scale)))

    def scaled(self, scale: float) -> "Theme":
        return replace(self, scale=float(min(max(scale, 0.5), 4.0)))

    def class_color(self, k: int) -> Color:
        return self.class_colors[int(k) % len(self.class_colors)]

    @property
    def data_class_colors(self) -> tuple[Color, ...]:
        """The class colours as the data behind the samples are drawn: blended into the background."""
        return tuple(blend(self.background, c, self.class_strength) for c in self.class_colors)

    def font(self, mult: float = 1.0, bold: bool = False):
        """A cached pygame font of `font_px * mult` pixels (pygame's default font)."""
        import pygame

        px = max(8, int(round(self.font_px * mult)))
        key = (px, bold, threading.get_ident())
        f = _FONTS.get(key)
        if f is None:
            with _FONT_LOCK:
                if not pygame.font.get_init():
                    pygame.font.init()
                f = pygame.font.Font(None, int(px * 1.3))  # the default font renders small for its size
                f.set_bold(bold)
                _FONTS[key] = f
        return f

    @property
    def key(self) -> tuple:
        """Hashable identity for caches of rendered layers."""
        return (self.name, self.scale, self.background, self.data, self.data_strength, self.class_strength)

    @staticmethod
    def dark(scale: float = 1.0) -> "Theme":
        return Theme(scale=scale)

    @staticmethod
    def light(scale: float = 1.0) -> "Theme":
        return Theme(
            name="light", background=(247, 247, 244), panel=(232, 233, 236),
            panel_border=(180, 184, 192), text=(25, 28, 35), text_dim=(95, 100, 112),
            accent=(0, 114, 178), particle=(213, 94, 0), data=(120, 125, 140),
            data_strength=0.75, class_strength=0.75, trace=(0, 114, 178), trace_strength=0.7,
            contour=((115, 155, 200), (90, 140, 190), (40, 100, 160), (10, 50, 110)),
            field=(0, 130, 90), mesh=(150, 150, 190), highlight=(204, 0, 90), grid=(230, 231, 235),
            error=(200, 30, 30), class_colors=OKABE_ITO_ON_LIGHT, scale=scale,
        )

    @staticmethod
    def high_contrast(scale: float = 1.0) -> "Theme":
        return Theme(
            name="high-contrast", background=(0, 0, 0), panel=(0, 0, 0),
            panel_border=(255, 255, 255), text=(255, 255, 255), text_dim=(230, 230, 230),
            accent=(255, 255, 0), particle=(255, 255, 0), data=(255, 255, 255),
            data_strength=0.6, class_strength=0.75, trace=(0, 220, 255), trace_strength=0.85,
            contour=((255, 255, 255), (255, 255, 255), (255, 255, 255), (255, 255, 255)),
            field=(0, 255, 120), mesh=(200, 200, 255), highlight=(255, 0, 255), grid=(25, 25, 25),
            error=(255, 80, 80), scale=scale, base_line=2.0, base_point=1.5, base_font=18,
        )

    @staticmethod
    def named(name: str, scale: float = 1.0) -> "Theme":
        makers = {"dark": Theme.dark, "light": Theme.light, "high-contrast": Theme.high_contrast}
        if name not in makers:
            from sandbox.errors import UserError

            raise UserError(f"unknown theme {name!r}; choose from {', '.join(makers)}")
        return makers[name](scale)


THEMES = ("dark", "light", "high-contrast")
