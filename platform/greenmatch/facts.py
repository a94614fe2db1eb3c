"""Plain, database-free views of projects and products.

Rules (screening, assessment, instrument plugins, matching) work on these value objects, so
they can be tested and benchmarked without a database, and the ORM models stay thin: a model
turns itself into facts with ``.facts()``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

STAGES = ("planning", "construction", "operation")
CERTIFICATIONS = (
    "green_factory",
    "green_park",
    "green_supply_chain",
    "green_design_product",
    "zero_carbon_factory",
    "specialized_sme",
    "little_giant",
    "high_tech",
)
COLLATERAL = (
    "carbon_allowance",
    "ccer",
    "pollutant_rights",
    "energy_use_rights",
    "water_rights",
    "green_power_certificates",
    "receivables",
    "charging_rights",
    "intellectual_property",
    "fixed_assets",
)
RISK_EXPOSURES = (
    "pollution_liability",
    "first_of_kind_equipment",
    "new_material_first_batch",
    "building_performance",
    "climate_catastrophe",
    "carbon_sink",
    "tech_rnd",
)
BENEFIT_KEYS = ("energy_saving_tce", "co2_reduction_t", "renewable_generation_mwh", "water_saving_t",
                "electricity_saving_mwh", "carbon_sink_tco2")
POLLUTANT_KEYS = ("cod", "ammonia_nitrogen", "so2", "nox", "particulates")
COMPLIANCE_KEYS = ("eia_approved", "pollutant_permit", "env_penalties_3y", "major_env_penalty_3y",
                   "eia_status", "largest_env_fine_cny")
# api.md section 5: what the project does to the capacity of its plant, its EIA state, the fuel it burns.
CAPACITY_CHANGES = ("none", "retrofit", "replacement", "expansion", "new")
EIA_STATUSES = ("approved", "registration", "exempt", "pending", "missing")
PRIMARY_FUELS = ("coal", "natural_gas", "oil", "biomass", "waste", "hydrogen", "electricity", "none")


@dataclass(frozen=True)
class ProjectFacts:
    """What the rules may know about a project (field names follow the API contract)."""

    name: str
    industry_code: str
    region_code: str
    stage: str
    total_investment_cny: float
    financing_need_cny: float
    id: int | None = None
    description: str = ""
    # The categories the rules should use: the bureau's confirmed ones when present,
    # otherwise those the enterprise declared.
    categories: tuple[str, ...] = ()
    commissioning_year: int | None = None
    annual_revenue_cny: float | None = None
    annual_net_cash_flow_cny: float | None = None
    asset_value_cny: float | None = None
    # Infrastructure REITs distinguish concession (特许经营) assets, judged on IRR.
    is_concession: bool = False
    expected_irr_pct: float | None = None
    benefits: Mapping[str, float] = field(default_factory=dict)
    certifications: tuple[str, ...] = ()
    collateral: tuple[str, ...] = ()
    risk_exposures: tuple[str, ...] = ()
    compliance: Mapping[str, Any] = field(default_factory=dict)
    preferred_instruments: tuple[str, ...] = ()
    enterprise_id: int | None = None
    capacity_change: str = "none"
    capacity_replacement_approved: bool = False
    concession_end_year: int | None = None
    primary_fuel: str | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ProjectFacts:
        """Build from an API-shaped dict; unknown keys are ignored, lists become tuples."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known and v is not None}
        for key in ("categories", "certifications", "collateral", "risk_exposures", "preferred_instruments"):
            if key in values:
                values[key] = tuple(values[key])
        for key in ("benefits", "compliance"):
            if key in values:
                values[key] = dict(values[key])
        return cls(**values)

    def operating_years(self, today: dt.date | None = None) -> int | None:
        """Full years in operation, from the commissioning year; None when unknown."""
        if self.stage != "operation" or self.commissioning_year is None:
            return 0 if self.stage != "operation" else None
        year = (today or dt.date.today()).year
        return max(0, year - self.commissioning_year)

    def benefit(self, key: str) -> float:
        return float(self.benefits.get(key) or 0)

    @property
    def eia_status(self) -> str:
        """``compliance.eia_status`` when given, else derived from ``eia_approved`` (api.md section 5)."""
        record = self.compliance or {}
        status = record.get("eia_status")
        if status in EIA_STATUSES:
            return status
        return "approved" if record.get("eia_approved") else "missing"


@dataclass(frozen=True)
class ProductFacts:
    """A financial product as the rules see it. ``params`` is already validated by its plugin."""

    instrument: str
    params: Mapping[str, Any]
    id: int | None = None
    name: str = ""
    institution_id: int | None = None
    institution_name: str = ""
