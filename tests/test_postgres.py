"""DATABASE_URL on a real PostgreSQL server (started by the suite): the reindex lease, the record
manager and the feedback store, first in one process, then with two engine processes sharing a
`chroma run` server and the database, as two shard processes on two hosts do."""

from __future__ import annotations

import datetime as dt
import json
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_classic.indexes._sql_record_manager import UpsertionRecord
from langchain_core.embeddings import Embeddings
from sqlalchemy import create_engine, text

from bot.config import Settings
from bot.core.errors import ReindexBusy
from bot.core.types import Answer, Status
from bot.discordbot.feedback import FeedbackStore
from bot.index import locks, store
from bot.index.indexer import Indexer
from bot.knowledge import loader
from tests.chroma_server import ChromaServer
from tests.conftest import start_postgres
from tests.helpers import FIXTURE_KNOWLEDGE, ROOT, without_settings
from tests.postgres_server import PostgresServer

QUESTION = "Who is the author of an AI-generated image in China?"
LEASE = 3.0  # REINDEX_LEASE_SECONDS of the engine processes


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
    server = start_postgres()  # its own: restarting the session's would touch other tests
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


# -- two engine processes ---------------------------------------------------------------------


class Worker:
    """One `python -m tests.engine_worker` process: a bot process without the Discord part."""

    def __init__(self, name: str, environ: dict[str, str], cwd: Path) -> None:
        self.name = name
        self.log = cwd / f"{name}.log"
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.engine_worker"],
                cwd=cwd,
                env={**environ, "DATA_DIR": str(cwd / f"data-{name}")},
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.pid = self.process.pid
        self.holder = ""

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def ready(self, timeout: float = 180) -> Worker:
        self.holder = self.receive(timeout)["holder"]
        return self

    def send(self, **request: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()

    def receive(self, timeout: float = 120) -> dict[str, Any]:
        try:
            return dict(json.loads(self.lines.get(timeout=timeout)))
        except queue.Empty:
            raise AssertionError(
                f"{self.name} said nothing for {timeout} s: {self.log.read_text()[-2000:]}"
            ) from None

    def call(self, **request: Any) -> dict[str, Any]:
        self.send(**request)
        return self.receive()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)


class Cluster:
    """Two engine processes (two "hosts": separate DATA_DIRs) sharing a Chroma server and PostgreSQL."""

    def __init__(self, root: Path, url: str, chroma: ChromaServer) -> None:
        self.root = root
        self.url = url
        self.chroma = chroma
        self.kb = root / "knowledge"
        shutil.copytree(FIXTURE_KNOWLEDGE, self.kb)
        for n in range(15):  # 20 files: three batches of eight, so a reindex has a middle
            (self.kb / f"note-{n:02}.md").write_text(
                f"# Note {n}\n\nCase note {n} on text and data mining exception number {n} and the "
                f"licensing of training data in jurisdiction {n}. " * 3
            )
        texts, failures = loader.load_all(self.kb)
        assert failures == []
        self.expected_chunks = sum(len(loader.chunk(t)) for t in texts)
        host, port = chroma.address
        self.prefix = f"t{uuid.uuid4().hex[:10]}"
        self.settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            chroma_host=host,
            chroma_port=port,
            collection_prefix=self.prefix,
            knowledge_dir=self.kb,
        )
        environ = without_settings()
        environ.update(
            {
                "DATABASE_URL": url,
                "CHROMA_HOST": host,
                "CHROMA_PORT": str(port),
                "COLLECTION_PREFIX": self.prefix,
                "KNOWLEDGE_DIR": str(self.kb),
                "REINDEX_LEASE_SECONDS": str(LEASE),
                "PYTHONPATH": str(ROOT),
                "HF_HUB_OFFLINE": "1",
                "OMP_NUM_THREADS": "1",  # two processes on a small machine: one core each
            }
        )
        self.environ = environ
        self.workers = {name: Worker(name, environ, root) for name in ("a", "b")}
        for worker in self.workers.values():
            worker.ready()

    def worker(self, name: str) -> Worker:
        """A running worker of that name (started again if a test killed it)."""
        worker = self.workers[name]
        if worker.process.poll() is not None:
            worker = self.workers[name] = Worker(name, self.environ, self.root).ready()
        return worker

    def client(self) -> Any:
        return store.make_client(self.settings)

    def check_clean(self) -> None:
        """The index holds each chunk once, the records match it, no half-built index is left."""
        client = self.client()
        pointer = store.read_pointer(client, self.settings)
        assert pointer is not None
        assert client.get_collection(pointer.active).count() == self.expected_chunks
        names = {n for n in store.collection_names(client) if n.startswith(self.prefix)}
        assert names == {pointer.active, store.pointer_name(self.settings)}
        engine = create_engine(self.url)
        with engine.connect() as conn:
            grouped = conn.execute(
                text("SELECT namespace, count(*) FROM upsertion_record GROUP BY namespace")
            )
            rows = {str(namespace): int(count) for namespace, count in grouped}
            leases = conn.execute(text("SELECT count(*) FROM reindex_lock")).scalar_one()
        engine.dispose()
        assert rows == {pointer.active: self.expected_chunks}
        assert leases == 0

    def stop(self) -> None:
        for worker in self.workers.values():
            worker.stop()


