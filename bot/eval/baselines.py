"""Baselines to measure the engine against, on the same index and the same questions.

Four answerers share one interface, `answer(question, *, jurisdiction=None) -> Answer`, the
same Chroma collection and the same embedding model:

- `textbook`: the usual LangChain RAG. `langchain_chroma.Chroma` similarity search, top 4, no
  lexical search, no scope checks, no relevance floor: it always answers from the 4 passages.
- `bm25`: our engine with BM25 as the only retriever. No embedding is used to find or to judge
  passages: the relevance floor keeps its lexical part, and "off topic" is decided by our topic
  words alone.
- `dense`: our engine with Chroma's dense search as the only retriever (no BM25, no rare-name
  bonus, no jurisdiction boost); the relevance floor is ours, whole.
- `ours`: `bot.rag.engine.Engine`.

All four write the answer with the same extractive answerer (`bot.rag.answer.extractive`, which
embeds the candidate sentences), so the differences measured are those of retrieval and of the
checks around it. `compare()` runs all four on a question set and scores each with
`bot.eval.evaluate.score`.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from chromadb.api import ClientAPI
from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings

from bot.config import Settings
from bot.core.questions import check_question
from bot.core.text import tokens
from bot.core.types import Answer, Status
from bot.eval import evaluate
from bot.index import store
from bot.index.embeddings import make_embeddings
from bot.rag import answer as answering
from bot.rag.engine import CJK_LANGUAGES, CJK_LEXICAL_FLOOR, LEXICAL_FLOOR, Engine
from bot.rag.retriever import CANDIDATES, RRF_K, Hit, HybridRetriever, spread

log = logging.getLogger(__name__)

SYSTEMS = ("textbook", "bm25", "dense", "ours")
TEXTBOOK_K = 4


# -- (a) the textbook LangChain RAG ------------------------------------------------------------


class TextbookRAG:
    """LangChain's Chroma vector store, `similarity_search_with_score(question, k=4)`, and an
    extractive answer over those 4 passages. No lexical search, no relevance floor, no scope or
    refusal checks: whatever is asked, it answers from the nearest passages."""

    name = "textbook"

    def __init__(
        self,
        settings: Settings,
        embeddings: Embeddings | None = None,
        client: ClientAPI | None = None,
        k: int = TEXTBOOK_K,
    ) -> None:
        self.settings = settings
        self.embeddings = embeddings or make_embeddings(settings)
        self.client = client or store.make_client(settings)
        self.k = k
        # Only for the active collection's name and the extractive answerer's word weights,
        # so that every system writes its answer the same way; nothing lexical ranks passages.
        self._corpus_source = HybridRetriever(settings, self.client, self.embeddings)
        self._store: tuple[str, Chroma] | None = None

    def _vectors(self, collection: str) -> Chroma:
        """The LangChain vector store over the active collection (a reindex may switch it)."""
        if self._store is None or self._store[0] != collection:
            vectors = Chroma(
                client=self.client,
                collection_name=collection,
                embedding_function=self.embeddings,
                create_collection_if_not_exists=False,
            )
            self._store = (collection, vectors)
        return self._store[1]

    def search(self, question: str, *, jurisdiction: str | None = None) -> list[Hit]:
        corpus = self._corpus_source.corpus()
        where: Any = {"jurisdiction": jurisdiction.strip().upper()} if jurisdiction else None
        found = self._vectors(corpus.collection).similarity_search_with_score(
            question, k=self.k, filter=where
        )
        return [
            Hit(
                str(doc.id or ""),
                doc.page_content,
                dict(doc.metadata),
                dense=1.0 - float(distance),  # the collection uses cosine distance
                dense_rank=rank,
            )
            for rank, (doc, distance) in enumerate(found)
        ]

    def answer(self, question: str, *, jurisdiction: str | None = None) -> Answer:
        started = time.perf_counter()
        text = check_question(question, self.settings.max_question_chars)
        hits = self.search(text, jurisdiction=jurisdiction)
        idf = self._corpus_source.corpus().idf
        body, cites = answering.extractive(text, hits, self.embeddings, idf)
        status = Status.ANSWERED if cites else Status.NO_ANSWER
        result = Answer(text, status, body, "extractive", cites, retrieved=[h.source for h in hits])
        result.latency_ms = round((time.perf_counter() - started) * 1000)
        return result


# -- (b), (c) our engine with one retriever ------------------------------------------------------


class _SingleSignalRetriever(HybridRetriever):
    """A retriever with one ranking signal; the corpus, the scores the relevance floor reads
    (`dense`, `lexical`) and `spread` (no overlapping chunks, at most two a file) stay ours."""

    def _lexical(self, query: str, hits: Iterable[Hit]) -> None:
        """The share of the question's weighted words in each hit, as HybridRetriever.search does."""
        corpus = self.corpus()
        query_tokens = set(tokens(query))
        weights = {t: corpus.idf.get(t, 0.0) for t in query_tokens}
        total = sum(weights.values()) or 1.0
        index_of = {cid: i for i, cid in enumerate(corpus.ids)}
        for hit in hits:
            i = index_of.get(hit.id)
            token_set = corpus.token_sets[i] if i is not None else set(tokens(hit.text))
            hit.lexical = sum(w for t, w in weights.items() if t in token_set) / total


