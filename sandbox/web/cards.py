"""Small HTML summary cards for notebooks (no script): what a model is, at a glance."""
from __future__ import annotations

import html


def _row(name: str, value) -> str:
    return f"<tr><th>{html.escape(name)}</th><td>{html.escape(str(value))}</td></tr>"


def model_card(model) -> str:
    """A `DiffusionModel` as a short table: kind, data, classes, network, training, quality."""
    from sandbox.web.page import asset

    cfg, data = model.config, model.data_summary
    train, stats, net = cfg.get("train", {}), cfg.get("stats", {}), cfg.get("net", {})
    kind = "flow matching" if model.kind == "flow" else "DDPM"
    obj = cfg.get("objective", {})
    if model.kind == "ddpm":
        kind += f" ({obj.get('schedule', train.get('schedule', '?'))} schedule, " \
                f"predicts {obj.get('prediction', train.get('prediction', '?'))})"
    params = sum(p.numel() for p in model.net.parameters())
    rows = [_row("model", kind),
            _row("data", f"{data.get('name', '?')} ({data.get('n', '?')} points)")]
    if model.num_classes:
        rows.append(_row("classes", ", ".join(model.class_names) or model.num_classes))
    rows.append(_row("network", f"MLP {net.get('width', '?')} wide x {net.get('depth', '?')} deep, "
                                f"{params:,} parameters"))
    if stats.get("steps"):
        took = f" in {stats['seconds']:.1f} s" if stats.get("seconds") else ""
        rows.append(_row("trained", f"{stats['steps']} steps{took}"))
    if stats.get("score") is not None and stats.get("baseline"):
        ratio = stats["score"] / stats["baseline"]
        rows.append(_row("quality", f"sliced Wasserstein {stats['score']:.3g} = {ratio:.2f} x data-vs-data"))
    from sandbox.registry import SAMPLERS

    name = model.default_sampler  # the display name, and the id to pass as sampler=
    shown = f"{SAMPLERS[name].display} (sampler={name!r})" if name in SAMPLERS else name
    rows.append(_row("samples with", f"{shown}, {model.default_steps(name)} steps "
                                     f"(sandbox.sample(model, n) -> data coordinates)"))
    return (f"<style>{asset('dsw.css')}</style><div class=\"dsw dsw-card\">"
            f"<div class=\"dsw-title\">DiffusionModel</div><table>{''.join(rows)}</table></div>")
