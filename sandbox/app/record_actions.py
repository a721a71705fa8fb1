"""AppState's file actions: sessions, autosave, and recording the animation to GIF/MP4."""
from __future__ import annotations

import time
from pathlib import Path

from sandbox.errors import UserError

from . import session
from .settings import Settings

AUTOSAVE_EVERY = 1.0   # seconds between autosaves while drawing


class RecordActions:
    """Mixin for AppState."""

    def session_meta(self) -> dict:
        return {
            "settings": self.settings.to_dict(),
            "source": self.drawing.name,
            "class_names": list(self.drawing.class_names),
            "view": {k: bool(getattr(self.options, k)) for k in self.options.__dataclass_fields__},
            "theme": self.theme_name, "presenter_scale": self.presenter_scale,
            "compare": self.compare, "progress": self.progress, "speed": self.speed,
            "loop": self.loop, "noise_seed": self._noise_seed,
        }

    def save_session(self, path=None) -> Path:
        """Drawing + settings + view + trained models in one .safetensors file."""
        path = Path(path) if path else self.out_dir / f"session-{time.strftime('%Y%m%d-%H%M%S')}.safetensors"
        from sandbox.bundle import DiffusionModel

        # analytic (exact) models are rebuilt from the data, not stored
        models = {"/".join(k): m for k, m in self.models.items() if isinstance(m, DiffusionModel)}
        out = session.save(path, self.drawing.points, self.drawing.labels, self.session_meta(), models)
        self._saved_version = self.drawing.version
        session.retire_autosave()
        self.say(f"saved session to {out}")
        return out

    def load_session(self, path) -> None:
        from sandbox.view import ViewOptions

        pts, lab, meta, models = session.load(path)
        self.abandon_training()
        self.settings = Settings.from_dict(meta.get("settings", {}))
        self.panes[0].settings, self.panes[1].settings = self.settings.pane, self.settings.other
        self.drawing.replace(pts, lab, meta.get("class_names") or None, str(meta.get("source", "session")))
        self._saved_version = self.drawing.version
        view = {k: v for k, v in (meta.get("view") or {}).items() if k in ViewOptions.__dataclass_fields__}
        self.options = ViewOptions(**{k: bool(v) for k, v in view.items()})
        if meta.get("theme") in ("dark", "light", "high-contrast"):
            self.theme_name = meta["theme"]
        self.set_presenter_scale(float(meta.get("presenter_scale", 1.0)))
        self.compare = bool(meta.get("compare", False))
        self.set_speed(float(meta.get("speed", 1.0)))
        self.loop = bool(meta.get("loop", True))
        self._noise_seed = int(meta.get("noise_seed", 0))
        self._new_noise()
        self.models = {tuple(k.split("/")): m for k, m in models.items()}
        self.models_stale = False
        self._clear_panes()
        self.set_progress(float(meta.get("progress", 0.0)))
        self.say(f"loaded session {Path(path).name}" + (f" with {len(models)} model(s)" if models else ""))
        self.resample()

    # -- autosave ------------------------------------------------------------------------------
    def _maybe_autosave(self, force: bool = False) -> None:
        if not self.autosave_enabled or self.drawing.version == self._autosaved_version:
            return
        now = time.monotonic()
        if not force and now - self._autosaved_at < AUTOSAVE_EVERY:
            return
        self._autosaved_at = now
        self._autosaved_version = self.drawing.version
        if self.drawing.version != self._saved_version and len(self.drawing):
            session.autosave(self.drawing.points, self.drawing.labels,
                             {"settings": self.settings.to_dict(), "source": self.drawing.name,
                              "class_names": list(self.drawing.class_names)})

    def restore_autosave(self) -> None:
        found, self.restore_offer = self.restore_offer, None
        if found is None:
            return
        pts, lab, meta = found
        self.abandon_training()
        self.drawing.replace(pts, lab, meta.get("class_names") or None, str(meta.get("source", "drawing")))
        self.models_stale = bool(self.models)
        session.retire_autosave()
        self.say(f"restored your drawing ({len(pts)} points) - press Train")

    def dismiss_autosave(self) -> None:
        self.restore_offer = None
        session.retire_autosave()

    def close(self) -> None:
        """On quit: stop workers and autosave an unsaved drawing."""
        self.stop()
        self._maybe_autosave(force=True)
        if self._job is not None:
            self._job.join(2.0)
        self._tasks.shutdown()

    # -- recording ---------------------------------------------------------------------------
    record_size, record_fps, record_seconds = (960, 600), 30, 4.0

    def record(self, kind: str = "gif", path=None, size=None, fps: int | None = None,
               seconds: float | None = None) -> Path | None:
        """Write the current animation (pane A) to GIF/MP4 (sandbox.export) or, kind "html", to one
        self-contained web page to share (sandbox.web), in the worker."""
        if kind not in ("gif", "mp4", "html"):
            raise UserError(f"record as gif, mp4 or html, not {kind!r}")
        sampled = self.panes[0].sampled
        if sampled is None:
            self.say("nothing to record yet: train or load a model", "warn")
            return None
        from sandbox.export import export_animation
        from sandbox.view import Theme

        path = Path(path) if path else self.out_dir / f"sandbox-{time.strftime('%Y%m%d-%H%M%S')}.{kind}"
        size, fps = size or self.record_size, fps or self.record_fps
        seconds = seconds or self.record_seconds
        traj, data, options = sampled.traj, self.drawing.points.copy(), self.options
        theme = Theme.named(self.theme_name)
        label = self.panes[0].settings.title()

        def job():
            if kind == "html":  # share as web page: the notebook player, in one offline file
                from sandbox.web import trajectory_player

                return trajectory_player(traj, data=data, contours=options.contours,
                                         traces=100 if options.trajectories else 0, title=label).save(path)
            return export_animation(traj, path, size=size, fps=fps, seconds=seconds, data=data,
                                    options=options, theme=theme, label=label, traces=100,
                                    progress_bar=False)

        self._tasks.submit("record", job)
        self.say(f"recording {path.name} ...")
        return path
