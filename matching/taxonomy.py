"""The reference taxonomies as the matching graph sees them: hierarchy chains (category, region,
industry), the catalogue's activity codes, and the zh/en labels of nodes."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from functools import cached_property
from typing import Any

from greenmatch.codes import normalize_industry_code
from greenmatch.text import Label, Msg, Name

from .graph import (
    CATEGORY,
    CATEGORY_ROOT,
    HALF_PARTS,
    INDUSTRY,
    INSTRUMENT,
    PRODUCT,
    REGION,
    REGION_ROOT,
    STAGE,
    TAG,
    NodeKey,
)
from .settings import MatchSettings

# ---------------------------------------------------------------------------------------------
# Taxonomy: hierarchy chains and labels
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# Taxonomy: hierarchy chains and labels
# ---------------------------------------------------------------------------------------------
class Taxonomy:
    """Hierarchy chains of categories, regions and industries with their decayed weights, and
    bilingual labels of every node. Caches per code; thread-safe for readers."""

    def __init__(self, settings: MatchSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._chains: dict[tuple[str, str], tuple[tuple[str, float], ...]] = {}
        self._parts: dict[tuple[str, str, Any], tuple[list[tuple[str, Any]], list[float]]] = {}
        self._labels: dict[NodeKey, Any] = {}

    # -- reference data (loaded lazily, cached per process by the reference module) -----------
    @cached_property
    def _catalogue(self) -> Mapping[str, Any]:
        from greenmatch import reference

        return reference.catalogue()

    @cached_property
    def _regions(self) -> Mapping[str, Any]:
        from greenmatch import reference

        return reference.regions()

    @cached_property
    def _industries(self) -> Mapping[str, Any]:
        from greenmatch import reference

        return reference.industries()

    @cached_property
    def activities(self) -> dict[str, tuple[str, ...]]:
        """GB/T 4754 activity code -> the level-3 catalogue items listing it (catalogue order)."""
        out: dict[str, list[str]] = {}
        for code, cat in self._catalogue.items():
            for act in cat.activity_codes:
                norm = normalize_industry_code(act)
                if norm and code not in out.setdefault(norm, []):
                    out[norm].append(code)
        return {k: tuple(v) for k, v in out.items()}

    # -- chains: ((code, weight from the start), ...), the start itself first with weight 1 ----
    def category_parent(self, code: str) -> str | None:
        if code == CATEGORY_ROOT:
            return None
        return code.rsplit(".", 1)[0] if "." in code else CATEGORY_ROOT

    def region_parent(self, code: str) -> str | None:
        if code == REGION_ROOT:
            return None
        if len(code) == 6 and code.isdigit():
            if not code.endswith("00"):
                return code[:4] + "00"
            if not code.endswith("0000"):
                return code[:2] + "0000"
        return REGION_ROOT

    def industry_parent(self, code: str) -> str | None:
        return code[:-1] if len(code) > 2 else None

    def parent(self, kind: str, code: str) -> tuple[str, float] | None:
        """The hierarchy parent of a node and the weight of the edge up to it."""
        s = self.settings
        if kind == CATEGORY:
            up = self.category_parent(code)
            return None if up is None else (up, s.category_root_decay if up == CATEGORY_ROOT else s.category_up_decay)
        if kind == REGION:
            up = self.region_parent(code)
            return None if up is None else (up, s.region_root_decay if up == REGION_ROOT else s.region_up_decay)
        if kind == INDUSTRY:
            up = self.industry_parent(code)
            return None if up is None else (up, s.industry_up_decay)
        return None

    def chain(self, kind: str, code: str) -> tuple[tuple[str, float], ...]:
        key = (kind, code)
        found = self._chains.get(key)
        if found is not None:
            return found
        out = [(code, 1.0)]
        weight, current = 1.0, code
        while (step := self.parent(kind, current)) is not None:
            current, hop = step
            weight *= hop
            out.append((current, weight))
        result = tuple(out)
        with self._lock:
            self._chains[key] = result
        return result

    def half_part(self, attr: str, value: Any) -> tuple[list[tuple[str, Any]], list[float]]:
        """A project half-path part (see ``HALF_PARTS``) as flat ((meta-path, node), w_c * weight)
        lists, cached per (attribute, value)."""
        key = ("half", attr, value)
        found = self._parts.get(key)
        if found is None:
            keys: list[tuple[str, Any]] = []
            vals: list[float] = []
            for name, nodes in dict(HALF_PARTS)[attr](value, self).items():
                w = self.settings.weight(name)
                if w > 0:
                    for node, value_ in nodes.items():
                        keys.append((name, node))
                        vals.append(w * value_)
            found = (keys, vals)
            with self._lock:
                self._parts[key] = found
        return found

    def activity_anchor(self, industry: str) -> tuple[str, float, tuple[str, ...]] | None:
        """Climbing from ``industry``: the first node that is a catalogue activity code, the weight
        of the climb, and the level-3 items listing it; None when no ancestor is one."""
        for code, weight in self.chain(INDUSTRY, industry):
            cats = self.activities.get(code)
            if cats:
                return code, weight, cats
        return None

    # -- labels ----------------------------------------------------------------------------------
    def label(self, node: NodeKey, names: Mapping[NodeKey, Any] | None = None) -> Any:
        """A node's label: a message part (greenmatch.text) rendered at the edge, or a name (projects);
        ``names`` supplies project/product/institution/instrument names."""
        if names and node in names:
            return names[node]
        found = self._labels.get(node)
        if found is None:
            found = self._labels[node] = node_label(node)
        return found


def node_label(node: NodeKey) -> Any:
    kind, key = node
    if kind == CATEGORY:
        return Msg("Green Finance Endorsed Project Catalogue (all categories)") if key == CATEGORY_ROOT \
            else Name("category", key)
    if kind == REGION:
        return Msg("nationwide") if key == REGION_ROOT else Name("region", key)
    if kind == INDUSTRY:
        return Name("industry", key)
    if kind == TAG:
        return Name("tag", key)
    if kind == STAGE:
        return Label("stage", key)
    if kind == INSTRUMENT:
        return Name("instrument", key)
    if kind == PRODUCT:
        return Msg("product: %(name)s", name=str(key))
    return f"{kind}: {key}"
