"""The one label module: names of the contract's enum values and codes (msgids in English, zh_CN in
``translations/``). Services refer to them as :class:`~greenmatch.text.Label` params; pages and the API
render them with :func:`label` in the caller's language. Reference-data names (catalogue categories,
GB/T 4754 industries, GB/T 2260 regions) come from the reference data; instrument names from the plugins.
"""

from __future__ import annotations

from .text import N_, translate

PROJECT_STATUS = {
    "draft": N_("Draft"),
    "submitted": N_("Submitted"),
    "returned": N_("Returned for changes"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
}
PRODUCT_STATUS = {"draft": N_("Draft"), "published": N_("Published"), "withdrawn": N_("Withdrawn")}
ENGAGEMENT_STATUS = {
    "requested": N_("Requested"),
    "accepted": N_("Accepted"),
    "declined": N_("Declined"),
    "in_progress": N_("In progress"),
    "financed": N_("Financed"),
    "closed": N_("Closed"),
    "expired": N_("Expired"),
}
REQUEST_STATUS = {"open": N_("Open for offers"), "accepted": N_("Offer accepted"), "closed": N_("Closed"),
                  "full": N_("Full: no more offers")}
OFFER_STATUS = {"submitted": N_("Submitted"), "accepted": N_("Accepted"), "declined": N_("Declined")}
RUN_STATUS = {"running": N_("Running"), "succeeded": N_("Succeeded"), "failed": N_("Failed")}
STAGES = {"planning": N_("Planning"), "construction": N_("Construction"), "operation": N_("Operation")}
CERTIFICATIONS = {
    "green_factory": N_("Green factory"),
    "green_park": N_("Green industrial park"),
    "green_supply_chain": N_("Green supply chain"),
    "green_design_product": N_("Green design product"),
    "zero_carbon_factory": N_("Zero-carbon factory"),
    "specialized_sme": N_("Specialised and sophisticated SME"),
    "little_giant": N_("“Little giant” enterprise"),
    "high_tech": N_("High-tech enterprise"),
}
COLLATERAL = {
    "carbon_allowance": N_("Carbon emission allowances"),
    "ccer": N_("CCER (certified emission reductions)"),
    "pollutant_rights": N_("Pollutant discharge rights"),
    "energy_use_rights": N_("Energy-use rights"),
    "water_rights": N_("Water rights"),
    "green_power_certificates": N_("Green power certificates"),
    "receivables": N_("Receivables"),
    "charging_rights": N_("Charging fee rights"),
    "intellectual_property": N_("Intellectual property"),
    "fixed_assets": N_("Fixed assets"),
}
RISK_EXPOSURES = {
    "pollution_liability": N_("Environmental pollution liability"),
    "first_of_kind_equipment": N_("First-of-kind major equipment"),
    "new_material_first_batch": N_("First batch of new materials"),
    "building_performance": N_("Green building performance"),
    "climate_catastrophe": N_("Climate and catastrophe risk"),
    "carbon_sink": N_("Carbon sink"),
    "tech_rnd": N_("Green technology R&D"),
}
BENEFITS = {
    "energy_saving_tce": N_("Energy saved (tce per year)"),
    "co2_reduction_t": N_("CO₂ reduction (t per year)"),
    "renewable_generation_mwh": N_("Renewable generation (MWh per year)"),
    "water_saving_t": N_("Water saved (t per year)"),
    "electricity_saving_mwh": N_("Electricity saved (MWh per year)"),
    "carbon_sink_tco2": N_("Carbon sink (t CO₂ per year)"),
}
LABELS = {
    "dark_green": N_("Dark green"),
    "light_green": N_("Light green"),
    "yellow": N_("Yellow"),
    "red": N_("Red"),
}
INSTITUTION_TYPES = {
    "bank": N_("Bank"),
    "insurer": N_("Insurer"),
    "securities": N_("Securities firm"),
    "fund_manager": N_("Fund manager"),
    "other": N_("Other"),
}
ORG_KINDS = {
    "enterprise": N_("Enterprise"),
    "institution": N_("Financial institution"),
    "bureau": N_("Industry bureau"),
    "platform": N_("Platform"),
}
ROLES = {
    "enterprise": N_("Enterprise"),
    "institution": N_("Financial institution"),
    "bureau": N_("Industry bureau"),
    "admin": N_("Administrator"),
}
CATEGORY_SOURCES = {"declared": N_("declared"), "suggested": N_("suggested"), "confirmed": N_("confirmed")}
SCORE_ITEMS = {
    "category": N_("Catalogue category"),
    "verification": N_("Verification"),
    "benefits": N_("Environmental benefits"),
    "certifications": N_("Certifications"),
    "compliance": N_("Compliance"),
    "greenwashing_signals": N_("Greenwashing signals"),
}
SIGNALS = {
    "category_industry_mismatch": N_("Categories do not fit the industry"),
    "implausible_benefit": N_("Implausible benefit for the investment"),
    "renewable_without_generation_category": N_("Generation claimed without a generation category"),
    "whole_firm_on_small_project": N_("Whole firm labelled green on a small project"),
    "financing_exceeds_investment": N_("Financing need above total investment"),
    "generation_category_without_generation": N_("Generation category without a generation figure"),
    "two_high_capacity_claims_green": N_("两高 capacity growth claims a green category"),
}
# 两高 sectors (shared/data two_high_rules.md section 1) and the commonly cited 16 segments (section 3).
SECTORS = {
    "coal_power": N_("Coal power"), "petrochemicals": N_("Petrochemicals"), "chemicals": N_("Chemicals"),
    "steel": N_("Iron and steel"), "nonferrous_smelting": N_("Non-ferrous smelting"),
    "building_materials": N_("Building materials"),
}
# Product params of the built-in plugins (JSON-Schema property names) and their enum values.
PARAMS = {
    "min_amount_cny": N_("Minimum financing need (CNY)"),
    "max_amount_cny": N_("Maximum financing need (CNY)"),
    "regions": N_("Regions served"),
    "categories": N_("Green categories"),
    "stages": N_("Project stages"),
    "variants": N_("Loan variants"),
    "accepted_collateral": N_("Accepted collateral"),
    "indicative_rate_pct": N_("Indicative annual rate (%)"),
    "max_tenor_years": N_("Maximum tenor (years)"),
    "bond_types": N_("Bond types"),
    "min_issue_size_cny": N_("Minimum issue size (CNY)"),
    "issuer_min_rating": N_("Minimum issuer rating"),
    "max_proceeds_share": N_("Largest share of total investment (0–1)"),
    "tenor_years": N_("Tenor (years)"),
    "asset_classes": N_("Asset classes"),
    "min_asset_value_cny": N_("Minimum asset value (CNY)"),
    "min_operating_years": N_("Minimum years in operation"),
    "min_distribution_yield_pct": N_("Minimum distribution yield (%)"),
    "allow_concession": N_("Concession assets accepted"),
    "cover_types": N_("Covers offered"),
    "focus": N_("Investment focus"),
    "ticket_min_cny": N_("Minimum ticket (CNY)"),
    "ticket_max_cny": N_("Maximum ticket (CNY)"),
    "max_equity_share_pct": N_("Largest equity stake (%)"),
    "sectors": N_("Sectors"),
    "min_co2_reduction_t": N_("Minimum annual CO₂ reduction (t)"),
}
PARAM_VALUES = {
    **STAGES,
    **COLLATERAL,
    **RISK_EXPOSURES,
    "carbon_reduction_facility": N_("PBoC carbon-reduction facility"),
    "energy_efficiency": N_("Energy-efficiency credit"),
    "environmental_rights_pledge": N_("Environmental-rights pledge loan"),
    "general": N_("General green loan"),
    "ndrc_enterprise": N_("NDRC enterprise bond"),
    "exchange_corporate": N_("Exchange corporate bond"),
    "interbank_debt_financing": N_("Interbank debt financing instrument"),
    "financial": N_("Financial bond"),
    "carbon_neutral": N_("Carbon-neutral bond"),
    "clean_energy": N_("Clean energy"),
    "energy_storage": N_("Energy storage"),
    "water": N_("Water supply and treatment"),
    "waste": N_("Waste treatment"),
    "ecological": N_("Ecological protection"),
    "park_infrastructure": N_("Industrial park infrastructure"),
    "heating": N_("Heating"),
    "data_centres": N_("Data centres"),
    "nev": N_("New-energy vehicles"),
    "specialized_sme": CERTIFICATIONS["specialized_sme"],
    "little_giant": CERTIFICATIONS["little_giant"],
    "high_tech": CERTIFICATIONS["high_tech"],
    "green_technology": N_("Green technology"),
    "pollution_control": N_("Pollution control"),
    "ecological_restoration": N_("Ecological restoration"),
    "resource_efficiency": N_("Resource efficiency"),
    "green_transport": N_("Green transport"),
    **SECTORS,
}

SEGMENTS = {  # the commonly cited 16 segments (two_high_rules.md section 3)
    "4411": N_("thermal power"), "4412": N_("combined heat and power"), "2511": N_("oil refining"),
    "2519": N_("other crude-oil products"), "2521": N_("coking"), "2522": N_("coal-to-syngas"),
    "2523": N_("coal-to-liquids"), "2612": N_("chlor-alkali"), "2614": N_("methanol, acetic acid, olefins"),
    "2619": N_("calcium carbide and other basic chemicals"), "2621": N_("nitrogen fertiliser"),
    "2622": N_("phosphate fertiliser"), "3110": N_("ironmaking"), "3120": N_("steelmaking"),
    "3130": N_("steel rolling"), "3140": N_("ferroalloys"), "3216": N_("electrolytic aluminium"),
    "3011": N_("cement"), "3012": N_("lime and gypsum"), "3041": N_("flat glass"),
    "3071": N_("building ceramics"), "3031": N_("clay bricks and tiles"),
    "3033": N_("asphalt waterproofing materials"), "3089": N_("refractories"),
}
EIA_STATUSES = {
    "approved": N_("EIA approved"), "registration": N_("EIA registered"),
    "exempt": N_("exempt from EIA"), "pending": N_("EIA pending"), "missing": N_("no EIA"),
}
CAPACITY_CHANGES = {
    "none": N_("no capacity change"), "retrofit": N_("retrofit"), "replacement": N_("capacity replacement"),
    "expansion": N_("expansion"), "new": N_("new capacity"),
}
PRIMARY_FUELS = {
    "coal": N_("Coal"), "natural_gas": N_("Natural gas"), "oil": N_("Oil"), "biomass": N_("Biomass"),
    "waste": N_("Waste"), "hydrogen": N_("Hydrogen"), "electricity": N_("Electricity"), "none": N_("None"),
}
CARBON_BASES = {"estimated": N_("platform estimate"), "declared": N_("declared by the enterprise"),
                "none": N_("none")}
# numbers a product's bounds refer to (InstrumentPlugin.project_metrics)
METRICS = {
    "financing_need_cny": N_("financing need (CNY)"), "total_investment_cny": N_("total investment (CNY)"),
    "financing_share_of_investment": N_("financing share of the investment"),
    "energy_saving_tce": N_("energy saved (tce per year)"), "co2_reduction_t": N_("CO₂ reduction (t per year)"),
    "is_concession": N_("concession asset"), "operating_years": N_("years in operation"),
    "asset_value_cny": N_("asset value (CNY)"), "annual_net_cash_flow_cny": N_("annual net cash flow (CNY)"),
    "expected_irr_pct": N_("expected IRR (%)"), "distribution_yield_pct": N_("distribution yield (%)"),
}
GHG_MARKS = {"direct_reduction": "√√", "mixed": "√√/√", "low_carbon_enabling": "√"}

TABLES: dict[str, dict[str, str]] = {
    "project_status": PROJECT_STATUS, "product_status": PRODUCT_STATUS, "engagement_status": ENGAGEMENT_STATUS,
    "run_status": RUN_STATUS, "request_status": REQUEST_STATUS, "offer_status": OFFER_STATUS, "stage": STAGES,
    "certification": CERTIFICATIONS, "collateral": COLLATERAL,
    "risk_exposure": RISK_EXPOSURES, "benefit": BENEFITS, "label": LABELS, "institution_type": INSTITUTION_TYPES,
    "org_kind": ORG_KINDS, "role": ROLES, "category_source": CATEGORY_SOURCES, "score_item": SCORE_ITEMS,
    "signal": SIGNALS, "param": PARAMS, "param_value": PARAM_VALUES, "sector": SECTORS, "segment": SEGMENTS,
    "eia_status": EIA_STATUSES, "capacity_change": CAPACITY_CHANGES, "fuel": PRIMARY_FUELS,
    "carbon_basis": CARBON_BASES, "metric": METRICS,
}


def label_msgid(table: str, key: str) -> str | None:
    return TABLES.get(table, {}).get(str(key))


def label(table: str, key: str | None, locale: str | None = None) -> str:
    """The name of ``key`` in ``table`` in ``locale`` (None: the request's); the key itself when unnamed."""
    if key is None:
        return ""
    msgid = label_msgid(table, key)
    return translate(msgid, locale) if msgid is not None else str(key)
