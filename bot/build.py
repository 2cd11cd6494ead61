"""The one place that builds the bot's parts: one Chroma client and one embedding model, shared by
the answer engine, the indexer and the knowledge folder. The command line, the Discord runner and
the benchmarks all start from `build(settings)`.

Importing this module is cheap; `build` imports the heavy parts when it runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot import logs
from bot.config import Settings

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from langchain_core.embeddings import Embeddings

    from bot.index.indexer import Indexer
    from bot.knowledge.library import KnowledgeFolder
    from bot.rag.engine import Engine

# Never reach for a model hub at run time: the local embedding model ships inside a package.
OFFLINE_ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "ANONYMIZED_TELEMETRY": "False",
}


def offline_environment() -> None:
    """Set the switches above (unless already set), before sentence-transformers is imported."""
    for name, value in OFFLINE_ENVIRONMENT.items():
        os.environ.setdefault(name, value)


@dataclass(frozen=True)
class Parts:
    """What a front end runs on; the engine and the indexer share `client` and `embeddings`."""

    settings: Settings
    client: ClientAPI
    embeddings: Embeddings
    engine: Engine
    indexer: Indexer
    library: KnowledgeFolder


def build(
    settings: Settings, *, embeddings: Embeddings | None = None, client: ClientAPI | None = None
) -> Parts:
    """The parts for these settings; `embeddings` or `client` given are used instead of new ones
    (benchmarks time the model, tests share one loaded model). Opens the Chroma client (raises
    StoreUnavailable when it cannot); the embedding model loads on first use."""
    offline_environment()
    logs.protect(settings)
    from bot.index import store
    from bot.index.embeddings import make_embeddings
    from bot.index.indexer import Indexer
    from bot.knowledge.library import KnowledgeFolder
    from bot.rag.engine import Engine

    client = client or store.make_client(settings)
    embeddings = embeddings or make_embeddings(settings)
    return Parts(
        settings=settings,
        client=client,
        embeddings=embeddings,
        engine=Engine(settings, embeddings=embeddings, client=client),
        indexer=Indexer(settings, embeddings=embeddings, client=client),
        library=KnowledgeFolder.from_settings(settings),
    )
