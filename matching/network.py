"""The matching graph as a networkx ``DiGraph``: built from the links and half-path definitions of
:mod:`greenmatch.matching.graph`, used to model, validate and explain matches and by the per-pair
baseline, never for bulk scoring."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import networkx as nx

from greenmatch.facts import STAGES, ProductFacts, ProjectFacts
from greenmatch.instruments import InstrumentPlugin
from greenmatch.text import Msg, render

from .graph import (
    ACTIVITY_OF,
    AT_STAGE,
    BROADER,
    CATEGORY,
    CATEGORY_ROOT,
    FINANCED,
    HAS_TAG,
    IN_CATEGORY,
    IN_INDUSTRY,
    INDUSTRY,
    INSTITUTION,
    INSTRUMENT,
    LOCATED_IN,
    META_PATHS,
    OF_INSTRUMENT,
    OFFERED_BY,
    OFFERS_TAG,
    PREFERS,
    PRODUCT,
    PROJECT,
    REGION,
    REGION_ROOT,
    SERVES_REGION,
    SERVES_STAGE,
    STAGE,
    TAG,
    TARGETS,
    WITHIN,
    NodeKey,
    ProductLinks,
    ProjectLinks,
    Step,
    product_links,
    product_stage_weights,
    project_links,
)
from .settings import MatchSettings
from .taxonomy import Taxonomy


# ---------------------------------------------------------------------------------------------
class MatchGraph:
    """The matching graph as a networkx ``DiGraph`` (attributes: nodes ``kind``, ``label`` (a message
    part, rendered with :meth:`label`); edges ``rel``, ``weight``). Build with :meth:`build`; use for
    validation, explanation and the per-pair baseline, not for bulk scoring."""

    def __init__(self, settings: MatchSettings | None = None, taxonomy: Taxonomy | None = None) -> None:
        self.settings = settings or MatchSettings()
        self.tax = taxonomy or Taxonomy(self.settings)
        self.G = nx.DiGraph()
        self.names: dict[NodeKey, Any] = {}

    # -- building ------------------------------------------------------------------------------
    @classmethod
    def build(cls, projects: Iterable[ProjectFacts], products: Iterable[ProductFacts],
              plugins: Mapping[str, InstrumentPlugin], outcomes: Iterable[Any] = (),
              settings: MatchSettings | None = None, *, reference: bool = True) -> MatchGraph:
        """The whole graph. ``outcomes``: objects with ``product_id`` and ``project_id`` (financed
        engagements); an outcome whose project or product is not given is ignored.
        ``reference``: include every catalogue item, region and industry, not only those used."""
        graph = cls(settings)
        if reference:
            graph.add_reference()
        for key in plugins:
            graph._node((INSTRUMENT, key))
        projects = list(projects)
        for project in projects:
            graph.add_project(project, plugins)
        products = [p for p in products if p.instrument in plugins]
        for product in products:
            graph.add_product(product, plugins[product.instrument])
        graph.add_outcomes(outcomes)
        return graph

    def _node(self, node: NodeKey, label: Any = None) -> None:
        if node not in self.G:
            self.G.add_node(node, kind=node[0], label=label if label is not None else self.tax.label(node))
            if node[0] in (CATEGORY, REGION, INDUSTRY):
                self._hierarchy(node)
        elif label is not None:
            self.G.nodes[node].update(label=label)

    def _hierarchy(self, node: NodeKey) -> None:
        kind, code = node
        up = self.tax.parent(kind, code)
        if up is not None:
            parent = (kind, up[0])
            self._node(parent)
            self.G.add_edge(node, parent, rel=BROADER if kind == CATEGORY else WITHIN, weight=up[1])
        if kind == INDUSTRY:
            cats = self.tax.activities.get(code, ())
            for cat in cats:
                self._node((CATEGORY, cat))
                self.G.add_edge(node, (CATEGORY, cat), rel=ACTIVITY_OF, weight=1.0 / len(cats))

    def add_reference(self) -> None:
        for code in self.tax._catalogue:
            self._node((CATEGORY, code))
        for code in self.tax._regions:
            self._node((REGION, code))
        for code in self.tax._industries:
            self._node((INDUSTRY, code))
        for stage in STAGES:
            self._node((STAGE, stage))

    def _edge(self, u: NodeKey, v: NodeKey, rel: str, weight: float) -> None:
        self._node(v)
        self.G.add_edge(u, v, rel=rel, weight=weight)

    def add_project(self, project: ProjectFacts, plugins: Mapping[str, InstrumentPlugin]) -> ProjectLinks:
        links = project_links(project, [p.project_tags(project) for p in plugins.values()], self.settings)
        node = (PROJECT, links.id)
        self._node(node, project.name)
        self.names[node] = project.name
        self.G.remove_edges_from(list(self.G.out_edges(node)))  # re-adding a project replaces its links
        for code in links.categories:
            self._edge(node, (CATEGORY, code), IN_CATEGORY, 1.0 / len(links.categories))
        self._edge(node, (REGION, links.region), LOCATED_IN, 1.0)
        if links.industry:
            self._edge(node, (INDUSTRY, links.industry), IN_INDUSTRY, 1.0)
        for tag, w in links.tags.items():
            self._edge(node, (TAG, tag), HAS_TAG, w)
        self._edge(node, (STAGE, links.stage), AT_STAGE, 1.0)
        for key in links.preferred:
            self._edge(node, (INSTRUMENT, key), PREFERS, 1.0 / len(links.preferred))
        return links

    def add_product(self, product: ProductFacts, plugin: InstrumentPlugin) -> ProductLinks:
        links = product_links(product, plugin)
        node = (PRODUCT, links.id)
        label = Msg("product: %(name)s", name=product.name)
        self._node(node, label)
        self.names[node] = label
        for code in links.categories:
            self._edge(node, (CATEGORY, code), TARGETS, 1.0)
        for code in links.regions:
            self._edge(node, (REGION, code), SERVES_REGION, 1.0)
        for tag, w in links.tags.items():
            self._edge(node, (TAG, tag), OFFERS_TAG, w)
        for stage, w in product_stage_weights(links).items():
            self._edge(node, (STAGE, stage), SERVES_STAGE, w)
        self._node((INSTRUMENT, links.instrument))
        self._edge(node, (INSTRUMENT, links.instrument), OF_INSTRUMENT, 1.0)
        if links.institution_id is not None:
            name = product.institution_name or f"#{links.institution_id}"
            inst = (INSTITUTION, links.institution_id)
            self._node(inst, (f"机构: {name}", f"institution: {name}"))
            self._edge(node, inst, OFFERED_BY, 1.0)
        return links

    def add_outcomes(self, outcomes: Iterable[Any]) -> None:
        """Financed engagements as ``product -financed-> project`` edges, each weighted
        1 / (projects the product financed). Outcomes naming an unknown node are ignored."""
        financed: dict[NodeKey, list[NodeKey]] = {}
        for outcome in outcomes:
            q, p = (PRODUCT, outcome.product_id), (PROJECT, outcome.project_id)
            if q in self.G and p in self.G and p not in financed.setdefault(q, []):
                financed[q].append(p)
        for q, targets in financed.items():
            for p in targets:
                self.G.add_edge(q, p, rel=FINANCED, weight=1.0 / len(targets))

    # -- reading -------------------------------------------------------------------------------
    def out(self, node: NodeKey, rel: str) -> list[tuple[NodeKey, float]]:
        succ = self.G.succ.get(node)
        if not succ:
            return []
        return [(v, d["weight"]) for v, d in succ.items() if d["rel"] == rel]

    def half_walk(self, start: NodeKey, steps: Sequence[Step]) -> dict[NodeKey, float]:
        """Meeting nodes reached from ``start`` along ``steps`` -> summed product of edge weights."""
        frontier: dict[NodeKey, float] = {start: 1.0}
        for i, (rel, mode) in enumerate(steps):
            nxt: dict[NodeKey, float] = {}
            if mode == "one":
                for node, w in frontier.items():
                    for v, ew in self.out(node, rel):
                        nxt[v] = nxt.get(v, 0.0) + w * ew
            elif mode == "star":
                stack = [(node, w, (node,)) for node, w in frontier.items()]
                while stack:
                    node, w, seen = stack.pop()
                    nxt[node] = nxt.get(node, 0.0) + w
                    stack.extend((v, w * ew, (*seen, v)) for v, ew in self.out(node, rel) if v not in seen)
            elif mode == "climb":
                until = steps[i + 1][0]
                for node, w in frontier.items():
                    current, weight, seen = node, w, {node}
                    while current is not None and not self.out(current, until):
                        ups = self.out(current, rel)
                        current, weight = (ups[0][0], weight * ups[0][1]) if ups else (None, 0.0)
                        if current in seen:  # a cycle (validate() reports it): stop climbing
                            current = None
                        seen.add(current)
                    if current is not None:
                        nxt[current] = nxt.get(current, 0.0) + weight
            else:  # pragma: no cover - programming error
                raise ValueError(mode)
            frontier = nxt
        return frontier

    def proximity(self, project_id: int, product_id: int, meta_path: str) -> float:
        """Proximity of a pair along one meta-path, by walking the graph."""
        p_steps, q_steps = META_PATHS[meta_path]
        left = self.half_walk((PROJECT, project_id), p_steps)
        if not left:
            return 0.0
        right = self.half_walk((PRODUCT, product_id), q_steps)
        return sum(w * right[n] for n, w in left.items() if n in right)

    def label(self, node: NodeKey, locale: str | None = None) -> str:
        data = self.G.nodes.get(node)
        return render(data["label"] if data else self.tax.label(node, self.names), locale)

    # -- validation ----------------------------------------------------------------------------
    def validate(self) -> list[str]:
        """Structural problems, empty when the graph is sound: hierarchies acyclic and rooted,
        every project reaching the region root, every product with targets, an instrument and
        weights in (0, 1]."""
        problems: list[str] = []
        for rel in (BROADER, WITHIN):
            sub = self.G.edge_subgraph([(u, v) for u, v, r in self.G.edges(data="rel") if r == rel])
            if not nx.is_directed_acyclic_graph(sub):
                problems.append(f"the {rel} hierarchy has a cycle: {nx.find_cycle(sub)}")
        for u, v, data in self.G.edges(data=True):
            if not 0 < data["weight"] <= 1 + 1e-12:
                problems.append(f"edge {u}->{v} ({data['rel']}) has weight {data['weight']}")
        for node, kind in self.G.nodes(data="kind"):
            if kind == PROJECT and (REGION, REGION_ROOT) not in self.half_walk(node, META_PATHS["region"][0]):
                problems.append(f"{node} does not reach the national root")
            if kind == CATEGORY and node[1] != CATEGORY_ROOT and \
                    (CATEGORY, CATEGORY_ROOT) not in self.half_walk(node, ((BROADER, "star"),)):
                problems.append(f"{node} does not reach the catalogue root")
            if kind == PRODUCT:
                for rel in (TARGETS, SERVES_REGION, SERVES_STAGE, OF_INSTRUMENT):
                    if not self.out(node, rel):
                        problems.append(f"{node} has no {rel} edge")
        return problems
