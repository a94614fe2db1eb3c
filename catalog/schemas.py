"""Validation of the financing-need form (projects) and serialisation of catalogue resources.

The schema owns every field rule; the service owns state and transactions.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates,
    validates_schema,
)

from greenmatch import reference
from greenmatch.api import HistoryEntrySchema, PageArgsSchema
from greenmatch.codes import normalize_industry_code
from greenmatch.facts import (
    CAPACITY_CHANGES,
    CERTIFICATIONS,
    COLLATERAL,
    EIA_STATUSES,
    PRIMARY_FUELS,
    RISK_EXPOSURES,
    STAGES,
)
from greenmatch.instruments import current_plugins
from greenmatch.money import Money
from greenmatch.text import Listing, Msg
from greenmatch.validation import Email

from .models import ProjectStatus

# Ceilings that catch typing mistakes (an extra zero or two), not real projects (MAX_AMOUNT_CNY: money.py).
MAX_BENEFIT = {"energy_saving_tce": 1e8, "co2_reduction_t": 1e9, "renewable_generation_mwh": 1e9,
               "water_saving_t": 1e11}
MAX_CATEGORIES = 10
_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{6,19}$")


def _unique_list(choices: tuple[str, ...]) -> fields.List:
    return fields.List(fields.String(validate=validate.OneOf(choices)), load_default=list,
                       validate=[validate.Length(max=20), _no_duplicates])


def _no_duplicates(values: list[Any]) -> None:
    if len(set(values)) != len(values):
        raise ValidationError(Msg("Contains duplicates."))


def _money(required: bool = False, positive: bool = False, minimum: float | None = 0) -> Money:
    kwargs: dict[str, Any] = {"required": True} if required else {"load_default": None, "allow_none": True}
    return Money(positive=positive, minimum=minimum, **kwargs)


def check_category(code: str) -> None:
    if not reference.is_category(code, level=3):
        if reference.is_category(code):
            raise ValidationError(Msg("%(c)s is not a level-3 item of the 2025 catalogue.", c=code))
        raise ValidationError(Msg("Unknown catalogue code %(c)s.", c=code))


def check_region(code: str) -> None:
    if not reference.is_region(code):
        raise ValidationError(Msg("Unknown region code."))


class BenefitsSchema(Schema):
    class Meta:
        unknown = RAISE

    energy_saving_tce = fields.Float(allow_none=True, allow_nan=False,
                                     validate=validate.Range(min=0, max=MAX_BENEFIT["energy_saving_tce"]))
    co2_reduction_t = fields.Float(allow_none=True, allow_nan=False,
                                   validate=validate.Range(min=0, max=MAX_BENEFIT["co2_reduction_t"]))
    renewable_generation_mwh = fields.Float(allow_none=True, allow_nan=False,
                                            validate=validate.Range(min=0, max=MAX_BENEFIT["renewable_generation_mwh"]))
    water_saving_t = fields.Float(allow_none=True, allow_nan=False,
                                  validate=validate.Range(min=0, max=MAX_BENEFIT["water_saving_t"]))
    # api.md section 5
    electricity_saving_mwh = fields.Float(allow_none=True, allow_nan=False,
                                          validate=validate.Range(min=0, max=MAX_BENEFIT["renewable_generation_mwh"]))
    carbon_sink_tco2 = fields.Float(allow_none=True, allow_nan=False,
                                    validate=validate.Range(min=0, max=MAX_BENEFIT["co2_reduction_t"]))
    pollutant_reduction_t = fields.Nested(lambda: PollutantReductionSchema(), allow_none=True)


class PollutantReductionSchema(Schema):
    """Tonnes a year of each pollutant reduced (api.md section 5)."""

    class Meta:
        unknown = RAISE

    cod = fields.Float(allow_none=True, allow_nan=False, validate=validate.Range(min=0, max=1e9))
    ammonia_nitrogen = fields.Float(allow_none=True, allow_nan=False, validate=validate.Range(min=0, max=1e9))
    so2 = fields.Float(allow_none=True, allow_nan=False, validate=validate.Range(min=0, max=1e9))
    nox = fields.Float(allow_none=True, allow_nan=False, validate=validate.Range(min=0, max=1e9))
    particulates = fields.Float(allow_none=True, allow_nan=False, validate=validate.Range(min=0, max=1e9))


class ComplianceSchema(Schema):
    class Meta:
        unknown = RAISE

    eia_approved = fields.Boolean(load_default=False)
    pollutant_permit = fields.Boolean(load_default=False)
    env_penalties_3y = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1000))
    major_env_penalty_3y = fields.Boolean(load_default=False)
    # api.md section 5: when given the status decides and eia_approved is derived from it.
    eia_status = fields.String(validate=validate.OneOf(EIA_STATUSES))
    largest_env_fine_cny = _money()

    @post_load
    def _derive_eia_approved(self, data: dict, **kwargs: Any) -> dict:
        if "eia_status" in data:
            data["eia_approved"] = data["eia_status"] == "approved"
        return data


class ContactSchema(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(validate=validate.Length(min=1, max=100))
    phone = fields.String(validate=validate.Regexp(_PHONE, error=Msg("Enter a phone number, e.g. 0313-5261188.")))
    email = Email(validate=validate.Length(max=254))


class ProjectInSchema(Schema):
    """The one structured financing-need form."""

    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    description = fields.String(load_default="", validate=validate.Length(max=5000))
    industry_code = fields.String(required=True)
    region_code = fields.String(required=True, validate=check_region)
    categories = fields.List(fields.String(validate=check_category), load_default=list,
                             validate=[validate.Length(max=MAX_CATEGORIES), _no_duplicates])
    stage = fields.String(required=True, validate=validate.OneOf(STAGES))
    commissioning_year = fields.Integer(load_default=None, allow_none=True)
    total_investment_cny = _money(required=True, positive=True)
    financing_need_cny = _money(required=True, positive=True)
    annual_revenue_cny = _money()
    annual_net_cash_flow_cny = _money(minimum=None)  # may be negative
    asset_value_cny = _money()
    is_concession = fields.Boolean(load_default=False)
    expected_irr_pct = fields.Float(load_default=None, allow_none=True, allow_nan=False,
                                    validate=validate.Range(min=-100, max=100))
    benefits = fields.Nested(BenefitsSchema, load_default=dict)
    certifications = _unique_list(CERTIFICATIONS)
    collateral = _unique_list(COLLATERAL)
    risk_exposures = _unique_list(RISK_EXPOSURES)
    compliance = fields.Nested(ComplianceSchema, load_default=lambda: ComplianceSchema().load({}))
    preferred_instruments = fields.List(fields.String(validate=validate.Length(max=40)), load_default=list,
                                        validate=[validate.Length(max=10), _no_duplicates])
    contact = fields.Nested(ContactSchema, load_default=dict)
    # api.md section 5 "Project fields that decide screening"
    capacity_change = fields.String(load_default="none", validate=validate.OneOf(CAPACITY_CHANGES))
    capacity_replacement_approved = fields.Boolean(load_default=False)
    concession_end_year = fields.Integer(load_default=None, allow_none=True,
                                         validate=validate.Range(min=1990, max=2200))
    primary_fuel = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(PRIMARY_FUELS))

    @pre_load
    def _strip(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            for key in ("name", "industry_code", "region_code"):
                if isinstance(data.get(key), str):
                    data[key] = data[key].strip()
        return data

    @validates("industry_code")
    def _industry(self, value: str, **kwargs: Any) -> None:
        code = normalize_industry_code(value)
        if code is None:
            raise ValidationError(Msg("Enter a GB/T 4754-2017 industry code of 2–4 digits, e.g. 4416."))
        if not reference.is_industry(code):
            raise ValidationError(Msg("Unknown GB/T 4754-2017 industry code %(c)s.", c=code))

    @validates("commissioning_year")
    def _year(self, value: int | None, **kwargs: Any) -> None:
        this_year = dt.date.today().year
        if value is not None and not 1949 <= value <= this_year + 15:
            raise ValidationError(Msg("Must be a year between 1949 and %(y)s.", y=this_year + 15))

    @validates("preferred_instruments")
    def _instruments(self, value: list[str], **kwargs: Any) -> None:
        unknown = [key for key in value if key not in current_plugins()]
        if unknown:
            raise ValidationError(Msg("Unknown instruments: %(c)s.", c=Listing(unknown)))

    @validates_schema
    def _amounts(self, data: dict[str, Any], partial: Any = None, **kwargs: Any) -> None:
        need, total = data.get("financing_need_cny"), data.get("total_investment_cny")
        if need is not None and total is not None and need > total:
            raise ValidationError(Msg("Must not exceed the total investment."), "financing_need_cny")

    @post_load
    def _normalise(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if "industry_code" in data:
            data["industry_code"] = normalize_industry_code(data["industry_code"])
        return data


class ProjectPatchSchema(ProjectInSchema):
    version = fields.Integer(required=True)


class ReviewSchema(Schema):
    class Meta:
        unknown = RAISE

    decision = fields.String(required=True, validate=validate.OneOf(["approve", "reject", "return"]))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    categories = fields.List(fields.String(validate=check_category), load_default=None, allow_none=True,
                             validate=[validate.Length(min=1, max=MAX_CATEGORIES), _no_duplicates])
    version = fields.Integer(load_default=None, allow_none=True)

    @validates_schema
    def _note_needed(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["decision"] in ("return", "reject") and not (data.get("note") or "").strip():
            raise ValidationError(Msg("Write a note to the enterprise when returning or rejecting."), "note")


class VersionSchema(Schema):
    class Meta:
        unknown = RAISE

    version = fields.Integer(load_default=None, allow_none=True)


class ProjectQuerySchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf([s.value for s in ProjectStatus]))
    category = fields.String()
    region = fields.String()
    instrument = fields.String()
    q = fields.String(validate=validate.Length(max=100))
    sort = fields.String(load_default="-updated_at",
                         validate=validate.OneOf(["-updated_at", "updated_at", "-green_score", "name",
                                                  "-financing_need_cny"]))

    @validates("category")
    def _category(self, value: str, **kwargs: Any) -> None:
        if not reference.is_category(value):
            raise ValidationError(Msg("Unknown catalogue code %(c)s.", c=value))

    @validates("region")
    def _region(self, value: str, **kwargs: Any) -> None:
        check_region(value)

    @validates("instrument")
    def _instrument(self, value: str, **kwargs: Any) -> None:
        if value not in current_plugins():
            raise ValidationError(Msg("Unknown instruments: %(c)s.", c=value))


# -- output ---------------------------------------------------------------------------------------
class OrgRefSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    region_code = fields.String()


class ProjectSchema(Schema):
    """A project as the caller may see it; ``contact`` is removed by the service for those who may not."""

    id = fields.Integer()
    status = fields.String()
    version = fields.Integer()
    name = fields.String()
    description = fields.String()
    industry_code = fields.String()
    region_code = fields.String()
    categories = fields.List(fields.String())
    declared_categories = fields.List(fields.String())
    confirmed_categories = fields.List(fields.String())
    stage = fields.String()
    commissioning_year = fields.Integer(allow_none=True)
    total_investment_cny = fields.Float()
    financing_need_cny = fields.Float()
    annual_revenue_cny = fields.Float(allow_none=True)
    annual_net_cash_flow_cny = fields.Float(allow_none=True)
    asset_value_cny = fields.Float(allow_none=True)
    is_concession = fields.Boolean()
    expected_irr_pct = fields.Float(allow_none=True)
    benefits = fields.Dict()
    certifications = fields.List(fields.String())
    collateral = fields.List(fields.String())
    risk_exposures = fields.List(fields.String())
    compliance = fields.Dict()
    preferred_instruments = fields.List(fields.String())
    contact = fields.Dict(required=False)
    capacity_change = fields.String()
    capacity_replacement_approved = fields.Boolean()
    concession_end_year = fields.Integer(allow_none=True)
    primary_fuel = fields.String(allow_none=True)
    enterprise = fields.Nested(OrgRefSchema)
    green_score = fields.Integer()
    label = fields.String(allow_none=True)
    flagged = fields.Boolean()
    review_note = fields.String(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class TransitionSchema(HistoryEntrySchema):
    actor_organization_id = fields.Integer(allow_none=True)
    actor_role = fields.String(attribute="actor.role", allow_none=True)


class HistorySchema(Schema):
    items = fields.List(fields.Nested(TransitionSchema))


class TaxonomyQuerySchema(PageArgsSchema):
    level = fields.Integer(validate=validate.OneOf([1, 2, 3]))
    parent = fields.String()
    q = fields.String(validate=validate.Length(max=100))
    edition = fields.String(load_default=reference.CURRENT_EDITION, validate=validate.OneOf(["2025", "2019"]))
    per_page = fields.Integer(load_default=100, validate=validate.Range(min=1, max=100))


class CategoryNodeSchema(Schema):
    code = fields.String()
    level = fields.Integer()
    name_zh = fields.String()
    name_en = fields.String()
    parent = fields.String(allow_none=True)
    edition = fields.String()
    activity_codes = fields.List(fields.String())
    ghg = fields.String(allow_none=True)


class ClassifyInSchema(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(load_default="", validate=validate.Length(max=5000))
    industry_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=5))
    limit = fields.Integer(load_default=5, validate=validate.Range(min=1, max=20))


class SuggestionSchema(Schema):
    code = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    confidence = fields.Float()


class ClassifyOutSchema(Schema):
    items = fields.List(fields.Nested(SuggestionSchema))


class CodeNameSchema(Schema):
    code = fields.String()
    name_zh = fields.String()
    name_en = fields.String(allow_none=True)
    parent = fields.String(allow_none=True)
    level = fields.String()


class LookupQuerySchema(PageArgsSchema):
    q = fields.String(validate=validate.Length(max=100))
    parent = fields.String(validate=validate.Length(max=6))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))