class DenseRetriever(_SingleSignalRetriever):
    """Chroma's nearest neighbours only, in their order."""

    def search(
        self,
        query: str,
        *,
        k: int = 6,
        jurisdiction: str | None = None,
        boost: set[str] | None = None,
        per_source: int = 2,
        context: str | None = None,  # one signal: the ask alone
    ) -> list[Hit]:
        corpus = self.corpus()
        if not corpus.ids:
            return []
        hits = self.dense_hits(corpus, self.embeddings.embed_query(query), jurisdiction)
        for hit in hits:
            hit.fused = 1.0 / (RRF_K + (hit.dense_rank or 0))
        self._lexical(query, hits)
        return spread(hits, k=k, per_source=per_source)


class BM25Retriever(_SingleSignalRetriever):
    """BM25 over the corpus the hybrid retriever builds, in BM25's order; no embedding at all."""

    def search(
        self,
        query: str,
        *,
        k: int = 6,
        jurisdiction: str | None = None,
        boost: set[str] | None = None,
        per_source: int = 2,
        context: str | None = None,  # one signal: the ask alone
    ) -> list[Hit]:
        corpus = self.corpus()
        query_tokens = tokens(query)
        if corpus.bm25 is None or not query_tokens:
            return []
        scores = corpus.bm25.get_scores(query_tokens)
        hits: list[Hit] = []
        for i in np.argsort(-scores):
            if scores[i] <= 0 or len(hits) >= CANDIDATES:
                break
            meta = corpus.metas[i]
            if jurisdiction and str(meta.get("jurisdiction", "")).upper() != jurisdiction.upper():
                continue
            hit = Hit(corpus.ids[i], corpus.texts[i], meta, bm25_rank=len(hits))
            hit.fused = 1.0 / (RRF_K + len(hits))
            hits.append(hit)
        self._lexical(query, hits)
        return spread(hits, k=k, per_source=per_source)


def bm25_floor(hit: Hit, language: str = "en") -> bool:
    """The relevance floor without dense scores: lexical alone (the rule our floor uses for CJK
    questions). A question is then on topic only when it uses one of our topic words."""
    return hit.lexical >= (CJK_LEXICAL_FLOOR if language in CJK_LANGUAGES else LEXICAL_FLOOR)


def make_systems(
    settings: Settings, embeddings: Embeddings | None = None, client: ClientAPI | None = None
) -> dict[str, evaluate.AnsweringSystem]:
    """The four answerers, in SYSTEMS order, sharing one embedding model and one Chroma client:
    the textbook RAG, and our engine handed the BM25 retriever, the dense one and the hybrid one."""
    embeddings = embeddings or make_embeddings(settings)
    client = client or store.make_client(settings)
    bm25 = BM25Retriever(settings, client, embeddings)
    dense = DenseRetriever(settings, client, embeddings)
    return {
        "textbook": TextbookRAG(settings, embeddings=embeddings, client=client),
        "bm25": Engine(settings, embeddings=embeddings, retriever=bm25, floor=bm25_floor),
        "dense": Engine(settings, embeddings=embeddings, retriever=dense),
        "ours": Engine(settings, embeddings=embeddings, client=client),
    }


# -- comparison ---------------------------------------------------------------------------------

Results = list[tuple[dict[str, Any], Answer, list[str]]]


@dataclass
class Comparison:
    """Each system's per-question results and scores on one question set."""

    results: dict[str, Results] = field(default_factory=dict)
    reports: dict[str, evaluate.Report] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "systems": {
                name: {**report.to_dict(), "seconds": round(self.seconds.get(name, 0.0), 2)}
                for name, report in self.reports.items()
            },
            "losses": [loss.to_dict() for loss in where_ours_loses(self)],
        }


