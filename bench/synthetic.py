"""Realistic synthetic projects, products and outcomes for benchmarks and property tests (seeded).

* Projects claim level-3 items of the real 2025 catalogue, weighted towards energy (4.x) and energy
  saving (1.x) the way industrial green finance is; their industry code is one of the item's GB/T
  4754 activity codes (sometimes a random class, as real data is noisy); regions are real GB/T 2260
  counties or prefectures of provinces weighted by industrial output; investment is log-normal and
  the financing need a share of it; stages, certifications, collateral, risk exposures, compliance
  and benefits appear at plausible rates.
* Products of the five built-in instruments (``green_credit``, ``green_bond``, ``reits``,
  ``green_insurance``, ``green_fund``) from ~200 institutions (national ones mostly nationwide,
  regional ones in their province), with the common params and each plugin's own params
  (``variants``/``accepted_collateral``, ``bond_types``/``min_issue_size_cny``, ``asset_classes``,
  ``cover_types``, ``focus``/tickets) drawn from the values the plugins' schemas accept.
* Outcomes: a small share of projects financed by a product whose common params admit them.

``generate(n_projects, n_products, seed)`` returns a :class:`SyntheticData`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from greenmatch import reference
from greenmatch.facts import ProductFacts, ProjectFacts
from greenmatch.instruments import common_params_check
from greenmatch.matching.product_index import Outcome

INSTRUMENTS = ("green_credit", "green_bond", "reits", "green_insurance", "green_fund")

# Relative weight of each catalogue area (level 1) among projects seeking green finance.
AREA_WEIGHTS = {"1": 2.5, "2": 1.5, "3": 1.2, "4": 3.0, "5": 0.6, "6": 1.0, "7": 0.4, "8": 0.2, "9": 0.2}
# Provinces weighted roughly by industrial value added (others get 1).
PROVINCE_WEIGHTS = {"32": 9, "44": 9, "37": 7, "33": 7, "41": 5, "13": 5, "42": 4, "51": 4, "34": 4, "35": 4,
                    "43": 3, "36": 3, "21": 3, "61": 3, "14": 3, "15": 3, "31": 3, "11": 2, "12": 2, "50": 2,
                    "45": 2, "52": 2, "53": 2, "65": 2, "22": 1.5, "23": 1.5, "62": 1.5, "64": 1, "63": 1, "46": 1,
                    "54": 0.5, "71": 0, "81": 0, "82": 0}
CERT_RATES = {"green_factory": 0.12, "green_park": 0.03, "green_supply_chain": 0.04, "green_design_product": 0.05,
              "zero_carbon_factory": 0.015, "specialized_sme": 0.15, "little_giant": 0.03, "high_tech": 0.25}
COLLATERAL_RATES = {"fixed_assets": 0.4, "receivables": 0.25, "ccer": 0.05, "carbon_allowance": 0.04,
                    "pollutant_rights": 0.04, "energy_use_rights": 0.03, "water_rights": 0.01,
                    "green_power_certificates": 0.04, "charging_rights": 0.05, "intellectual_property": 0.08}
RISK_RATES = {"pollution_liability": 0.1, "first_of_kind_equipment": 0.03, "new_material_first_batch": 0.02,
              "building_performance": 0.03, "climate_catastrophe": 0.06, "carbon_sink": 0.01, "tech_rnd": 0.06}
CREDIT_VARIANTS = ("carbon_reduction_facility", "energy_efficiency", "environmental_rights_pledge", "general")
BOND_TYPES = ("ndrc_enterprise", "exchange_corporate", "interbank_debt_financing", "financial", "carbon_neutral")
REIT_CLASSES = ("clean_energy", "energy_storage", "water", "waste", "ecological", "park_infrastructure", "heating",
                "data_centres")
COVER_TYPES = ("pollution_liability", "first_of_kind_equipment", "new_material_first_batch", "tech_rnd",
               "building_performance", "climate_catastrophe", "carbon_sink", "nev")
FUND_FOCUS = ("specialized_sme", "little_giant", "high_tech", "green_technology", "pollution_control",
              "ecological_restoration", "resource_efficiency", "green_transport", "clean_energy")
REIT_PREFIXES = ("4.2", "4.3", "2.3.5", "2.5", "3.2", "5.2", "6.1", "6.4", "6.5", "6.6")
PRODUCT_WORDS = {"green_credit": ("绿色贷", "碳减排贷", "能效贷", "环境权益质押贷", "绿色项目贷"),
                 "green_bond": ("绿色债券承销", "碳中和债", "绿色企业债"),
                 "reits": ("基础设施REITs", "绿色REITs"),
                 "green_insurance": ("环责险", "首台套保险", "气象指数保险", "绿色建筑性能险", "碳汇保险"),
                 "green_fund": ("绿色产业基金", "专精特新基金", "清洁能源基金")}


@dataclass
class SyntheticData:
    projects: list[ProjectFacts]
    products: list[ProductFacts]
    outcomes: list[Outcome] = field(default_factory=list)


@cache
def _catalogue_tables() -> tuple[list[str], list[float], dict[str, list[str]]]:
    cats = reference.catalogue()
    level3 = [c for c, v in cats.items() if v.level == 3]
    per_area: dict[str, int] = {}
    for code in level3:
        per_area[code.split(".")[0]] = per_area.get(code.split(".")[0], 0) + 1
    weights = [AREA_WEIGHTS.get(c.split(".")[0], 0.5) / per_area[c.split(".")[0]] for c in level3]
    by_level2: dict[str, list[str]] = {}
    for code in level3:
        by_level2.setdefault(code.rsplit(".", 1)[0], []).append(code)
    return level3, weights, by_level2


@cache
def _region_tables() -> tuple[list[str], list[float], dict[str, list[str]], dict[str, list[str]]]:
    regions = reference.regions()
    provinces = [c for c, r in regions.items() if r.level == "province" and PROVINCE_WEIGHTS.get(c[:2], 1) > 0]
    weights = [PROVINCE_WEIGHTS.get(c[:2], 1) for c in provinces]
    counties: dict[str, list[str]] = {}
    prefectures: dict[str, list[str]] = {}
    for code, r in regions.items():
        if r.level == "county":
            counties.setdefault(code[:2], []).append(code)
        elif r.level == "prefecture":
            prefectures.setdefault(code[:2], []).append(code)
    return provinces, weights, counties, prefectures


@cache
def _industry_classes() -> list[str]:
    return [c for c in reference.industries() if len(c) == 4]


def _sample(rng: random.Random, population: Sequence[Any], k: int) -> list[Any]:
    return rng.sample(list(population), min(k, len(population)))


def _lognormal(rng: random.Random, median: float, sigma: float, low: float, high: float) -> float:
    return float(min(high, max(low, median * math.exp(rng.gauss(0, sigma)))))


def make_project(rng: random.Random, pid: int) -> ProjectFacts:
    cats = reference.catalogue()
    level3, weights, by_level2 = _catalogue_tables()
    provinces, pweights, counties, prefectures = _region_tables()
    first = rng.choices(level3, weights)[0]
    categories = [first]
    extra = rng.choices((0, 1, 2), (0.75, 0.2, 0.05))[0]
    for _ in range(extra):
        pool = by_level2[first.rsplit(".", 1)[0]] if rng.random() < 0.7 else level3
        code = rng.choice(pool)
        if code not in categories:
            categories.append(code)
    acts = cats[first].activity_codes
    industry = rng.choice(acts) if acts and rng.random() < 0.9 else rng.choice(_industry_classes())
    province = rng.choices(provinces, pweights)[0][:2]
    if rng.random() < 0.75 and counties.get(province):
        region = rng.choice(counties[province])
    elif prefectures.get(province):
        region = rng.choice(prefectures[province])
    else:
        region = province + "0000"
    stage = rng.choices(("planning", "construction", "operation"), (0.25, 0.4, 0.35))[0]
    median = {"4": 2e8, "6": 1.5e8}.get(first.split(".")[0], 6e7)  # energy and infrastructure run larger
    investment = _lognormal(rng, median, 1.3, 1e6, 5e10)
    need = investment * (1.0 if rng.random() < 0.05 else rng.uniform(0.3, 0.9))
    area = first.split(".")[0]
    benefits: dict[str, float] = {}
    if first.startswith("4.2"):
        benefits["renewable_generation_mwh"] = round(investment / 3000 * rng.uniform(0.6, 1.4), 1)
    if area == "1" or first.startswith(("6.1", "4.3")):
        benefits["energy_saving_tce"] = round(investment / 5000 * rng.uniform(0.4, 1.6), 1)
    if rng.random() < 0.3:
        benefits["co2_reduction_t"] = round(investment / 1500 * rng.uniform(0.3, 1.5), 1)
    if area in ("2", "3") and rng.random() < 0.3:
        benefits["water_saving_t"] = round(investment / 50 * rng.uniform(0.5, 1.5), 1)
    certifications = tuple(c for c, p in CERT_RATES.items() if rng.random() < p)
    collateral = [c for c, p in COLLATERAL_RATES.items() if rng.random() < p]
    if first.startswith("4.2") and rng.random() < 0.1:
        collateral.append("green_power_certificates")
    risk = [r for r, p in RISK_RATES.items() if rng.random() < p]
    if (first.startswith("4.2") or area == "5") and rng.random() < 0.15:
        risk.append("climate_catastrophe")
    if area == "5" and rng.random() < 0.15:
        risk.append("carbon_sink")
    operating = stage == "operation"
    asset_value = investment * rng.uniform(0.9, 1.3) if operating or rng.random() < 0.3 else None
    values: dict[str, Any] = {}
    if operating:
        values["commissioning_year"] = rng.randint(2008, 2024)
        values["annual_revenue_cny"] = round(investment * rng.uniform(0.05, 0.3), 2)
        if asset_value is not None:
            values["annual_net_cash_flow_cny"] = round(asset_value * rng.uniform(-0.01, 0.09), 2)
        values["is_concession"] = rng.random() < 0.2
        if values["is_concession"]:
            values["expected_irr_pct"] = round(rng.uniform(3.0, 9.0), 2)
    elif rng.random() < 0.2:
        values["commissioning_year"] = rng.randint(2025, 2028)
    eia = rng.random() < (0.6 if stage == "planning" else 0.93)
    compliance = {"eia_approved": eia, "pollutant_permit": rng.random() < 0.8,
                  "env_penalties_3y": min(3, int(rng.expovariate(4.0))), "major_env_penalty_3y": rng.random() < 0.02}
    preferred = tuple(_sample(rng, INSTRUMENTS, rng.choice((1, 1, 2)))) if rng.random() < 0.4 else ()
    region_name = reference.regions()[region].name_zh
    name = f"{region_name}{cats[first].name_zh}项目"
    return ProjectFacts(
        id=pid, name=name, description=f"{cats[first].name_zh}（合成数据）", industry_code=industry,
        region_code=region, stage=stage, total_investment_cny=round(investment, 2), financing_need_cny=round(need, 2),
        categories=tuple(categories), asset_value_cny=round(asset_value, 2) if asset_value is not None else None,
        benefits=benefits, certifications=certifications, collateral=tuple(dict.fromkeys(collateral)),
        risk_exposures=tuple(dict.fromkeys(risk)), compliance=compliance, preferred_instruments=preferred,
        enterprise_id=pid, **values,
    )


@dataclass(frozen=True)
class Institution:
    id: int
    name: str
    kind: str  # bank | insurer | securities | fund_manager
    province: str | None  # None: national


def make_institutions(rng: random.Random, n: int = 200) -> list[Institution]:
    provinces, weights, _, _ = _region_tables()
    kinds = (("bank", 0.55), ("insurer", 0.2), ("securities", 0.12), ("fund_manager", 0.13))
    out = []
    for i in range(1, n + 1):
        kind = rng.choices([k for k, _ in kinds], [w for _, w in kinds])[0]
        national = rng.random() < 0.2
        province = None if national else rng.choices(provinces, weights)[0]
        where = "全国性" if province is None else reference.regions()[province].name_zh
        word = {"bank": "银行", "insurer": "保险", "securities": "证券", "fund_manager": "基金管理"}[kind]
        out.append(Institution(i, f"{where}{word}{i}号", kind, province))
    return out


# Which instruments each kind of institution publishes, with weights (overall about 44% credit,
# 20% bonds, 4% REITs, 20% insurance, 11% funds).
KIND_INSTRUMENTS = {"bank": (("green_credit", 0.8), ("green_bond", 0.2)), "insurer": (("green_insurance", 1.0),),
                    "securities": (("green_bond", 0.8), ("reits", 0.2)),
                    "fund_manager": (("green_fund", 0.85), ("reits", 0.15))}


def _product_regions(rng: random.Random, inst: Institution) -> list[str]:
    provinces, weights, _, prefectures = _region_tables()
    if inst.province is None:
        return [] if rng.random() < 0.6 else sorted(set(rng.choices(provinces, weights, k=rng.randint(1, 3))))
    if rng.random() < 0.3 and prefectures.get(inst.province[:2]):
        return sorted(_sample(rng, prefectures[inst.province[:2]], rng.randint(1, 3)))
    return [inst.province]


def _product_categories(rng: random.Random, instrument: str) -> list[str]:
    level3, weights, by_level2 = _catalogue_tables()
    if instrument == "reits":
        return sorted(set(_sample(rng, REIT_PREFIXES, rng.randint(1, 3)))) if rng.random() < 0.5 else []
    if rng.random() < 0.35:
        return []
    out = set()
    for _ in range(rng.choice((1, 1, 2, 3))):
        code = rng.choices(level3, weights)[0]
        level = rng.choices((1, 2, 3), (0.3, 0.5, 0.2))[0]
        out.add(".".join(code.split(".")[:level]))
    return sorted(out)


def make_product(rng: random.Random, qid: int, inst: Institution) -> ProductFacts:
    choices = KIND_INSTRUMENTS[inst.kind]
    instrument = rng.choices([k for k, _ in choices], [w for _, w in choices])[0]
    params: dict[str, Any] = {"regions": _product_regions(rng, inst),
                              "categories": _product_categories(rng, instrument), "stages": []}
    if rng.random() < 0.3:
        params["stages"] = sorted(_sample(rng, ("planning", "construction", "operation"), rng.randint(1, 2)))
    if instrument == "green_credit":
        low = _lognormal(rng, 5e6, 1.0, 1e5, 1e8) if rng.random() < 0.8 else None
        high = _lognormal(rng, 5e8, 1.0, 2e7, 2e10) if rng.random() < 0.8 else None
        params["variants"] = [] if rng.random() < 0.6 else sorted(_sample(rng, CREDIT_VARIANTS, rng.randint(1, 2)))
        if "environmental_rights_pledge" in params["variants"] and rng.random() < 0.5:
            params["accepted_collateral"] = sorted(_sample(rng, ("ccer", "carbon_allowance", "pollutant_rights",
                                                                 "green_power_certificates"), rng.randint(1, 2)))
        elif rng.random() < 0.1:
            params["accepted_collateral"] = sorted(_sample(rng, ("fixed_assets", "receivables", "ccer"), 2))
        params["indicative_rate_pct"] = round(rng.uniform(2.8, 4.5), 2)
    elif instrument == "green_bond":
        low = _lognormal(rng, 1e8, 0.6, 3e7, 1e9) if rng.random() < 0.6 else None
        high = _lognormal(rng, 3e9, 0.8, 5e8, 5e10) if rng.random() < 0.7 else None
        params["bond_types"] = [] if rng.random() < 0.5 else sorted(_sample(rng, BOND_TYPES, rng.randint(1, 2)))
        if rng.random() < 0.3:
            params["min_issue_size_cny"] = float(rng.choice((5e7, 1e8, 3e8)))
        if rng.random() < 0.15:
            params["max_proceeds_share"] = 0.8
    elif instrument == "reits":
        low = _lognormal(rng, 5e8, 0.5, 1e8, 5e9) if rng.random() < 0.5 else None
        high = _lognormal(rng, 5e9, 0.5, 1e9, 5e10) if rng.random() < 0.5 else None
        params["asset_classes"] = [] if rng.random() < 0.5 else sorted(_sample(rng, REIT_CLASSES, rng.randint(1, 3)))
        if rng.random() < 0.3:
            params["min_asset_value_cny"] = float(rng.choice((1e9, 2e9)))
        if rng.random() < 0.2:
            params["min_operating_years"] = 3
        params["allow_concession"] = rng.random() < 0.9
    elif instrument == "green_insurance":
        low = high = None
        params["cover_types"] = [] if rng.random() < 0.3 else sorted(_sample(rng, COVER_TYPES, rng.randint(1, 3)))
    else:  # green_fund
        low = _lognormal(rng, 5e6, 0.8, 1e6, 5e7) if rng.random() < 0.4 else None
        high = _lognormal(rng, 3e8, 0.8, 5e7, 3e9) if rng.random() < 0.4 else None
        params["focus"] = [] if rng.random() < 0.4 else sorted(_sample(rng, FUND_FOCUS, rng.randint(1, 3)))
        if rng.random() < 0.4:
            params["ticket_min_cny"] = float(rng.choice((5e6, 1e7, 2e7)))
            params["ticket_max_cny"] = float(rng.choice((1e8, 3e8, 5e8)))
    if low is not None and high is not None and low > high:
        low, high = high, low
    params["min_amount_cny"] = round(low, -3) if low is not None else None
    params["max_amount_cny"] = round(high, -3) if high is not None else None
    word = rng.choice(PRODUCT_WORDS[instrument])
    return ProductFacts(instrument=instrument, params=params, id=qid, name=f"{inst.name}·{word}{qid}",
                        institution_id=inst.id, institution_name=inst.name)


def make_outcomes(rng: random.Random, projects: Sequence[ProjectFacts], products: Sequence[ProductFacts],
                  share: float = 0.02) -> list[Outcome]:
    """Financed engagements: a ``share`` of the projects, each with a product whose common params
    admit it (a few tries)."""
    out = []
    for project in rng.sample(list(projects), int(len(projects) * share)):
        for _ in range(20):
            product = rng.choice(products)
            if not common_params_check(project, product.params):
                amount = round(project.financing_need_cny * rng.uniform(0.5, 1.0), 2)
                out.append(Outcome(product.id, project.id, amount))
                break
    return out


def generate(n_projects: int, n_products: int, seed: int = 7, *, n_institutions: int = 200,
             outcome_share: float = 0.02) -> SyntheticData:
    rng = random.Random(seed)
    projects = [make_project(rng, i) for i in range(1, n_projects + 1)]
    institutions = make_institutions(rng, n_institutions)
    products = [make_product(rng, q, rng.choice(institutions)) for q in range(1, n_products + 1)]
    outcomes = make_outcomes(rng, projects, products, outcome_share) if products else []
    return SyntheticData(projects, products, outcomes)


def validate_products(products: Sequence[ProductFacts], plugins: Any) -> list[str]:
    """Problems the plugins' params schemas find with the generated params (empty = all valid)."""
    from marshmallow import ValidationError

    problems = []
    for product in products:
        plugin = plugins.get(product.instrument)
        if plugin is None:
            continue
        try:
            plugin.load_params(product.params)
        except ValidationError as exc:
            problems.append(f"product {product.id} ({product.instrument}): {exc.messages}")
    return problems
