"""DATABASE_URL on a real PostgreSQL server (started by the suite): the reindex lease, the record
manager and the feedback store."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from langchain_classic.indexes._sql_record_manager import UpsertionRecord
from langchain_core.embeddings import Embeddings
from sqlalchemy import create_engine, text

from bot.config import Settings
from bot.discordbot.feedback import FeedbackStore
from bot.rag import locks
from bot.rag.errors import ReindexBusy
from bot.rag.indexer import Indexer
from bot.rag.types import Answer, Status
from tests.postgres_server import PostgresServer


def connections(url: str) -> int:
    """Open connections to the database behind `url`, other than the one asking."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).scalar_one()
            )
    finally:
        engine.dispose()


# -- one process -------------------------------------------------------------------------------


def test_processes_starting_at_once_on_a_fresh_database_all_get_their_tables(
    postgres_server: PostgresServer,
) -> None:
    # Before create_tables took turns, every one of these rounds failed with "duplicate key value
    # violates unique constraint pg_type_typname_nsp_index": one shard process crashed at start.
    for _ in range(3):
        url = postgres_server.create_database()
        start = threading.Barrier(4)
        errors: list[BaseException] = []

        def start_up(
            url: str = url, start: threading.Barrier = start, errors: list[BaseException] = errors
        ) -> None:
            start.wait()
            engine = create_engine(url)
            try:
                FeedbackStore(url).close()
                locks.LeaseLock(engine, "kb:reindex")
                locks.create_tables(engine, UpsertionRecord.metadata)
            except BaseException as error:
                errors.append(error)
            finally:
                engine.dispose()

        threads = [threading.Thread(target=start_up) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        engine = create_engine(url)
        with engine.connect() as conn:
            tables = set(
                conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars()
            )
        engine.dispose()
        assert {"answers", "answer_messages", "votes", "reindex_lock", "upsertion_record"} <= tables


def test_the_lease_on_postgres_names_its_holder_and_expires(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_engine(postgres_url)
    first = locks.LeaseLock(engine, "kb:reindex")
    second = locks.LeaseLock(engine, "kb:reindex")
    with first.hold():
        with pytest.raises(ReindexBusy, match="already running") as caught:
            second._acquire()
        assert first.holder.rsplit(":", 1)[0] in str(caught.value)  # "running on host:pid"
    with second.hold():  # released: free at once
        pass

    dead = locks.LeaseLock(engine, "kb:reindex", lease_seconds=0.2)
    dead._acquire()  # and never released, as after SIGKILL
    with pytest.raises(ReindexBusy):
        second._acquire()
    time.sleep(0.3)
    with second.hold():
        assert "Took over an expired reindex lease" in caplog.text
        # The old holder, had it only been paused, learns it lost the lease at its next renewal.
        with pytest.raises(ReindexBusy, match="lost its lease"):
            dead.renew()
        second.renew()
    engine.dispose()


def test_feedback_on_postgres_keeps_times_in_utc(postgres_url: str) -> None:
    # The test server's time zone is Asia/Kolkata: a naive timestamp would be read as local time.
    feedback = FeedbackStore(postgres_url)
    answer = Answer(
        question="Who owns AI art?", status=Status.ANSWERED, answer="No one [1].", mode="extractive"
    )
    answer_id = feedback.record_answer(answer, user_id=7, guild_id=1, channel_id=99)
    now = dt.datetime.now(dt.UTC)
    assert [t.question for t in feedback.recent_turns(99, since=now - dt.timedelta(minutes=1))] == [
        answer.question
    ]
    assert feedback.recent_turns(99, since=now + dt.timedelta(minutes=1)) == []
    engine = create_engine(postgres_url)
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT created_at FROM answers WHERE id = :id"), {"id": answer_id}
        ).scalar_one()
    engine.dispose()
    assert stored.tzinfo is not None and abs((stored - now).total_seconds()) < 60
    assert feedback.vote(answer_id, 8, helpful=True).previous is None
    assert feedback.vote(answer_id, 8, helpful=False).changed
    assert feedback.counts().not_helpful == 1
    feedback.close()


def test_reindexing_on_postgres_keeps_one_small_connection_pool(
    postgres_url: str, kb: Path, make_settings: Callable[..., Settings], local_embeddings: Embeddings
) -> None:
    indexer = Indexer(make_settings(database_url=postgres_url), embeddings=local_embeddings)
    first = indexer.reindex()
    assert first.chunks > 0 and first.added == first.chunks
    (kb / "eu-ai-act.md").unlink()
    for _ in range(3):
        again = indexer.reindex()
    assert (again.added, again.deleted) == (0, 0) and again.chunks < first.chunks
    full = indexer.reindex(full=True)
    assert full.chunks == again.chunks
    # One engine for the records and the lease; an engine per namespace left 7 open here.
    assert connections(postgres_url) <= 2
    indexer.records_engine.dispose()
    assert not (indexer.settings.data_dir / "records.sqlite").exists()


def test_a_restarted_database_server_fails_no_request(
    kb: Path, make_settings: Callable[..., Settings], local_embeddings: Embeddings
) -> None:
    server = PostgresServer().start()  # its own: restarting the session's would touch other tests
    try:
        url = server.create_database()
        feedback = FeedbackStore(url)
        indexer = Indexer(make_settings(database_url=url), embeddings=local_embeddings)
        assert indexer.reindex().chunks > 0
        answer = Answer(
            question="Who owns AI art?", status=Status.ANSWERED, answer="No one.", mode="extractive"
        )
        answer_id = feedback.record_answer(answer, user_id=7, guild_id=1, channel_id=99)
        feedback.attach_messages(answer_id, [555])

        server.restart()  # every pooled connection is now dead
        # Each of these failed once ("terminating connection due to administrator command").
        assert feedback.vote(answer_id, 8, helpful=True).previous is None
        stored = feedback.answer_for_message(555)
        assert stored is not None and stored.id == answer_id
        assert indexer.reindex().embedding_calls == 0
        feedback.close()
        indexer.records_engine.dispose()
    finally:
        server.stop()
