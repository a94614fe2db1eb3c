"""Suggest 2025 catalogue level-3 items for a project description.

Method (no training data is needed; everything is built from the shipped reference data once per process):

1. Each level-3 item becomes a weighted text document: its Chinese name (strongest), a short curated keyword
   text (``KEYWORDS``, data below), its level-2 and level-1 names and keywords, the names of its GB/T 4754
   activity industries, and its English name (weak; for English queries).
2. Text is cut into character 1-3-grams inside runs of Chinese characters plus lower-cased Latin/digit words
   (``PUE``, ``CCUS``, ``VOCs``). Term weights are BM25-saturated frequencies times IDF over the 271 items.
   The query is L2-normalised; documents get a pivoted length normalisation (an item with a long activity
   list is not drowned by short ones). The text score mixes this full-document match with a match against
   the level-3 name alone (``NAME_CHANNEL``), plus ``PHRASE_BONUS`` when an item's whole name occurs verbatim.
3. The project's industry code is linked to the items' activity codes: an item with the same class, the same
   group or the same division gets a boost, scaled by how specific that code is (a code shared by many
   items, such as 4861 节能工程施工, boosts little). Per the catalogue's note 3, activity codes do not
   classify a firm, so this is a bounded tie-breaker, never a filter. The industry's name also joins the
   query text at a low weight.
4. Confidence: a softmax over all items plus a "none of these" pseudo-item whose score is
   ``NULL_SCORE``: texts that match nothing get low confidence instead of a uniform share of certainty.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from scipy import sparse

from greenmatch import reference
from greenmatch.codes import normalize_industry_code

# ------------------------------------------------------------------------------------------------------------
# Tunables. Weights were set by reasoning about the score scales and checked by "self-retrieval" (each item's
# own name must rank it first: 271/271); bench/classify.py reports accuracy and calibration for them.
# ------------------------------------------------------------------------------------------------------------

FIELD_WEIGHTS = {
    "name": 3.0,  # the level-3 item's Chinese name
    "keywords": 2.0,  # curated keywords of the level-3 item
    "l2": 1.0,  # level-2 name and keywords
    "l1": 0.5,  # level-1 name and keywords
    "activities": 0.6,  # GB/T 4754 names of the item's activity rows
    "name_en": 0.4,
}
NGRAM_WEIGHTS = {1: 0.25, 2: 1.0, 3: 1.0}  # Chinese character n-gram sizes
WORD_WEIGHT = 1.0  # Latin/digit words
BM25_K = 1.2
PIVOT_SLOPE = 0.5  # document length normalisation: 1.0 = plain cosine, lower = less penalty for long documents
# Share of the text score that comes from matching the level-3 name alone (an exact or near-exact name must win
# even against items whose short documents concentrate weight on generic words such as 设施建设和运营).
NAME_CHANNEL = 0.35
# Added when the item's whole Chinese name occurs verbatim in the name or description (people paste catalogue
# names; 2019 names often equal 2025 ones). Decides "X装备制造" vs "X装备贸易", whose n-grams barely differ.
PHRASE_BONUS = 0.15
# Texts longer than this (per field) are cut: keeps a call bounded in time whatever is pasted in.
MAX_FIELD_CHARS = 4000
QUERY_WEIGHTS = {"name": 2.0, "description": 1.0, "industry": 0.5}
# Industry-code link: weight per match depth, then scaled by the code's specificity.
INDUSTRY_MATCH_WEIGHTS = {4: 1.0, 3: 0.6, 2: 0.3}
INDUSTRY_BOOST = 0.12
# Confidence: softmax temperature over combined scores and the score of the "none of these" pseudo-item.
# TEMPERATURE minimises the log-loss of the true label on the "dev" split of bench/data/classify_eval.json (the
# "holdout" split checks it). The log-loss is flat for NULL_SCORE in [0, 0.1]; the top of that range is taken so
# that uninformative text ("项目", a company profile) does not get confident suggestions.
TEMPERATURE = 0.03
NULL_SCORE = 0.10

# ------------------------------------------------------------------------------------------------------------
# Curated keyword text (data, not rules): common synonyms, trade terms and abbreviations used in filings for an
# item (dotted level-3 code) or a whole level-2 group, in catalog/data/classifier_keywords.json.
# ------------------------------------------------------------------------------------------------------------

_KEYWORDS_FILE = Path(__file__).resolve().parent / "data" / "classifier_keywords.json"


def _load_keywords() -> dict[str, str]:
    data = json.loads(_KEYWORDS_FILE.read_text(encoding="utf-8"))
    return {str(code): str(text) for code, text in data["keywords"].items()}


KEYWORDS: dict[str, str] = _load_keywords()

_EN_STOPWORDS = frozenset(
    ("a", "an", "and", "of", "the", "for", "in", "on", "to", "with", "by", "or", "other", "its", "their", "as", "at")
)
_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z][a-z0-9]*(?:[-+][a-z0-9]+)*|\d+[a-z][a-z0-9]*")


@dataclass(frozen=True)
class Suggestion:
    code: str
    name_zh: str
    name_en: str
    confidence: float


def _terms(text: str) -> dict[str, float]:
    """Weighted terms of a text: Chinese character 1-3-grams within each run, Latin words (``pue``, ``co2``).
    Pure numbers are dropped: they carry capacities, not meaning."""
    out: dict[str, float] = {}
    text = _fold(text)
    for match in _RUN.finditer(text):
        run = match.group()
        if run[0].isascii():
            if run not in _EN_STOPWORDS and len(run) > 1:
                out[run] = out.get(run, 0.0) + WORD_WEIGHT
            continue
        for n, weight in NGRAM_WEIGHTS.items():
            for i in range(len(run) - n + 1):
                gram = run[i : i + n]
                out[gram] = out.get(gram, 0.0) + weight
    return out


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").casefold()


# Negation: what a filing says it does *not* do or need ("无需环评", "不涉及危险废物") is not evidence of that
# activity. The span from a negation cue to the next clause boundary is dropped before matching.
# A bare 无 is no cue: 无害化, 无组织排放, 无人机 are activities.
_NEGATED = re.compile(r"(?:无需|无须|不需要?|不涉及|未涉及|不含|不属于|不包括|免于)[^，。；、,.;:：\n（）()]{0,20}")


def strip_negated(text: str) -> str:
    """``text`` without its negated clauses: "不涉及危险废物处置，建设光伏" → " ，建设光伏"."""
    return _NEGATED.sub(" ", text)


def _phrase_bonus(index: _Index, name: str, description: str) -> np.ndarray:
    text = _fold(name) + "\n" + _fold(description)
    return np.fromiter((PHRASE_BONUS if p in text else 0.0 for p in index.phrases), dtype=np.float64)


def _add(acc: dict[str, float], terms: dict[str, float], weight: float) -> None:
    for term, tf in terms.items():
        acc[term] = acc.get(term, 0.0) + tf * weight


def _saturate(tf: float) -> float:
    return tf * (BM25_K + 1.0) / (tf + BM25_K)


@dataclass(frozen=True)
class _Index:
    items: tuple[reference.Category, ...]
    vocab: dict[str, int]
    idf: np.ndarray  # (V,)
    matrix_t: sparse.csr_matrix  # (V, N): normalised document weights, one row per term
    names_t: sparse.csr_matrix  # (V, N): the same for the level-3 names alone
    phrases: tuple[str, ...]  # NFKC-casefolded level-3 names, for the verbatim-name bonus
    industry_links: dict[int, dict[str, tuple[np.ndarray, float]]]  # depth -> code prefix -> (item idx, spec)


@cache
def _index() -> _Index:
    cats = reference.catalogue()
    items = tuple(c for c in cats.values() if c.level == 3)
    docs: list[dict[str, float]] = []
    for cat in items:
        l2 = cats[cat.parent] if cat.parent else None
        l1 = cats[l2.parent] if l2 and l2.parent else None
        doc: dict[str, float] = {}
        _add(doc, _terms(cat.name_zh), FIELD_WEIGHTS["name"])
        _add(doc, _terms(KEYWORDS.get(cat.code, "")), FIELD_WEIGHTS["keywords"])
        if l2 is not None:
            _add(doc, _terms(l2.name_zh + " " + KEYWORDS.get(l2.code, "")), FIELD_WEIGHTS["l2"])
        if l1 is not None:
            _add(doc, _terms(l1.name_zh + " " + KEYWORDS.get(l1.code, "")), FIELD_WEIGHTS["l1"])
        industry_names = dict.fromkeys(a.industry_name_zh for a in reference.activity_industries(cat.code))
        _add(doc, _terms(" ".join(industry_names)), FIELD_WEIGHTS["activities"])
        _add(doc, _terms(cat.name_en), FIELD_WEIGHTS["name_en"])
        docs.append(doc)

    names = [_terms(cat.name_zh) for cat in items]
    vocab: dict[str, int] = {}
    df: list[int] = []
    for doc in docs:
        for term in doc:
            if term not in vocab:
                vocab[term] = len(vocab)
                df.append(0)
            df[vocab[term]] += 1
    n = len(docs)
    idf = np.log(1.0 + n / np.asarray(df, dtype=np.float64))
    matrix = _weights(docs, vocab, idf)
    names_matrix = _weights(names, vocab, idf)
    phrases = tuple(_fold(cat.name_zh) for cat in items)

    # Industry-code link: for each depth (4 = class, 3 = group, 2 = division) the items whose activity codes
    # share that prefix, with a specificity in (0, 1]: 1 for a prefix unique to one item.
    links: dict[int, dict[str, tuple[np.ndarray, float]]] = {}
    for depth in INDUSTRY_MATCH_WEIGHTS:
        by_prefix: dict[str, set[int]] = {}
        for j, cat in enumerate(items):
            for code in cat.activity_codes:
                if code and len(code) >= depth:
                    by_prefix.setdefault(code[:depth], set()).add(j)
        links[depth] = {
            prefix: (np.fromiter(sorted(members), dtype=np.intp), math.log(n / len(members)) / math.log(n))
            for prefix, members in by_prefix.items()
            if len(members) < n
        }
    return _Index(items, vocab, idf, matrix, names_matrix, phrases, links)


def _weights(docs: list[dict[str, float]], vocab: dict[str, int], idf: np.ndarray) -> sparse.csr_matrix:
    """(V, N) matrix of saturated tf x idf weights. Columns are divided by a pivoted norm
    ``(1 - s) * mean_norm + s * norm`` (Singhal, Buckley & Mitra 1996) rather than their own L2 norm, so items
    with long activity lists are not drowned by short ones; the scale stays that of a cosine."""
    rows: list[int] = []
    cols: list[int] = []
    values: list[float] = []
    for j, doc in enumerate(docs):
        for term, tf in doc.items():
            t = vocab[term]
            rows.append(t)
            cols.append(j)
            values.append(_saturate(tf) * idf[t])
    matrix = sparse.csc_matrix((values, (rows, cols)), shape=(len(vocab), len(docs)), dtype=np.float64)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=0)).ravel())
    positive = norms > 0
    scale = np.zeros(len(docs))
    if positive.any():
        pivot = (1.0 - PIVOT_SLOPE) * norms[positive].mean() + PIVOT_SLOPE * norms
        scale[positive] = 1.0 / pivot[positive]
    return sparse.csr_matrix(matrix @ sparse.diags(scale))


def _known_industry(industry_code: str | None) -> str | None:
    """The normalised code, cut back to its longest prefix that exists in GB/T 4754 (None if none does)."""
    if not isinstance(industry_code, str):
        return None
    code = normalize_industry_code(industry_code)
    known = reference.industries()
    while code and code not in known:
        code = code[:-1] if len(code) > 2 else None
    return code


def _text_scores(index: _Index, name: str, description: str, industry: str | None) -> np.ndarray:
    query: dict[str, float] = {}
    _add(query, _terms(name), QUERY_WEIGHTS["name"])
    _add(query, _terms(description), QUERY_WEIGHTS["description"])
    if industry is not None:
        _add(query, _terms(reference.industries()[industry].name_zh), QUERY_WEIGHTS["industry"])
    rows: list[int] = []
    weights: list[float] = []
    for term, tf in query.items():
        t = index.vocab.get(term)
        if t is not None:
            rows.append(t)
            weights.append(_saturate(tf) * index.idf[t])
    if not rows:
        return np.zeros(len(index.items))
    w = np.asarray(weights)
    w /= np.linalg.norm(w)
    full = index.matrix_t[rows].T @ w
    name_only = index.names_t[rows].T @ w
    return (1.0 - NAME_CHANNEL) * full + NAME_CHANNEL * name_only


def _industry_boost(index: _Index, industry: str | None) -> np.ndarray:
    boost = np.zeros(len(index.items))
    if industry is None:
        return boost
    for depth, weight in INDUSTRY_MATCH_WEIGHTS.items():
        if len(industry) < depth:
            continue
        link = index.industry_links[depth].get(industry[:depth])
        if link is not None:
            members, specificity = link
            boost[members] = np.maximum(boost[members], weight * specificity)
    return boost


def scores(name: str, description: str = "", industry_code: str | None = None) -> np.ndarray:
    """Combined score of every 2025 level-3 item, in catalogue order (the order of ``level3_items()``)."""
    index = _index()
    industry = _known_industry(industry_code)
    name = name[:MAX_FIELD_CHARS] if isinstance(name, str) else ""
    description = description[:MAX_FIELD_CHARS] if isinstance(description, str) else ""
    name, description = strip_negated(name), strip_negated(description)
    return (
        _text_scores(index, name, description, industry)
        + _phrase_bonus(index, name, description)
        + INDUSTRY_BOOST * _industry_boost(index, industry)
    )


def level3_items() -> tuple[reference.Category, ...]:
    return _index().items


def classify(name: str, description: str = "", industry_code: str | None = None, limit: int = 5) -> list[Suggestion]:
    """Up to ``limit`` suggested 2025 level-3 items, best first, with confidences in [0, 1].

    Never raises on odd input: empty or garbage text gives low-confidence suggestions, an unknown or malformed
    industry code is ignored (a well-formed unknown class falls back to its known group or division).
    """
    index = _index()
    limit = int(limit)
    if limit <= 0:
        return []
    combined = scores(name, description, industry_code)
    # softmax over items and the "none of these" pseudo-item
    top = max(float(combined.max()), NULL_SCORE)
    weights = np.exp((combined - top) / TEMPERATURE)
    total = float(weights.sum()) + math.exp((NULL_SCORE - top) / TEMPERATURE)
    order = np.argsort(-combined, kind="stable")[:limit]
    out = []
    for j in order:
        cat = index.items[int(j)]
        confidence = min(1.0, max(0.0, float(weights[j]) / total))
        out.append(Suggestion(cat.code, cat.name_zh, cat.name_en, round(confidence, 4)))
    return out


def map_legacy_2019(code: str, limit: int = 3) -> list[tuple[str, float]]:
    """SUGGESTED 2025 level-3 items for a 2019 green industry catalogue level-3 item, best first, as
    ``(code_2025, score)`` with score in [0, 1].

    There is no official 2019 -> 2025 crosswalk in the data: this ranks 2025 items by the text classifier's
    similarity to the 2019 item's name and its level-2 / level-1 names. Treat the result as a suggestion
    for a person to confirm when migrating old records. Unknown codes and non-level-3 codes give [].
    """
    old = reference.catalogue("2019").get(code)
    if old is None or old.level != 3:
        return []
    context = "，".join(a.name_zh for a in reference.ancestors(code, "2019"))
    return [(s.code, s.confidence) for s in classify(old.name_zh, context, limit=limit)]
