"""Chroma clients, and the pointer that names the collection now answering questions.

The pointer is the metadata of a small collection of its own, so that every process sharing one
Chroma server sees the same active index. A full rebuild writes into a new collection and moves
the pointer only when it has finished, so a crash half-way leaves the old index answering.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import chromadb
from chromadb.api import ClientAPI
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import NotFoundError

from bot.config import Settings
from bot.core.errors import StoreUnavailable

log = logging.getLogger(__name__)


def make_client(settings: Settings) -> ClientAPI:
    """Embedded Chroma under DATA_DIR, or a Chroma server when CHROMA_HOST is set."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if settings.chroma_host:
            headers = {}
            if settings.chroma_auth_token is not None:
                headers["Authorization"] = f"Bearer {settings.chroma_auth_token.get_secret_value()}"
            return chromadb.HttpClient(
                host=settings.chroma_host,
                port=settings.chroma_port,
                ssl=settings.chroma_ssl,
                headers=headers,
                settings=chroma_settings,
            )
        path = settings.data_dir / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as error:
        raise StoreUnavailable(describe_store_error(settings, error)) from error


def is_store_error(error: BaseException) -> bool:
    """Whether an error comes from reaching or using the vector store (a connection, a file, the
    database), as opposed to a bug or another service's failure (the embedding provider, say)."""
    import sqlite3

    import httpx
    from chromadb.errors import ChromaError

    if isinstance(error, ChromaError | OSError | sqlite3.Error | httpx.TransportError):
        return True
    # chromadb.HttpClient says so with a ValueError when its server does not answer
    return isinstance(error, ValueError) and "connect to a Chroma server" in str(error)


def describe_store_error(settings: Settings, error: BaseException) -> str:
    """A plain-words message for a failure to reach or use the vector store; the details (the
    error's own text, addresses and paths) go to the log only, never to the user."""
    if settings.chroma_host:
        where = f"the Chroma server at {settings.chroma_host}:{settings.chroma_port}"
        log.error("The vector store is unreachable (%s): %s: %s", where, type(error).__name__, error)
        return "The knowledge index is unreachable (its server did not answer). Try again in a minute."
    where = f"under {settings.data_dir}"
    log.error("The vector store could not be opened (%s): %s: %s", where, type(error).__name__, error)
    return "The knowledge index could not be opened: an admin should check DATA_DIR (details are in the log)."


@dataclass(frozen=True)
class Pointer:
    """Which collection answers, what built it, and a generation that changes on every reindex."""

    active: str
    embedding_model: str
    generation: int
    last_indexed: str

    def to_metadata(self) -> dict[str, Any]:
        return {
            "active": self.active,
            "embedding_model": self.embedding_model,
            "generation": self.generation,
            "last_indexed": self.last_indexed,
        }


def pointer_name(settings: Settings) -> str:
    return f"{settings.collection_prefix}_pointer"


def read_pointer(client: ClientAPI, settings: Settings) -> Pointer | None:
    """The current pointer, or None before the first index."""
    try:
        meta = client.get_collection(pointer_name(settings), embedding_function=None).metadata or {}
    except NotFoundError:  # raised alike by the embedded client and a `chroma run` server
        return None
    if "active" not in meta:
        return None
    return Pointer(
        active=str(meta["active"]),
        embedding_model=str(meta.get("embedding_model", "")),
        generation=int(meta.get("generation", 0)),
        last_indexed=str(meta.get("last_indexed", "")),
    )


def write_pointer(client: ClientAPI, settings: Settings, active: str, embedding_model: str) -> Pointer:
    """Point at `active` (after it is complete) and bump the generation."""
    old = read_pointer(client, settings)
    pointer = Pointer(
        active=active,
        embedding_model=embedding_model,
        generation=(old.generation + 1) if old else 1,
        last_indexed=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    collection = client.get_or_create_collection(pointer_name(settings), embedding_function=None)
    collection.modify(metadata=pointer.to_metadata())
    return pointer


def collection_names(client: ClientAPI) -> list[str]:
    return [c if isinstance(c, str) else c.name for c in client.list_collections()]
