"""Green insurance (绿色保险), following the NFRA guidance of 2024-04-20 (《关于推动绿色保险高质量发展的
指导意见》, seeds/000). Each cover type applies to a project through its industry, its catalogue
categories or a declared risk exposure; the project is eligible when at least one cover applies.

Environmental pollution liability (para. 九) is offered to every 两高 plant and to heavy-metal,
petrochemical, hazardous-chemical and hazardous-waste units: for new 两高 capacity it is the only cover
(and the only instrument) offered. First-of-kind equipment cover (首台套) is bought by the equipment
maker, so it attaches to equipment-making industries that declare the exposure, not to users.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from marshmallow import fields, validate

from greenmatch.instruments import (
    N_,
    CommonParamsSchema,
    InstrumentFit,
    InstrumentPlugin,
    Label,
    Listing,
    Msg,
    ProductRequirements,
    ProjectFacts,
    Reason,
    SettingsBase,
    covered_codes,
    industry_label,
    level3_split,
    normalize_industry_code,
    two_high,
)

KEY = "green_insurance"
COVER_TYPES = ("pollution_liability", "first_of_kind_equipment", "new_material_first_batch", "tech_rnd",
               "building_performance", "climate_catastrophe", "carbon_sink", "nev")
COVER_NAMES = {  # message codes (zh_CN in the platform catalogue)
    "pollution_liability": N_("environmental pollution liability"),
    "first_of_kind_equipment": N_("first-of-kind major equipment cover"),
    "new_material_first_batch": N_("first-batch new material cover"),
    "tech_rnd": N_("green technology R&D cover"),
    "building_performance": N_("green building performance cover"),
    "climate_catastrophe": N_("climate, catastrophe and weather-index cover"),
    "carbon_sink": N_("carbon sink cover"),
    "nev": N_("new-energy vehicle cover"),
}


@dataclass(frozen=True)
class GreenInsuranceSettings(SettingsBase):
    # 九: 涉重金属、石油化工、危险化学品、危险废物 high-risk units (GB/T 4754 prefixes; editors' mapping):
    # 07 oil & gas extraction, 09 non-ferrous ore mining (heavy metals), 1910 leather tanning (chromium),
    # 25 petroleum/coal processing, 26 chemicals, 27 pharmaceuticals, 28 chemical fibres, 32 non-ferrous
    # smelting, 3360 electroplating/surface treatment, 3843 lead-acid batteries, 7724 hazardous waste.
    # Every 两高 plant is added on top (domain.md: the guidance pushes high-risk units to carry it).
    pollution_liability_industries: tuple[str, ...] = ("07", "09", "1910", "25", "26", "27", "28", "32", "3360",
                                                       "3843", "7724")
    pollution_liability_categories: tuple[str, ...] = ("2.5.2",)  # hazardous waste treatment and disposal
    # 五 + MIIT/MOF 首台（套）重大技术装备保险补偿 (财建〔2015〕19号): the maker insures. Equipment-making
    # divisions 33-40 (metal products, general/special equipment, vehicles, rail/ships/aircraft, electrical,
    # electronics, instruments).
    equipment_maker_divisions: tuple[str, ...] = ("33", "34", "35", "36", "37", "38", "39", "40")
    # 首批次新材料保险补偿 (工信部联原〔2017〕222号): material-making divisions.
    material_maker_divisions: tuple[str, ...] = ("26", "28", "29", "30", "31", "32")
    # 五: green technology R&D, innovative SMEs, 专精特新 and little giants.
    tech_certifications: tuple[str, ...] = ("specialized_sme", "little_giant", "high_tech")
    tech_rnd_categories: tuple[str, ...] = ("7.5.1",)  # green technology R&D
    # 十一: green building and ultra-low-energy building performance insurance.
    building_categories: tuple[str, ...] = ("6.1.1", "6.1.2", "6.1.3", "6.1.4")
    # 四, 六, 七: climate/catastrophe/weather-index cover for energy (wind, solar, hydro, ...) and agriculture.
    climate_categories: tuple[str, ...] = ("4.2", "4.3.1", "4.3.3", "4.3.4", "4.3.7", "5.1")
    # 七: forests, grassland, wetland, ocean carbon sinks; CCUS (前沿性固碳技术).
    carbon_sink_categories: tuple[str, ...] = ("5.1.9", "5.1.13", "5.1.16", "5.2.3", "5.2.4", "5.2.6", "5.2.12",
                                               "5.2.13", "1.5.1")
    # 八, 十二: new-energy vehicles — manufacturing, charging, trade, purchase.
    nev_categories: tuple[str, ...] = ("1.2.1", "6.2.3", "8.2.1", "9.1.1")
    nev_industries: tuple[str, ...] = ("3612",)  # 新能源车整车制造
    # Fit: the strongest cover (declared exposure or mandatory-like pollution liability 0.9, derived 0.7)
    # plus a bonus per further cover.
    declared_fit: float = 0.9
    derived_fit: float = 0.7
    extra_cover_bonus: float = 0.05


class GreenInsuranceParamsSchema(CommonParamsSchema):
    cover_types = fields.List(fields.String(validate=validate.OneOf(COVER_TYPES)), load_default=list,
                              metadata={"description": "covers the product offers; the project must need one"})


class GreenInsurancePlugin(InstrumentPlugin):
    key = KEY
    name_zh = "绿色保险"
    name_en = "Green insurance"
    description_zh = ("按金融监管总局《关于推动绿色保险高质量发展的指导意见》（2024）提供环境污染责任、"
                      "首台（套）/首批次、绿色科技研发、绿色建筑性能、气候/巨灾/气象指数、碳汇、"
                      "新能源汽车等保险保障。")
    description_en = ("Cover per the NFRA green insurance guidance (2024): environmental pollution liability, "
                      "first-of-kind equipment / first-batch materials, green tech R&D, green building performance, "
                      "climate/catastrophe/weather index, carbon sink and new-energy vehicles.")
    params_schema = GreenInsuranceParamsSchema
    settings_class = GreenInsuranceSettings

    def _industry_facts(self, industry_code: str) -> tuple[str, bool, bool, bool, bool]:
        """(normalised code, pollution-liability industry, equipment maker, material maker, NEV maker),
        memoized per industry code."""
        def derive() -> tuple[str, bool, bool, bool, bool]:
            s: GreenInsuranceSettings = self.settings
            industry = normalize_industry_code(industry_code or "") or ""
            return (industry, any(industry.startswith(p) for p in s.pollution_liability_industries),
                    industry[:2] in s.equipment_maker_divisions, industry[:2] in s.material_maker_divisions,
                    any(industry.startswith(p) for p in s.nev_industries))

        return self.memoized("industry", industry_code, derive)

    def _category_hits(self, valid: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
        """The valid items each category rule covers (pollution liability, tech R&D, building,
        climate, carbon sink, NEV), memoized per tuple of items."""
        def derive() -> tuple[tuple[str, ...], ...]:
            s: GreenInsuranceSettings = self.settings
            return tuple(covered_codes(valid, prefixes) for prefixes in (
                s.pollution_liability_categories, s.tech_rnd_categories, s.building_categories,
                s.climate_categories, s.carbon_sink_categories, s.nev_categories))

        return self.memoized("categories", valid, derive)

    def covers(self, project: ProjectFacts) -> dict[str, tuple[bool, Reason]]:
        """Cover type -> (backed by a declared exposure or a mandatory-like duty, reason)."""
        return self._covers(project, explain=True)  # type: ignore[return-value]

    def _covers(self, project: ProjectFacts, *, explain: bool) -> dict[str, tuple[bool, Reason | None]]:
        """:meth:`covers`; without ``explain`` the reasons are None (the graph hook needs none)."""
        s: GreenInsuranceSettings = self.settings
        industry, liable_industry, makers, materials, nev_industry = self._industry_facts(project.industry_code)
        valid = level3_split(tuple(project.categories))[0]
        pollution_hits, rnd, building, climate, sink, nev = self._category_hits(valid)
        exposures = set(project.risk_exposures)
        th = two_high(project, self.rules)
        out: dict[str, tuple[bool, Reason | None]] = {}

        def add(cover: str, strong: bool, text: Callable[[], Msg]) -> None:
            """``text``: () -> why the cover applies, called only when explaining."""
            if not explain:
                out[cover] = (strong, None)
                return
            out[cover] = (strong, Msg("%(cover)s: %(why)s", cover=Msg(COVER_NAMES[cover]), why=text()))

        # pollution liability
        if th.flag:
            add("pollution_liability", True, lambda: Msg(
                "%(industry)s is a 两高 plant (high environmental risk)", industry=industry_label(industry)))
        elif liable_industry:
            add("pollution_liability", True, lambda: Msg(
                "%(industry)s handles heavy metals, petrochemicals, hazardous chemicals or waste",
                industry=industry_label(industry)))
        elif pollution_hits:
            add("pollution_liability", True, lambda: Msg("hazardous waste activity (%(categories)s)",
                                                         categories=Listing(pollution_hits)))
        elif "pollution_liability" in exposures:
            add("pollution_liability", True, lambda: Msg("pollution liability exposure declared"))

        if th.blocks_financing:
            return out  # new 两高 capacity: pollution liability only

        if "first_of_kind_equipment" in exposures and makers:
            add("first_of_kind_equipment", True, lambda: Msg(
                "equipment maker (%(industry)s) with a first-of-kind product", industry=industry_label(industry)))
        if "new_material_first_batch" in exposures and materials:
            add("new_material_first_batch", True, lambda: Msg(
                "material maker (%(industry)s) with a first batch", industry=industry_label(industry)))
        tech_certs = [c for c in project.certifications if c in s.tech_certifications]
        if "tech_rnd" in exposures or rnd or (tech_certs and valid):
            why: list[Msg | Label] = [Msg("R&D exposure declared")] if "tech_rnd" in exposures else []
            why += [Msg("category %(code)s", code=c) for c in rnd] + [Label("certification", c) for c in tech_certs]
            add("tech_rnd", "tech_rnd" in exposures, lambda: Msg("%(items)s", items=Listing(why)))
        for cover, hits in (("building_performance", building), ("climate_catastrophe", climate),
                            ("carbon_sink", sink)):
            if cover in exposures or hits:
                add(cover, cover in exposures, lambda hits=hits: (
                    Msg("%(items)s", items=Listing(hits)) if hits else Msg("exposure declared")))
        if nev or nev_industry:
            add("nev", False, lambda: Msg("%(items)s", items=Listing(nev) if nev else industry_label(industry)))
        return out

    def assess(self, project: ProjectFacts) -> InstrumentFit:
        s: GreenInsuranceSettings = self.settings
        covers = self.covers(project)
        reasons = [reason for _, reason in covers.values()]
        exposures = set(project.risk_exposures)
        if "first_of_kind_equipment" in exposures and "first_of_kind_equipment" not in covers:
            reasons.append(Msg("first-of-kind equipment cover is bought by the equipment maker (MIIT 首台套 "
                               "compensation); %(industry)s is not an equipment maker",
                               industry=industry_label(project.industry_code)))
        th = two_high(project, self.rules)
        if th.blocks_financing:
            reasons.append(Msg("new 两高 capacity: only pollution liability cover is offered"))
        if not covers:
            return InstrumentFit(KEY, False, 0.0, tuple(reasons) or (
                Msg("no green insurance cover applies to this project's industry, categories or declared risks"),))
        strong = any(flag for flag, _ in covers.values())
        fit = (s.declared_fit if strong else s.derived_fit) + s.extra_cover_bonus * (len(covers) - 1)
        return InstrumentFit(KEY, True, min(1.0, fit), tuple(reasons))

    # -- graph hooks ---------------------------------------------------------------------------------
    def project_tags(self, project: ProjectFacts) -> Mapping[str, float]:
        """``green_insurance:cover:<type>`` for each applicable cover (1.0 declared/duty, 0.7 derived).
        Memoized per (industry, categories, declared risks, certifications), what the covers depend on."""
        key = (project.industry_code, tuple(project.categories), tuple(project.risk_exposures),
               tuple(project.certifications))
        return self.memoized("project_tags", key, lambda: self._cover_tags(project))

    def _cover_tags(self, project: ProjectFacts) -> Mapping[str, float]:
        covers = self._covers(project, explain=False)
        return MappingProxyType({f"{KEY}:cover:{c}": (1.0 if strong else 0.7) for c, (strong, _) in covers.items()})

    def product_tags(self, params: Mapping[str, Any]) -> Mapping[str, float]:
        return {f"{KEY}:cover:{c}": 1.0 for c in params.get("cover_types") or []}

    def product_requirements(self, params: Mapping[str, Any]) -> ProductRequirements:
        """A product with ``cover_types`` requires a project needing one of them."""
        return ProductRequirements(frozenset(f"{KEY}:cover:{c}" for c in params.get("cover_types") or []))

    def project_metrics(self, project: ProjectFacts) -> Mapping[str, float]:
        metrics = {"financing_need_cny": float(project.financing_need_cny),
                   "total_investment_cny": float(project.total_investment_cny)}
        if project.asset_value_cny is not None:
            metrics["asset_value_cny"] = float(project.asset_value_cny)
        return metrics
