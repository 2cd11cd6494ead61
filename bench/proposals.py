"""Fixes proposed for the engine, kept here so the benchmarks can measure them before they move
into bot/rag/ (see docs/benchmarks.md, "What to fix"). Nothing in bot/ imports this module.

- PostingsBM25: Okapi BM25 with the same scores as rank_bm25.BM25Okapi (k1 1.5, b 0.75, the
  same idf and epsilon floor), stored as postings. rank_bm25 scores a query with one Python
  dictionary look-up per query term per chunk; at 10k chunks that is 25 ms a query, at 50k
  over 100 ms. Postings cost the length of the query terms' lists: about 0.1 ms at 10k.
- install_paged_get: reading a whole collection in one `get` fails past ~32k chunks
  ("too many SQL variables"); HybridRetriever._load should read it in pages.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np

PAGE = 5000


class PostingsBM25:
    """Drop-in for rank_bm25.BM25Okapi's `get_scores`, with identical scores."""

    def __init__(
        self, corpus: list[list[str]], k1: float = 1.5, b: float = 0.75, epsilon: float = 0.25
    ) -> None:
        self.corpus_size = len(corpus)
        lengths = np.fromiter((len(doc) for doc in corpus), dtype=np.float64, count=len(corpus))
        avgdl = float(lengths.mean()) if len(corpus) else 0.0
        docs: dict[str, list[int]] = {}
        freqs: dict[str, list[int]] = {}
        for i, doc in enumerate(corpus):
            for term, tf in Counter(doc).items():
                docs.setdefault(term, []).append(i)
                freqs.setdefault(term, []).append(tf)
        n = self.corpus_size
        idf = {t: math.log(n - len(d) + 0.5) - math.log(len(d) + 0.5) for t, d in docs.items()}
        floor = epsilon * (sum(idf.values()) / len(idf)) if idf else 0.0
        norm: np.ndarray = k1 * (1 - b + b * lengths / avgdl) if avgdl else np.zeros_like(lengths)
        self.postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for term, found in docs.items():
            index = np.asarray(found, dtype=np.int64)
            counts = np.asarray(freqs[term], dtype=np.float64)
            weight = idf[term] if idf[term] >= 0 else floor
            self.postings[term] = (index, weight * counts * (k1 + 1) / (counts + norm[index]))

    def get_scores(self, query: list[str]) -> np.ndarray:
        scores = np.zeros(self.corpus_size)
        for term in query:  # a repeated query term counts again, as in rank_bm25
            found = self.postings.get(term)
            if found is not None:
                scores[found[0]] += found[1]
        return scores


def install_paged_get() -> None:
    """Make a whole-collection `Collection.get` read in pages of PAGE records (process-wide).

    In one call, Chroma's SQLite store binds one variable a record and fails past SQLite's
    limit of 32,766. This stands in for the fix in HybridRetriever._load."""
    from chromadb.api.models.Collection import Collection

    original = Collection.get
    if getattr(original, "paged", False):
        return

    def get(self: Collection, ids: Any = None, where: Any = None, limit: Any = None, **kwargs: Any) -> Any:
        if ids is not None or where is not None or limit is not None or kwargs.get("offset"):
            return original(self, ids=ids, where=where, limit=limit, **kwargs)
        pages: list[Any] = []
        while True:
            page = original(self, limit=PAGE, offset=PAGE * len(pages), **kwargs)
            pages.append(page)
            if len(page["ids"]) < PAGE:
                break
        merged: dict[str, Any] = dict(pages[0])
        for key in ("ids", "documents", "metadatas", "embeddings"):
            if merged.get(key) is not None:
                merged[key] = [x for page in pages for x in page[key]]
        return merged

    get.paged = True  # type: ignore[attr-defined]
    Collection.get = get  # type: ignore[method-assign,assignment]  # bench-only stand-in for the fix
