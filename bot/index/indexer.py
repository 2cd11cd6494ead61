"""Split, embed and index the knowledge folder into Chroma, incrementally by default.

LangChain's indexing API with a SQL record manager keeps the index in step with the files: a
second run with nothing changed embeds nothing, an edited file replaces its chunks, a deleted
file's chunks go away. A file that fails to load keeps whatever it put in the index before.
"""

from __future__ import annotations

import errno
import logging
import secrets
import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from chromadb.api import ClientAPI
from chromadb.api.collection_configuration import CreateCollectionConfiguration
from langchain_chroma import Chroma
from langchain_classic.indexes import SQLRecordManager
from langchain_classic.indexes._sql_record_manager import UpsertionRecord
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.indexing import index
from sqlalchemy import Engine, create_engine, text

from bot.config import Settings
from bot.core.errors import StoreDamaged, StoreUnavailable
from bot.core.types import Failure, IndexStats, Progress, ReindexReport
from bot.index import locks, store
from bot.index.embeddings import CountingEmbeddings, make_embeddings
from bot.knowledge import loader
from bot.knowledge.scopes import BASE, Scope

log = logging.getLogger(__name__)

FILES_PER_BATCH = 8
# Chroma's graph search looks at ef_search candidates (10 by default): with 24 neighbours asked
# for, it returned a different, approximate set from one process to the next, so the same
# question could get different passages. 200 makes the search practically exact at this size.
HNSW: CreateCollectionConfiguration = {"hnsw": {"space": "cosine", "ef_search": 200}}
ProgressFn = Callable[[Progress], None]


