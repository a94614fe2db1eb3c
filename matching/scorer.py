"""Bulk scoring on ``scipy.sparse``: hard rules first, then meta-path proximity and fit.

Score of a project *p* and a product *q* that passes the hard rules::

    score(p, q) = round( sum_c  w_c * prox_c(p, q)                      (c in settings.PATH_COMPONENTS)
                       + w_amount * amount_fit(need_p, min_q, max_q)
                       + w_plugin * plugin_q.assess(p).fit
                       + w_policy * policy(p),  settings.score_decimals )

* ``prox_c`` is the meta-path proximity of :mod:`greenmatch.matching.graph`: the sum over
  meeting nodes *n* of ``H_p[c, n] * H_q[c, n]``, where the half-path weights *H* are products of
  edge weights (a random walk out of the project over row-normalised edges, hierarchy hops
  decayed; the product side normalised the same way). The scorer holds ``w_c * H_p`` of all
  projects as rows of a CSR matrix ``X`` (columns: (meta-path, meeting node)) and ``H_q`` of all
  products as a dense ``Y`` restricted to the columns some product reaches, so one chunk of
  projects is scored by one sparse x dense product ``X_chunk @ Y.T``, read at the eligible pairs.
  Each ``prox_c`` lies in [0, 1].
* ``amount_fit``: where the financing need lies in the product's amount range on a log scale,
  ``x = (ln need - ln min) / (ln max - ln min)`` clipped to [0, 1]; the fit is 1 at the geometric
  centre and ``amount_edge_fit`` at either edge: ``1 - (1 - amount_edge_fit) * |2x - 1|``. A range
  open on one side is closed ``amount_open_decades`` decades beyond its bound; no bound at all
  gives ``amount_unbounded_fit``.
* ``plugin fit``: the instrument plugin's ``assess(project).fit`` (computed once per project and
  plugin), clipped to [0, 1].
* ``policy(p) = min(1, sum of policy_certifications weights the project holds +
  policy_region_bonus if its region code starts with one of policy_region_prefixes)``.

Weights are normalised to sum 1, so the score lies in [0, 1]. Rounding makes ties exact, so the
ranking (score desc, then product id asc / project id asc) is reproducible and equal to the
per-pair baseline's.

Hard rules prune first (:mod:`greenmatch.matching.hard_rules`), then the eligible pairs are scored here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from greenmatch.facts import ProjectFacts
from greenmatch.instruments import InstrumentPlugin

from .blocks import HalfPathTable, ProjectBlock, build_block
from .formulas import EXCLUDED, Vocabulary, round_score
from .hard_rules import eligible_pairs
from .product_index import ProductIndex
from .settings import MatchSettings


def compressed_X(block: ProjectBlock, index: ProductIndex) -> sp.csr_matrix:
    """The block's half-path rows restricted to (and renumbered into) the columns products reach."""
    X = block.X
    cols = X.indices
    mapped = np.full(len(cols), -1, dtype=np.int64)
    inside = cols < len(index.col_map)
    mapped[inside] = index.col_map[cols[inside]]
    keep = mapped >= 0
    kept_before = np.concatenate([[0], np.cumsum(keep, dtype=np.int64)])
    indptr = kept_before[X.indptr]
    return sp.csr_matrix((X.data[keep], mapped[keep], indptr), shape=(X.shape[0], len(index.used)))


@dataclass
class PairScores:
    """The scored pairs of a block: row in the block, product index, score (sorted by row, product)."""

    rows: np.ndarray
    qs: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.rows)


def score_block(block: ProjectBlock, index: ProductIndex, settings: MatchSettings,
                Xc: sp.csr_matrix | None = None) -> PairScores:
    """Score every pair passing the hard rules (and ``min_score``)."""
    rows, qs = eligible_pairs(block, index)
    if len(rows) == 0:
        return PairScores(rows, qs, np.zeros(0))
    if Xc is None:
        Xc = compressed_X(block, index)
    touched = np.unique(rows)
    if len(touched) * 4 < len(block):  # few rows (e.g. one product against every project): only those
        sub = np.full(len(block), -1, dtype=np.int64)
        sub[touched] = np.arange(len(touched))
        prox = np.asarray(Xc[touched] @ index.Yd)[sub[rows], qs]
    else:
        prox = np.asarray(Xc @ index.Yd)[rows, qs]  # sum_c w_c * prox_c
    span = index.span[qs]
    x = (block.log_need[rows] - index.ln_lo[qs]) / np.where(span > 0, span, 1.0)
    np.clip(x, 0.0, 1.0, out=x)
    amount = 1.0 - (1.0 - settings.amount_edge_fit) * np.abs(2.0 * x - 1.0)
    amount[span <= 0] = 1.0
    amount[index.amount_open[qs]] = settings.amount_unbounded_fit
    scores = (prox + settings.w_amount * amount + settings.w_plugin * block.fit[rows, index.instr[qs]]
              + settings.w_policy * block.policy[rows])
    scores = round_score(scores, settings)
    keep = scores >= settings.min_score
    return PairScores(rows[keep], qs[keep], scores[keep])


