"""Infrastructure REITs (基础设施领域不动产投资信托基金, NDRC/CSRC).

Eligible asset classes are mapped to 2025 catalogue codes (``asset_classes`` setting). The asset must
have operated at least 3 years with positive net operating cash flow; the distribution yield (annual
net cash flow / asset value) must reach 3.8% for non-concession assets, or the IRR 5% for concession
(特许经营) assets (发改投资〔2023〕236号); a first issue needs about ¥1bn of assets (⚠). Every failing
condition is reported, not only the first. Platform vetoes: no EIA approval in construction/operation,
new 两高 capacity.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import fields, validate

from greenmatch.instruments import (
    Amount,
    CommonParamsSchema,
    InstrumentFit,
    InstrumentPlugin,
    Label,
    Listing,
    Money,
    Msg,
    Num,
    ProductRequirements,
    ProjectFacts,
    SettingsBase,
    covered_codes,
    financing_vetoes,
    level3_split,
)

KEY = "reits"

# Asset classes named in domain.md (NDRC infrastructure REITs scope, 发改投资〔2021〕958号 and
# 发改投资〔2024〕1014号) mapped to 2025 catalogue prefixes (checked against green_catalogue.json).
ASSET_CLASSES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("clean_energy", ("4.2", "4.3.1", "4.3.4", "4.3.7")),  # wind, solar, biomass, hydro, nuclear, ...
    ("energy_storage", ("4.3.2", "4.3.3")),  # new-type storage, pumped storage
    ("water", ("2.3.5", "3.2.2", "6.4.3", "6.4.5", "6.4.7")),  # park wastewater, water reuse, supply, sewage
    ("waste", ("2.5.1", "2.5.2", "3.2.3", "3.2.6", "6.4.8")),  # solid/hazardous waste, waste-to-resource
    ("ecological", ("5.2",)),  # ecological protection and restoration
    ("park_infrastructure", ("2.5.7", "3.2.8", "6.1.1", "6.1.2")),  # green park facilities and buildings
    ("heating", ("4.2.9", "6.5.2", "6.5.3")),  # heat pumps, integrated supply, clean district heating
    ("data_centres", ("6.6.2", "6.6.3")),  # green data centres
)


@dataclass(frozen=True)
class ReitsSettings(SettingsBase):
    asset_classes: tuple[tuple[str, tuple[str, ...]], ...] = ASSET_CLASSES
    # Assets have operated for ≥ 3 years (发改投资〔2021〕958号, kept in 发改投资〔2024〕1014号).
    min_operating_years: int = 3
    # Non-concession assets: projected annual net cash flow distribution yield ≥ 3.8% (发改投资〔2023〕236号).
    min_distribution_yield_pct: float = 3.8
    # Concession (特许经营权) assets: IRR ≥ 5% (发改投资〔2023〕236号).
    min_concession_irr_pct: float = 5.0
    # ⚠ Remaining concession (特许经营) term a concession asset needs, years: 发改投资〔2024〕1014号 asks for
    # a remaining term that covers the fund's life; the figure is the platform's setting.
    min_remaining_concession_years: int = 10
    # ⚠ First issue: target asset valuation ≥ ¥1bn (发改投资〔2024〕1014号 "原则上不低于10亿元"; check).
    min_asset_value_cny: float = 1_000_000_000.0
    base_fit: float = 0.6
    # +bonus per percentage point of yield (or IRR) above the minimum, up to max_headroom_bonus.
    headroom_bonus_per_pct: float = 0.1
    max_headroom_bonus: float = 0.3


class ReitsParamsSchema(CommonParamsSchema):
    asset_classes = fields.List(fields.String(validate=validate.OneOf([k for k, _ in ASSET_CLASSES])),
                                load_default=list)
    min_asset_value_cny = Money(load_default=None, allow_none=True)
    min_operating_years = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0))
    min_distribution_yield_pct = fields.Float(load_default=None, allow_none=True,
                                              validate=validate.Range(min=0, max=100))
    allow_concession = fields.Boolean(load_default=True)


class ReitsPlugin(InstrumentPlugin):
    key = KEY
    name_zh = "基础设施REITs"
    name_en = "Infrastructure REITs"
    description_zh = ("清洁能源、储能、水务、固废、生态环保、园区基础设施、供热、数据中心等资产的基础设施REITs："
                      "运营满3年、经营性现金流为正、非特许经营类现金流分派率≥3.8%或特许经营类IRR≥5%、首发资产规模约10亿元以上。")
    description_en = ("Infrastructure REITs for clean energy, storage, water, waste, ecological, park, heating and "
                      "data-centre assets: operating ≥ 3 years, positive cash flow, distribution yield ≥ 3.8% "
                      "(non-concession) or IRR ≥ 5% (concession), first issue about ¥1bn of assets or more.")
    params_schema = ReitsParamsSchema
    settings_class = ReitsSettings

    def asset_classes(self, project: ProjectFacts) -> list[str]:
        return list(self._asset_classes(level3_split(tuple(project.categories))[0]))

    def _asset_classes(self, valid: tuple[str, ...]) -> tuple[str, ...]:
        return self.memoized("asset_classes", valid, lambda: tuple(
            k for k, prefixes in self.settings.asset_classes if covered_codes(valid, prefixes)))

    @staticmethod
    def distribution_yield_pct(project: ProjectFacts) -> float | None:
        if project.annual_net_cash_flow_cny is None or not project.asset_value_cny or project.asset_value_cny <= 0:
            return None
        return project.annual_net_cash_flow_cny / project.asset_value_cny * 100

    def assess(self, project: ProjectFacts) -> InstrumentFit:
        s: ReitsSettings = self.settings
        vetoes = financing_vetoes(project, KEY, self.rules)
        classes = self.asset_classes(project)
        if not classes:
            vetoes.append(Msg("no category maps to a REITs asset class (%(classes)s)",
                              classes=Listing(Label("param_value", k) for k, _ in s.asset_classes)))
        years = project.operating_years()
        vetoes += self._operation_vetoes(project, years)
        headroom, yld = self._return_check(project, vetoes)
        value = project.asset_value_cny
        if value is None:
            vetoes.append(Msg("asset value unknown: a first issue needs %(need)s", need=Amount(s.min_asset_value_cny)))
        elif value < s.min_asset_value_cny:
            vetoes.append(Msg("asset value %(value)s below the %(need)s a first issue needs", value=Amount(value),
                              need=Amount(s.min_asset_value_cny)))
        if vetoes:
            return InstrumentFit(KEY, False, 0.0, tuple(vetoes))
        if project.is_concession:
            ret = Msg("IRR %(irr)s%% ≥ %(need)s%%", irr=Num(project.expected_irr_pct, 1),
                      need=Num(s.min_concession_irr_pct, None))
        else:
            ret = Msg("distribution yield %(yld)s%% ≥ %(need)s%%", need=Num(s.min_distribution_yield_pct, None),
                      yld=Num(yld, 1))
        reasons = (Msg("asset class: %(classes)s; operating %(years)s years; %(ret)s; asset value %(value)s",
                       classes=Listing(Label("param_value", c) for c in classes), years=years,
                       value=Amount(value), ret=ret),)
        fit = s.base_fit + min(s.max_headroom_bonus, s.headroom_bonus_per_pct * headroom)
        return InstrumentFit(KEY, True, min(1.0, fit), reasons)

    def _operation_vetoes(self, project: ProjectFacts, years: int | None) -> list[Msg]:
        """Years in operation, a positive cash flow and, for concessions, the remaining term."""
        s: ReitsSettings = self.settings
        vetoes: list[Msg] = []
        if project.stage != "operation":
            vetoes.append(Msg("not yet operating: REITs need %(years)s years of operation",
                              years=s.min_operating_years))
        elif years is None:
            vetoes.append(Msg("commissioning year unknown: REITs need %(years)s years of operation",
                              years=s.min_operating_years))
        elif years < s.min_operating_years:
            vetoes.append(Msg("operating %(years)s years; REITs need %(need)s", years=years,
                              need=s.min_operating_years))
        ncf = project.annual_net_cash_flow_cny
        if ncf is None or ncf <= 0:
            vetoes.append(Msg("annual net operating cash flow %(ncf)s: REITs need a positive cash flow",
                              ncf=Msg("unknown") if ncf is None else Amount(ncf)))
        if project.is_concession:
            # 发改投资〔2024〕1014号: the remaining concession term must cover the fund (setting, ⚠ platform choice)
            need = s.min_remaining_concession_years
            end = project.concession_end_year
            left = None if end is None else end - dt.date.today().year
            if left is None:
                vetoes.append(Msg("concession asset without a concession end year: REITs need %(need)s years left",
                                  need=need))
            elif left < need:
                vetoes.append(Msg("concession ends in %(end)s (%(left)s years left): REITs need %(need)s",
                                  end=end, left=max(left, 0), need=need))
        return vetoes

    def _return_check(self, project: ProjectFacts, vetoes: list[Msg]) -> tuple[float, float | None]:
        """(points of return above the threshold, the distribution yield): IRR for concession assets,
        the distribution yield otherwise (发改投资〔2023〕236号); a shortfall is added to ``vetoes``."""
        s: ReitsSettings = self.settings
        headroom = 0.0
        yld = self.distribution_yield_pct(project)
        if project.is_concession:
            irr = project.expected_irr_pct
            if irr is None:
                vetoes.append(Msg("concession asset without an expected IRR: REITs need ≥ %(irr)s%%",
                                  irr=Num(s.min_concession_irr_pct, None)))
            elif irr < s.min_concession_irr_pct:
                vetoes.append(Msg("IRR %(irr)s%% below %(need)s%% (concession assets)", irr=Num(irr, 1),
                                  need=Num(s.min_concession_irr_pct, None)))
            else:
                headroom = irr - s.min_concession_irr_pct
        elif yld is None:
            vetoes.append(Msg("distribution yield unknown: give the annual net cash flow and asset value (REITs need "
                              "≥ %(need)s%%)", need=Num(s.min_distribution_yield_pct, None)))
        elif yld < s.min_distribution_yield_pct:
            vetoes.append(Msg("distribution yield %(yld)s%% below %(need)s%%",
                              need=Num(s.min_distribution_yield_pct, None), yld=Num(yld, 1)))
        else:
            headroom = yld - s.min_distribution_yield_pct
        return headroom, yld

    # -- graph hooks ---------------------------------------------------------------------------------
    def project_tags(self, project: ProjectFacts) -> Mapping[str, float]:
        return {f"{KEY}:asset_class:{c}": 1.0 for c in self._asset_classes(level3_split(tuple(project.categories))[0])}

    def product_tags(self, params: Mapping[str, Any]) -> Mapping[str, float]:
        return {f"{KEY}:asset_class:{c}": 1.0 for c in params.get("asset_classes") or []}

    def product_requirements(self, params: Mapping[str, Any]) -> ProductRequirements:
        required = frozenset(f"{KEY}:asset_class:{c}" for c in params.get("asset_classes") or [])
        bounds: dict[str, tuple[float | None, float | None]] = {}
        for param, metric in (("min_asset_value_cny", "asset_value_cny"), ("min_operating_years", "operating_years"),
                              ("min_distribution_yield_pct", "distribution_yield_pct")):
            if params.get(param) is not None:
                bounds[metric] = (params[param], None)
        if params.get("allow_concession") is False:
            bounds["is_concession"] = (None, 0.0)
        return ProductRequirements(required, bounds)

    def project_metrics(self, project: ProjectFacts) -> Mapping[str, float]:
        metrics: dict[str, float] = {"is_concession": 1.0 if project.is_concession else 0.0}
        years = project.operating_years()
        if years is not None:
            metrics["operating_years"] = float(years)
        for name in ("asset_value_cny", "annual_net_cash_flow_cny", "expected_irr_pct"):
            value = getattr(project, name)
            if value is not None:
                metrics[name] = float(value)
        yld = self.distribution_yield_pct(project)
        if yld is not None:
            metrics["distribution_yield_pct"] = yld
        return metrics
