"""Green bonds (绿色债券).

China Green Bond Principles (绿色债券标准委员会, 2022): 100% of proceeds to eligible green projects, so
every claimed category must be a valid level-3 item of the 2025 catalogue. Bonds suit larger financing
needs (``min_issue_size_cny``, ⚠ a deployment setting). NDRC enterprise green bonds may fund up to 80%
of a project's investment (发改办环资〔2015〕3504号《绿色债券发行指引》): above that the fit is reduced
and a reason says so — not a veto, because exchange and interbank green bonds carry no such project cap;
a product that *is* an NDRC bond enforces the cap through ``max_proceeds_share`` (or ``bond_types``
``["ndrc_enterprise"]``). Platform vetoes: no EIA approval in construction/operation, new 两高 capacity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import fields, validate

from greenmatch.instruments import (
    Amount,
    CommonParamsSchema,
    InstrumentFit,
    InstrumentPlugin,
    Listing,
    Money,
    Msg,
    Pct,
    ProductRequirements,
    ProjectFacts,
    SettingsBase,
    category_label,
    co2_reduction_t,
    financing_vetoes,
    label_caution,
    level3_categories,
    level3_split,
    reference,
)

KEY = "green_bond"
BOND_TYPES = ("ndrc_enterprise", "exchange_corporate", "interbank_debt_financing", "financial", "carbon_neutral")
RATINGS = ("AAA", "AA+", "AA", "AA-", "A+", "A", "A-", "BBB+", "BBB", "BBB-")


@dataclass(frozen=True)
class GreenBondSettings(SettingsBase):
    # ⚠ Smallest financing need a standalone green bond issue is economical for (editors' assumption;
    # issue costs make smaller needs a loan's job). Deployment setting.
    min_issue_size_cny: float = 50_000_000.0
    # NDRC 《绿色债券发行指引》(发改办环资〔2015〕3504号): bond proceeds may fund up to 80% of project investment.
    ndrc_max_proceeds_share: float = 0.8
    # Fit multiplier when the need exceeds that share (NDRC route closed, other routes open).
    over_share_fit_factor: float = 0.6
    # Carbon-neutral bonds (NAFMII 碳中和债, 2021): proceeds to projects with direct, quantified carbon
    # reductions — every claimed item marked √√ (or mixed) and a CO2 figure.
    carbon_neutral_ghg: tuple[str, ...] = ("direct_reduction", "mixed")
    base_fit: float = 0.6
    # Larger needs suit bonds better: +bonus when need ≥ factor × min_issue_size.
    large_need_factor: float = 10.0
    large_need_bonus: float = 0.2
    medium_need_factor: float = 2.0
    medium_need_bonus: float = 0.1
    caution_penalty: float = 0.2


class GreenBondParamsSchema(CommonParamsSchema):
    bond_types = fields.List(fields.String(validate=validate.OneOf(BOND_TYPES)), load_default=list)
    min_issue_size_cny = Money(load_default=None, allow_none=True)
    issuer_min_rating = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(RATINGS),
                                      metadata={"description": "issuer rating the underwriter requires (checked "
                                                               "by the underwriter; not in project data)"})
    max_proceeds_share = fields.Float(load_default=None, allow_none=True,
                                      validate=validate.Range(min=0, max=1, min_inclusive=False),
                                      metadata={"description": "largest financing need / total investment"})
    tenor_years = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=50))


class GreenBondPlugin(InstrumentPlugin):
    key = KEY
    name_zh = "绿色债券"
    name_en = "Green bonds"
    description_zh = ("募集资金100%投向目录内绿色项目的债券（《中国绿色债券原则》2022），适合较大融资需求；"
                      "企业债募集资金占项目总投资比例不超过80%。")
    description_en = ("Bonds whose proceeds go 100% to catalogue green projects (China Green Bond Principles 2022); "
                      "for larger financing needs; NDRC enterprise bonds fund at most 80% of project investment.")
    params_schema = GreenBondParamsSchema
    settings_class = GreenBondSettings

    def assess(self, project: ProjectFacts) -> InstrumentFit:
        s: GreenBondSettings = self.settings
        vetoes = financing_vetoes(project, KEY, self.rules)
        valid, invalid = level3_categories(project.categories)
        if not valid:
            vetoes.append(Msg("green bond proceeds must go to catalogue projects: no level-3 category claimed"))
        if invalid:
            vetoes.append(Msg("100%% of proceeds must go to eligible green projects: %(codes)s is not a level-3 item "
                              "of the 2025 catalogue", codes=Listing(invalid)))
        need = project.financing_need_cny
        if need < s.min_issue_size_cny:
            vetoes.append(Msg("financing need %(need)s is below %(minimum)s, the smallest need a green bond issue "
                              "suits; consider green credit", need=Amount(need), minimum=Amount(s.min_issue_size_cny)))
        if vetoes:
            return InstrumentFit(KEY, False, 0.0, tuple(vetoes))

        reasons = [Msg("all proceeds to catalogue items: %(categories)s",
                       categories=Listing(category_label(c) for c in valid))]
        fit = s.base_fit
        if need >= s.large_need_factor * s.min_issue_size_cny:
            fit += s.large_need_bonus
        elif need >= s.medium_need_factor * s.min_issue_size_cny:
            fit += s.medium_need_bonus
        share = self._share(project)
        if share is not None and share > s.ndrc_max_proceeds_share:
            fit *= s.over_share_fit_factor
            capped = s.ndrc_max_proceeds_share * project.total_investment_cny
            reasons.append(Msg(
                "financing need is %(share)s of the investment: NDRC enterprise green bonds fund at most %(limit)s "
                "(%(capped)s); use exchange/interbank green bonds or add credit", share=Pct(share),
                limit=Pct(s.ndrc_max_proceeds_share), capped=Amount(capped)))
        if self._carbon_neutral(project):
            reasons.append(Msg("qualifies for a carbon-neutral bond (direct-reduction items with a quantified CO2 "
                               "reduction)"))
        caution = label_caution(project, self.rules)
        if caution is not None:
            reasons.append(caution)
            fit -= s.caution_penalty
        return InstrumentFit(KEY, True, min(1.0, max(0.05, fit)), tuple(reasons))

    @staticmethod
    def _share(project: ProjectFacts) -> float | None:
        if project.total_investment_cny and project.total_investment_cny > 0:
            return project.financing_need_cny / project.total_investment_cny
        return None

    def _carbon_neutral(self, project: ProjectFacts) -> bool:
        valid, invalid = level3_split(tuple(project.categories))
        if not valid or invalid:
            return False
        if not self.memoized("direct_reduction_items", valid, lambda: all(
                reference.catalogue()[c].ghg in self.settings.carbon_neutral_ghg for c in valid)):
            return False
        return (co2_reduction_t(project, self.rules) or 0) > 0

    # -- graph hooks ---------------------------------------------------------------------------------
    def project_tags(self, project: ProjectFacts) -> Mapping[str, float]:
        valid, invalid = level3_split(tuple(project.categories))
        tags: dict[str, float] = {}
        if valid and not invalid:
            tags[f"{KEY}:all_proceeds_green"] = 1.0
        if self._carbon_neutral(project):
            tags[f"{KEY}:carbon_neutral"] = 1.0
        return tags

    def product_tags(self, params: Mapping[str, Any]) -> Mapping[str, float]:
        tags = {f"{KEY}:all_proceeds_green": 1.0}
        if "carbon_neutral" in (params.get("bond_types") or []):
            tags[f"{KEY}:carbon_neutral"] = 1.0
        return tags

    def product_requirements(self, params: Mapping[str, Any]) -> ProductRequirements:
        """Carbon-neutral-only products require the ``carbon_neutral`` tag; ``min_issue_size_cny`` bounds
        the financing need; ``max_proceeds_share`` (or an NDRC-only product: the NDRC 80%) bounds
        financing need / total investment."""
        types = list(params.get("bond_types") or [])
        required = frozenset({f"{KEY}:carbon_neutral"}) if types == ["carbon_neutral"] else frozenset()
        bounds: dict[str, tuple[float | None, float | None]] = {}
        if params.get("min_issue_size_cny") is not None:
            bounds["financing_need_cny"] = (params["min_issue_size_cny"], None)
        share = params.get("max_proceeds_share")
        if share is None and types and all(t == "ndrc_enterprise" for t in types):
            share = self.settings.ndrc_max_proceeds_share
        if share is not None:
            bounds["financing_share_of_investment"] = (None, share)
        return ProductRequirements(required, bounds)

    def project_metrics(self, project: ProjectFacts) -> Mapping[str, float]:
        metrics = {"financing_need_cny": float(project.financing_need_cny),
                   "total_investment_cny": float(project.total_investment_cny)}
        share = self._share(project)
        if share is not None:
            metrics["financing_share_of_investment"] = share
        return metrics