def group_ranks(groups: np.ndarray) -> np.ndarray:
    """0-based position of each element within its run of equal values (``groups`` sorted)."""
    n = len(groups)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate([[True], groups[1:] != groups[:-1]]))
    return np.arange(n) - np.repeat(starts, np.diff(np.append(starts, n)))


def top_pairs(group: np.ndarray, other: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the best ``k`` pairs of each group by (score desc, other asc), and their 0-based
    ranks; sorted by group, then rank."""
    order = np.lexsort((other, -scores, group))
    ranks = group_ranks(group[order])
    keep = ranks < k
    return order[keep], ranks[keep]


@dataclass
class ChunkScores:
    """Pass 1 of a full run for one chunk of projects (see :func:`score_chunk`)."""

    start: int
    block: ProjectBlock  # X and PT dropped; facts dropped when computed in a worker
    Xc: sp.csr_matrix
    top: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # project side: rows, products, scores, ranks
    candidates: tuple[np.ndarray, ...]  # product side: products, rows, scores
    eligible: int
    considered: int


def score_chunk(projects: Sequence[ProjectFacts], start: int, plugins: Sequence[InstrumentPlugin],
                settings: MatchSettings, half_paths: HalfPathTable, plugin_tags: Vocabulary,
                index: ProductIndex) -> ChunkScores:
    """Evaluate, score and select one chunk: everything pass 1 does that needs no other chunk."""
    block = build_block(projects, plugins, settings, half_paths, plugin_tags, assess=False)
    Xc = compressed_X(block, index)
    pairs = score_block(block, index, settings, Xc)
    at, ranks = top_pairs(pairs.rows, pairs.qs, pairs.scores, settings.project_top_k)
    top = (pairs.rows[at], pairs.qs[at], pairs.scores[at], ranks)
    at, _ = top_pairs(pairs.qs, pairs.rows, pairs.scores, settings.product_top_l)
    candidates = (pairs.qs[at], pairs.rows[at], pairs.scores[at])
    block.X = block.PT = None  # not needed any more: Xc holds what scoring and explaining use
    block._metric_dicts.clear()
    block._codes.clear()
    return ChunkScores(start, block, Xc, top, candidates, len(pairs), len(projects) * len(index))


class ProductTop:
    """Running top-L projects per product across chunks; projects arrive in ascending order, so
    a later project never wins a tie (project id asc)."""

    def __init__(self, m: int, L: int, decimals: int = 12) -> None:
        self.m, self.L = m, L
        self.q = np.zeros(0, dtype=np.int64)
        self.g = np.zeros(0, dtype=np.int64)
        self.s = np.zeros(0, dtype=np.float64)
        self.threshold = np.full(m, EXCLUDED)  # the L-th score once a product has L projects
        # (product, score desc) packed in one int64 when rounded scores allow it: merging the kept
        # list with a chunk's candidates is then a stable sort of two sorted runs (linear time)
        self._scale = 10.0 ** decimals
        self._shift = int(self._scale).bit_length()
        self._packable = self._shift + max(1, m).bit_length() < 63

    def add(self, qs: np.ndarray, gs: np.ndarray, vs: np.ndarray) -> None:
        """Merge candidates (product, global project position, score) of projects that come after
        every project seen so far; each list sorted by (product, score desc, project)."""
        if len(qs) == 0:
            return
        better = vs > self.threshold[qs]
        q = np.concatenate([self.q, qs[better].astype(np.int64)])
        g = np.concatenate([self.g, gs[better].astype(np.int64)])
        s = np.concatenate([self.s, vs[better]])
        if self._packable:
            # kept entries first, candidates after: a stable sort on (product, score desc) keeps the
            # earlier (smaller) project first on ties
            inv = (self._scale - np.rint(s * self._scale)).astype(np.int64)
            order = np.argsort((q << self._shift) | inv, kind="stable")
            at = order[group_ranks(q[order]) < self.L]
        else:
            at, _ = top_pairs(q, g, s, self.L)
        self.q, self.g, self.s = q[at], g[at], s[at]
        full = np.bincount(self.q, minlength=self.m) >= self.L
        last = np.searchsorted(self.q, np.arange(self.m), side="right") - 1
        self.threshold = np.where(full, self.s[np.clip(last, 0, None)] if len(self.s) else EXCLUDED, EXCLUDED)

    def ranks(self) -> np.ndarray:
        return group_ranks(self.q)
