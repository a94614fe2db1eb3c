"""The straightforward per-pair matcher: the reference the bulk scorer is checked against.

For every project x product, in a Python loop: ``plugin.check(project, product)`` decides
eligibility (the plugin contract itself, not the scorer's vectorised rules), then each meta-path
proximity is found by walking the networkx graph from both ends
(:meth:`greenmatch.matching.network.MatchGraph.proximity`), and the score formula of
:mod:`greenmatch.matching.scorer` is applied with its scalar helpers. Slow by design (it is the
benchmark's yardstick) and exact: the bulk engine must produce the same top-K lists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from greenmatch.facts import ProductFacts, ProjectFacts
from greenmatch.instruments import InstrumentPlugin

from .formulas import amount_fit, policy_score, round_score
from .network import MatchGraph
from .product_index import Outcome
from .settings import PATH_COMPONENTS, MatchSettings


@dataclass
class BaselineResult:
    scores: dict[tuple[int, int], float]  # (project id, product id) -> score, eligible pairs only
    pairs_considered: int
    graph: MatchGraph

    def top_products(self, k: int) -> dict[int, list[int]]:
        """Per project, its best ``k`` product ids (score desc, product id asc)."""
        rows: dict[int, list[tuple[float, int]]] = {}
        for (p, q), s in self.scores.items():
            rows.setdefault(p, []).append((-s, q))
        return {p: [q for _, q in sorted(items)[:k]] for p, items in rows.items()}

    def top_projects(self, l_: int) -> dict[int, list[int]]:
        """Per product, its best ``l_`` project ids (score desc, project id asc)."""
        rows: dict[int, list[tuple[float, int]]] = {}
        for (p, q), s in self.scores.items():
            rows.setdefault(q, []).append((-s, p))
        return {q: [p for _, p in sorted(items)[:l_]] for q, items in rows.items()}


def pair_score(graph: MatchGraph, plugin: InstrumentPlugin, project: ProjectFacts, product: ProductFacts,
               settings: MatchSettings) -> float | None:
    """The score of one pair, or None when ``plugin.check`` rejects it (or it is below min_score)."""
    fit = plugin.check(project, product)
    if not fit.eligible:
        return None
    proximity = sum(settings.weight(c) * graph.proximity(project.id, product.id, c) for c in PATH_COMPONENTS)
    score = (proximity
             + settings.w_amount * amount_fit(project.financing_need_cny, product.params, settings)
             + settings.w_plugin * min(1.0, max(0.0, float(fit.fit)))
             + settings.w_policy * policy_score(project, settings))
    score = float(round_score(score, settings))
    return score if score >= settings.min_score else None


def baseline_run(plugins: Mapping[str, InstrumentPlugin], projects: Iterable[ProjectFacts],
                 products: Iterable[ProductFacts], outcomes: Iterable[Outcome] = (),
                 settings: MatchSettings | None = None,
                 progress: Callable[[int, int], Any] | None = None) -> BaselineResult:
    settings = settings or MatchSettings()
    projects = list(projects)
    products = [p for p in products if p.instrument in plugins]
    graph = MatchGraph.build(projects, products, plugins, outcomes, settings, reference=False)
    scores: dict[tuple[int, int], float] = {}
    for i, project in enumerate(projects):
        for product in products:
            score = pair_score(graph, plugins[product.instrument], project, product, settings)
            if score is not None:
                scores[(project.id, product.id)] = score
        if progress is not None:
            progress(i + 1, len(projects))
    return BaselineResult(scores, len(projects) * len(products), graph)
