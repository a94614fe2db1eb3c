"""The hard rules, vectorised over index arrays of (project row, product) pairs.

Hard rules prune first, on index arrays of (project row, product) pairs, with exactly the
semantics of :meth:`greenmatch.instruments.InstrumentPlugin.check`: the region rule (the most
selective) builds the candidate pairs from the admitting products of each distinct region code
(``region_covers``: the project's code starts with a listed region's prefix); then, vectorised
over the pairs, the amount bounds, the stages, the categories (``category_covers`` at any level,
decided once per distinct code); then the instrument's ``assess(project).eligible``, called once
per project and plugin and, in a full run, only for the projects some product of that plugin is
still a candidate for; and the product's ``product_requirements``: ``required_tags_any`` against
that plugin's ``project_tags`` (sparse product), numeric ``bounds`` against its
``project_metrics`` (a missing metric fails). No Python loop runs over pairs.
"""

from __future__ import annotations

import numpy as np

from .blocks import ProjectBlock
from .product_index import ProductIndex


# ---------------------------------------------------------------------------------------------
# Scoring a block of projects against the product index
# ---------------------------------------------------------------------------------------------
def _region_pairs(block: ProjectBlock, index: ProductIndex) -> tuple[np.ndarray, np.ndarray]:
    """Every (row, product) pair the region rule admits, sorted by row then product: the most
    selective rule builds the candidate list, the others filter it."""
    distinct, inverse = block.distinct("region_code")
    admitted = index.region_admission(distinct)[inverse]
    rows = np.repeat(np.arange(len(block), dtype=np.int64), np.diff(admitted.indptr))
    return rows, admitted.indices.astype(np.int64)


def eligible_pairs(block: ProjectBlock, index: ProductIndex) -> tuple[np.ndarray, np.ndarray]:
    """(rows, products) of the pairs passing every hard rule, i.e. exactly those for which
    ``plugin.check(project, product).eligible`` holds; sorted by row, then product."""
    if len(block) == 0 or len(index) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    rows, qs = _region_pairs(block, index)
    need = block.need[rows]
    keep = ~(need < index.lo[qs]) & ~(need > index.hi[qs])
    rows, qs = rows[keep], qs[keep]
    distinct, inverse = block.distinct("stage")
    keep = np.stack([index.stage_row(stage) for stage in distinct])[inverse[rows], qs]
    if index.has_cat_rule.any():
        codes, ind = block.category_indicator()
        category_ok = ~index.has_cat_rule[qs]
        if codes:
            covered = (ind @ np.stack([index.category_row(c) for c in codes]).astype(np.float32)) > 0
            category_ok |= covered[rows, qs]
        keep &= category_ok
    rows, qs = rows[keep], qs[keep]
    instr = index.instr[qs]
    block.assess(rows, instr)  # the plugins judge only the pairs the rules above left
    keep = block.eligible[rows, instr]  # the instrument's assess(project).eligible
    rows, qs = rows[keep], qs[keep]
    if index.has_req.any() and len(rows):
        keep = ~index.has_req[qs]
        width = block.PT.shape[1]
        present = index.req_ids < width
        if present.any():
            hits = np.asarray(block.PT[:, index.req_ids[present]] @ index.RQ[present]) > 0
            keep |= hits[rows, qs]
        rows, qs = rows[keep], qs[keep]
    if index.bound_groups and len(rows):
        keep = np.ones(len(rows), dtype=bool)
        for (j, name, _, low, high), position in zip(index.bound_groups, index.bound_position, strict=True):
            at = np.flatnonzero(position[qs] >= 0)
            if len(at):
                v, present = block.metric(j, name, rows[at])
                b = position[qs[at]]
                keep[at] &= present & ~(v < low[b]) & ~(v > high[b])
        rows, qs = rows[keep], qs[keep]
    return rows, qs


def hard_mask(block: ProjectBlock, index: ProductIndex) -> np.ndarray:
    """(n, m) bool: the pairs that pass every hard rule (for tests and small inputs)."""
    mask = np.zeros((len(block), len(index)), dtype=bool)
    rows, qs = eligible_pairs(block, index)
    mask[rows, qs] = True
    return mask
