"""`EmbedConfig`: every knob of the evolutionary embedding, what "auto" resolves to, and the checks.

Kept apart from the optimisation (`tdl/embedding.py`) so that the settings, their measured reasons and
their validation read in one place; `tdl/embedding.py` re-exports every name here.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from sandbox.errors import UserError
from tdl import layout as lay

METHODS = ("auto", "exact", "approx")
# `method="auto"` is exact up to this many instances per step: where the measured seconds per iteration
# of the two methods cross (bench/tdl_scale.py --time-iters; bench/results/tdl_crossover.json, tested).
# CPU (fused kernels, one thread): exact 140 vs approx 205 ms at 2000, 342 vs 333 at 3000; one H200:
# exact 3.2 vs 3.1 ms at 2000, 4.9 vs 3.3 at 2500. Other devices take the GPU's.
EXACT_MAX = {"cpu": 3000, "cuda": 2000}
EXACT_MAX_ENTRIES = 2 ** 29  # and "auto" keeps the dense P (S x I x I, float32) within 2 GiB
AUTO_SCALE_MAX = 2.0  # length_scale="auto" refused where it would exceed this (docs/BENCHMARKS.md: random
# layouts at 3.2-10x; 2x at 20,000 per step was 0.73 vs 0.745 with 1x)
MIN_INSTANCES = 16  # fewer instances per step than this: rings/bands may not hold (docs/TDL.md)


class FewInstancesWarning(UserWarning):
    """Too few instances per step for the rings/bands to hold."""


def check_instances(num_instances: int) -> str | None:
    """The warning for too few instances per step, or None."""
    if num_instances >= MIN_INSTANCES:
        return None
    return (f"only {num_instances} instances per step: with fewer than {MIN_INSTANCES} the steps may not keep to "
            f"their rings/bands (the picture can mislead); sample at least {MIN_INSTANCES} "
            f"(e.g. more instances per prompt)")
INITS = ("auto", "random", "aligned", "pca", "pca_angle")
# init="auto": rectilinear layouts of this many instances per step or more start from the principal plane
# ("pca"): random starts there put groups that the data keeps together far apart (bands whole up to 2000
# (the principal start 0.983 there), 0.946 at 5000 and a branch jumping across at 20,000; docs/BENCHMARKS.md)
PCA_INIT_MIN = {"rectilinear": 5000}
# radial layouts of this many or more start from the principal plane's angles on the reference's rings
# ("pca_angle"): random starts split a data group into two arcs (branching family, 10 steps, one arc per
# data group: 0.97 at 200, 0.935 at 300 over 10 seeds, 0.83-0.88 at 500-1000) where "pca_angle" keeps 1.0
# up to 20,000 ("pca"'s compact start as well, but it cost step separation at 200: 0.983 vs 0.997); below
# 200 random starts kept every group in one arc and "pca_angle" lost trustworthiness and separation (50 per
# step: 0.811 / 0.850 vs 0.866 / 0.978); docs/BENCHMARKS.md
PCA_ANGLE_MIN = {"radial": 200}
ALIGN_SCALES = ("auto", "constant", "persistence")
# The "auto" values of the fields that differ by layout. Rectilinear bands need more iterations, a smaller
# perplexity and a lighter alignment than radial rings to be as faithful as the reference's settings
# (50 x 200 x 512-d, paired seeds: 14 of 15 cells on the default digits draw against 8-9 of 15 with the
# radial values, 15 of 15 over 17 draws of the digits and 16 of each family; trustworthiness at 1M points
# +0.002 to +0.026; bench/tdl_sweep.py, docs/BENCHMARKS.md)
LAYOUT_DEFAULTS = {"radial": {"n_iter": 500, "perplexity": 30.0, "align_weight": 0.2},
                   "rectilinear": {"n_iter": 1000, "perplexity": 25.0, "align_weight": 0.1}}


@dataclass
class EmbedConfig:
    """Every knob of the embedding. Defaults are the reference code's unless noted (docs/TDL.md)."""
    layout: str = "radial"  # "radial" | "rectilinear"
    perplexity: float | str = "auto"  # "auto": LAYOUT_DEFAULTS (30 radial, 25 rectilinear); clamped to
    # (instances - 1) / 3 for small inputs
    n_iter: int | str = "auto"  # "auto": LAYOUT_DEFAULTS (500 radial, 1000 rectilinear); reference: 2000
    learning_rate: float | str = "auto"  # t-SNE step on dKL/dy / 4; "auto" = max(I / exaggeration, 200)
    disp_rate: float = 500.0  # displacement step size (the reference uses its eta = 500 for both)
    early_exaggeration: float = 4.0
    exaggeration_iters: int = 100  # exaggerated for iterations 0..exaggeration_iters
    momentum: float = 0.5
    final_momentum: float = 0.8
    momentum_switch: int = 20
    min_gain: float = 0.01
    disp_weight: float | str = "auto"  # w_d; reference 1.0; "auto": 2 radial, 0.35 rectilinear (0.5 with
    # the principal start: its compact start spreads bands out of their bands at 0.2) (display fidelity
    # of the digits and four synthetic families, bench/tdl_fidelity.py and bench/tdl_sweep.py; docs/TDL.md)
    disp_sigma: float = 20.0  # initial Gaussian width of the ring/band
    disp_sigma_final: float = 8.0
    hold_band: bool | str = "auto"  # beyond one sigma the pull to the ring/band keeps its largest value
    # (the reference's Gaussian pull vanishes there and points escape); "auto": rectilinear only
    align_weight: float | str = "auto"  # w_a (radians per iteration at most); "auto": LAYOUT_DEFAULTS (0.2
    # radial, 0.1 rectilinear); reference 0.05: with it instances wander round the rings (digits at w_d 2:
    # normalised alignment 0.13 vs 0.03-0.05; docs/TDL.md)
    align_scale: str = "auto"  # "constant" (reference) | "persistence": w_a times min(1, 3 p_s / max p)
    # between steps s and s + 1, p_s the share of neighbours kept (tdl/persistence.py) | "auto": persistence
    # for radial (noisy steps keep their neighbourhoods: 50 x 200 display trust +0.019 drift, +0.034
    # branching), constant for rectilinear (unmeasured there)
    radius: float = 20.0  # ring radius of steps >= 1 during optimisation (radial)
    init_spread: float = 20.0  # initial points within radius +- init_spread
    stretch: float = 35.0  # display: ring/band centres move out by stretch * step
    display: str = "conformal"  # radial rings scaled across as along ("conformal"), or the reference's
    # "shift" (along += stretch * step: thin arcs on screen); tdl/layout.py, docs/TDL.md
    length_scale: float | str = 1.0  # multiplies radius, init_spread, sigmas and stretch; "auto" =
    # sqrt(I / 200) (better groups at 2000 per step with learning_rate = I, unmeasured beyond; docs/TDL.md)
    free_iters: int = 0  # plain per-step t-SNE for this many iterations first, then rings from those
    # layouts (tdl/free_start.py); 0: the reference's start (random angles on the rings)
    pca_dim: int = 50  # features wider than this are reduced by PCA first
    pca_fit: str = "per_step"  # "per_step" (reference) | "all" (docs/TDL.md)
    method: str = "auto"  # "exact" dense P and repulsion; "approx" kNN P + grid repulsion
    exact_max: int | None = None  # "auto" is exact up to this many instances per step; None: EXACT_MAX
    # of the device (where the two methods' measured times per iteration cross)
    n_neighbors: int | None = None  # approx: default 3 * perplexity
    grid_spacing: float = 0.4  # approx: node spacing of the repulsion grid (embedding units)
    init: str = "auto"  # "random" (reference) | "aligned" (one angle per instance) | "pca" (principal
    # plane, `principal_start`) | "pca_angle" (angles from the principal plane, radii as "random") | "auto":
    # "pca_angle" from PCA_ANGLE_MIN[layout] instances per step, "pca" from PCA_INIT_MIN[layout], else "random"
    seed: int = 0
    device: str = "cpu"
    log_every: int = 50  # loss values every this many iterations (each costs one extra pass: 5 % at 10)

    @classmethod
    def reference(cls, **overrides) -> "EmbedConfig":
        """The reference code's exact settings (evol_embed_radial.py): 2000 iterations, eta = 500, w_d = 1."""
        return cls(**{"n_iter": 2000, "perplexity": 30.0, "learning_rate": 500.0, "disp_rate": 500.0,
                      "disp_weight": 1.0,
                      "align_weight": 0.05, "align_scale": "constant", "hold_band": False,
                      "grid_spacing": 0.4,
                      "layout": "radial", "init": "random", "length_scale": 1.0, "pca_fit": "per_step",
                      "display": "shift",
                      **overrides})

    def validate(self, num_steps: int, num_instances: int) -> "EmbedConfig":
        lay.check_layout(self.layout)
        if self.method not in METHODS:
            raise UserError(f"unknown method {self.method!r}; choose one of {', '.join(METHODS)}")
        if self.display not in lay.DISPLAYS:
            raise UserError(f"unknown display {self.display!r}; choose one of {', '.join(lay.DISPLAYS)}")
        if self.init not in INITS:
            raise UserError(f"unknown init {self.init!r}; choose one of {', '.join(INITS)}")
        if self.align_scale not in ALIGN_SCALES:
            raise UserError(f"unknown align_scale {self.align_scale!r}; choose one of {', '.join(ALIGN_SCALES)}")
        if self.hold_band not in ("auto", True, False):
            raise UserError(f"hold_band must be True, False or 'auto', got {self.hold_band!r}")
        for name in LAYOUT_DEFAULTS["radial"]:
            v = getattr(self, name)
            if not (v == "auto" or (isinstance(v, (int, float)) and not isinstance(v, bool))):
                raise UserError(f"{name} must be a number or 'auto', got {v!r}")
        n_iter = self.by_layout("n_iter")
        if n_iter < 1:
            raise UserError(f"n_iter must be >= 1, got {n_iter}")
        if not 0 <= self.free_iters < n_iter:
            raise UserError(f"free_iters (--free-iterations) must be in [0, n_iter), got {self.free_iters} "
                            f"(n_iter {n_iter})")
        if self.free_iters and self.layout != "radial":  # bands from the free layouts left their bands
            raise UserError("free_iters (--free-iterations) is for the radial layout (rectilinear, measured: step "
                            "separation 0.79 and trustworthiness 0.78 against 1.0 and 0.85 without it)")
        if num_steps < 1 or num_instances < 4:
            raise UserError(f"need >= 1 step and >= 4 instances to embed, got {num_steps} x {num_instances}")
        for name in ("learning_rate", "length_scale"):
            v = getattr(self, name)
            if not (v == "auto" or (isinstance(v, (int, float)) and v > 0)):
                raise UserError(f"{name} must be a positive number or 'auto', got {v!r}")
        if not (self.disp_weight == "auto" or (isinstance(self.disp_weight, (int, float)) and self.disp_weight >= 0)):
            raise UserError(f"disp_weight must be a number >= 0 or 'auto', got {self.disp_weight!r}")
        if self.by_layout("perplexity") <= 0:
            raise UserError(f"perplexity must be > 0, got {self.perplexity}")
        if self.by_layout("align_weight") < 0:
            raise UserError(f"align_weight must be >= 0, got {self.align_weight}")
        if self.length_scale == "auto" and math.sqrt(num_instances / 200) > AUTO_SCALE_MAX:
            raise UserError(
                f"length_scale='auto' would make the rings {math.sqrt(num_instances / 200):.1f}x larger at "
                f"{num_instances} instances per step; beyond {AUTO_SCALE_MAX:g}x ({int(200 * AUTO_SCALE_MAX ** 2)} "
                "instances) the layout comes out random (measured trustworthiness 0.50-0.56 at 2,000-20,000 per "
                "step: neighbours start too far apart on the larger rings to meet); use length_scale=1 (default)")
        return self

    def resolved_method(self, num_instances: int, num_steps: int = 1) -> str:
        if self.method != "auto":
            return self.method
        limit = self.exact_max
        if limit is None:
            kind = str(self.device).split(":")[0]
            limit = EXACT_MAX.get(kind, EXACT_MAX["cuda"])
        fits = num_steps * num_instances ** 2 <= EXACT_MAX_ENTRIES
        return "exact" if num_instances <= limit and fits else "approx"

    def resolved(self, num_instances: int, num_steps: int = 1) -> "EmbedConfig":
        """A copy with "auto" values replaced by numbers for `num_instances` per step (what was run)."""
        c = self.resolved_length_scale(num_instances)
        init = self.resolved_init(num_instances)
        # the displacement step is not scaled: scaling it by c^3 (which would keep its contraction of a
        # ring's width per iteration) let it overpower the t-SNE forces (measured on an H200, 50 x 2000:
        # trustworthiness 0.53 with, 0.76 without; docs/TDL.md)
        return dataclasses.replace(
            self, n_iter=int(self.by_layout("n_iter")), perplexity=float(self.by_layout("perplexity")),
            align_weight=float(self.by_layout("align_weight")),
            learning_rate=self.resolved_learning_rate(num_instances),
            method=self.resolved_method(num_instances, num_steps), init=init,
            disp_weight=self.resolved_disp_weight(init), align_scale=self.resolved_align_scale(),
            hold_band=self.resolved_hold_band(),
            length_scale=1.0, radius=self.radius * c, init_spread=self.init_spread * c, stretch=self.stretch * c,
            disp_sigma=self.disp_sigma * c, disp_sigma_final=self.disp_sigma_final * c)

    def by_layout(self, name: str):
        """A field of LAYOUT_DEFAULTS: its value, or the layout's default where it is "auto"."""
        v = getattr(self, name)
        return LAYOUT_DEFAULTS.get(self.layout, LAYOUT_DEFAULTS["radial"])[name] if v == "auto" else v

    def resolved_init(self, num_instances: int) -> str:
        """"auto": "pca" with at least PCA_INIT_MIN[layout] instances per step (rectilinear), "pca_angle" with
        at least PCA_ANGLE_MIN[layout] (radial), else "random" (bench/tdl_fidelity.py, bench/tdl_layouts.py)."""
        if self.init != "auto":
            return self.init
        if num_instances >= PCA_INIT_MIN.get(self.layout, math.inf):
            return "pca"
        return "pca_angle" if num_instances >= PCA_ANGLE_MIN.get(self.layout, math.inf) else "random"

    def resolved_align_scale(self) -> str:
        """"auto": "persistence" for radial, "constant" for rectilinear (tdl/persistence.py)."""
        if self.align_scale != "auto":
            return self.align_scale
        return "persistence" if self.layout == "radial" else "constant"

    def resolved_disp_weight(self, init: str = "random") -> float:
        """"auto": 2 for radial; 0.35 for rectilinear, 0.5 when it starts from the principal plane (`init`
        resolved): from that compact start bands at 0.2 spread out of their bands (10 x 2000 branching:
        min step separation 0.835 vs 0.977 at 0.5, 10 x 20,000: 0.847 vs 0.95; bench/tdl_layouts.py)."""
        if self.disp_weight == "auto":
            return 2.0 if self.layout == "radial" else (0.5 if init == "pca" else 0.35)
        return float(self.disp_weight)

    def resolved_hold_band(self) -> bool:
        """"auto": the rectilinear layout only (its bands, pulled at w_d 0.2 (0.35 now), lost up to 7 % of a step's
        points to the neighbouring bands at 300-1000 instances per step; radial rings hold at w_d 2)."""
        return self.layout == "rectilinear" if self.hold_band == "auto" else bool(self.hold_band)

    def resolved_length_scale(self, num_instances: int) -> float:
        """"auto": sqrt(I / 200). A t-SNE layout of I points (step size growing with I) spreads over a
        length ~ sqrt(I); scaling the ring, its width and the stretch alike keeps the proportions tuned
        at 200 instances per step (the default figure), so groups keep to one arc as I grows."""
        if self.length_scale == "auto":
            return math.sqrt(num_instances / 200)
        return float(self.length_scale)

    def resolved_learning_rate(self, num_instances: int) -> float:
        """"auto": scikit-learn's rule max(N / exaggeration / 4, 50) for dKL/dy, in the reference's units
        (gradient / 4): max(I / exaggeration, 200), so it grows with I where a fixed 500 would not; below
        200 instances it is I (a fixed 200 throws a few points far off their rings: measured with 8-40
        instances per step, step separation 0.05-0.6 with 200, 0.8-1.0 with I; docs/TDL.md)."""
        if self.learning_rate == "auto":
            return max(num_instances / self.early_exaggeration, min(float(num_instances), 200.0))
        return float(self.learning_rate)

    def disp_sigma_at(self, it: int) -> float:
        """Reference schedule: sigma0 until 50 %, 0.75 sigma0 until 62.5 %, 0.5 sigma0 until 75 %, then final."""
        n = self.by_layout("n_iter")
        if it < 0.5 * n:
            return self.disp_sigma
        if it < 0.625 * n:
            return 0.75 * self.disp_sigma
        if it < 0.75 * n:
            return 0.5 * self.disp_sigma
        return self.disp_sigma_final

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
