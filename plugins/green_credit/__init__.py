"""Green credit (绿色信贷): green loans for projects of the 2025 Green Finance Endorsed Project Catalogue.

Eligibility: at least one valid level-3 catalogue item; no platform veto (EIA approval in construction
or operation; new 两高 capacity). Variants a project may qualify for, besides a general green loan:

* ``carbon_reduction_facility`` — PBoC carbon emission reduction facility (碳减排支持工具, 2021):
  clean energy, energy saving and environmental protection, carbon-reduction technology (incl. 1.5.1
  CCUS); needs a quantified annual CO2e reduction, which the bank has verified by a third party.
* ``energy_efficiency`` — energy-efficiency credit (能效信贷指引, 银监发〔2015〕2号): industrial,
  building and transport energy saving, EMC loans secured on future savings.
* ``environmental_rights_pledge`` — loans pledged on environmental rights (JR/T 0228-2021 环境权益融资工具):
  carbon allowances, CCER, pollutant rights, energy-use rights, water rights, green power certificates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from greenmatch.instruments import (
    COLLATERAL,
    CommonParamsSchema,
    InstrumentFit,
    InstrumentPlugin,
    Label,
    Listing,
    Msg,
    Num,
    Pct,
    ProductRequirements,
    ProjectFacts,
    Reason,
    SettingsBase,
    blocking_signals,
    category_label,
    co2_reduction_t,
    covered,
    covered_codes,
    financing_vetoes,
    label_caution,
    level3_split,
    reference,
)

KEY = "green_credit"
VARIANTS = ("carbon_reduction_facility", "energy_efficiency", "environmental_rights_pledge", "general")
ENVIRONMENTAL_RIGHTS = ("carbon_allowance", "ccer", "pollutant_rights", "energy_use_rights", "water_rights",
                        "green_power_certificates")


@dataclass(frozen=True)
class GreenCreditSettings(SettingsBase):
    # PBoC 碳减排支持工具 (announced 2021-11-08): clean energy, energy saving & environmental protection,
    # carbon-reduction technology. Catalogue areas 4 (energy) and 1 (energy saving, 1.5 GHG control/CCUS).
    carbon_facility_categories: tuple[str, ...] = ("1", "4")
    # Only items whose catalogue GHG mark is √√ (direct reduction; "mixed" has √√ rows): the facility
    # funds measurable reductions, not enabling manufacturing.
    carbon_facility_ghg: tuple[str, ...] = ("direct_reduction", "mixed")
    # ⚠ Facility terms as announced in 2021 (PBoC refinances 60% of principal at 1.75%); shown in reasons only.
    carbon_facility_refinance_share: float = 0.6
    carbon_facility_rate_pct: float = 1.75
    # 能效信贷指引 (银监发〔2015〕2号) scope: industrial energy saving (1.3 retrofits, 1.4 key-sector
    # transition), building energy saving (6.1.2 ultra-low-energy, 6.1.3 retrofits), transport (6.2.2 hub
    # retrofits), data/communication facility retrofits (6.6.1, 6.6.3), EMC (7.2.2 合同能源管理).
    energy_efficiency_categories: tuple[str, ...] = ("1.3", "1.4", "6.1.2", "6.1.3", "6.2.2", "6.6.1", "6.6.3",
                                                     "7.2.2")
    # JR/T 0228-2021 环境权益融资工具: the rights that may be pledged.
    pledge_collateral: tuple[str, ...] = ENVIRONMENTAL_RIGHTS
    # Fit (0..1) of an eligible project: base, plus per special variant, minus cautions.
    base_fit: float = 0.6
    variant_bonus: float = 0.1
    preferred_bonus: float = 0.05
    caution_penalty: float = 0.2


class GreenCreditParamsSchema(CommonParamsSchema):
    variants = fields.List(fields.String(validate=validate.OneOf(VARIANTS)), load_default=list,
                           metadata={"description": "loan variants offered; empty = general green loan"})
    accepted_collateral = fields.List(fields.String(validate=validate.OneOf(COLLATERAL)), load_default=list,
                                      metadata={"description": "collateral the bank accepts; empty = not restricted"})
    indicative_rate_pct = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0, max=36),
                                       metadata={"description": "indicative annual interest rate, %"})
    max_tenor_years = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=30))

    @validates_schema
    def _pledge_needs_rights(self, data: dict[str, Any], **kwargs: Any) -> None:
        accepted = data.get("accepted_collateral") or []
        if ("environmental_rights_pledge" in (data.get("variants") or []) and accepted
                and not set(accepted) & set(ENVIRONMENTAL_RIGHTS)):
            raise ValidationError(Msg("an environmental-rights pledge loan must accept at least one environmental "
                                      "right (%(rights)s)", rights=Listing(Label("collateral", c)
                                                                           for c in ENVIRONMENTAL_RIGHTS)),
                                  "accepted_collateral")


class GreenCreditPlugin(InstrumentPlugin):
    key = KEY
    name_zh = "绿色信贷"
    name_en = "Green credit"
    description_zh = ("面向《绿色金融支持项目目录（2025年版）》项目的绿色贷款，含碳减排支持工具、能效信贷、"
                      "环境权益质押贷款（JR/T 0228-2021）等品种；环评缺失及“两高”新增产能不予支持。")
    description_en = ("Green loans for projects of the 2025 Green Finance Endorsed Project Catalogue, incl. the PBoC "
                      "carbon-reduction facility, energy-efficiency credit and environmental-rights pledge loans "
                      "(JR/T 0228-2021); no EIA approval or new 两高 capacity: not eligible.")
    params_schema = GreenCreditParamsSchema
    settings_class = GreenCreditSettings

    # -- variants ---------------------------------------------------------------------------------
    def _reduces_carbon(self, project: ProjectFacts, valid: tuple[str, ...]) -> bool:
        """A carbon-facility item with a quantified annual CO2e reduction."""
        return bool(valid) and bool(self._category_variants(valid)[0]) and (
            co2_reduction_t(project, self.rules) or 0.0) > 0 and not blocking_signals(project, self.rules)

    def _variant_keys(self, valid: tuple[str, ...], reduces_carbon: bool,
                      collateral: tuple[str, ...]) -> tuple[str, ...]:
        if not valid:
            return ()
        keys = ["general"]
        if reduces_carbon:
            keys.append("carbon_reduction_facility")
        if self._category_variants(valid)[1]:
            keys.append("energy_efficiency")
        if any(c in self.settings.pledge_collateral for c in collateral):
            keys.append("environmental_rights_pledge")
        return tuple(keys)

    def variants(self, project: ProjectFacts) -> dict[str, Reason]:
        """The variants the project qualifies for, each with the reason; ``general`` when it has a
        valid catalogue item. Platform vetoes are not considered here (see :meth:`assess`)."""
        s: GreenCreditSettings = self.settings
        valid = level3_split(tuple(project.categories))[0]
        out: dict[str, Reason] = {}
        if not valid:
            return out
        facility, ee = self._category_variants(valid)
        # a block signal (implausible benefit, 两高 capacity) withholds the carbon-facility advice (issue #12)
        co2 = (co2_reduction_t(project, self.rules) or 0.0) if facility and not blocking_signals(
            project, self.rules) else 0.0
        keys = self._variant_keys(valid, co2 > 0, tuple(project.collateral))
        out["general"] = self.memoized("general_reason", valid, lambda: Msg(
            "catalogue project: %(categories)s", categories=Listing(category_label(c) for c in valid)))
        if "carbon_reduction_facility" in keys:
            out["carbon_reduction_facility"] = Msg(
                "carbon-reduction facility: %(categories)s with an annual CO2e reduction of %(co2)s t; the reduction "
                "must be verified by a third party before drawdown (the PBoC refinances %(share)s at %(rate)s%%)",
                categories=Listing(facility), co2=Num(co2, 1), share=Pct(s.carbon_facility_refinance_share),
                rate=Num(s.carbon_facility_rate_pct, None))
        if "energy_efficiency" in keys:
            tce = project.benefit("energy_saving_tce")
            if tce > 0:
                out["energy_efficiency"] = Msg("energy-efficiency credit: %(categories)s; energy saved %(tce)s tce/yr",
                                               categories=Listing(ee), tce=Num(tce, 1))
            else:
                out["energy_efficiency"] = Msg("energy-efficiency credit: %(categories)s; quantify energy saved (tce) "
                                               "to size it", categories=Listing(ee))
        if "environmental_rights_pledge" in keys:
            rights = [c for c in project.collateral if c in s.pledge_collateral]
            out["environmental_rights_pledge"] = Msg(
                "environmental-rights pledge (JR/T 0228-2021): %(rights)s can be pledged",
                rights=Listing(Label("collateral", c) for c in rights))
        return out

    def _category_variants(self, valid: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(carbon-facility items, energy-efficiency items) among the valid level-3 items."""
        s: GreenCreditSettings = self.settings
        cats = reference.catalogue()
        return self.memoized("category_variants", valid, lambda: (
            tuple(c for c in covered(valid, s.carbon_facility_categories) if cats[c].ghg in s.carbon_facility_ghg),
            covered_codes(valid, s.energy_efficiency_categories)))

    # -- instrument level ----------------------------------------------------------------------------
    def assess(self, project: ProjectFacts) -> InstrumentFit:
        s: GreenCreditSettings = self.settings
        vetoes = financing_vetoes(project, KEY, self.rules)
        valid, invalid = level3_split(tuple(project.categories))
        if not valid:
            vetoes.append(Msg("green credit needs at least one level-3 item of the 2025 catalogue; none claimed"))
        if vetoes:
            return InstrumentFit(KEY, False, 0.0, tuple(vetoes))
        variants = self.variants(project)
        reasons = list(variants.values())
        special = [v for v in variants if v != "general"]
        fit = s.base_fit + s.variant_bonus * len(special)
        if invalid:
            reasons.append(Msg("%(codes)s not in the 2025 catalogue: only the valid items count",
                               codes=Listing(invalid)))
        facility = self._category_variants(valid)[0]
        if facility and "carbon_reduction_facility" not in variants:
            blocks = blocking_signals(project, self.rules)
            if blocks:  # issue #12: a block signal withholds the facility advice; say which, not "quantify it"
                reasons.append(Msg("carbon-reduction facility withheld while a blocking greenwashing signal is open: "
                                   "%(signals)s", signals=Listing(Label("signal", x.code) for x in blocks)))
            else:
                reasons.append(Msg("carbon-reduction facility needs a quantified annual CO2e reduction (> 0 t)"))
        caution = label_caution(project, self.rules)
        if caution is not None:
            reasons.append(caution)
            fit -= s.caution_penalty
        if KEY in project.preferred_instruments:
            fit += s.preferred_bonus
        return InstrumentFit(KEY, True, min(1.0, max(0.05, fit)), tuple(reasons))

    # -- graph hooks ---------------------------------------------------------------------------------
    def project_tags(self, project: ProjectFacts) -> Mapping[str, float]:
        """``green_credit:variant:<v>`` for each qualifying variant; ``green_credit:collateral:<c>`` for
        collateral held; ``green_credit:<v>:<c>`` (variant offered with that collateral; the pledge variant
        only with environmental rights) so products restricting both can require them together.
        Memoized per (valid items, carbon reduction quantified, collateral): read-only."""
        valid = level3_split(tuple(project.categories))[0]
        key = (valid, self._reduces_carbon(project, valid), tuple(project.collateral))
        return self.memoized("project_tags", key, lambda: MappingProxyType(self._tags(*key)))

    def _tags(self, valid: tuple[str, ...], reduces_carbon: bool, collateral: tuple[str, ...]) -> dict[str, float]:
        variants = self._variant_keys(valid, reduces_carbon, collateral)
        tags: dict[str, float] = {f"{KEY}:variant:{v}": (0.5 if v == "general" else 1.0) for v in variants}
        for c in collateral:
            tags[f"{KEY}:collateral:{c}"] = 0.5
            for v in variants:
                if v != "environmental_rights_pledge" or c in self.settings.pledge_collateral:
                    tags[f"{KEY}:{v}:{c}"] = 0.3
        return tags

    def product_tags(self, params: Mapping[str, Any]) -> Mapping[str, float]:
        offered = list(params.get("variants") or ["general"])
        tags = {f"{KEY}:variant:{v}": 1.0 for v in offered}
        tags.update({f"{KEY}:collateral:{c}": 0.5 for c in params.get("accepted_collateral") or []})
        return tags

    def product_requirements(self, params: Mapping[str, Any]) -> ProductRequirements:
        """A product offering only special variants requires a project qualifying for one of them;
        with ``accepted_collateral`` the project must also hold one accepted collateral for that variant."""
        offered = list(params.get("variants") or ["general"])
        accepted = list(params.get("accepted_collateral") or [])
        if accepted:
            return ProductRequirements(frozenset(f"{KEY}:{v}:{c}" for v in offered for c in accepted))
        if "general" in offered:
            return ProductRequirements()
        return ProductRequirements(frozenset(f"{KEY}:variant:{v}" for v in offered))

    def project_metrics(self, project: ProjectFacts) -> Mapping[str, float]:
        metrics = {"financing_need_cny": float(project.financing_need_cny),
                   "energy_saving_tce": project.benefit("energy_saving_tce")}
        co2 = co2_reduction_t(project, self.rules)
        if co2 is not None:
            metrics["co2_reduction_t"] = co2
        return metrics
