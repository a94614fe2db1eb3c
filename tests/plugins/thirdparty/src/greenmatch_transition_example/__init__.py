"""Transition finance (转型金融) for 两高 plants doing retrofits — an example third-party plugin.

Green instruments refuse new 两高 capacity; transition finance serves the *existing* plants of those
sectors while they cut emissions. The PBoC-led national transition-finance standards cover a first batch
of four sectors (steel, coal power, building materials, agriculture; shared/data/two_high_rules.md
section 5). This plugin offers loans to a flagged 两高 plant whose every claimed category is a retrofit /
transition item of the 2025 catalogue, in the sectors its settings name.

It uses only the public plugin toolkit, ``greenmatch.instruments``: the plugin base class, the common params
schema, message codes, the screening functions, the carbon estimate, labels and the settings mixin. Nothing in
the core knows about it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import fields, validate

from greenmatch.instruments import (
    CommonParamsSchema,
    InstrumentFit,
    InstrumentPlugin,
    Label,
    Listing,
    Msg,
    Num,
    ProductRequirements,
    ProjectFacts,
    SettingsBase,
    co2_reduction_t,
    compliance,
    labels,
    two_high,
)

KEY = "transition_finance"
SECTORS = tuple(labels.SECTORS)


@dataclass(frozen=True)
class TransitionSettings(SettingsBase):
    # First-batch national transition-finance standards: steel, coal power, building materials (+ agriculture,
    # not a 两高 sector). A deployment following a regional catalogue (e.g. Jiangsu "1+N+N") adds sectors.
    eligible_sectors: tuple[str, ...] = ("steel", "coal_power", "building_materials")
    base_fit: float = 0.7
    quantified_bonus: float = 0.2  # a quantified CO2 reduction, which transition loans are priced on


class TransitionParamsSchema(CommonParamsSchema):
    sectors = fields.List(fields.String(validate=validate.OneOf(SECTORS)), load_default=list,
                          metadata={"description": "两高 sectors the product serves; empty = all eligible ones"})
    min_co2_reduction_t = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0),
                                       metadata={"description": "smallest annual CO2 reduction financed, t"})


class TransitionFinancePlugin(InstrumentPlugin):
    key = KEY
    name_zh = "转型金融"
    name_en = "Transition finance"
    description_zh = "面向钢铁、煤电、建材等“两高”行业存量装置节能降碳改造的转型贷款。"
    description_en = "Transition loans for retrofits of existing plants in 两高 sectors (steel, coal power, cement...)."
    params_schema = TransitionParamsSchema
    # this package's own Chinese for the message codes it returns (the platform's catalogue does not know them)
    messages_zh = {
        "transition finance serves 两高 sectors; this project is not one — green instruments fit better":
            "转型金融面向“两高”行业；本项目不属于，宜选择绿色金融工具",
        "sector %(sector)s has no transition-finance standard here (covered: %(covered)s)":
            "“%(sector)s”行业暂无转型金融标准（已覆盖：%(covered)s）",
        "no EIA approval for a plant in construction or operation": "在建或运营装置缺少环评批复",
        "retrofit of a %(sector)s plant: %(categories)s": "%(sector)s存量装置改造：%(categories)s",
        "annual CO2 reduction %(co2)s t": "年减排 %(co2)s 吨CO2",
        "quantify the annual CO2 reduction: transition loans are priced on it": "请量化年碳减排量：转型贷款据此定价",
    }
    settings_class = TransitionSettings

    def assess(self, project: ProjectFacts) -> InstrumentFit:
        s: TransitionSettings = self.settings
        th = two_high(project, self.rules)
        if not th.flag:
            return InstrumentFit(KEY, False, 0.0, (Msg(
                "transition finance serves 两高 sectors; this project is not one — green instruments fit better"),))
        sector = Label("sector", th.sector)
        vetoes = []
        if th.sector not in s.eligible_sectors:
            vetoes.append(Msg("sector %(sector)s has no transition-finance standard here (covered: %(covered)s)",
                              sector=sector, covered=Listing(Label("sector", x) for x in s.eligible_sectors)))
        if th.blocks_financing and th.reason is not None:
            vetoes.append(th.reason)
        if compliance(project, self.rules).has("eia_missing"):
            vetoes.append(Msg("no EIA approval for a plant in construction or operation"))
        if vetoes:
            return InstrumentFit(KEY, False, 0.0, tuple(vetoes))
        co2 = co2_reduction_t(project, self.rules) or 0.0
        reasons = [Msg("retrofit of a %(sector)s plant: %(categories)s", sector=sector,
                       categories=Listing(project.categories))]
        fit = s.base_fit
        if co2 > 0:
            fit += s.quantified_bonus
            reasons.append(Msg("annual CO2 reduction %(co2)s t", co2=Num(co2)))
        else:
            reasons.append(Msg("quantify the annual CO2 reduction: transition loans are priced on it"))
        return InstrumentFit(KEY, True, min(1.0, fit), tuple(reasons))

    def project_tags(self, project: ProjectFacts) -> Mapping[str, float]:
        th = two_high(project, self.rules)
        return {f"{KEY}:sector:{th.sector}": 1.0} if th.flag and th.allowed_retrofit else {}

    def product_tags(self, params: Mapping[str, Any]) -> Mapping[str, float]:
        return {f"{KEY}:sector:{s}": 1.0 for s in params.get("sectors") or []}

    def product_requirements(self, params: Mapping[str, Any]) -> ProductRequirements:
        required = frozenset(f"{KEY}:sector:{s}" for s in params.get("sectors") or [])
        low = params.get("min_co2_reduction_t")
        return ProductRequirements(required, {"co2_reduction_t": (low, None)} if low is not None else {})

    def project_metrics(self, project: ProjectFacts) -> Mapping[str, float]:
        co2 = co2_reduction_t(project, self.rules)
        return {"co2_reduction_t": co2} if co2 is not None else {}
