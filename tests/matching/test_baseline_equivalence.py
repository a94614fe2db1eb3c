"""The bulk engine and the per-pair baseline (plugin.check + walks on the networkx graph) produce
the same scores and the same top lists, on random synthetic data."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from greenmatch.facts import ProjectFacts
from greenmatch.instruments import (
    BUILTIN_ORDER,
    InstrumentFit,
    InstrumentPlugin,
    ProductRequirements,
    load_plugins,
)
from greenmatch.matching.baseline import baseline_run
from greenmatch.matching.engine import MatchEngine
from greenmatch.matching.settings import MatchSettings
from greenmatch.text import Msg

sys.path.append(str(Path(__file__).resolve().parents[2]))  # the repository root, for bench.synthetic
from bench.synthetic import generate


class _Simple(InstrumentPlugin):
    """A small stand-in with each instrument's key: tags from a list param, a requirement, a bound."""

    tag_param = ""
    fact = ""

    def assess(self, project: ProjectFacts) -> InstrumentFit:
        ok = bool(project.categories) and bool(project.compliance.get("eia_approved", True))
        if self.key == "green_insurance":
            ok = bool(project.risk_exposures)
        fit = 0.4 + 0.1 * len(getattr(project, self.fact, ())) if ok else 0.0
        return InstrumentFit(self.key, ok, min(fit, 1.0), (Msg(f"{self.key} ok"),))

    def project_tags(self, project: ProjectFacts) -> Mapping[str, float]:
        return {f"{self.key}:{v}": 0.8 for v in getattr(project, self.fact, ())}

    def product_tags(self, params: Mapping[str, Any]) -> Mapping[str, float]:
        return {f"{self.key}:{v}": 1.0 for v in params.get(self.tag_param) or []}

    def product_requirements(self, params: Mapping[str, Any]) -> ProductRequirements:
        bounds = {}
        if params.get("min_asset_value_cny") is not None:
            bounds["asset_value_cny"] = (params["min_asset_value_cny"], None)
        if params.get("ticket_min_cny") is not None or params.get("ticket_max_cny") is not None:
            bounds["financing_need_cny"] = (params.get("ticket_min_cny"), params.get("ticket_max_cny"))
        required = frozenset(f"{self.key}:{v}" for v in params.get("cover_types") or [])
        return ProductRequirements(required, bounds)

    def project_metrics(self, project: ProjectFacts) -> Mapping[str, float]:
        metrics = {"financing_need_cny": project.financing_need_cny}
        if project.asset_value_cny is not None:
            metrics["asset_value_cny"] = project.asset_value_cny
        return metrics


def _plugin(key: str, tag_param: str, fact: str) -> InstrumentPlugin:
    cls = type(f"Simple_{key}", (_Simple,), {"key": key, "name_zh": key, "name_en": key,
                                              "tag_param": tag_param, "fact": fact})
    return cls()


STAND_INS = {
    "green_credit": _plugin("green_credit", "accepted_collateral", "collateral"),
    "green_bond": _plugin("green_bond", "bond_types", "certifications"),
    "reits": _plugin("reits", "asset_classes", "certifications"),
    "green_insurance": _plugin("green_insurance", "cover_types", "risk_exposures"),
    "green_fund": _plugin("green_fund", "focus", "certifications"),
}


def compare(plugins: Mapping[str, InstrumentPlugin], n: int, m: int, seed: int, settings: MatchSettings) -> int:
    data = generate(n, m, seed, n_institutions=20, outcome_share=0.1)
    engine = MatchEngine(plugins, settings)
    result = engine.run(data.projects, data.products, data.outcomes, chunk_size=64)
    base = baseline_run(plugins, data.projects, data.products, data.outcomes, settings)
    assert result.stats.pairs_considered == base.pairs_considered
    assert result.stats.pairs_eligible == len(base.scores)
    for match in result:
        assert match.score == pytest.approx(base.scores[match.key], abs=1e-9)
    assert result.top_products() == {p: q for p, q in base.top_products(settings.project_top_k).items() if q}
    by_product = {q.id: [m.project_id for m in result.for_product(q.id)] for q in data.products}
    expected = base.top_projects(settings.product_top_l)
    assert {q: ids for q, ids in by_product.items() if ids} == expected
    return len(base.scores)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_engine_equals_baseline_with_stand_in_plugins(seed: int) -> None:
    eligible = compare(STAND_INS, 240, 60, seed, MatchSettings(project_top_k=20, product_top_l=25))
    assert eligible > 100  # the comparison covered many pairs


def test_engine_equals_baseline_with_other_weights_and_short_lists() -> None:
    settings = MatchSettings(w_category=0.5, w_tag=0.3, w_policy=0.0, project_top_k=3, product_top_l=4,
                             category_up_decay=0.9, region_root_decay=0.05, paths_per_match=1)
    assert compare(STAND_INS, 200, 50, 9, settings) > 60


def test_engine_equals_baseline_with_the_installed_plugins() -> None:
    loaded = load_plugins(BUILTIN_ORDER)
    if set(loaded.plugins) != set(BUILTIN_ORDER):
        pytest.skip(f"built-in plugins not all installed: {loaded.errors}")
    assert compare(loaded.plugins, 150, 60, 4, MatchSettings()) > 50
