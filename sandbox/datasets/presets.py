"""Built-in 2D data sets, each `fn(n, generator) -> PointSet`, any n >= 2, seeded.

Presets with natural classes carry labels (so conditional models work); trainers ignore them
unless asked. `eight_gaussians` and `three_modes` are exact Gaussian mixtures: `MIXTURES` gives
their parameters so tests can build the analytic oracle (`sandbox.oracle.GaussianMixture`).
"""
from __future__ import annotations

from dataclasses import dataclass
import numpy as np

from sandbox.datasets.pointset import PointSet
from sandbox.errors import UserError

# Points drawn from a preset or a picture to TRAIN on (`train`, the API): a preset is a distribution,
# and a model learns the luck of its draw -- one draw of 2000 is 0.8-1.6x the data-vs-data distance
# from the others, and models trained on it scored the same (smiley 1.24, rings 1.22, 20 draws);
# trained on 20,000 they score 1.00-1.04 at the same cost (a step draws its batch from them either way).
TRAIN_DRAW = 20_000


@dataclass(frozen=True)
class MixtureSpec:
    """Parameters of a Gaussian mixture in data coordinates.

    weights (K,), means (K, 2), covs (K, 2, 2); float64.
    """

    weights: np.ndarray
    means: np.ndarray
    covs: np.ndarray

    def sample(self, n: int, generator: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """n points (n, 2) and their component index (n,)."""
        comp = generator.choice(len(self.weights), size=n, p=self.weights)
        chol = np.linalg.cholesky(self.covs)  # (K, 2, 2)
        z = generator.standard_normal((n, 2))
        x = self.means[comp] + np.einsum("nij,nj->ni", chol[comp], z)
        return x, comp

    def oracle(self):
        """This mixture as `sandbox.oracle.GaussianMixture` (component k has class label k)."""
        from sandbox.oracle import GaussianMixture

        return GaussianMixture(self.weights, self.means, self.covs, labels=np.arange(len(self.weights)))

    def normalized(self, center: np.ndarray, scale: float) -> MixtureSpec:
        """The same mixture after x -> (x - center) / scale (canonical coordinates)."""
        c = np.asarray(center, dtype=np.float64)
        return MixtureSpec(self.weights.copy(), (self.means - c) / scale, self.covs / scale ** 2)


def _counts(n: int, k: int) -> np.ndarray:
    """Split n into k near-equal parts (first parts get the remainder)."""
    return np.array([n // k + (i < n % k) for i in range(k)])


def _labelled(parts: list[np.ndarray], names: list[str], name: str) -> PointSet:
    points = np.concatenate(parts)
    labels = np.concatenate([np.full(len(p), i, dtype=np.int64) for i, p in enumerate(parts)])
    return PointSet(points, labels, names, name)


def _eight_gaussians_spec() -> MixtureSpec:
    angles = np.arange(8) * (2 * np.pi / 8)
    means = 2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    covs = np.tile(np.eye(2) * 0.15 ** 2, (8, 1, 1))
    return MixtureSpec(np.full(8, 1 / 8), means, covs)


def _three_modes_spec() -> MixtureSpec:
    # unequal weights and anisotropic covariances, so an oracle test exercises the general case
    weights = np.array([0.5, 0.3, 0.2])
    means = np.array([[-1.2, -0.4], [1.1, 0.9], [1.0, -1.1]])
    covs = np.array([
        [[0.20, 0.06], [0.06, 0.08]],
        [[0.05, 0.00], [0.00, 0.05]],
        [[0.10, -0.05], [-0.05, 0.06]],
    ])
    return MixtureSpec(weights, means, covs)


MIXTURES: dict[str, MixtureSpec] = {
    "eight_gaussians": _eight_gaussians_spec(),
    "three_modes": _three_modes_spec(),
}


def _mixture_preset(name: str, n: int, g: np.random.Generator) -> PointSet:
    spec = MIXTURES[name]
    x, comp = spec.sample(n, g)
    names = [f"mode {i}" for i in range(len(spec.weights))]
    return PointSet(x, comp.astype(np.int64), names, name)


def eight_gaussians(n: int, generator: np.random.Generator) -> PointSet:
    """8 round Gaussians (std 0.15) on a circle of radius 2; label = mode."""
    return _mixture_preset("eight_gaussians", n, generator)


def three_modes(n: int, generator: np.random.Generator) -> PointSet:
    """3 Gaussians, weights 0.5/0.3/0.2, different shapes; label = mode."""
    return _mixture_preset("three_modes", n, generator)


def moons(n: int, generator: np.random.Generator, noise: float = 0.06) -> PointSet:
    """Two interleaving half circles (as scikit-learn's make_moons); label = moon."""
    n0, n1 = _counts(n, 2)
    a0 = generator.uniform(0, np.pi, n0)
    a1 = generator.uniform(0, np.pi, n1)
    upper = np.stack([np.cos(a0), np.sin(a0)], axis=1)
    lower = np.stack([1 - np.cos(a1), 0.5 - np.sin(a1)], axis=1)
    parts = [p + noise * generator.standard_normal(p.shape) for p in (upper, lower)]
    return _labelled(parts, ["upper", "lower"], "moons")


def swiss_roll(n: int, generator: np.random.Generator, noise: float = 0.25) -> PointSet:
    """A 2D Swiss roll (one and a half turns); no classes."""
    # uniform in arc length-ish: sqrt makes the outer turns (longer) get more points
    u = np.sqrt(generator.uniform(0, 1, n))
    t = 1.5 * np.pi * (1 + 2 * u)
    x = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) + noise * generator.standard_normal((n, 2))
    return PointSet(x, None, [], "swiss_roll")


def checkerboard(n: int, generator: np.random.Generator) -> PointSet:
    """Uniform on the 8 dark squares of a 4 x 4 board over [-2, 2]^2; no classes."""
    cells = np.array([(i, j) for i in range(4) for j in range(4) if (i + j) % 2 == 0])
    pick = generator.integers(0, len(cells), n)
    x = cells[pick] - 2 + generator.uniform(0, 1, (n, 2))
    return PointSet(x, None, [], "checkerboard")


def spirals(n: int, generator: np.random.Generator, arms: int = 2, noise: float = 0.08) -> PointSet:
    """`arms` interleaved spiral arms (2 or 3); label = arm."""
    if arms < 1:
        raise UserError(f"spirals: arms must be >= 1, got {arms}")
    parts = []
    for k, m in enumerate(_counts(n, arms)):
        r = np.sqrt(generator.uniform(0.02, 1, m)) * 3.0  # sqrt: even density along the arm
        theta = r * 2.2 + 2 * np.pi * k / arms
        p = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)
        parts.append(p + noise * generator.standard_normal(p.shape))
    return _labelled(parts, [f"arm {k}" for k in range(arms)], "spirals")


def rings(n: int, generator: np.random.Generator, radii: tuple[float, ...] = (0.5, 1.0, 1.5),
          noise: float = 0.04) -> PointSet:
    """Concentric rings; points per ring proportional to its length; label = ring."""
    radii_a = np.asarray(radii, dtype=np.float64)
    parts = []
    for r, m in zip(radii_a, _counts_weighted(n, list(radii_a))):
        a = generator.uniform(0, 2 * np.pi, m)
        p = r * np.stack([np.cos(a), np.sin(a)], axis=1)
        parts.append(p + noise * generator.standard_normal(p.shape))
    return _labelled(parts, [f"ring {i}" for i in range(len(radii_a))], "rings")


def smiley(n: int, generator: np.random.Generator, noise: float = 0.03) -> PointSet:
    """A smiley face: outline, two eyes, mouth; label = part."""
    k_face, k_left, k_right, k_mouth = _counts_weighted(n, [0.5, 0.1, 0.1, 0.3])
    a = generator.uniform(0, 2 * np.pi, k_face)
    face = np.stack([np.cos(a), np.sin(a)], axis=1)
    left = np.array([-0.35, 0.35]) + 0.08 * generator.standard_normal((k_left, 2))
    right = np.array([0.35, 0.35]) + 0.08 * generator.standard_normal((k_right, 2))
    a = generator.uniform(np.pi * 1.2, np.pi * 1.8, k_mouth)
    mouth = np.stack([0.55 * np.cos(a), 0.55 * np.sin(a) - 0.05], axis=1)
    face = face + noise * generator.standard_normal(face.shape)
    mouth = mouth + noise * generator.standard_normal(mouth.shape)
    return _labelled([face, left, right, mouth], ["face", "left eye", "right eye", "mouth"], "smiley")


def _counts_weighted(n: int, weights: list[float]) -> np.ndarray:
    """Split n proportionally to weights (largest remainder), summing exactly to n."""
    share = n * np.asarray(weights) / np.sum(weights)
    counts = np.floor(share).astype(int)
    counts[np.argsort(share - counts)[::-1][: n - counts.sum()]] += 1
    return counts


# the presets' declarations (name, display name, tooltip, noise scale) live in sandbox/registry.py
from sandbox.registry import PRESETS  # noqa: E402


def preset_names() -> list[str]:
    return list(PRESETS)


def canonical_name(name: str) -> str:
    """Map a user's spelling ('two-moons', '8gaussians') to a preset name, or raise UserError."""
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    if key not in PRESETS and key not in PRESETS.aliases:
        raise UserError(f"unknown data set '{name}'; choose one of: {', '.join(PRESETS)}")
    return PRESETS.canonical(key)


def make_preset(name: str, n: int = 2000, seed: int = 0, labels: bool = True, **kwargs) -> PointSet:
    """Sample preset `name` with n points from seed; labels=False drops class labels."""
    key = canonical_name(name)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise UserError(f"number of points must be a whole number >= 2, got {n}")
    from sandbox.limits import check_fits

    # float64 draws and a few temporaries: ~100 bytes a point (n=10**12 raised MemoryError)
    check_fits("number of points", int(n), 100.0)
    ps = PRESETS[key](int(n), np.random.default_rng(seed), **kwargs)
    return ps if labels else ps.without_labels()
