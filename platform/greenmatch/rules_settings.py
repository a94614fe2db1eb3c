"""Every threshold and factor of the platform-wide screening and assessment rules, in one place.

:class:`RuleSettings` is a frozen dataclass: each field is one named, documented setting with its
source beside it. Facts the editors could not verify are marked ⚠ (see ``shared/domain.md``): a
deployment changes them without touching code, through the Flask config key ``RULES`` (set from the
environment as ``GREENMATCH_RULES`` holding a JSON object)::

    create_app({"RULES": {"grid_factor_t_per_mwh": 0.5306, "label_dark_green_min": 85}})

:class:`SettingsBase` gives any settings dataclass (the instrument plugins' own ones too) the same
``from_mapping`` behaviour: unknown keys are refused (a typo must not silently keep a default), lists
become tuples, mappings of pairs become tuples of pairs, numbers are checked.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from functools import cached_property
from typing import Any, Self

from greenmatch.text import N_

CONFIG_KEY = "RULES"  # Flask config key; GREENMATCH_RULES in the environment
EXTENSION_KEY = "greenmatch.rules"  # app.extensions: the app's RuleSettings, built once at app creation
PLUGIN_CONFIG_KEY = "PLUGIN_SETTINGS"  # Flask config key: {plugin key: {setting: value}}


class SettingsBase:
    """Mixin for frozen settings dataclasses whose fields all have defaults."""

    @classmethod
    def from_mapping(cls, overrides: Mapping[str, Any] | None = None) -> Self:
        """The defaults with ``overrides`` applied; ``ValueError`` names unknown or mistyped keys."""
        base = cls()  # type: ignore[call-arg]
        if not overrides:
            return base
        if not isinstance(overrides, Mapping):
            raise ValueError(f"{cls.__name__} overrides must be a mapping, not {type(overrides).__name__}")
        known = {f.name: f for f in dataclasses.fields(base)}  # type: ignore[arg-type]
        unknown = sorted(set(overrides) - set(known))
        if unknown:
            raise ValueError(f"unknown {cls.__name__} setting(s): {', '.join(unknown)}; "
                             f"known: {', '.join(sorted(known))}")
        values = {name: _coerce(cls.__name__, name, getattr(base, name), value) for name, value in overrides.items()}
        return dataclasses.replace(base, **values)  # type: ignore[type-var]


def _coerce(owner: str, name: str, default: Any, value: Any) -> Any:
    where = f"{owner}.{name}"
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{where} must be true or false")
        return value
    if isinstance(default, int | float) and not isinstance(default, bool):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{where} must be a number")
        return float(value) if isinstance(default, float) else value
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ValueError(f"{where} must be a string")
        return value
    if isinstance(default, tuple):
        if isinstance(value, Mapping):  # {"3120": "steel"} for a tuple of pairs
            value = list(value.items())
        if isinstance(value, str) or not isinstance(value, list | tuple):
            raise ValueError(f"{where} must be a list")
        return _freeze(value)
    return value


def _freeze(value: Any) -> Any:
    """Lists (at any depth) become tuples, so settings stay immutable and hashable."""
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


# -- 两高 (high energy use, high emission) ----------------------------------------------------------
# 环环评〔2021〕45号 names six sector categories; the GB/T 4754-2017 mapping is the editors' mapping in
# shared/data/two_high_rules.md section 3 (not official). Prefix semantics, the longest prefix wins.
TWO_HIGH_CODES: tuple[tuple[str, str], ...] = (
    ("4411", "coal_power"), ("4412", "coal_power"),  # 火力发电, 热电联产: also gas/oil plants (see reason)
    ("2511", "petrochemicals"), ("2519", "petrochemicals"),  # 原油加工, 其他原油制造
    ("261", "chemicals"),  # 基础化学原料 (2614 organic feedstock = olefins/aromatics/methanol/acetic acid)
    ("262", "chemicals"),  # 肥料
    ("265", "chemicals"),  # 合成材料
    ("2521", "chemicals"), ("2522", "chemicals"), ("2523", "chemicals"),  # coal chemicals: coking, syngas, CTL
    ("3110", "steel"), ("3120", "steel"), ("3130", "steel"), ("3140", "steel"),
    ("321", "nonferrous_smelting"), ("322", "nonferrous_smelting"), ("323", "nonferrous_smelting"),
    ("3011", "building_materials"), ("3012", "building_materials"), ("3041", "building_materials"),
    ("3071", "building_materials"), ("3031", "building_materials"), ("3033", "building_materials"),
    ("3089", "building_materials"),
)

# Retrofit / transition items of the 2025 catalogue a 两高 plant may still be financed for
# (shared/data/two_high_rules.md section 4, derived from 银发〔2025〕132号; domain.md "Screening rules").
# Prefix semantics: "1.3" covers 1.3.1-1.3.6. A deployment may add e.g. "2.5.6" 重点行业清洁生产改造.
TRANSITION_CATEGORIES: tuple[str, ...] = ("1.3", "1.4.1", "1.4.2", "1.4.3", "1.5.1", "2.2", "3.2.7")

# Level-3 items that produce electricity or heat from renewable/clean sources: every 2025 item with an
# activity code among the generation classes 4413-4419 (hydro, nuclear, wind, solar, biomass, other;
# derived from green_catalogue.json, checked by a test), except 4.3.2 storage, plus building and rural
# renewables whose activity is engineering (6.1.5, 6.5.4).
GENERATION_CATEGORIES: tuple[str, ...] = (
    "3.2.4", "3.2.6", "4.2", "4.3.1", "4.3.3", "4.3.4", "4.3.7", "6.1.5", "6.5.4",
)


# Activities a 两高 plant may host without adding 两高 capacity, judged as their own activity (issue #12
# item 1; 环环评〔2021〕45号 targets new/expanded 两高 capacity, not renewables or waste treatment on site):
# on-site wind/solar/biomass (4.2.1-4.2.3), waste-heat recovery (1.3.4), CCUS (1.5.1), co-processing of
# municipal, industrial and hazardous waste in kilns (2.5.1, 2.5.2, 3.2.3, 3.2.6, 6.4.8; 工信部联节〔2016〕
# 水泥窑协同处置 guidance). Prefix semantics.
HOSTED_CATEGORIES: tuple[str, ...] = ("4.2.1", "4.2.2", "4.2.3", "1.3.4", "1.5.1", "2.5.1", "2.5.2",
                                      "3.2.3", "3.2.6", "6.4.8")


@dataclasses.dataclass(frozen=True)
class RuleSettings(SettingsBase):
    """Thresholds and factors of screening (两高, compliance), greenwashing signals, the carbon
    estimate and the green score. Every field can be overridden through config ``RULES``."""

    # -- 两高 -----------------------------------------------------------------------------------
    two_high_codes: tuple[tuple[str, str], ...] = TWO_HIGH_CODES
    transition_categories: tuple[str, ...] = TRANSITION_CATEGORIES
    hosted_categories: tuple[str, ...] = HOSTED_CATEGORIES
    # Items any manufacturing plant can host on its own site (a category-vs-industry fit): rooftop or
    # distributed PV, waste heat, CCUS, waste co-processing. A wind or hydro plant is not among them.
    onsite_categories: tuple[str, ...] = ("4.2.2", "1.3.4", "1.5.1", "2.5.1", "2.5.2", "3.2.3", "3.2.6", "6.4.8")
    # 4411/4412 cover coal, gas and oil plants; only coal-fired ones are 煤电 两高 (环环评〔2021〕45号 names 煤电).
    # A project whose ``primary_fuel`` is none of these is judged on its activity, not as coal power.
    coal_power_fuels: tuple[str, ...] = ("coal",)

    # -- compliance vetoes (domain.md "Compliance vetoes") ---------------------------------------
    # Stages in which a project must hold its EIA approval (环评批复): the EIA precedes construction
    # (《环境影响评价法》 art. 25: no construction before approval).
    eia_required_stages: tuple[str, ...] = ("construction", "operation")
    # Instruments refused to a project lacking the EIA approval in those stages.
    eia_veto_instruments: tuple[str, ...] = ("green_credit", "green_bond", "reits")
    # ⚠ "Major" environmental penalty: practice treats a single fine above ¥500k as major (no single
    # statute). Used when the compliance record gives the largest fine (``largest_env_fine_cny``);
    # otherwise the enterprise's ``major_env_penalty_3y`` answer is taken as given.
    major_penalty_fine_cny: float = 500_000.0
    # Instruments refused outright after a major penalty: green credit and green bonds by default
    # (银监发〔2012〕4号 绿色信贷指引 art. 17 and 银保监发〔2022〕15号 银行业保险业绿色金融指引: no green
    # credit to clients with major environmental violations; Huzhou's platform vetoes outright). A
    # deployment may soften it to () (label red and a caution only).
    major_penalty_veto_instruments: tuple[str, ...] = ("green_credit", "green_bond")
    # Operating without a pollutant discharge permit is illegal since 2021 (《排污许可管理条例》 art. 2,
    # in force 2021-03-01): refused for these instruments in the ``pollutant_permit_required_stages``.
    pollutant_permit_required_stages: tuple[str, ...] = ("operation",)
    pollutant_permit_veto_instruments: tuple[str, ...] = ("green_credit", "green_bond", "reits")
    # EIA states that satisfy the EIA requirement: approval (批复), registration (备案, 登记表) and exempt
    # (outside 《建设项目环境影响评价分类管理名录（2021年版）》, e.g. most rooftop PV).
    eia_satisfied_statuses: tuple[str, ...] = ("approved", "registration", "exempt")
    # (The REIT's remaining concession term is the reits plugin's setting min_remaining_concession_years.)

    # -- greenwashing signals --------------------------------------------------------------------
    # GB/T 4754-2017 divisions whose activities are hosted by a plant of any industry: construction
    # and installation (47-50: 4861 节能工程施工, 4862 环保工程施工, 4840 工矿工程建筑, 4875 solar works),
    # IT services (65: 6531 system integration), business and technical services (72-75) and
    # environmental treatment (77). A catalogue item done through them fits any host industry.
    hostable_activity_divisions: tuple[str, ...] = ("47", "48", "49", "50", "65", "72", "73", "74", "75", "77")
    # ⚠ Plausible ceiling of annual CO2 reduction per ¥10k of total investment (editors' estimate):
    # cheap energy-saving retrofits cost about ¥1,000 per tce saved a year, i.e. 10 tce = 24.9 tCO2 per
    # ¥10k; the ceiling is twice that.
    max_co2_t_per_10k_cny: float = 50.0
    # ⚠ Ceilings by category prefix (most specific prefix wins; the most permissive of the claimed
    # categories applies). Generation: PV at ¥2.5/W, 1,800 h and a 0.9 fossil factor reaches ~3.9
    # tCO2/¥10k, wind ~4; 10 leaves room. 1.5.2 (ODS/HFC substitutes) has GWPs in the thousands: no
    # practical ceiling.
    max_co2_t_per_10k_cny_by_category: tuple[tuple[str, float], ...] = (("4.2", 10.0), ("4.3", 10.0),
                                                                        ("1.5.2", 1_000_000.0))
    generation_categories: tuple[str, ...] = GENERATION_CATEGORIES
    # Items whose output *is* generation, so a claim without MWh is a signal (3.2.6 waste recycling and
    # 6.1.5 building renewables need not generate power): renewable plants and clean-power plants.
    generation_figure_categories: tuple[str, ...] = ("4.2", "4.3.1", "4.3.3", "4.3.4", "4.3.7")
    # ⚠ A ratio above this multiple of the ceiling is a ``block`` signal (label capped at yellow, no
    # carbon-facility advice); between 1x and this multiple a ``warning``. Editors' choice.
    implausible_block_factor: float = 3.0
    # 两高 production units and capacity-growth wording for the description check (环环评〔2021〕45号 sectors;
    # two_high_rules.md section 3). Both a unit and a growth term must appear.
    two_high_capacity_terms: tuple[str, ...] = ("焦炉", "焦化", "高炉", "转炉", "熟料", "水泥生产线", "电解铝",
                                                "煤制烯烃", "煤制甲醇", "燃煤机组", "平板玻璃生产线", "电石炉")
    capacity_growth_terms: tuple[str, ...] = ("扩建", "新建", "新增产能", "扩产", "增产")
    # ⚠ "Whole firm labelled green on one small sub-project": the project's total investment is below
    # this share of the annual revenue (so the revenue is the firm's, not the project's) while the
    # application leans on firm-level credentials or wording. Editors' threshold.
    whole_firm_max_investment_share: float = 0.05
    # Certifications that describe a plant or firm (MIIT green manufacturing system), not a project.
    firm_level_certifications: tuple[str, ...] = ("green_factory", "green_park", "green_supply_chain",
                                                  "zero_carbon_factory")
    firm_wide_terms: tuple[str, ...] = ("全厂", "全公司", "公司整体", "企业整体", "全集团", "整体绿色",
                                        "whole company", "entire company", "company-wide", "whole firm",
                                        "entire firm", "group-wide", "whole group")

    # -- carbon estimate (shared/data/grid_emission_factors.md) ----------------------------------
    # MEE/NBS 电力二氧化碳排放因子, national average for 2022 data (notice dated 2024-12-20). The 2023
    # value 0.5306 (published Jan 2026) may replace it; 0.5703 is the power-sector MRV factor.
    grid_factor_t_per_mwh: float = 0.5306
    # message codes (zh_CN in translations/); a deployment's own text is shown as given
    grid_factor_source: str = N_("MEE/NBS national average electricity CO2 factor, 2023 data (published 2026-01)")
    # Optional regional factors: ((region code prefix, tCO2/MWh), ...), e.g. (("13", 0.7252),) for
    # Hebei 2022. Empty: the national factor everywhere. The longest matching prefix wins.
    grid_factor_by_region: tuple[tuple[str, float], ...] = ()
    # ⚠ tCO2 per tce saved: no official national figure. 2.493 (= 0.68 tC/tce) is the widely circulated
    # rule of thumb; IPCC 2006 other bituminous coal gives ~2.77 (94.6 tCO2/TJ x 29.3076 GJ/tce).
    coal_factor_t_per_tce: float = 2.493
    coal_factor_source: str = N_("circulated rule of thumb 2.493 tCO2/tce (0.68 tC/tce); no official figure")
    # Carbon sinks are taken as reported with the method named (CCER methodologies such as
    # CCER-14-001-V01 造林碳汇; the platform does not recompute them).
    carbon_sink_method: str = N_("as reported by the enterprise, e.g. under CCER-14-001-V01 afforestation; "
                                 "not verified")

    # -- categories in the assessment ------------------------------------------------------------
    confirmed_confidence: float = 1.0
    declared_confidence: float = 0.8  # declared, activity fits the project's industry
    declared_mismatch_confidence: float = 0.4  # declared, activity does not fit the industry
    suggestion_limit: int = 3
    suggestion_min_confidence: float = 0.2

    # -- green score (docs/assessment.md; SCORE_FORMULA in assessment.py) -------------------------
    score_category_direct_reduction: float = 35.0  # best claimed item marked √√
    score_category_mixed: float = 30.0  # item with √√ and √ rows
    score_category_enabling: float = 25.0  # item marked √
    # green item without a GHG mark: pollution control, ecology, adaptation (sponge city) are core green
    # finance (issue #12; seed 003 makes adaptation half of climate finance), so close to the mitigation marks
    score_category_unmarked: float = 30.0
    score_verification_confirmed: float = 15.0  # all categories confirmed by the bureau
    score_verification_partly: float = 10.0
    score_verification_declared: float = 5.0
    score_benefit_quantified: float = 10.0  # any annual benefit given in numbers
    score_carbon_physical: float = 10.0  # CO2 estimated from MWh / tce by the platform
    score_carbon_declared_only: float = 5.0  # CO2 declared only
    score_certification_each: float = 5.0  # firm_level_certifications + green_design_product
    score_certification_max: float = 10.0
    score_eia: float = 10.0
    score_eia_not_due: float = 5.0  # planning stage without EIA yet
    score_permit: float = 5.0  # pollutant discharge permit (排污许可证)
    score_permit_not_due: float = 3.0  # not yet in operation
    score_clean_record: float = 5.0  # no environmental penalty in 3 years
    score_signal_penalty: float = 10.0  # per greenwashing signal

    # -- four-colour label (Quzhou carbon-account manner; thresholds are the platform's choice) ----
    label_dark_green_min: float = 80.0
    label_light_green_min: float = 60.0
    label_yellow_min: float = 40.0

    @cached_property
    def memo(self) -> dict[str, dict[Any, Any]]:
        """Results derived from these settings alone, keyed by their other inputs (filled by the
        screening functions on first use; not a setting: no field, outside equality and ``dataclasses.asdict``)."""
        return {}

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> RuleSettings:
        """From a Flask config: overrides under ``RULES`` (or ``GREENMATCH_RULES``)."""
        config = config or {}
        overrides = config.get(CONFIG_KEY)
        if overrides is None:
            overrides = config.get("GREENMATCH_" + CONFIG_KEY)
        return cls.from_mapping(overrides or {})


DEFAULT_RULES = RuleSettings()


def rules_or_default(settings: RuleSettings | None) -> RuleSettings:
    return DEFAULT_RULES if settings is None else settings


def configure_plugins(plugins: Mapping[str, Any], config: Mapping[str, Any] | None,
                      rules: RuleSettings | None = None) -> None:
    """Apply ``PLUGIN_SETTINGS[<key>]`` and the platform ``RULES`` (``rules``: the app's instance; None:
    built from ``config``) to every loaded plugin.

    Call once at app creation, after ``load_plugins``. A bad override raises ``ValueError``: a
    misconfigured deployment must not start with silently different thresholds.
    """
    config = config or {}
    if rules is None:
        rules = RuleSettings.from_config(config)
    per_plugin = config.get(PLUGIN_CONFIG_KEY) or config.get("GREENMATCH_" + PLUGIN_CONFIG_KEY) or {}
    for key, plugin in plugins.items():
        plugin.configure(per_plugin.get(key) or {}, rules=rules)