class Indexer:
    """Builds and updates the index; callable from the command line and from Discord alike."""

    def __init__(
        self,
        settings: Settings,
        embeddings: Embeddings | None = None,
        client: ClientAPI | None = None,
        *,
        scope: Scope = BASE,
        records_engine: Engine | None = None,
    ) -> None:
        self.scope = scope
        self.settings = scope.settings(settings)
        self._unscoped = settings
        self.embeddings = CountingEmbeddings(embeddings or make_embeddings(settings))
        self.client = client or store.make_client(settings)
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.records_url = (
            settings.database_url or f"sqlite:///{(settings.data_dir / 'records.sqlite').resolve()}"
        )
        # One engine (one connection pool) for every namespace's records, and the lease beside them:
        # with a database server, an engine per call would each keep connections open. Pooled
        # connections are checked before use, so a restarted database server fails no reindex.
        self.records_engine = records_engine or create_engine(self.records_url, pool_pre_ping=True)
        self._records_schema = False
        self.lock = locks.make_lock(self.settings, self.records_engine if settings.database_url else None)

    def for_scope(self, scope: Scope) -> Indexer:
        """An indexer of another scope's sources, sharing this one's model, client and database."""
        return Indexer(
            self._unscoped,
            self.embeddings.inner,
            self.client,
            scope=scope,
            records_engine=self.records_engine,
        )

    # -- public -------------------------------------------------------------------------------

    def reindex(self, *, full: bool = False, progress: ProgressFn | None = None) -> ReindexReport:
        """Bring the index in step with the knowledge folder. Raises ReindexBusy if one is running."""
        started = time.perf_counter()
        report_progress = progress or (lambda _p: None)
        calls_before = self.embeddings.calls
        try:
            with self.lock.hold():
                report = self._reindex(full, report_progress)
        except httpx.TransportError as error:  # the Chroma server went away during the run
            where = f"{self.settings.chroma_host}:{self.settings.chroma_port}"
            raise StoreUnavailable(
                f"The reindex stopped: the Chroma server at {where} did not answer ({error}). Nothing "
                "indexed before is lost; run the reindex again once the server is back."
            ) from error
        except OSError as error:
            raise StoreUnavailable(self._describe_os_error(error)) from error
        except Exception as error:
            if _disk_full(error, self.settings.data_dir):
                raise StoreUnavailable(self._describe_os_error(OSError(errno.ENOSPC, str(error)))) from error
            raise
        report.seconds = time.perf_counter() - started
        report.embedding_calls = self.embeddings.calls - calls_before
        report_progress(Progress(report.files, report.files, report.chunks, "done"))
        log.info(
            "Reindex done: %d added, %d updated, %d skipped, %d deleted, %d failed, %d chunks, %.1f s",
            report.added,
            report.updated,
            report.skipped,
            report.deleted,
            len(report.failed),
            report.chunks,
            report.seconds,
        )
        return report

    def _reindex(self, full: bool, report_progress: ProgressFn) -> ReindexReport:
        report_progress(Progress(0, 0, 0, "loading"))
        texts, failures = loader.load_all(
            self.settings.knowledge_dir, self.settings.data_dir / "pdf-text", self.scope
        )
        pointer = store.read_pointer(self.client, self.settings)
        model = self.settings.embedding_model_id
        if pointer is not None and pointer.embedding_model != model and not full:
            log.info("Index was built with %s, now %s: rebuilding", pointer.embedding_model, model)
            full = True
        damaged = self._records_damaged()
        if damaged and pointer is not None and not full:
            raise StoreDamaged(
                f"The index's record database ({damaged}) is damaged. Run `python bot.py reindex --full` "
                "(or /reindex full:True) to rebuild it; the current index keeps answering meanwhile."
            )
        if damaged:
            aside = damaged.with_name(f"{damaged.name}.damaged-{time.strftime('%Y%m%d%H%M%S')}")
            self.records_engine.dispose()  # no pooled connection to the file moved aside
            self._records_schema = False
            damaged.rename(aside)
            log.warning("The record database was damaged: moved it to %s and rebuilding", aside)
        if pointer is None or full:
            report = self._full(texts, failures, pointer, report_progress)
        else:
            report = self._incremental(texts, failures, pointer.active, report_progress)
        report.failed = failures
        report.files = len(texts)
        report.embedding_model = self.settings.embedding_model_id
        return report

    def _describe_os_error(self, error: OSError) -> str:
        where = self.settings.data_dir
        if error.errno == errno.ENOSPC:
            return f"The disk holding the data folder {where} is full: free some space, then reindex again."
        if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            reason = error.strerror or "permission denied"
            return f"The data folder {where} is not writable ({reason}): check DATA_DIR and its permissions."
        return f"The data folder {where} could not be used ({error.strerror or error}): check DATA_DIR."

    def ensure_index(self, progress: ProgressFn | None = None) -> ReindexReport | None:
        """Build the index from the knowledge folder when there is none yet (the first run), with
        `progress` as `reindex` takes it; the report, or None when an index already exists."""
        if store.read_pointer(self.client, self.settings) is not None:
            return None
        log.info("No index yet: building it from %s", self.settings.knowledge_dir)
        return self.reindex(progress=progress)

    def stats(self) -> IndexStats:
        pointer = store.read_pointer(self.client, self.settings)
        if pointer is None:
            return IndexStats(0, 0, "", self.settings.embedding_model_id, "")
        collection = self.client.get_collection(pointer.active, embedding_function=None)
        return IndexStats(
            documents=len(self._group_ids(pointer.active)),
            chunks=collection.count(),
            last_indexed=pointer.last_indexed,
            embedding_model=pointer.embedding_model,
            collection=pointer.active,
        )

    # -- the two ways of indexing ---------------------------------------------------------------

    def _incremental(
        self, texts: list[loader.SourceText], failures: list[Failure], active: str, progress: ProgressFn
    ) -> ReindexReport:
        report = ReindexReport(full=False)
        self._drop_orphans(keep=active)  # a rebuild killed half-way left one (the lock says none runs)
        records = self._records(active)
        vectors = self._vectors(active)
        self._index_batches(texts, records, vectors, report, progress)
        # Files gone from the folder lose their chunks; files that failed to load keep theirs.
        on_disk = {t.source for t in texts} | {
            f.source for f in failures if loader.source_path(self.settings.knowledge_dir, f.source).exists()
        }
        gone = sorted(self._group_ids(active) - on_disk)
        if gone:
            keys = records.list_keys(group_ids=gone)
            if keys:
                vectors.delete(keys)
                records.delete_keys(keys)
            report.deleted += len(keys)
            log.info("Removed %d chunks of %d deleted files", len(keys), len(gone))
        report.chunks = self.client.get_collection(active, embedding_function=None).count()
        store.write_pointer(self.client, self.settings, active, self.settings.embedding_model_id)
        return report

    def _full(
        self,
        texts: list[loader.SourceText],
        failures: list[Failure],
        old: store.Pointer | None,
        progress: ProgressFn,
    ) -> ReindexReport:
        report = ReindexReport(full=True)
        self._drop_orphans(keep=old.active if old else None)
        name = f"{self.settings.collection_prefix}_{time.strftime('%Y%m%d%H%M%S')}_{secrets.token_hex(3)}"
        self.client.create_collection(name, configuration=HNSW, embedding_function=None)
        records = self._records(name)
        vectors = self._vectors(name)
        self._index_batches(texts, records, vectors, report, progress)
        if old is not None and old.embedding_model == self.settings.embedding_model_id:
            report.added += self._carry_over(old.active, name, failures, records)
        report.chunks = self.client.get_collection(name, embedding_function=None).count()
        progress(Progress(len(texts), len(texts), report.chunks, "switching"))
        store.write_pointer(self.client, self.settings, name, self.settings.embedding_model_id)
        if old is not None:
            report.deleted = self._drop_collection(old.active)
        return report

    # -- pieces -----------------------------------------------------------------------------------

    def _index_batches(
        self,
        texts: list[loader.SourceText],
        records: SQLRecordManager,
        vectors: Chroma,
        report: ReindexReport,
        progress: ProgressFn,
    ) -> None:
        """Index whole files a few at a time, so progress can be shown between batches.

        `scoped_full` cleans up only the files seen in each call, and every file is seen whole
        in one call, so an edited file's old chunks go away and nothing else is touched.
        """
        chunks_done = 0
        for start in range(0, len(texts), FILES_PER_BATCH):
            batch = texts[start : start + FILES_PER_BATCH]
            docs: list[Document] = [c for t in batch for c in (*loader.chunk(t), *loader.question_records(t))]
            result = index(
                docs,
                records,
                vectors,
                cleanup="scoped_full",
                source_id_key="source",
                key_encoder="sha256",
                batch_size=64,
            )
            report.added += result["num_added"]
            report.updated += result["num_updated"]
            report.skipped += result["num_skipped"]
            report.deleted += result["num_deleted"]
            chunks_done += len(docs)
            self.lock.renew()
            progress(Progress(start + len(batch), len(texts), chunks_done, "indexing"))

    def _carry_over(self, old: str, new: str, failures: list[Failure], records: SQLRecordManager) -> int:
        """Copy the old chunks of files that failed to load, so a broken edit loses nothing."""
        sources = [
            f.source for f in failures if loader.source_path(self.settings.knowledge_dir, f.source).exists()
        ]
        if not sources:
            return 0
        try:
            old_collection = self.client.get_collection(old, embedding_function=None)
        except Exception:
            return 0
        where: Any = {"source": {"$in": sources}}
        got = old_collection.get(where=where, include=["embeddings", "documents", "metadatas"])
        if not got["ids"]:
            return 0
        new_collection = self.client.get_collection(new, embedding_function=None)
        new_collection.add(
            ids=got["ids"],
            embeddings=got["embeddings"],
            documents=got["documents"],
            metadatas=got["metadatas"],
        )
        group_ids = [str(m["source"]) for m in got["metadatas"] or []]
        records.update(list(got["ids"]), group_ids=group_ids)
        log.info("Kept %d earlier chunks of %d files that failed to load", len(got["ids"]), len(sources))
        return len(got["ids"])

    def _drop_collection(self, name: str) -> int:
        """Delete a collection and its records; returns how many chunks it held."""
        try:
            count = self.client.get_collection(name, embedding_function=None).count()
            self.client.delete_collection(name)
        except Exception as error:
            log.warning("Could not delete collection %s: %s", name, error)
            count = 0
        records = self._records(name)
        keys = records.list_keys()
        if keys:
            records.delete_keys(keys)
        return count

    def _drop_orphans(self, keep: str | None) -> None:
        """Remove collections left by rebuilds that crashed before switching over."""
        prefix = f"{self.settings.collection_prefix}_"
        for name in store.collection_names(self.client):
            if name.startswith(prefix) and name not in {keep, store.pointer_name(self.settings)}:
                log.info("Removing the unfinished index %s", name)
                self._drop_collection(name)

    def _records_damaged(self) -> Path | None:
        """The SQLite record database, if it exists and cannot be read."""
        path = self.settings.data_dir / "records.sqlite"
        if self.settings.database_url or not path.exists():
            return None
        try:
            with sqlite3.connect(path) as conn:
                conn.execute("PRAGMA schema_version").fetchone()
                conn.execute("PRAGMA quick_check").fetchone()
        except sqlite3.DatabaseError:
            return path
        return None

    def _records(self, namespace: str) -> SQLRecordManager:
        if not self._records_schema:
            locks.create_tables(self.records_engine, UpsertionRecord.metadata)
            self._records_schema = True
        return SQLRecordManager(namespace, engine=self.records_engine)

    def _vectors(self, name: str) -> Chroma:
        return Chroma(
            client=self.client,
            collection_name=name,
            embedding_function=self.embeddings,
            create_collection_if_not_exists=False,
        )

    def _group_ids(self, namespace: str) -> set[str]:
        """The sources (files) that have chunks in a namespace."""
        records = self._records(namespace)
        table = UpsertionRecord.__tablename__
        with records.engine.connect() as conn:  # type: ignore[union-attr]  # a sync engine here
            rows = conn.execute(
                text(f"SELECT DISTINCT group_id FROM {table} WHERE namespace = :ns"),  # noqa: S608  # table name is a constant
                {"ns": namespace},
            )
            return {str(row[0]) for row in rows if row[0] is not None}


def _disk_full(error: BaseException, data_dir: Path) -> bool:
    """Whether an error from a library (SQLite, Chroma) came from a full disk: their messages do
    not always say so, so a data folder with almost no free space counts too."""
    text = str(error).lower()
    if "database or disk is full" in text or "no space left" in text:
        return True
    try:
        return shutil.disk_usage(data_dir).free < 4 * 1024 * 1024
    except OSError:
        return False
