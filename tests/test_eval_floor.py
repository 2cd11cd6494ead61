"""The quality floor: the extractive engine on the real knowledge base and the dev question set.

Deterministic (no timing). The floors are the figures reached when they were set, less about one
question's worth of slack for floating-point differences between CPUs. Raise them as quality
improves; never lower them to make a change pass.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.config import Settings
from bot.rag import evaluate
from bot.rag.embeddings import LocalEmbeddings
from bot.rag.engine import Engine
from bot.rag.indexer import Indexer
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

FLOORS = {
    "hit@1": 0.90,
    "hit@5": 0.99,
    "mrr": 0.94,
    "answer_rate": 0.97,
    "decline_accuracy": 0.94,
    "citation_validity": 1.0,
    "citation_precision": 0.63,
}
QUESTIONS = ROOT / "tests" / "eval" / "questions.jsonl"


def test_dev_set_is_big_and_varied_enough() -> None:
    rows = evaluate.read_questions(QUESTIONS)
    assert len(rows) >= 60
    kinds = {r["kind"] for r in rows}
    assert kinds >= {
        "factual",
        "comparative",
        "latest",
        "casual",
        "out_of_scope",
        "not_in_sources",
        "hostile",
    }
    for row in rows:
        assert row["expect"] in {"answer", "decline"}
        for source in row.get("sources", []):
            assert (ROOT / source).is_file(), source


def test_quality_does_not_fall_below_the_floor(
    make_settings: Callable[..., Settings], local_embeddings: LocalEmbeddings
) -> None:
    settings = make_settings(knowledge_dir=ROOT / "knowledge")
    indexer = Indexer(settings, embeddings=local_embeddings)
    report = indexer.reindex()
    assert not report.failed
    engine = Engine(settings, embeddings=local_embeddings, client=indexer.client)
    results = evaluate.answer_all(engine, evaluate.read_questions(QUESTIONS))
    metrics = evaluate.score(results, evaluate.QuoteChecker(settings.knowledge_dir)).overall.metrics()
    below = {k: (metrics[k], floor) for k, floor in FLOORS.items() if not metrics[k] >= floor}
    assert not below, f"below the floor (got, floor): {below}"
