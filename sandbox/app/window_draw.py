"""Drawing a frame of the window: the panes (what they show and their headers), the brush cursor,
the score panel, toasts, the panel and time bar, the focus ring, the banners, help, the file dialog
and the tooltip, in that order. Functions of the App (no mixin): every attribute they use is App's."""
from __future__ import annotations

from typing import TYPE_CHECKING

import pygame

from sandbox.view import Theme, render_frame
from sandbox.view import banner, score_panel
from sandbox.view.draw import draw_text

from . import engine, names, overlays
from .settings import PREDICTION_NAMES
from .trainer import eta_text
from .window_focus import draw_focus
from .window_tips import draw_tooltip

if TYPE_CHECKING:
    from .window import App


def draw(app: "App", dt: float = 0.0) -> None:
    st = app.state
    theme = app.theme()
    app.layout(theme)
    if st.compare:  # the gap between the panes; everything else is covered below
        app.screen.fill(theme.panel_border, app.canvas)
    d = st.drawing
    multi = d.num_classes > 1 or bool(d.class_names)   # drawn points keep their colour
    app.pane_headers = {}
    app.pane_labels = {}
    app.chart_rect = None
    for i in range(len(app.pane_rects)):
        draw_pane(app, i, theme, d, multi)
    draw_cursor(app, theme)
    top = app.canvas
    draw_score(app, theme)
    app.toast_rects = overlays.messages(app.screen, app.toast_area(theme), theme, st.recent_messages(),
                                        avoid=app.chart_rect)
    app.panel.draw(app.screen, theme)
    app.timebar.draw(app.screen, theme)
    draw_focus(app, theme)
    app._banner = None
    app.banner_rect = None
    if st.restore_offer is not None:
        *buttons, app.banner_rect = overlays.restore_banner(
            app.screen, top, theme, len(st.restore_offer[0]), avoid=app.chart_rect)
        app._banner = (buttons[0], buttons[1])
    app.help_rect = None
    app._offer_buttons = None
    if st.offer is not None:
        # across the canvas, below the score panel so neither hides the other
        below = app.chart_rect.bottom + 8 if app.chart_rect is not None else None
        app._offer_buttons = banner.question(app.screen, top, theme, st.offer.text,
                                             "use new", "keep previous", top=below)
    if st.help_visible:
        app.help_rect = overlays.help_overlay(app.screen, app.screen.get_rect(), theme)
    if app.dialog is not None:
        app.dialog.draw(app.screen, dt, theme)
    draw_tooltip(app, theme, dt)


def _stale_note(st, ps) -> str:
    """The status line's words where the class looks: the pane's model is of older data."""
    key = ps.model_key()
    if key not in st.stale_keys:
        return ""
    retraining = st.training.running and (st.training.key == key or key in st.trainer.queued_keys())
    return " (data changed: retraining)" if retraining else " (data changed: T retrains)"


