"""Named, documented settings of the matcher (one frozen dataclass).

Every weight and threshold the matcher uses lives here, so a deployment can change it through
configuration (``MatchSettings.from_config(app.config.get("MATCHING", {}))``) and a reviewer can
see in one place what drives a ranking. The score formula these weights enter is documented in
:mod:`greenmatch.matching.scorer`.

Score weights (``w_*``) are non-negative and are normalised to sum to 1 when the settings are
built, so every score stays in [0, 1] whatever a deployment sets. Each score component is itself
in [0, 1].
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

#: The meta-path components of the proximity part of the score, in the order they are summed.
PATH_COMPONENTS = (
    "category",
    "region",
    "tag",
    "industry",
    "outcome_category",
    "outcome_industry",
    "preference",
    "stage",
)
#: The non-path components.
OTHER_COMPONENTS = ("amount", "plugin", "policy")


def _frozen(mapping: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class MatchSettings:
    """Weights and limits of the matcher. Build with ``MatchSettings()`` or :meth:`from_config`."""

    # -- score weights (normalised to sum 1) ---------------------------------------------------
    #: project -> level-3 category -> broader categories ... <- product's target categories
    w_category: float = 0.22
    #: project -> region -> prefecture -> province ... <- product's service regions
    w_region: float = 0.12
    #: project -> tag <- product (certifications, collateral, risk exposures, plugin tags)
    w_tag: float = 0.10
    #: project -> industry (GB/T 4754) -> catalogue items listing it as activity -> ... <- product
    w_industry: float = 0.06
    #: product -> financed project -> category <- project ("financed similar projects")
    w_outcome_category: float = 0.06
    #: product -> financed project -> industry <- project
    w_outcome_industry: float = 0.04
    #: project -> preferred instrument <- product
    w_preference: float = 0.04
    #: project -> stage <- product (a product serving fewer stages is more specific)
    w_stage: float = 0.02
    #: how centred the financing need is in the product's amount range (log scale)
    w_amount: float = 0.12
    #: the instrument plugin's own fit, ``plugin.assess(project).fit``
    w_plugin: float = 0.14
    #: policy priority of the project (certifications, key regions)
    w_policy: float = 0.08

    # -- graph edge weights (decay per hop up a hierarchy) ---------------------------------------
    #: level 3 -> level 2 -> level 1 of the catalogue
    category_up_decay: float = 0.6
    #: level 1 -> the catalogue root (products with no category focus attach to the root)
    category_root_decay: float = 0.25
    #: county -> prefecture -> province
    region_up_decay: float = 0.7
    #: province -> the national root (nationwide products attach to the root)
    region_root_decay: float = 0.25
    #: industry class -> group -> division, when looking for the catalogue activity codes
    industry_up_decay: float = 0.5
    #: weight of the tags taken from project facts (certifications, collateral, risk exposures)
    fact_tag_weight: float = 1.0

    # -- amount fit ------------------------------------------------------------------------------
    #: fit at either edge of the product's range (1 at its geometric centre, linear in log distance)
    amount_edge_fit: float = 0.3
    #: a one-sided range is closed this many decades away from its given bound
    amount_open_decades: float = 2.0
    #: fit when the product sets no amount bound at all
    amount_unbounded_fit: float = 0.5

    # -- policy priority (summed, capped at 1) --------------------------------------------------
    #: certifications national policy asks financiers to favour (工信部联财〔2021〕159号 green
    #: manufacturing system; 专精特新 / little giants named for green funds in the same guidance)
    policy_certifications: Mapping[str, float] = field(
        default_factory=lambda: _frozen(
            {"zero_carbon_factory": 0.6, "green_factory": 0.4, "little_giant": 0.4, "specialized_sme": 0.3}
        )
    )
    #: region prefixes with a priority channel: Jing-Jin-Ji (Beijing 11, Tianjin 12, Hebei 13),
    #: seed 002 (the Beijing-Tianjin-Hebei green approval channel)
    policy_region_prefixes: tuple[str, ...] = ("11", "12", "13")
    policy_region_bonus: float = 0.3

    # -- output ----------------------------------------------------------------------------------
    #: products kept per project
    project_top_k: int = 20
    #: projects kept per product (the product's leads)
    product_top_l: int = 500
    #: pairs below this score are never kept
    min_score: float = 0.0
    #: explanation paths kept per match
    paths_per_match: int = 3
    #: scores are rounded to this many decimals, so the bulk scorer and the per-pair baseline
    #: (different summation orders) rank exact ties the same way
    score_decimals: int = 12
    #: projects scored per chunk: chunk x products float64 matrices; 1024 x 2,000 products = 16 MB,
    #: small enough for the allocator to reuse instead of mapping fresh pages for every chunk
    chunk_size: int = 1024
    #: processes calling the plugins during a full run (the plugins dominate its time). 0: automatic,
    #: the machine's cores up to 4, one per 10,000 projects (a smaller run stays in this process);
    #: 1: in this process. Workers are forked (Linux), so they share the facts without copying and need
    #: no pickled plugins.
    workers: int = 0

    def __post_init__(self) -> None:
        weights = self.weights_raw()
        if any(w < 0 for w in weights.values()):
            raise ValueError("score weights must not be negative")
        total = sum(weights.values())
        if total <= 0:
            raise ValueError("at least one score weight must be positive")
        if abs(total - 1.0) > 1e-12:
            for name, value in weights.items():
                object.__setattr__(self, f"w_{name}", value / total)
        for name in ("category_up_decay", "category_root_decay", "region_up_decay", "region_root_decay",
                     "industry_up_decay", "fact_tag_weight", "amount_edge_fit", "amount_unbounded_fit"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"{name} must lie in [0, 1]")
        if self.amount_open_decades <= 0:
            raise ValueError("amount_open_decades must be positive")
        if self.project_top_k < 1 or self.product_top_l < 1 or self.chunk_size < 1 or self.paths_per_match < 1:
            raise ValueError("project_top_k, product_top_l, paths_per_match and chunk_size must be >= 1")
        if self.workers < 0:
            raise ValueError("workers must be >= 0")
        if not isinstance(self.policy_certifications, MappingProxyType):
            object.__setattr__(self, "policy_certifications", _frozen(self.policy_certifications))
        object.__setattr__(self, "policy_region_prefixes", tuple(self.policy_region_prefixes))

    def weights_raw(self) -> dict[str, float]:
        return {name: float(getattr(self, f"w_{name}")) for name in (*PATH_COMPONENTS, *OTHER_COMPONENTS)}

    def weight(self, component: str) -> float:
        return getattr(self, f"w_{component}")

    @property
    def weights(self) -> dict[str, float]:
        """Normalised score weights by component name."""
        return self.weights_raw()

    @classmethod
    def from_config(cls, mapping: Mapping[str, Any] | None) -> MatchSettings:
        """Build from a configuration mapping (e.g. ``app.config["MATCHING"]``); keys are field
        names, case-insensitive; unknown keys raise ``ValueError`` so typos do not pass silently."""
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for raw_key, value in (mapping or {}).items():
            key = str(raw_key).lower()
            if key not in known:
                raise ValueError(f"unknown matching setting {raw_key!r}")
            values[key] = value
        return cls(**values)

    def replace(self, **changes: Any) -> MatchSettings:
        return dataclasses.replace(self, **changes)
