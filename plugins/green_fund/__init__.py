"""Green funds (绿色基金, equity).

Equity for growth-stage green technology and for 专精特新 (specialized SMEs), little giants and
high-tech firms (工信部联财〔2021〕159号 三(七)(八)); the National Green Development Fund (国家绿色发展
基金, 2020) targets pollution control, ecological restoration, resource efficiency, green transport and
clean energy. A project needs a valid catalogue item; new 两高 capacity is refused. Stages and ticket
sizes vary by fund: they are product params (``stages``, ``ticket_min_cny``/``ticket_max_cny``,
``focus``); the instrument-level ticket range only shapes the fit (⚠).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from greenmatch.instruments import (
    Amount,
    CommonParamsSchema,
    InstrumentFit,
    InstrumentPlugin,
    Label,
    Listing,
    Money,
    Msg,
    ProductRequirements,
    ProjectFacts,
    SettingsBase,
    category_label,
    compliance,
    covered_codes,
    financing_vetoes,
    level3_categories,
    level3_split,
)

KEY = "green_fund"
TECH_CERTIFICATIONS = ("specialized_sme", "little_giant", "high_tech")
FOCUS_AREAS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # growth-stage green technology: equipment and materials makers, green tech R&D (1.1, 1.2, 2.1, 3.1, 4.1, 7.5)
    ("green_technology", ("1.1", "1.2", "2.1", "3.1", "4.1", "7.5")),
    # National Green Development Fund areas (国家绿色发展基金, MOF/MEE/Shanghai, 2020)
    ("pollution_control", ("2",)),
    ("ecological_restoration", ("5.2", "5.3")),
    ("resource_efficiency", ("1.3", "1.4", "3")),
    ("green_transport", ("1.2", "6.2")),
    ("clean_energy", ("4",)),
)
FOCUS = (*TECH_CERTIFICATIONS, *(k for k, _ in FOCUS_AREAS))


@dataclass(frozen=True)
class GreenFundSettings(SettingsBase):
    focus_areas: tuple[tuple[str, tuple[str, ...]], ...] = FOCUS_AREAS
    tech_certifications: tuple[str, ...] = TECH_CERTIFICATIONS
    # ⚠ Typical equity ticket of green funds (editors' assumption; funds differ, products set their own).
    typical_ticket_min_cny: float = 5_000_000.0
    typical_ticket_max_cny: float = 500_000_000.0
    base_fit: float = 0.4
    certification_bonus: float = 0.2  # 专精特新 / little giant / high-tech
    technology_bonus: float = 0.2  # green-technology focus
    outside_ticket_penalty: float = 0.2
    missing_eia_penalty: float = 0.2  # not a veto for equity, but investors' due diligence requires it


class GreenFundParamsSchema(CommonParamsSchema):
    focus = fields.List(fields.String(validate=validate.OneOf(FOCUS)), load_default=list,
                        metadata={"description": "firms/areas the fund invests in; empty = any green project"})
    ticket_min_cny = Money(load_default=None, allow_none=True)
    ticket_max_cny = Money(load_default=None, allow_none=True)
    max_equity_share_pct = fields.Float(load_default=None, allow_none=True,
                                        validate=validate.Range(min=0, max=100, min_inclusive=False),
                                        metadata={"description": "largest stake the fund takes, % (informative)"})

    @validates_schema
    def _ticket_range(self, data: dict[str, Any], **kwargs: Any) -> None:
        low, high = data.get("ticket_min_cny"), data.get("ticket_max_cny")
        if low is not None and high is not None and low > high:
            raise ValidationError(Msg("Must not be below the minimum."), "ticket_max_cny")


class GreenFundPlugin(InstrumentPlugin):
    key = KEY
    name_zh = "绿色基金"
    name_en = "Green funds"
    description_zh = ("股权投资：成长期绿色技术企业及专精特新、“小巨人”、高新技术企业；"
                      "国家绿色发展基金重点投向污染治理、生态修复、资源节约利用、绿色交通和清洁能源。"
                      "“两高”新增产能不予投资。")
    description_en = ("Equity for growth-stage green technology firms and specialized SMEs, little giants and "
                      "high-tech firms; the National Green Development Fund targets pollution control, ecological "
                      "restoration, resource efficiency, green transport and clean energy. No new 两高 capacity.")
    params_schema = GreenFundParamsSchema
    settings_class = GreenFundSettings

    def focus(self, project: ProjectFacts) -> list[str]:
        """The fund focus tags the project carries: its tech certifications and the areas of its items."""
        return list(self._focus(project))

    def _focus(self, project: ProjectFacts) -> tuple[str, ...]:
        """:meth:`focus`, memoized per (certifications, valid items, R&D exposure declared)."""
        valid = level3_split(tuple(project.categories))[0]
        certifications, rnd = tuple(project.certifications), "tech_rnd" in project.risk_exposures

        def derive() -> tuple[str, ...]:
            s: GreenFundSettings = self.settings
            out = [c for c in s.tech_certifications if c in certifications]
            out += [k for k, prefixes in s.focus_areas if covered_codes(valid, prefixes)]
            if rnd and "green_technology" not in out and valid:
                out.append("green_technology")
            return tuple(out)

        return self.memoized("focus", (certifications, valid, rnd), derive)

    def assess(self, project: ProjectFacts) -> InstrumentFit:
        s: GreenFundSettings = self.settings
        vetoes = financing_vetoes(project, KEY, self.rules)
        valid, _ = level3_categories(project.categories)
        if not valid:
            vetoes.append(Msg("green funds invest in green activities: no level-3 catalogue category claimed"))
        if vetoes:
            return InstrumentFit(KEY, False, 0.0, tuple(vetoes))
        focus = self.focus(project)
        reasons = [Msg("green activity: %(categories)s; fund focus: %(focus)s",
                       categories=Listing(category_label(c) for c in valid),
                       focus=Listing(Label("param_value", f) for f in focus) if focus else Msg("general"))]
        fit = s.base_fit
        if any(c in focus for c in s.tech_certifications):
            fit += s.certification_bonus
        if "green_technology" in focus:
            fit += s.technology_bonus
        need = project.financing_need_cny
        if not s.typical_ticket_min_cny <= need <= s.typical_ticket_max_cny:
            fit -= s.outside_ticket_penalty
            reasons.append(Msg("financing need %(need)s is outside the typical equity ticket %(low)s–%(high)s",
                               need=Amount(need), low=Amount(s.typical_ticket_min_cny),
                               high=Amount(s.typical_ticket_max_cny)))
        if compliance(project, self.rules).has("eia_missing"):
            fit -= s.missing_eia_penalty
            reasons.append(Msg("EIA approval missing: investors' due diligence will require it"))
        return InstrumentFit(KEY, True, min(1.0, max(0.05, fit)), tuple(reasons))

    # -- graph hooks ---------------------------------------------------------------------------------
    def project_tags(self, project: ProjectFacts) -> Mapping[str, float]:
        return {f"{KEY}:focus:{f}": 1.0 for f in self._focus(project)}

    def product_tags(self, params: Mapping[str, Any]) -> Mapping[str, float]:
        return {f"{KEY}:focus:{f}": 1.0 for f in params.get("focus") or []}

    def product_requirements(self, params: Mapping[str, Any]) -> ProductRequirements:
        """``focus`` requires one of the focus tags; the ticket range bounds the financing need."""
        required = frozenset(f"{KEY}:focus:{f}" for f in params.get("focus") or [])
        low, high = params.get("ticket_min_cny"), params.get("ticket_max_cny")
        bounds = {"financing_need_cny": (low, high)} if low is not None or high is not None else {}
        return ProductRequirements(required, bounds)

    def project_metrics(self, project: ProjectFacts) -> Mapping[str, float]:
        return {"financing_need_cny": float(project.financing_need_cny)}
