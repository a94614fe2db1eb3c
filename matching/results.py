"""What the engine returns: :class:`Match` rows (light views on a batch's arrays), the
:class:`MatchBatch` a full run yields per chunk, its :class:`RunStats`, and the collected
:class:`MatchResult`.

A batch's ``matches`` is a :class:`MatchList`: rows are made on access, and their reasons and
paths are rendered on first read (about 10-30 µs a row; parts shared between rows are cached).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from greenmatch.instruments import Reason

from .explain import BatchExplainer, ExplanationPath

__all__ = ["Match", "MatchBatch", "MatchList", "MatchResult", "RunStats", "matches_of"]


class Match:
    """One kept (project, product) pair: a light view on its batch's arrays.

    ``score`` in [0, 1]; ``project_rank``: 1-based rank of the product in the project's top K
    (None when the pair is kept only for the product's list); ``product_rank``: rank of the project
    in the product's top L (None when kept only for the project's list). ``reasons`` (bilingual
    :class:`~greenmatch.instruments.Reason`), ``paths`` (:class:`ExplanationPath`) and
    ``components`` (score points per component) are computed on first access."""

    __slots__ = ("_ex", "_i")

    def __init__(self, explainer: BatchExplainer, i: int) -> None:
        self._ex, self._i = explainer, i

    project_id = property(lambda self: self._ex.project_ids[self._i])
    product_id = property(lambda self: self._ex.product_ids[self._i])
    score = property(lambda self: self._ex.scores[self._i])
    project_rank = property(lambda self: self._ex.project_ranks[self._i])
    product_rank = property(lambda self: self._ex.product_ranks[self._i])
    instrument = property(lambda self: self._ex.instruments[self._i])

    @property
    def key(self) -> tuple[int, int]:
        return self.project_id, self.product_id

    @property
    def paths(self) -> tuple[ExplanationPath, ...]:
        return self._ex.paths(self._i)

    @property
    def reasons(self) -> tuple[Reason, ...]:
        return self._ex.reasons(self._i)

    @property
    def components(self) -> dict[str, float]:
        """Score points per component (they sum to ``score`` up to rounding)."""
        return self._ex.components(self._i)

    def explanation(self, locale: str | None = None) -> dict[str, Any]:
        return {"paths": [p.labels(locale) for p in self.paths]}

    def as_dict(self, locale: str | None = None) -> dict[str, Any]:
        return {
            "project_id": self.project_id, "product_id": self.product_id, "score": self.score,
            "project_rank": self.project_rank, "product_rank": self.product_rank, "instrument": self.instrument,
            "reasons": [r.text(locale) for r in self.reasons], "explanation": self.explanation(locale),
        }

    def __repr__(self) -> str:
        return (f"Match(project_id={self.project_id}, product_id={self.product_id}, score={self.score:.6f}, "
                f"project_rank={self.project_rank}, product_rank={self.product_rank})")


class MatchList(Sequence[Match]):
    """The matches of a batch, made on access (a batch may hold tens of thousands of rows: keeping
    no object per row until it is read spares memory and garbage-collector time)."""

    def __init__(self, explainer: BatchExplainer) -> None:
        self._ex = explainer

    def __len__(self) -> int:
        return len(self._ex)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [Match(self._ex, j) for j in range(*i.indices(len(self._ex)))]
        if i < 0:
            i += len(self._ex)
        if not 0 <= i < len(self._ex):
            raise IndexError(i)
        return Match(self._ex, i)

    def __iter__(self) -> Iterator[Match]:
        ex = self._ex
        return (Match(ex, i) for i in range(len(ex)))


def matches_of(explainer: BatchExplainer) -> list[Match]:
    """Every match of ``explainer``'s rows, made at once (the short lists of incremental matching)."""
    return list(MatchList(explainer))


@dataclass
class MatchBatch:
    """The complete kept rows of a chunk of projects (``project_ids``), ordered by project id,
    then score desc, then product id."""

    number: int
    project_ids: np.ndarray
    matches: Sequence[Match]  # a MatchList: rows made on access


@dataclass
class RunStats:
    projects: int = 0
    products: int = 0
    products_skipped: int = 0  # products whose instrument plugin is not installed
    chunks: int = 0
    workers: int = 1
    pairs_considered: int = 0  # projects x products evaluated by the hard rules
    pairs_eligible: int = 0  # pairs passing every hard rule (and min_score)
    matches: int = 0  # kept rows yielded (distinct pairs)
    project_side: int = 0  # kept because in a project's top K
    product_side: int = 0  # kept because in a product's top L
    seconds: dict[str, float] = field(default_factory=dict)  # index / score / explain

    @property
    def duration_s(self) -> float:
        return sum(self.seconds.values())

    def as_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in ("projects", "products", "products_skipped", "chunks", "workers",
                                             "pairs_considered", "pairs_eligible", "matches",
                                             "project_side", "product_side")}
        out["duration_ms"] = round(self.duration_s * 1000)
        return out


class MatchResult:
    """All batches of a run, collected. The per-project and per-product lists are indexed on first use."""

    def __init__(self, matches: list[Match], stats: RunStats) -> None:
        self.matches, self.stats = matches, stats
        self._indexed: tuple[dict[int, list[Match]], dict[int, list[Match]]] | None = None

    def _index(self) -> tuple[dict[int, list[Match]], dict[int, list[Match]]]:
        if self._indexed is None:
            by_project: dict[int, list[Match]] = {}
            by_product: dict[int, list[Match]] = {}
            for m in self.matches:
                if m.project_rank is not None:
                    by_project.setdefault(m.project_id, []).append(m)
                if m.product_rank is not None:
                    by_product.setdefault(m.product_id, []).append(m)
            for rows in by_project.values():
                rows.sort(key=lambda m: m.project_rank)
            for rows in by_product.values():
                rows.sort(key=lambda m: m.product_rank)
            self._indexed = (by_project, by_product)
        return self._indexed

    def __iter__(self) -> Iterator[Match]:
        return iter(self.matches)

    def __len__(self) -> int:
        return len(self.matches)

    def for_project(self, project_id: int) -> list[Match]:
        """The project's top-K products, best first."""
        return self._index()[0].get(project_id, [])

    def for_product(self, product_id: int) -> list[Match]:
        """The product's top-L projects (its leads), best first."""
        return self._index()[1].get(product_id, [])

    def top_products(self) -> dict[int, list[int]]:
        return {pid: [m.product_id for m in rows] for pid, rows in self._index()[0].items()}