def draw_pane(app: "App", i: int, theme: Theme, d, multi: bool) -> None:
    st = app.state
    pane = st.panes[i]
    vp = app.viewport(i)
    traj = pane.sampled.traj if pane.sampled is not None else None
    # the header names what is drawn: the settings that made these samples
    ps = pane.sampled.source.pane if pane.sampled is not None else pane.settings
    model_name = names.display("objective", ps.objective)
    if ps.objective == "ddpm":
        model_name += f" ({PREDICTION_NAMES.get(ps.prediction, ps.prediction)}, {ps.schedule})"
    label = f"{model_name} \u00b7 {names.display('sampler', ps.sampler)} {names.steps(ps.steps)}"
    if pane.sampled is not None:
        # what is shown, which during training is a shorter preview run
        tr = pane.sampled.traj
        label = f"{model_name} \u00b7 {names.display('sampler', tr.sampler)} {names.steps(tr.xs.shape[0] - 1)}"
    stale = _stale_note(st, ps) if pane.sampled is not None and not pane.sampled.source.preview_run else ""
    if pane.sampled is not None:
        label += " (training preview)" if pane.sampled.source.preview_run else stale
    variants = [label]
    if pane.sampled is not None:
        extra = f"  \u00b7  NFE {pane.sampled.nfe}"
        if pane.sampled.straightness is not None:
            variants.insert(0, label + extra + f"  \u00b7  straightness {pane.sampled.straightness:.2f}")
        variants.insert(-1, label + extra)
    # narrower: the sampler before the prediction and schedule (a 300 px compare pane at 1280x800 said only
    # "DDPM (eps, linear)" while lesson 3 asks about that pane's sampler)
    objective = names.display("objective", ps.objective)
    variants += [label.replace(model_name, objective, 1)] + ([objective + stale] if stale else [])
    # narrower still (a compare pane at 2.5-3x on 1024x768): the objective's first word, and the
    # sampler as long as it fits (what a sampler comparison is about), rather than a shrunk
    # 'flow matchi...' beside the other pane's full-size 'DDPM'
    short = objective.split()[0] if objective.split() else objective
    sampler = names.display("sampler", pane.sampled.traj.sampler if pane.sampled is not None else ps.sampler)
    variants += [f"{objective} \u00b7 {sampler}", f"{short} \u00b7 {sampler}", model_name, objective, short]
    # the longest header that fits the pane (a narrow pane at a large presenter scale);
    # render_frame pads the header by 8 px x scale and its backdrop by font_px // 5
    font = theme.font(1.0, True)
    room = app.pane_rects[i].w - 2 * int(8 * theme.scale) - 2 * max(2, theme.font_px // 5)
    label = next((v for v in variants if font.size(v)[0] <= room), variants[-1])
    app.pane_headers[i] = (label, font.size(label)[0], room)
    fld = pane.field if st.options.field else None
    app.pane_labels[i] = render_frame(app.screen, vp, traj, st.progress, data=d.points,
                 data_labels=d.labels if multi else None, options=st.options, theme=theme,
                 label=label, traces=120, field=fld, field_kind=engine.field_kind(pane.settings),
                 field_labels=getattr(fld, "label", None), mesh=pane.mesh,
                 highlights=st.released if i == 0 else (), cache=app.caches[i])
    if traj is None:
        msg = pane.note or ("training..." if st.training.running else "no model yet: press T to train")
        rect = app.pane_rects[i]
        lines = overlays.wrap(msg, theme.font(0.9), max(40, rect.w - 4 * theme.font_px))
        lh = theme.font(0.9).get_linesize()
        prev = app.screen.get_clip()
        app.screen.set_clip(rect)
        for k, line in enumerate(lines):
            draw_text(app.screen, line, (rect.centerx, rect.centery + (k - (len(lines) - 1) / 2) * lh),
                      theme, anchor="center", backdrop=True, mult=0.9)
        app.screen.set_clip(prev)


def draw_score(app: "App", theme: Theme) -> None:
    """The score panel (sandbox.view.score_panel) at the top right of pane B or A."""
    st = app.state
    app._score_head = None
    chart = st.chart_status()      # the run of the model pane A shows, or none
    if not (chart.running or chart.losses or st.score is not None):
        return
    area = app.pane_rects[0]      # the score is pane A's model's
    rect = score_panel.panel_rect(area, theme, area.y + int(theme.font_px * 2.4), not st.score_open,
                                  score_panel.has_history(chart))
    app.chart_rect = rect
    app._score_head = score_panel.draw(app.screen, rect, theme, chart, st.score,
                                       not st.score_open, eta_text(st.training.eta_s))


def draw_cursor(app: "App", theme: Theme) -> None:
    st = app.state
    i = app.pane_at(app.mouse)
    if i is None or st.tool == "release" or app.dialog is not None:
        return
    vp = app.viewport(i)
    r = max(2, int(st.brush_radius * vp.scale))
    col = theme.class_color(st.brush_class) if st.tool == "spray" else theme.error
    pygame.draw.circle(app.screen, col, app.mouse, r, max(1, theme.line_px))
