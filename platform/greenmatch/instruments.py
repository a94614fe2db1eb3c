"""The instrument plugin contract and registry.

Every financing instrument (green credit, green bonds, REITs, green insurance, green funds, and
whatever a third party installs) is one :class:`InstrumentPlugin` subclass, found through the
``greenmatch.instruments`` entry-point group. A plugin knows:

* who it is: ``key``, bilingual names and description;
* what an institution sets on a product: ``params_schema``, a marshmallow schema that extends
  :class:`CommonParamsSchema` (exposed as JSON Schema by ``GET /api/v1/instruments``);
* whether a project suits the instrument in general: :meth:`InstrumentPlugin.assess`;
* what it adds to the matching graph, declaratively, so matching needs no instrument-specific code:
  tags it attaches to projects (:meth:`project_tags`), tags a product offers (:meth:`product_tags`),
  hard requirements a product places on projects (:meth:`product_requirements`: required tags and
  numeric bounds on :meth:`project_metrics`).

:meth:`InstrumentPlugin.check` (one project against one product) is derived from those pieces, so the
bulk matcher, which evaluates the same pieces on sparse matrices, reaches the same decisions.

Which plugins load, and in what order, is the ``GREENMATCH_INSTRUMENTS`` setting (``None``: every
installed plugin, built-ins first). A plugin that fails to import or instantiate is logged and
reported by :func:`load_plugins`; it never takes the platform down.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, ClassVar, TypeVar

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from . import labels, reference
from .codes import category_covers, normalize_industry_code, region_covers
from .facts import COLLATERAL, RISK_EXPOSURES, STAGES, ProductFacts, ProjectFacts
from .labels import label_msgid
from .money import Money
from .rules_settings import RuleSettings, SettingsBase

# the plugin toolkit's message parts: a plugin returns message codes with parameters, the edge renders them
from .text import (  # listed in __all__ (the toolkit, at the end)
    N_,
    Amount,
    Clauses,
    Label,
    Listing,
    Msg,
    Name,
    Num,
    Pct,
    register_catalogue,
    register_names,
    render_all,
    translate,
)

log = logging.getLogger(__name__)


def memo_lookup(memo: dict[str, dict[Any, Any]], table: str, key: Any, compute: Callable[[], T]) -> T:
    """``compute()``, cached in ``memo[table][key]``; a table is emptied when it reaches
    ``MEMO_TABLE_SIZE`` entries, so odd inputs cannot grow it without bound. For derivations that
    run for every project of a matching run while their distinct inputs are few."""
    found = memo.get(table)
    if found is None:
        found = memo[table] = {}
    value = found.get(key, found)
    if value is found:
        if len(found) >= MEMO_TABLE_SIZE:
            found.clear()
        value = found[key] = compute()
    return value

ENTRY_POINT_GROUP = "greenmatch.instruments"
MEMO_TABLE_SIZE = 1 << 16  # entries per table of InstrumentPlugin.memoized before it is emptied
T = TypeVar("T")
BUILTIN_ORDER = ("green_credit", "green_bond", "reits", "green_insurance", "green_fund")


def _reduce_dataclass(obj: Any) -> tuple[Any, ...]:
    """Pickle a dataclass instance as a call of its class with its fields: loading a matching run's
    many reasons and fits (sent back by worker processes) is then several times faster than with the
    default state-dictionary protocol."""
    return type(obj), tuple(getattr(obj, f.name) for f in dataclasses.fields(obj))


#: A reason a person can act on is a message code with parameters (greenmatch.text), rendered in the
#: caller's language at the edge.
Reason = Msg


@dataclass(frozen=True)
class InstrumentFit:
    """How well a project suits an instrument (or one product of it)."""

    instrument: str
    eligible: bool
    fit: float  # 0..1; 0 when not eligible
    reasons: tuple[Reason, ...] = ()

    def as_dict(self, locale: str | None = None) -> dict[str, Any]:
        reasons = render_all(self.reasons, locale)
        return {
            "instrument": self.instrument,
            "eligible": self.eligible,
            "fit": round(self.fit, 4),
            "reasons": reasons,
            # api.md section 5: what would have to change for it to become eligible (empty when eligible)
            "missing": [] if self.eligible else reasons,
        }

    def __reduce__(self) -> tuple[Any, ...]:
        return _reduce_dataclass(self)


@dataclass(frozen=True)
class ProductRequirements:
    """Hard rules a product places on projects, beyond the common params.

    ``required_tags_any``: the project must carry at least one of these tags (empty: no rule).
    ``bounds``: metric name -> (min, max), either side may be None; the project's
    :meth:`InstrumentPlugin.project_metrics` value must lie inside (a missing metric fails).
    """

    required_tags_any: frozenset[str] = frozenset()
    bounds: Mapping[str, tuple[float | None, float | None]] = field(default_factory=dict)


class CommonParamsSchema(Schema):
    """Params every product has; plugins subclass this and add their own fields."""

    min_amount_cny = Money(load_default=None, allow_none=True)
    max_amount_cny = Money(load_default=None, allow_none=True)
    regions = fields.List(fields.String(), load_default=list)
    categories = fields.List(fields.String(), load_default=list)
    stages = fields.List(fields.String(validate=validate.OneOf(STAGES)), load_default=list)

    @validates_schema
    def _amount_range(self, data: dict[str, Any], **kwargs: Any) -> None:
        low, high = data.get("min_amount_cny"), data.get("max_amount_cny")
        if low is not None and high is not None and low > high:
            raise ValidationError(Msg("Must not be below the minimum."), "max_amount_cny")

    @validates_schema
    def _known_codes(self, data: dict[str, Any], **kwargs: Any) -> None:
        bad_regions = [c for c in data.get("regions", []) if not reference.is_region(c)]
        if bad_regions:
            raise ValidationError(Msg("Unknown region codes: %(c)s.", c=Listing(bad_regions)), "regions")
        bad_cats = [c for c in data.get("categories", []) if not reference.is_category(c)]
        if bad_cats:
            raise ValidationError(Msg("Unknown catalogue codes: %(c)s.", c=Listing(bad_cats)), "categories")


def common_params_check(project: ProjectFacts, params: Mapping[str, Any]) -> list[Reason]:
    """The common-param vetoes of a product for a project; empty list = passes."""
    vetoes: list[Reason] = []
    need = project.financing_need_cny
    low, high = params.get("min_amount_cny"), params.get("max_amount_cny")
    if low is not None and need < low:
        vetoes.append(Msg("financing need %(need)s below the product minimum %(low)s",
                          need=Amount(need), low=Amount(low)))
    if high is not None and need > high:
        vetoes.append(Msg("financing need %(need)s above the product maximum %(high)s",
                          need=Amount(need), high=Amount(high)))
    regions = params.get("regions") or []
    if regions and not any(region_covers(r, project.region_code) for r in regions):
        vetoes.append(Msg("the project's location %(region)s is outside the product's regions",
                          region=Name("region", project.region_code)))
    categories = params.get("categories") or []
    if categories and not any(category_covers(c, p) for c in categories for p in project.categories):
        vetoes.append(Msg("none of the project's green categories is covered by the product"))
    stages = params.get("stages") or []
    if stages and project.stage not in stages:
        vetoes.append(Msg("the product does not serve projects in the %(stage)s stage",
                          stage=Label("stage", project.stage)))
    return vetoes


class InstrumentPlugin:
    """Base class of every instrument plugin. Subclass, set the class attributes, implement
    :meth:`assess`; override the graph hooks when products of the instrument target specific
    project features. Instances must be stateless: one instance serves all requests."""

    key: ClassVar[str]
    name_zh: ClassVar[str]
    name_en: ClassVar[str]
    description_zh: ClassVar[str] = ""
    description_en: ClassVar[str] = ""
    params_schema: ClassVar[type[Schema]] = CommonParamsSchema
    #: Chinese for the message codes a plugin outside this repository returns ({msgid: text}); the
    #: built-in plugins' messages are in the platform catalogue.
    messages_zh: ClassVar[Mapping[str, str]] = {}
    #: The plugin's own thresholds: a frozen dataclass whose fields all have defaults, with a
    #: ``from_mapping(overrides)`` classmethod (``greenmatch.rules_settings.SettingsBase``).
    #: None: the plugin has no settings.
    settings_class: ClassVar[type | None] = None

    # -- configuration (once, at app creation; not per request) ------------------------------
    def configure(self, settings: Mapping[str, Any] | None = None, rules: Any = None) -> None:
        """Apply deployment overrides (config ``PLUGIN_SETTINGS[<key>]``) and the platform rule
        settings (``RuleSettings`` from config ``RULES``; None: the defaults). Raises ValueError
        on an unknown or mistyped setting."""
        if self.settings_class is not None:
            self._settings = self.settings_class.from_mapping(settings or {})
        elif settings:
            raise ValueError(f"instrument plugin {self.key} has no settings; got {', '.join(settings)}")
        self._rules = rules
        self.__dict__.pop("_memo", None)  # derived from the previous configuration

    @property
    def settings(self) -> Any:
        """The plugin's settings: the configured ones, or the defaults of ``settings_class``."""
        current = self.__dict__.get("_settings")
        if current is None and self.settings_class is not None:
            current = self._settings = self.settings_class()
        return current

    @property
    def rules(self) -> Any:
        """The platform ``RuleSettings`` given to :meth:`configure`; None means the defaults."""
        return self.__dict__.get("_rules")

    def memoized(self, table: str, key: Any, compute: Callable[[], T]) -> T:
        """``compute()``, cached under (``table``, ``key``) until the next :meth:`configure`.

        For what a plugin derives from a few facts and its configuration (the asset classes a tuple
        of catalogue codes maps to, the covers an industry needs): a matching run asks for it for
        every project, while the distinct inputs are few. ``key`` must hold every fact the value
        depends on; the value is shared between callers, so make it immutable (a tuple, not a list).
        A table is emptied when it reaches ``MEMO_TABLE_SIZE`` entries. Thread-safe: at worst two
        threads compute the same value."""
        memo = self.__dict__.get("_memo")
        if memo is None:
            memo = self.__dict__["_memo"] = {}
        return memo_lookup(memo, table, key, compute)

    # -- instrument level --------------------------------------------------------------------
    def assess(self, project: ProjectFacts) -> InstrumentFit:
        """Whether the project suits this instrument at all, how well (0..1) and why."""
        raise NotImplementedError

    # -- graph contributions (declarative; the matcher evaluates them in bulk) ---------------
    def project_tags(self, project: ProjectFacts) -> Mapping[str, float]:
        """Tags (name -> weight in (0, 1]) this instrument attaches to a project.
        Tag names should be prefixed with the plugin key, e.g. ``"green_insurance:cover:pollution"``."""
        return {}

    def product_tags(self, params: Mapping[str, Any]) -> Mapping[str, float]:
        """Tags (name -> weight) a product with these params offers; shared tags bring projects closer."""
        return {}

    def product_requirements(self, params: Mapping[str, Any]) -> ProductRequirements:
        """Hard rules a product with these params places on projects."""
        return ProductRequirements()

    def project_metrics(self, project: ProjectFacts) -> Mapping[str, float]:
        """Numbers the product bounds refer to (e.g. ``"asset_value_cny"``)."""
        return {}

    # -- one product --------------------------------------------------------------------------
    def check(self, project: ProjectFacts, product: ProductFacts) -> InstrumentFit:
        """One project against one product: instrument eligibility, common params, product
        requirements. Derived from the hooks above; do not override with different rules."""
        general = self.assess(project)
        if not general.eligible:
            return general
        vetoes = common_params_check(project, product.params)
        vetoes += requirement_vetoes(self, project, product.params)
        if vetoes:
            return InstrumentFit(self.key, False, 0.0, tuple(vetoes))
        return general

    # -- presentation -------------------------------------------------------------------------
    def load_params(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Validate product params; raises marshmallow ValidationError with field names."""
        return self.params_schema().load(dict(raw))

    def describe(self, locale: str | None = None) -> dict[str, Any]:
        return {
            "key": self.key,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "description": self.description_en if (locale or "zh").startswith("en") else self.description_zh,
            "description_zh": self.description_zh,
            "description_en": self.description_en,
            "params_schema": params_json_schema(self.params_schema),
        }


def requirement_vetoes(plugin: InstrumentPlugin, project: ProjectFacts, params: Mapping[str, Any]) -> list[Reason]:
    req = plugin.product_requirements(params)
    vetoes: list[Reason] = []
    if req.required_tags_any and not (set(plugin.project_tags(project)) & req.required_tags_any):
        wanted = Listing(Name("tag", t) for t in sorted(req.required_tags_any))
        vetoes.append(Msg("the product targets %(wanted)s; the project has none of them", wanted=wanted))
    if req.bounds:
        metrics = plugin.project_metrics(project)
        for name, (low, high) in req.bounds.items():
            value = metrics.get(name)
            if value is None or (low is not None and value < low) or (high is not None and value > high):
                vetoes.append(Msg("%(name)s is %(value)s, outside the product's range %(range)s",
                                  name=Name("metric", name),
                                  value=Msg("unknown") if value is None else _metric(name, value),
                                  range=_range(name, low, high)))
    return vetoes


def _metric(name: str, value: float) -> Any:
    """A metric's value for a message: money in yuan, shares as percentages, other numbers as they are."""
    if name.endswith("_cny"):
        return Amount(value)
    if name.endswith("_share_of_investment") or name.endswith("_share"):
        return Pct(value)
    return Num(value, None)


def _range(name: str, low: float | None, high: float | None) -> Msg:
    return Msg("[%(low)s, %(high)s]", low="-∞" if low is None else _metric(name, low),
               high="∞" if high is None else _metric(name, high))


def params_json_schema(schema_cls: type[Schema]) -> dict[str, Any]:
    """The params schema as JSON Schema (via apispec's marshmallow converter)."""
    from apispec import APISpec
    from apispec.ext.marshmallow import MarshmallowPlugin

    plugin = MarshmallowPlugin()
    APISpec("params", "1", "3.1.0", plugins=[plugin])
    converted = plugin.converter.schema2jsonschema(schema_cls)
    converted.setdefault("type", "object")
    converted["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return converted


@dataclass
class PluginLoadResult:
    plugins: dict[str, InstrumentPlugin]
    errors: dict[str, str]


def load_plugins(enabled: Iterable[str] | None = None) -> PluginLoadResult:
    """Discover plugins through the entry-point group; keep the enabled ones in order.

    A plugin that raises while importing or instantiating, or is not an InstrumentPlugin, is
    logged and listed in ``errors``; the others load normally.
    """
    found: dict[str, InstrumentPlugin] = {}
    errors: dict[str, str] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in found:
            continue
        try:
            cls = ep.load()
            plugin = cls()
            if not isinstance(plugin, InstrumentPlugin) or plugin.key != ep.name:
                raise TypeError(f"{ep.value} is not an InstrumentPlugin with key {ep.name!r}")
        except Exception as exc:  # a broken third-party plugin must not stop the platform
            log.exception("instrument plugin %s failed to load", ep.name)
            errors[ep.name] = f"{type(exc).__name__}: {exc}"
            continue
        found[ep.name] = plugin
        if plugin.messages_zh:
            register_catalogue("zh_CN", plugin.messages_zh)
    if enabled is None:
        order = [k for k in BUILTIN_ORDER if k in found] + sorted(k for k in found if k not in BUILTIN_ORDER)
    else:
        order = list(enabled)
        for key in order:
            if key not in found and key not in errors:
                errors[key] = "enabled in GREENMATCH_INSTRUMENTS but not installed"
                log.error("instrument plugin %s is enabled but not installed", key)
    return PluginLoadResult({k: found[k] for k in order if k in found}, errors)


def current_plugins() -> dict[str, InstrumentPlugin]:
    """The plugins enabled for the current app (loaded once at app creation)."""
    from flask import current_app

    return current_app.extensions["greenmatch.instruments"].plugins


# ------------------------------------------------------------------------------------------------
# The plugin toolkit
# ------------------------------------------------------------------------------------------------
# A plugin imports all it needs of GreenMatch from this module, nothing else (the contract
# "plugins import only the toolkit" in setup.cfg holds the built-in ones to it; docs/plugins.md):
# the contract above, the message parts, the facts and money types, code helpers, the reference
# look-ups (``reference``) and labels (``labels``), the settings base and the platform rule settings,
# and the shared rules below. Those rules live in core modules that import the contract from here, so
# they are resolved on first use (PEP 562).

_TOOLKIT_RULES: dict[str, tuple[str, ...]] = {
    "screening": ("ComplianceResult", "TwoHighResult", "category_label", "compliance", "covered", "covered_codes",
                  "financing_vetoes", "industry_label", "label_caution", "level3_categories", "level3_split",
                  "longest_prefix", "major_env_penalty", "two_high", "two_high_sector"),
    "carbon": ("CarbonEstimate", "co2_reduction_t", "estimate_carbon", "grid_factor"),
    "greenwashing": ("Signal", "blocking_signals", "category_fits_industry", "greenwashing_signals"),
}
_TOOLKIT_LAZY = {name: module for module, names in _TOOLKIT_RULES.items() for name in names}

__all__ = [
    # the contract and the registry
    "BUILTIN_ORDER", "ENTRY_POINT_GROUP", "MEMO_TABLE_SIZE", "CommonParamsSchema", "InstrumentFit",
    "InstrumentPlugin", "PluginLoadResult", "ProductRequirements", "Reason", "common_params_check",
    "current_plugins", "instrument_name", "load_plugins", "memo_lookup", "metric_name", "params_json_schema",
    "requirement_vetoes", "tag_name",
    # message parts (greenmatch.text) and labels
    "N_", "Amount", "Clauses", "Label", "Listing", "Msg", "Name", "Num", "Pct", "label_msgid", "labels",
    "register_catalogue", "register_names", "render_all", "translate",
    # facts, money, codes, reference look-ups, settings
    "COLLATERAL", "RISK_EXPOSURES", "STAGES", "Money", "ProductFacts", "ProjectFacts", "RuleSettings",
    "SettingsBase", "category_covers", "normalize_industry_code", "reference", "region_covers",
    # the shared rules (resolved on first use)
    *_TOOLKIT_LAZY,
]


def __getattr__(name: str) -> Any:
    module = _TOOLKIT_LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__package__}.{module}"), name)
    globals()[name] = value  # once: later look-ups find the module attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_TOOLKIT_LAZY})


# registers the instrument, tag and metric names for messages (after the registry above: it imports it)
from .plugin_names import instrument_name, metric_name, tag_name  # noqa: E402
