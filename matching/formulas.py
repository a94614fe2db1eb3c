"""Shared pieces of the bulk scorer: the key -> column vocabulary and the scalar reference formulas
(amount fit, policy priority, region items, rounding) that the per-pair baseline uses and the bulk code
vectorises. The score itself is documented in :mod:`greenmatch.matching.scorer`."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from greenmatch.facts import ProjectFacts

from .graph import META_PATHS
from .settings import PATH_COMPONENTS, MatchSettings

EXCLUDED = -1.0  # score of a pair the hard rules exclude (real scores are >= 0)
COMPONENT_INDEX = {name: i for i, name in enumerate(PATH_COMPONENTS)}
assert tuple(META_PATHS) == PATH_COMPONENTS


class Vocabulary:
    """Append-only key -> column id map shared by the project and product sides (thread-safe)."""

    def __init__(self) -> None:
        self._ids: dict[Any, int] = {}
        self.keys: list[Any] = []
        self._lock = threading.Lock()

    def add(self, key: Any) -> int:
        found = self._ids.get(key)
        if found is not None:
            return found
        with self._lock:
            found = self._ids.get(key)
            if found is None:
                found = len(self.keys)
                self.keys.append(key)
                self._ids[key] = found
        return found

    def get(self, key: Any) -> int | None:
        return self._ids.get(key)

    def ids(self, keys: Sequence[Any]) -> np.ndarray:
        """Column ids of ``keys``, adding the new ones."""
        get = self._ids.get
        found = [get(k, -1) for k in keys]
        if -1 in found:
            found = [i if i >= 0 else self.add(k) for i, k in zip(found, keys, strict=True)]
        return np.array(found, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.keys)


# ---------------------------------------------------------------------------------------------
# Scalar reference formulas (the baseline uses these; the bulk code vectorises the same)
# ---------------------------------------------------------------------------------------------
def amount_bounds(params: Mapping[str, Any], settings: MatchSettings) -> tuple[float, float] | None:
    """(ln lower, ln upper) of the range the amount fit measures against; None: no bound at all."""
    lo, hi = params.get("min_amount_cny"), params.get("max_amount_cny")
    lo = float(lo) if lo is not None and lo > 0 else None
    hi = float(hi) if hi is not None and hi > 0 else None
    if lo is None and hi is None:
        return None
    open_span = settings.amount_open_decades * math.log(10.0)
    if lo is None:
        return math.log(hi) - open_span, math.log(hi)
    if hi is None:
        return math.log(lo), math.log(lo) + open_span
    return math.log(lo), math.log(hi)


def amount_fit(need: float, params: Mapping[str, Any], settings: MatchSettings) -> float:
    bounds = amount_bounds(params, settings)
    if bounds is None:
        return settings.amount_unbounded_fit
    ln_lo, ln_hi = bounds
    span = ln_hi - ln_lo
    if span <= 0:
        return 1.0
    ln_need = math.log(need) if need > 0 else -math.inf
    x = min(1.0, max(0.0, (ln_need - ln_lo) / span))
    return 1.0 - (1.0 - settings.amount_edge_fit) * abs(2.0 * x - 1.0)


def policy_items(project: ProjectFacts, settings: MatchSettings) -> list[tuple[str, float]]:
    """The policy priorities a project earns: ("certification:<name>" | "region:<prefix>", weight)."""
    return certification_items(project.certifications, settings) + region_items(project.region_code, settings)


def certification_items(certifications: Iterable[str], settings: MatchSettings) -> list[tuple[str, float]]:
    return [(f"certification:{c}", settings.policy_certifications[c])
            for c in dict.fromkeys(certifications) if settings.policy_certifications.get(c, 0) > 0]


def region_items(region_code: str, settings: MatchSettings) -> list[tuple[str, float]]:
    if settings.policy_region_bonus > 0:
        for prefix in settings.policy_region_prefixes:
            if region_code.startswith(prefix):
                return [(f"region:{prefix}", settings.policy_region_bonus)]
    return []


def policy_score(project: ProjectFacts, settings: MatchSettings) -> float:
    return min(1.0, sum(w for _, w in policy_items(project, settings)))


def round_score(value: Any, settings: MatchSettings) -> Any:
    return np.round(value, settings.score_decimals)