@pytest.fixture(scope="module")
def cluster(postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("cluster")
    (root / "chroma").mkdir()
    chroma = ChromaServer(root / "chroma").start()  # its own: a test restarts it
    cluster = Cluster(root, postgres_server.create_database(), chroma)
    yield cluster
    cluster.stop()
    chroma.stop()


@pytest.mark.slow
def test_two_reindexes_at_once_one_runs_and_the_other_names_the_holder(cluster: Cluster) -> None:
    a, b = cluster.worker("a"), cluster.worker("b")
    for worker in (a, b):  # both at the same moment; the winner pauses after its first batch
        worker.send(op="reindex", full=True, pause_at=8)
    first, second = a.receive(), b.receive()
    assert sorted(["paused" in first, "paused" in second]) == [False, True], (first, second)
    runner, refused, told = (a, b, second) if "paused" in first else (b, a, first)
    assert told["error"] == "ReindexBusy"
    assert "already running" in told["message"] and f"running on {runner.holder})" in told["message"]
    runner.send(op="continue")
    done = runner.receive()
    assert done["report"]["chunks"] == cluster.expected_chunks and done["report"]["failed"] == []
    again = refused.call(op="reindex")  # free again: the other one finds nothing to do
    assert again["report"]["added"] == 0 and again["report"]["embedding_calls"] == 0
    cluster.check_clean()
    assert refused.call(op="ask", question=QUESTION)["status"] == "answered"


@pytest.mark.slow
def test_feedback_from_both_processes(cluster: Cluster) -> None:
    a, b = cluster.worker("a"), cluster.worker("b")
    for worker in (a, b):
        worker.send(op="record", count=10, channel_id=4242)
    ids = a.receive()["ids"] + b.receive()["ids"]
    assert len(set(ids)) == 20
    # The same users vote on every answer from both processes at once: one vote each survives.
    votes = [[answer_id, user, True] for answer_id in ids for user in (1, 2)]
    a.send(op="vote", votes=votes)
    b.send(op="vote", votes=[[i, u, False] for i, u, _ in votes])
    from_a, from_b = a.receive(), b.receive()
    assert "error" not in from_a and "error" not in from_b, (from_a, from_b)
    firsts = [pa is None for pa in from_a["previous"]], [pb is None for pb in from_b["previous"]]
    assert all(x != y for x, y in zip(*firsts, strict=True))  # exactly one of each pair came first
    feedback = FeedbackStore(cluster.url)
    counts = feedback.counts()
    assert counts.answers == 20 and counts.helpful + counts.not_helpful == 40
    assert (
        len(feedback.recent_turns(4242, limit=50, since=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)))
        == 20
    )
    feedback.close()


@pytest.mark.slow
def test_chroma_server_restarted_in_the_middle_of_a_reindex(cluster: Cluster) -> None:
    a, b = cluster.worker("a"), cluster.worker("b")
    assert "report" in b.call(op="reindex")
    before = b.call(op="ask", question=QUESTION)
    assert before["status"] == "answered"

    a.send(op="reindex", full=True, pause_at=8)
    assert a.receive() == {"paused": 8}
    cluster.chroma.stop()
    down = b.call(op="ask", question=QUESTION)
    assert down["error"] == "StoreUnavailable" and "did not answer" in down["message"]
    cluster.chroma.start()
    during = b.call(op="ask", question=QUESTION)
    assert during == before  # the old index keeps answering: same generation, same answer

    a.send(op="continue")
    resumed = a.receive()
    assert resumed["report"]["chunks"] == cluster.expected_chunks, resumed
    after = b.call(op="ask", question=QUESTION)
    assert after["status"] == "answered" and after["generation"] == before["generation"] + 1
    assert b.call(op="reindex")["report"]["embedding_calls"] == 0  # the next run completes, nothing to do
    settled = b.call(op="ask", question=QUESTION)
    cluster.check_clean()

    # Down for the rest of the rebuild: it fails with a plain message and lets go of the lease.
    a.send(op="reindex", full=True, pause_at=8)
    assert a.receive() == {"paused": 8}
    cluster.chroma.stop()
    a.send(op="continue")
    failed = a.receive()
    # Was "unexpected ConnectError: [Errno 111] Connection refused".
    assert failed["error"] == "StoreUnavailable", failed
    assert "Chroma server at 127.0.0.1" in failed["message"] and "reindex again" in failed["message"]
    cluster.chroma.start()
    assert b.call(op="ask", question=QUESTION) == settled  # the old index still answers
    rebuilt = b.call(op="reindex", full=True)  # at once: no lease to wait for
    assert rebuilt["report"]["chunks"] == cluster.expected_chunks, rebuilt
    cluster.check_clean()


@pytest.mark.slow
def test_a_holder_killed_with_sigkill_frees_the_lease_when_it_runs_out(cluster: Cluster) -> None:
    a, b = cluster.worker("a"), cluster.worker("b")
    assert "report" in b.call(op="reindex")
    a.send(op="reindex", full=True, pause_at=8)
    assert a.receive() == {"paused": 8}  # half-way through a rebuild, holding the lease
    a.process.send_signal(signal.SIGKILL)
    a.process.wait(timeout=30)
    killed = time.monotonic()

    busy = b.call(op="reindex", full=True)
    assert busy["error"] == "ReindexBusy" and f"running on {a.holder})" in busy["message"]
    assert b.call(op="ask", question=QUESTION).get("status") == "answered"  # the old index still answers

    # The next run, as a scheduled one: incremental.
    while (done := b.call(op="reindex")).get("error") == "ReindexBusy":
        assert time.monotonic() - killed < LEASE + 20, done
        time.sleep(0.25)
    waited = time.monotonic() - killed
    assert "report" in done, done
    assert (done["report"]["chunks"], done["report"]["embedding_calls"]) == (cluster.expected_chunks, 0)
    assert LEASE - 1 < waited < LEASE + 20
    assert "Took over an expired reindex lease" in (cluster.root / "b.log").read_text()
    cluster.check_clean()  # no duplicates, and the killed run's half-built index and its records are gone
