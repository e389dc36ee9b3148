"""Percentile bootstrap over notes for the main figures, paired across systems.

Every resample draws notes with replacement (numpy ``default_rng(seed)``), sums each system's
per-note counts over the drawn notes and recomputes the figures from the sums, so ratios are
pooled exactly as in the point estimate. The same draws serve every system, which gives a paired
interval for the difference system - baseline.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from klarjournal.evaluation.metrics import COUNT_KEYS, MAIN_FIGURES, NoteScore, figures_from_sums

# Resamples are summed in blocks so memory stays at about BLOCK_CELLS numbers.
BLOCK_CELLS = 4_000_000

Interval = tuple[float, float] | None


@dataclass(frozen=True)
class BootstrapResult:
    resamples: int
    seed: int
    level: float
    intervals: dict[str, dict[str, Interval]]  # system -> figure -> (low, high)
    differences: dict[str, dict[str, Interval]]  # baseline -> figure -> CI of system - baseline


def _matrix(notes: Sequence[NoteScore]) -> np.ndarray:
    return np.array([[note.counts[k] for k in COUNT_KEYS] for note in notes], dtype=float)


def _interval(values: np.ndarray, level: float) -> Interval:
    values = values[~np.isnan(values)]
    if values.size == 0:
        return None
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def bootstrap(systems: Mapping[str, Sequence[NoteScore]], primary: str, *,
              resamples: int = 1000, seed: int = 0, level: float = 0.95) -> BootstrapResult:
    """Intervals for every system's figures and for ``primary`` minus each other system."""
    matrices = {name: _matrix(notes) for name, notes in systems.items()}
    n = len(systems[primary])
    if n == 0 or resamples <= 0:
        empty: dict[str, Interval] = dict.fromkeys(MAIN_FIGURES)
        return BootstrapResult(resamples, seed, level, {s: dict(empty) for s in systems},
                               {s: dict(empty) for s in systems if s != primary})
    rng = np.random.default_rng(seed)
    draws: dict[str, dict[str, list[np.ndarray]]] = {
        s: {f: [] for f in MAIN_FIGURES} for s in systems}
    block = max(1, BLOCK_CELLS // (n * len(COUNT_KEYS)))
    done = 0
    while done < resamples:
        size = min(block, resamples - done)
        index = rng.integers(0, n, size=(size, n))
        for name, matrix in matrices.items():
            sums = matrix[index].sum(axis=1)
            figs = figures_from_sums({k: sums[:, i] for i, k in enumerate(COUNT_KEYS)})
            for figure in MAIN_FIGURES:
                draws[name][figure].append(figs[figure])
        done += size
    stacked = {s: {f: np.concatenate(v) for f, v in figs.items()} for s, figs in draws.items()}
    intervals = {s: {f: _interval(v, level) for f, v in figs.items()}
                 for s, figs in stacked.items()}
    differences = {
        other: {f: _interval(stacked[primary][f] - stacked[other][f], level)
                for f in MAIN_FIGURES}
        for other in systems if other != primary
    }
    return BootstrapResult(resamples, seed, level, intervals, differences)
