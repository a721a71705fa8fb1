"""Colours of the TDL figure: one colour per prompt (shared with the explorer window and the web
page), or a colour map over a per-instance number, and the figure's key (legend or colour bar).
Pure numpy; matplotlib is imported only when a colour map or a key is drawn."""
from __future__ import annotations

import numpy as np

from sandbox.errors import UserError

# matplotlib's tab10, as 0-255 RGB, so the window and the figure use the same colours
_TAB10 = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
          (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]


def prompt_colors(n: int) -> list[tuple[int, int, int]]:
    """n distinct 0-255 RGB colours: tab10 first, then evenly spaced hues."""
    if n <= len(_TAB10):
        return _TAB10[:n]
    import colorsys
    return [tuple(int(255 * c) for c in colorsys.hsv_to_rgb(k / n, 0.75, 0.85)) for k in range(n)]


def rgb01(c) -> tuple[float, float, float]:
    """A 0-255 RGB colour as matplotlib's 0-1 floats."""
    return tuple(v / 255 for v in c)


def point_colors(prompt_index: np.ndarray, n_prompts: int, color_by=None, cmap=None, limits=None):
    """Per-instance RGB `(I, 3)` in [0, 1] and a legend: `("prompt", None)` for prompt colours, or
    `("values", (cmap, vmin, vmax))` for a numeric per-instance attribute `color_by (I,)` (colour map
    `cmap`, default viridis; `limits` (vmin, vmax), default the values' range)."""
    if color_by is None:
        table = np.array([rgb01(c) for c in prompt_colors(n_prompts)])
        return table[np.asarray(prompt_index)], ("prompt", None)
    from matplotlib import colormaps
    v = np.asarray(color_by, dtype=np.float64)
    if v.shape != np.asarray(prompt_index).shape:
        raise UserError(f"colour values must be one per instance ({len(prompt_index)}), got {v.shape}")
    lo, hi = limits if limits is not None else (float(np.nanmin(v)), float(np.nanmax(v)))
    cmap = cmap if cmap is not None else colormaps["viridis"]
    return cmap((v - lo) / (hi - lo or 1.0))[:, :3], ("values", (cmap, lo, hi))


def final_angle(final: np.ndarray) -> np.ndarray:
    """`final (I, D)` finished samples -> `(I,)` degrees in [-180, 180): each one's direction from their
    centre in their first two principal axes (for 2D samples, the plane itself, axes as drawn). Colouring
    by it tells apart every part of the data a sample ends in (eight modes round a circle too, which one
    axis would pair up), so paths that cross between steps show as colours mixing."""
    f = np.asarray(final, dtype=np.float64)
    f = f.reshape(len(f), -1) - f.reshape(len(f), -1).mean(0)
    if f.shape[1] > 2:
        _, _, vt = np.linalg.svd(f, full_matrices=False)
        f = f @ vt[:2].T
    elif f.shape[1] < 2:
        f = np.concatenate([f, np.zeros((len(f), 2 - f.shape[1]))], 1)
    return np.degrees(np.arctan2(f[:, 1], f[:, 0]))


def final_samples(traj) -> np.ndarray:
    """`(I, D)`: where each instance of a trajectory ends, its true 2D position where it has one (the 2D
    sandbox) and its features otherwise."""
    pos = getattr(traj, "positions2d", None)
    return np.asarray(pos[-1] if pos is not None else traj.features[-1])


def hue_rgb(fraction: float) -> tuple[float, float, float]:
    """RGB in [0, 1] at `fraction` of the way round the hue circle, dark enough to read on white."""
    import colorsys

    return colorsys.hsv_to_rgb(fraction, 0.8, 0.85)


def cyclic_map():
    """A colour map round the hue circle (`hue_rgb`; angles: -180 and 180 meet)."""
    from matplotlib.colors import ListedColormap
    return ListedColormap([hue_rgb(k / 256) for k in range(256)], name="tdl_hue")


def draw_legend(fig, legend, prompts: list, stars: bool, top: float, width: float, label: str = "") -> None:
    """The key on the right of `fig`: a dot per prompt (and the commitment star, with `stars`) from `top`
    (figure fraction) down, or, for `legend` = `("values", (cmap, vmin, vmax))` (`point_colors`), a
    colour bar in the right `width` inches named `label`."""
    from matplotlib.lines import Line2D
    W = fig.get_size_inches()[0]
    if legend[0] == "prompt":
        handles = [Line2D([], [], marker="o", ls="", markersize=6, color=rgb01(c), label=name)
                   for c, name in zip(prompt_colors(len(prompts)), prompts)]
        if stars:
            handles.append(Line2D([], [], marker="*", ls="", markersize=10, color="0.6", markeredgecolor="k",
                                  label="commitment step"))
        fig.legend(handles=handles, loc="upper right", bbox_to_anchor=(1.0, top), fontsize=8,
                   frameon=False, ncol=1 if len(prompts) <= 24 else 2)
    else:
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize
        cmap, lo, hi = legend[1]
        cax = fig.add_axes((1 - (width - 0.4) / W, 0.25, 0.18 / W, 0.5))
        fig.colorbar(ScalarMappable(Normalize(lo, hi), cmap), cax=cax, label=label or "value")
