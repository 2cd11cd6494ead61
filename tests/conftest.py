"""Shared fixtures: the local embedding model (loaded once per session), a fixture knowledge
folder, indexed engines, a small OpenAI-compatible server and a PostgreSQL server on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

from bot.config import Settings
from bot.index.embeddings import CountingEmbeddings, LocalEmbeddings
from bot.index.indexer import Indexer
from bot.rag.engine import Engine
from tests.chroma_server import ChromaServer
from tests.helpers import FIXTURE_KNOWLEDGE, clear_settings, reads_setting
from tests.llm_server import LLMServer
from tests.postgres_server import PostgresMissing, PostgresServer

# Every variable the settings model reads (from its own field list, so a new setting is covered
# too) goes before anything builds settings, session- and module-scoped fixtures included: no
# developer's key, database, schedule or fetch permission leaks into a test.
clear_settings(os.environ)

# Fixtures kept in modules of their own, for the tests that ask for them.
pytest_plugins = ["tests.hostile"]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts without settings in the environment, even if an earlier one set some."""
    for name in [n for n in os.environ if reads_setting(n)]:
        monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def local_embeddings() -> LocalEmbeddings:
    """The bundled all-MiniLM-L6-v2, loaded once for the whole session."""
    embeddings = LocalEmbeddings()
    embeddings.embed_query("load the model now")  # once, here, rather than inside the first test
    return embeddings


@pytest.fixture
def embeddings(local_embeddings: LocalEmbeddings) -> CountingEmbeddings:
    """The local model, counting calls (per test)."""
    return CountingEmbeddings(local_embeddings)


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    """A private copy of the fixture knowledge folder."""
    target = tmp_path / "knowledge"
    shutil.copytree(FIXTURE_KNOWLEDGE, target)
    return target


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "knowledge_dir": tmp_path / "knowledge",
            "data_dir": tmp_path / "data",
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return make


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A real Chroma server (`chroma run`) on 127.0.0.1 for the session."""
    try:
        server = ChromaServer(tmp_path_factory.mktemp("chroma-server")).start()
    except RuntimeError as error:
        pytest.fail(str(error))
    yield server.address
    server.stop()


def start_postgres() -> PostgresServer:
    """A throwaway PostgreSQL cluster on 127.0.0.1, started.

    Skips on a machine without PostgreSQL or psycopg; under CI=true missing either fails."""
    try:
        import psycopg  # noqa: F401  # the driver DATABASE_URL=postgresql+psycopg://... needs

        return PostgresServer().start()
    except (ImportError, PostgresMissing) as error:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must run the PostgreSQL tests: {error}")
        pytest.skip(f"no local PostgreSQL: {error}")
    except RuntimeError as error:
        pytest.fail(str(error))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server (see `start_postgres`)."""
    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh, empty database on the session's PostgreSQL server."""
    return postgres_server.create_database()


@pytest.fixture(params=["embedded", "server"])
def store_kind(request: pytest.FixtureRequest) -> str:
    """Tests that take `settings` run against the embedded store and a Chroma server alike."""
    return str(request.param)


@pytest.fixture
def settings(
    kb: Path, make_settings: Callable[..., Settings], store_kind: str, request: pytest.FixtureRequest
) -> Settings:
    if store_kind == "embedded":
        return make_settings()
    host, port = request.getfixturevalue("chroma_server")
    # Each test gets collections of its own on the shared server.
    return make_settings(chroma_host=host, chroma_port=port, collection_prefix=f"t{uuid.uuid4().hex[:10]}")


@pytest.fixture
def indexer(settings: Settings, embeddings: CountingEmbeddings) -> Indexer:
    return Indexer(settings, embeddings=embeddings)


@pytest.fixture
def engine(indexer: Indexer, local_embeddings: LocalEmbeddings) -> Engine:
    """An engine over the fixture knowledge, indexed, extractive (no LLM)."""
    indexer.reindex()
    return Engine(indexer.settings, embeddings=local_embeddings, client=indexer.client)


@pytest.fixture(scope="session")
def fixture_engine(tmp_path_factory: pytest.TempPathFactory, local_embeddings: LocalEmbeddings) -> Engine:
    """An extractive engine over the fixture knowledge (embedded store), indexed once per session.
    Read-only: for tests that only ask questions."""
    root = tmp_path_factory.mktemp("fixture-engine")
    shutil.copytree(FIXTURE_KNOWLEDGE, root / "knowledge")
    settings = Settings(_env_file=None, knowledge_dir=root / "knowledge", data_dir=root / "data")  # type: ignore[call-arg]
    indexer = Indexer(settings, embeddings=local_embeddings)
    indexer.reindex()
    return Engine(settings, embeddings=local_embeddings, client=indexer.client)


@pytest.fixture(scope="session")
def llm_server() -> Iterator[LLMServer]:
    server = LLMServer().start()
    yield server
    server.stop()


@pytest.fixture
def llm_engine(
    llm: LLMServer, make_settings: Callable[..., Settings], kb: Path, local_embeddings: LocalEmbeddings
) -> Engine:
    """An engine over the fixture knowledge (embedded store) that answers with the test model server."""
    settings = make_settings(
        openai_base_url=llm.base_url,
        openai_api_key="sk-test-key",
        openai_model="test-model",
        openai_timeout_seconds=1.0,
        openai_max_retries=1,
    )
    indexer = Indexer(settings, embeddings=local_embeddings)
    indexer.reindex()
    return Engine(settings, embeddings=local_embeddings, client=indexer.client)


@pytest.fixture
def llm(llm_server: LLMServer) -> Iterator[LLMServer]:
    """The OpenAI-compatible server, emptied of scripts before and after each test."""
    llm_server.reset()
    yield llm_server
    llm_server.reset()
