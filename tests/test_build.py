"""One place builds the parts: the engine, the indexer and the knowledge folder share one Chroma
client and one embedding model; an engine answers with the parts it is handed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from bot.build import build
from bot.config import Settings
from bot.core.types import Progress, Status
from bot.index.embeddings import LocalEmbeddings
from bot.rag.engine import Engine
from bot.rag.retriever import Hit, HybridRetriever
from tests.llm_server import LLMServer, Reply

QUESTION = "Can an AI-generated image be protected by copyright in China?"


def test_build_shares_one_client_and_one_embedding_model(settings: Settings) -> None:
    parts = build(settings)

    assert parts.engine.embeddings is parts.embeddings
    assert parts.indexer.embeddings.inner is parts.embeddings
    assert parts.engine.retriever.client is parts.client
    assert parts.indexer.client is parts.client
    assert parts.library.path == settings.knowledge_dir


def test_the_index_is_built_once_then_the_engine_answers_from_it(
    settings: Settings, local_embeddings: LocalEmbeddings
) -> None:
    parts = build(settings, embeddings=local_embeddings)
    phases: list[str] = []

    def progress(p: Progress) -> None:
        phases.append(p.phase)

    first = parts.indexer.ensure_index(progress)
    assert first is not None and first.chunks > 0
    assert phases[0] == "loading" and phases[-1] == "done"
    assert parts.indexer.ensure_index(progress) is None  # there is one now: nothing is rebuilt
    assert phases.count("done") == 1

    result = parts.engine.answer(QUESTION)
    assert result.status is Status.ANSWERED
    assert result.citations[0].source == "knowledge/cn-li-v-liu.md"
    assert "cn-li-v-liu.md" in {s.path for s in parts.library.sources()}


class RecordingRetriever(HybridRetriever):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.queries: list[str] = []

    def search(self, query: str, **kwargs: Any) -> list[Hit]:
        self.queries.append(query)
        return super().search(query, **kwargs)


def test_an_engine_handed_a_retriever_searches_with_it(
    kb: Path, make_settings: Callable[..., Settings], local_embeddings: LocalEmbeddings
) -> None:
    parts = build(make_settings(), embeddings=local_embeddings)
    parts.indexer.reindex()
    spy = RecordingRetriever(parts.settings, parts.client, local_embeddings)

    engine = Engine(parts.settings, retriever=spy)
    result = engine.answer(QUESTION)

    assert engine.retriever is spy and engine.embeddings is local_embeddings
    assert spy.queries and "China" in spy.queries[0]
    assert result.citations[0].source == "knowledge/cn-li-v-liu.md"


def test_an_engine_handed_a_chat_model_answers_with_it(
    kb: Path, make_settings: Callable[..., Settings], local_embeddings: LocalEmbeddings, llm: LLMServer
) -> None:
    settings = make_settings()  # no model configured: without one handed in, the answer quotes
    parts = build(settings, embeddings=local_embeddings)
    parts.indexer.reindex()
    chat = ChatOpenAI(model="handed-in", api_key=SecretStr("sk-test"), base_url=llm.base_url, max_retries=0)
    llm.script(Reply("The Beijing Internet Court held the image was a work [1]."))

    engine = Engine(settings, embeddings=local_embeddings, client=parts.client, llm=chat)
    result = engine.answer(QUESTION)

    assert (result.mode, result.status) == ("llm", Status.ANSWERED)
    assert llm.requests[-1]["model"] == "handed-in"
    assert parts.engine.answer(QUESTION).mode == "extractive"
