"""Lexical sparse vectors for BM25-style keyword search in Qdrant.

Qdrant's `idf` modifier on a sparse vector computes inverse document frequency over the
collection at query time; what we store per document is only the BM25 term-frequency part.
A query vector marks each query term with weight 1.0, so a document's score is the sum over
matching terms of IDF x saturated tf, which is BM25.

Terms are lowercased runs of Unicode letters and digits, at least two characters long,
minus a small English stopword list. A term's index is a stable 32-bit hash of it (the same
in every process and release, unlike Python's `hash`); the rare collisions merge terms,
which only blurs scores slightly.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections import Counter

__all__ = ["AVG_DOC_LEN", "K1", "B", "sparse_document", "sparse_query", "terms"]

# The usual BM25 defaults.
K1 = 1.2
B = 0.75
# BM25 normalises by the collection's average document length, which Qdrant does not
# track for us. Documents here are chunks capped by a token budget (800 tokens by
# default, of which stopwords and punctuation are a large share), so their term counts
# cluster in the low hundreds; a fixed 256 keeps length normalisation in the right range
# without a collection-wide statistic that would change (and stale every stored vector)
# with each upload.
AVG_DOC_LEN = 256.0

# `[^\W_]` is \w without the underscore: Unicode letters and digits only.
_WORD_RE = re.compile(r"[^\W_]+")

_STOPWORDS = frozenset(
    {
        "a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "did", "do", "does",
        "for", "from", "had", "has", "have", "he", "her", "his", "how", "i", "if", "in", "into",
        "is", "it", "its", "me", "my", "no", "not", "of", "on", "or", "our", "she", "so", "such",
        "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those",
        "to", "too", "us", "was", "we", "were", "what", "when", "where", "which", "who", "why",
        "will", "with", "would", "you", "your",
    }
)  # fmt: skip


def terms(text: str) -> list[str]:
    """The indexable terms of `text`, in order, repeats kept."""
    return [
        word for word in _WORD_RE.findall(text.lower()) if len(word) > 1 and word not in _STOPWORDS
    ]


# Vocabularies repeat heavily across chunks: hashing each distinct term once is most of
# the cost of a document vector saved.
@functools.lru_cache(maxsize=1 << 17)
def _index(term: str) -> int:
    return int.from_bytes(hashlib.blake2b(term.encode(), digest_size=4).digest(), "big")


def sparse_document(text: str) -> tuple[list[int], list[float]]:
    """(indices, values) of a document: BM25-saturated term frequencies, indices ascending."""
    words = terms(text)
    if not words:
        return [], []
    norm = K1 * (1.0 - B + B * len(words) / AVG_DOC_LEN)
    weights: dict[int, float] = {}
    for term, tf in Counter(words).items():
        index = _index(term)
        # Two terms hashing alike share one dimension: their weights add up.
        weights[index] = weights.get(index, 0.0) + tf * (K1 + 1.0) / (tf + norm)
    indices = sorted(weights)
    return indices, [weights[i] for i in indices]


def sparse_query(text: str) -> tuple[list[int], list[float]]:
    """(indices, values) of a query: each distinct term once with weight 1.0."""
    indices = sorted({_index(term) for term in terms(text)})
    return indices, [1.0] * len(indices)
