"""Small immediate widgets drawn with the view's Theme: buttons, toggles, segmented choices,
cyclers, sliders and colour swatches.

Each widget reads its value through a getter and changes it through a setter bound to an AppState
action, so the widgets hold no state of their own beyond their rectangle (the state object stays
the one source of truth, and a widget can never disagree with a keyboard shortcut).

Values change by click or drag only: the mouse wheel scrolls the panel and never changes a value
(a wheel turn over a slider used to change whichever slider passed under the pointer). Keyboard:
Tab / Shift+Tab give the next control the focus (a ring shows it), Left/Right step it, Enter or
Space press it, Esc gives the keys back to the shortcuts. A widget
that is too narrow for its text takes a second line (`lines()`), so text is never squeezed away
at a large presenter scale; `tip` is the sentence shown when the pointer rests on it.

One concept per file: `text.py` (cached text, metrics, the disabled colour, arrows), `base.py`
(`Widget` and the shared input helpers), `buttons.py` (`Label`, `Button`), `choices.py`
(`Segmented`, `Cycler`), `slider.py` (`Slider`), `swatches.py` (`Swatches`), `row.py` (`Row`).
"""
from __future__ import annotations

from .base import Action, Getter, Widget
from .buttons import Button, Label
from .choices import Cycler, Segmented
from .row import Row
from .slider import Slider
from .swatches import Swatches
from .text import disabled_color, row_metrics, text_image, text_width, triangle

__all__ = ["Action", "Button", "Cycler", "Getter", "Label", "Row", "Segmented", "Slider", "Swatches", "Widget",
           "disabled_color", "row_metrics", "text_image", "text_width", "triangle"]
