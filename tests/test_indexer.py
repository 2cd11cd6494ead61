"""Incremental indexing, full rebuilds that switch over only when done, and the model check."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings
from sqlalchemy import create_engine

from bot.config import Settings
from bot.core.errors import IndexNotReady, ReindexBusy
from bot.core.types import Progress, Status
from bot.index import locks, store
from bot.index.embeddings import CountingEmbeddings
from bot.index.indexer import Indexer
from bot.rag.engine import Engine


def chunks_of(indexer: Indexer) -> dict[str, int]:
    """Chunk count per source in the active collection."""
    pointer = store.read_pointer(indexer.client, indexer.settings)
    assert pointer is not None
    got = indexer.client.get_collection(pointer.active).get(include=["metadatas"])
    counts: dict[str, int] = {}
    for meta in got["metadatas"] or []:
        counts[str(meta["source"])] = counts.get(str(meta["source"]), 0) + 1
    return counts


def test_second_run_with_nothing_changed_embeds_nothing(
    indexer: Indexer, embeddings: CountingEmbeddings
) -> None:
    first = indexer.reindex()
    assert first.added == first.chunks > 0 and first.files == 5
    calls = embeddings.calls
    second = indexer.reindex()
    assert embeddings.calls == calls
    assert (second.added, second.updated, second.deleted) == (0, 0, 0)
    assert second.embedding_calls == 0 and first.embedding_calls > 0
    assert second.skipped == first.chunks
    assert second.chunks == first.chunks


def test_edited_file_replaces_its_chunks_only(
    indexer: Indexer, kb: Path, embeddings: CountingEmbeddings
) -> None:
    indexer.reindex()
    before = chunks_of(indexer)
    path = kb / "uk-cdpa.md"
    path.write_text(path.read_text().replace("fifty years", "50 years (s.12(7))"))
    texts_before = embeddings.texts
    report = indexer.reindex()
    assert report.added >= 1 and report.deleted >= 1
    assert embeddings.texts - texts_before == report.added  # only the changed chunk was embedded
    assert chunks_of(indexer) == before
    engine = Engine(indexer.settings, embeddings=embeddings.inner, client=indexer.client)
    answer = engine.answer("How long does UK protection for computer-generated works last?")
    assert answer.status is Status.ANSWERED
    assert "50 years (s.12(7))" in answer.answer


def test_deleted_file_disappears_from_the_index(indexer: Indexer, kb: Path) -> None:
    indexer.reindex()
    (kb / "eu-ai-act.md").unlink()
    report = indexer.reindex()
    assert report.deleted > 0
    assert "knowledge/eu-ai-act.md" not in chunks_of(indexer)


def test_broken_edit_keeps_the_files_earlier_chunks(indexer: Indexer, kb: Path) -> None:
    indexer.reindex()
    before = chunks_of(indexer)
    (kb / "us-thaler.md").write_text("---\ntitle: [oops\n---\nhalf-edited")
    for full in (False, True):
        report = indexer.reindex(full=full)
        assert [f.source for f in report.failed] == ["knowledge/us-thaler.md"]
        assert chunks_of(indexer) == before


def test_progress_is_reported_per_batch(indexer: Indexer) -> None:
    seen: list[Progress] = []
    indexer.reindex(progress=seen.append)
    phases = [p.phase for p in seen]
    assert phases[0] == "loading" and phases[-1] == "done"
    indexing = [p for p in seen if p.phase == "indexing"]
    assert indexing[-1].files_done == indexing[-1].files_total == 5
    assert indexing[-1].percent == 100


class FailingEmbeddings(Embeddings):
    """An embedding model that dies after a number of calls, like a crash half-way."""

    def __init__(self, inner: Embeddings, calls_before_failure: int) -> None:
        self.inner = inner
        self.left = calls_before_failure

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if self.left <= 0:
            raise RuntimeError("killed half-way")
        self.left -= 1
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def test_crash_during_full_rebuild_leaves_old_index_answering(
    settings: Settings, embeddings: CountingEmbeddings, kb: Path
) -> None:
    good = Indexer(settings, embeddings=embeddings)
    good.reindex()
    old = store.read_pointer(good.client, settings)
    (kb / "extra.md").write_text("# Extra\n\nA new article about voice clones and digital replicas.")
    for i in range(10):  # enough files for several batches, so the crash comes after some work
        (kb / f"filler-{i}.md").write_text(
            f"# Filler {i}\n\nA note number {i} on licensing markets for data."
        )
    seen: list[Progress] = []
    crashing = Indexer(settings, embeddings=FailingEmbeddings(embeddings.inner, 1), client=good.client)
    with pytest.raises(RuntimeError, match="killed half-way"):
        crashing.reindex(full=True, progress=seen.append)
    assert any(p.phase == "indexing" and 0 < p.files_done < p.files_total for p in seen)
    assert store.read_pointer(good.client, settings) == old
    engine = Engine(settings, embeddings=embeddings.inner, client=good.client)
    assert engine.answer("Who is the author of an AI image in China?").status is Status.ANSWERED
    # The next rebuild finishes, removes the half-built collection and has no duplicates.
    report = good.reindex(full=True)
    prefix = settings.collection_prefix
    names = [
        n
        for n in store.collection_names(good.client)
        if n.startswith(f"{prefix}_") and n != store.pointer_name(settings)
    ]
    assert len(names) == 1
    assert report.chunks == sum(chunks_of(good).values())
    assert "knowledge/extra.md" in chunks_of(good)


def test_asking_with_another_embedding_model_says_to_reindex(
    indexer: Indexer, make_settings: Callable[..., Settings], local_embeddings: Embeddings
) -> None:
    indexer.reindex()
    other = indexer.settings.model_copy(
        update={"embedding_backend": "openai", "openai_base_url": "http://127.0.0.1:9/v1"}
    )
    engine = Engine(other, embeddings=local_embeddings, client=indexer.client)
    with pytest.raises(IndexNotReady, match="reindex --full"):
        engine.answer("Who owns AI art in China?")


def test_asking_before_any_index_says_how_to_build_it(
    settings: Settings, local_embeddings: Embeddings
) -> None:
    engine = Engine(settings, embeddings=local_embeddings)
    with pytest.raises(IndexNotReady, match="reindex"):
        engine.answer("Who owns AI art in China?")


def test_second_reindex_at_once_is_refused(indexer: Indexer) -> None:
    with indexer.lock.hold(), pytest.raises(ReindexBusy, match="already running"):
        indexer.reindex()


def test_hosts_sharing_a_database_never_reindex_at_once(
    kb: Path, tmp_path: Path, make_settings: Callable[..., Settings], local_embeddings: Embeddings
) -> None:
    shared = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    # Two "hosts": separate data folders (so no file lock in common), one shared database.
    first = Indexer(
        make_settings(data_dir=tmp_path / "host-a", database_url=shared), embeddings=local_embeddings
    )
    second = Indexer(
        make_settings(data_dir=tmp_path / "host-b", database_url=shared), embeddings=local_embeddings
    )
    with first.lock.hold(), pytest.raises(ReindexBusy, match="already running"):
        second.reindex()
    assert second.reindex().chunks > 0  # free again once the first let go
    assert not (tmp_path / "host-b" / "records.sqlite").exists()  # the records live in the shared database


def test_a_lease_left_by_a_dead_holder_expires(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    shared = make_settings(database_url=f"sqlite:///{tmp_path / 'shared.sqlite'}")
    engine = create_engine(str(shared.database_url))
    dead = locks.LeaseLock(engine, "kb:reindex", lease_seconds=0.0)
    dead._acquire()  # and never released, as after SIGKILL
    alive = locks.LeaseLock(engine, "kb:reindex")
    with alive.hold():
        pass


def test_stats_describe_the_index(indexer: Indexer) -> None:
    assert indexer.stats().chunks == 0
    report = indexer.reindex()
    stats = indexer.stats()
    assert stats.documents == 5
    assert stats.chunks == report.chunks
    assert stats.embedding_model == "local:all-MiniLM-L6-v2"
    assert stats.last_indexed
