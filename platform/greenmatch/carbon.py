"""The carbon estimate of a project: annual CO2 reduction from the physical quantities it gives.

Pure logic over :class:`~greenmatch.facts.ProjectFacts`; the factors are fields of
:class:`~greenmatch.rules_settings.RuleSettings` (docs/assessment.md). Core: the project assessment
(``greenmatch.catalog.assessment``) reports the estimate, and instrument plugins read the figure through
the toolkit (:mod:`greenmatch.instruments`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from greenmatch.facts import ProjectFacts
from greenmatch.instruments import Reason
from greenmatch.text import Clauses, Msg, Name, Num, render

from .rules_settings import RuleSettings, rules_or_default
from .screening import longest_prefix


@dataclass(frozen=True)
class CarbonEstimate:
    """Annual CO2 reduction. ``co2_reduction_t`` is the platform's estimate when the project gives
    physical quantities (MWh generated, tce saved), else the enterprise's declared figure, else None."""

    co2_reduction_t: float | None
    estimated_t: float | None
    declared_t: float | None
    basis: str  # estimated | declared | none
    method: Reason
    grid_factor_t_per_mwh: float
    coal_factor_t_per_tce: float
    generation_mwh: float = 0.0
    energy_saving_tce: float = 0.0

    @property
    def factors(self) -> dict[str, float]:
        return {"grid_t_co2_per_mwh": self.grid_factor_t_per_mwh, "coal_t_co2_per_tce": self.coal_factor_t_per_tce}

    def as_dict(self, locale: str | None = None) -> dict[str, Any]:
        return {
            "co2_reduction_t": self.co2_reduction_t,
            "estimated_co2_reduction_t": self.estimated_t,
            "declared_co2_reduction_t": self.declared_t,
            "basis": self.basis,
            "method": render(self.method, locale),
            "factors": self.factors,
        }


def grid_factor(facts: ProjectFacts, settings: RuleSettings | None = None) -> tuple[float, Msg]:
    """(tCO2/MWh, its source) for the project's region: a configured regional factor, else national."""
    settings = rules_or_default(settings)
    best = longest_prefix(settings.grid_factor_by_region, facts.region_code or "")
    if best is not None:
        return best[1], Msg("configured regional factor for %(region)s", region=Name("region", best[0]))
    return settings.grid_factor_t_per_mwh, Msg(settings.grid_factor_source)


def co2_reduction_t(facts: ProjectFacts, settings: RuleSettings | None = None) -> float | None:
    """``estimate_carbon(facts, settings).co2_reduction_t``, the same arithmetic without composing the
    method text (the instrument plugins need the figure for every project of a matching run)."""
    settings = rules_or_default(settings)
    mwh, tce = facts.benefit("renewable_generation_mwh"), facts.benefit("energy_saving_tce")
    saved_mwh, sink = facts.benefit("electricity_saving_mwh"), facts.benefit("carbon_sink_tco2")
    parts: list[float] = []
    if mwh > 0 or saved_mwh > 0:
        parts.append((mwh + saved_mwh) * grid_factor(facts, settings)[0])
    if tce > 0:
        parts.append(tce * settings.coal_factor_t_per_tce)
    if sink > 0:
        parts.append(sink)
    if parts:
        return sum(parts)
    return facts.benefit("co2_reduction_t") or None


def estimate_carbon(facts: ProjectFacts, settings: RuleSettings | None = None) -> CarbonEstimate:
    """renewable_generation_mwh × grid factor + energy_saving_tce × coal factor, per year; the method
    names every factor used. A declared ``co2_reduction_t`` is reported beside the estimate."""
    settings = rules_or_default(settings)
    mwh, tce = facts.benefit("renewable_generation_mwh"), facts.benefit("energy_saving_tce")
    declared = facts.benefit("co2_reduction_t") or None
    grid, grid_source = grid_factor(facts, settings)
    coal = settings.coal_factor_t_per_tce
    parts: list[float] = []
    terms: list[Msg] = []
    if mwh > 0:
        parts.append(mwh * grid)
        terms.append(Msg("renewable generation %(mwh)s MWh × %(factor)s tCO2/MWh (%(source)s) = %(t)s t",
                         mwh=Num(mwh, 2), factor=grid, source=grid_source, t=Num(mwh * grid, 2)))
    saved_mwh, sink = facts.benefit("electricity_saving_mwh"), facts.benefit("carbon_sink_tco2")
    if saved_mwh > 0:  # electricity saved displaces grid power: the grid factor, not tce x 2.493 (issue #12)
        parts.append(saved_mwh * grid)
        terms.append(Msg("electricity saved %(mwh)s MWh × %(factor)s tCO2/MWh (%(source)s) = %(t)s t",
                         mwh=Num(saved_mwh, 2), factor=grid, source=grid_source, t=Num(saved_mwh * grid, 2)))
    if tce > 0:
        parts.append(tce * coal)
        terms.append(Msg("energy saved %(tce)s tce × %(factor)s tCO2/tce (%(source)s) = %(t)s t",
                         tce=Num(tce, 2), factor=coal, source=Msg(settings.coal_factor_source), t=Num(tce * coal, 2)))
    if sink > 0:
        parts.append(sink)
        terms.append(Msg("carbon sink %(t)s tCO2 as reported (%(method)s)", t=Num(sink, 2),
                         method=Msg(settings.carbon_sink_method)))
    estimated = sum(parts) if parts else None
    if estimated is not None:
        basis, value = "estimated", estimated
        method = Msg("platform estimate per year: %(terms)s; total %(total)s tCO2", terms=Clauses(terms),
                     total=Num(estimated, 2))
        if declared is not None:
            method = Msg("%(method)s. Declared by the enterprise: %(declared)s tCO2 (not verified)", method=method,
                         declared=Num(declared, 2))
    elif declared is not None:
        basis, value = "declared", declared
        method = Msg("declared by the enterprise: %(declared)s tCO2 per year (not verified); no renewable generation "
                     "or energy saving given, so the platform cannot estimate it", declared=Num(declared, 2))
    else:
        basis, value = "none", None
        method = Msg("no quantified benefit: give renewable generation (MWh) or energy saved (tce) per year")
    return CarbonEstimate(value, estimated, declared, basis, method, grid, coal, mwh, tce)