def compare(
    systems: Mapping[str, evaluate.AnsweringSystem],
    rows: list[dict[str, Any]],
    check: Callable[[Any], bool] | None = None,
    knowledge_dir: Path | None = None,
) -> Comparison:
    """Run every system on every question and score each (quotes checked against the files)."""
    if check is None:
        if knowledge_dir is None:
            raise ValueError("compare() needs a quote checker or the knowledge folder")
        check = evaluate.QuoteChecker(knowledge_dir)
    comparison = Comparison()
    for name, system in systems.items():
        started = time.perf_counter()
        results = evaluate.answer_all(system, rows)
        comparison.seconds[name] = time.perf_counter() - started
        comparison.results[name] = results
        comparison.reports[name] = evaluate.score(results, check)
        log.info("%s: %d questions in %.1f s", name, len(rows), comparison.seconds[name])
    return comparison


_COLUMNS = (
    ("n", "questions"),
    ("hit@1", "hit@1"),
    ("hit@5", "hit@5"),
    ("MRR", "mrr"),
    ("answered", "answer_rate"),
    ("declined", "decline_accuracy"),
    ("verbatim", "citation_validity"),
    ("precision", "citation_precision"),
)


def _cell(value: float | int) -> str:
    if isinstance(value, int):
        return str(value)
    return "-" if math.isnan(value) else f"{value:.3f}"


def format_comparison(comparison: Comparison, *, groups: bool = True) -> str:
    """One row per system (overall); then, with `groups`, one row per system within each
    question kind and each jurisdiction. A Markdown table, readable as plain text too."""
    heads = ["group", "system", *(h for h, _ in _COLUMNS)]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]

    def add(group: str, tallies: dict[str, evaluate.Tally | None]) -> None:
        for name, tally in tallies.items():
            if tally is None:
                continue
            metrics = tally.metrics()
            cells = [group, name, *(_cell(metrics[key]) for _, key in _COLUMNS)]
            lines.append("| " + " | ".join(cells) + " |")

    reports = comparison.reports
    add("overall", {name: r.overall for name, r in reports.items()})
    if groups:
        for kind in sorted({k for r in reports.values() for k in r.by_kind}):
            add(kind, {name: r.by_kind.get(kind) for name, r in reports.items()})
        for code in sorted({c for r in reports.values() for c in r.by_jurisdiction}):
            add(f"jur:{code}", {name: r.by_jurisdiction.get(code) for name, r in reports.items()})
    return "\n".join(lines)


@dataclass(frozen=True)
class Loss:
    """A question a baseline gets right and ours gets wrong."""

    id: str
    kind: str
    question: str
    baseline: str
    what: str  # "hit@5", "hit@1", "answered", "declined"
    ours: str  # what ours did: its status and top retrieved sources
    theirs: str

    def to_dict(self) -> dict[str, str]:
        return {
            "id": self.id,
            "kind": self.kind,
            "question": self.question,
            "baseline": self.baseline,
            "what": self.what,
            "ours": self.ours,
            "theirs": self.theirs,
        }


def _outcome(row: dict[str, Any], result: Answer, retrieved: list[str]) -> dict[str, bool]:
    expected = set(row.get("sources") or [])
    ranked = list(dict.fromkeys(retrieved))
    if row.get("expect") == "answer":
        return {
            "hit@1": bool(ranked[:1]) and ranked[0] in expected,
            "hit@5": any(s in expected for s in ranked[:5]),
            "answered": result.status is Status.ANSWERED,
        }
    return {"declined": result.status is not Status.ANSWERED}


def _describe(result: Answer, retrieved: list[str]) -> str:
    top = ", ".join(s.split("/", 1)[-1] for s in list(dict.fromkeys(retrieved))[:3])
    return f"{result.status.value}; top: {top or '-'}"


def where_ours_loses(comparison: Comparison, ours: str = "ours") -> list[Loss]:
    """Every question and metric where a baseline succeeds and ours does not."""
    if ours not in comparison.results:
        return []
    mine = {str(row["id"]): (row, result, got) for row, result, got in comparison.results[ours]}
    losses: list[Loss] = []
    for name, results in comparison.results.items():
        if name == ours:
            continue
        for row, result, got in results:
            if "expect" not in row or str(row["id"]) not in mine:
                continue
            _, our_result, our_got = mine[str(row["id"])]
            theirs, ours_ok = _outcome(row, result, got), _outcome(row, our_result, our_got)
            for what, ok in theirs.items():
                if ok and not ours_ok[what]:
                    losses.append(
                        Loss(
                            str(row["id"]),
                            str(row.get("kind", "")),
                            str(row["question"]),
                            name,
                            what,
                            _describe(our_result, our_got),
                            _describe(result, got),
                        )
                    )
    return losses
