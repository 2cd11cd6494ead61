"""Faults with real processes: a Chroma server that goes away and comes back, a reindex killed
with SIGKILL half-way, a data folder that cannot be written, a full disk, a damaged database.
In each, the user gets a plain message and nothing already indexed is lost."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.config import Settings
from bot.core.errors import StoreDamaged, StoreUnavailable
from bot.core.types import Status
from bot.index.embeddings import LocalEmbeddings
from bot.index.indexer import Indexer
from bot.rag.engine import Engine
from tests.chroma_server import ChromaServer
from tests.helpers import ROOT, bot_command, without_settings

QUESTION = "Who is the author of an AI-generated image in China?"


def test_chroma_server_down_then_back(
    tmp_path: Path, kb: Path, make_settings: Callable[..., Settings], local_embeddings: LocalEmbeddings
) -> None:
    server = ChromaServer(tmp_path).start()
    try:
        host, port = server.address
        settings = make_settings(chroma_host=host, chroma_port=port)
        Indexer(settings, embeddings=local_embeddings).reindex()
        engine = Engine(settings, embeddings=local_embeddings)
        assert engine.answer(QUESTION).status is Status.ANSWERED

        server.stop()
        with pytest.raises(StoreUnavailable, match="unreachable \\(its server did not answer\\)"):
            engine.answer(QUESTION)

        server.start()  # same folder, same port: the engine recovers by itself
        assert engine.answer(QUESTION).status is Status.ANSWERED
    finally:
        server.stop()


def cli(args: list[str], kb: Path, data: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        bot_command(*args),
        cwd=kb.parent,  # outside the repository: its .env is not read
        env=without_settings(KNOWLEDGE_DIR=str(kb), DATA_DIR=str(data)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
def test_reindex_killed_half_way_leaves_the_old_index_and_the_next_one_finishes(tmp_path: Path) -> None:
    kb = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", kb)
    data = tmp_path / "data"
    first = cli(["reindex", "--json"], kb, data)
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err.decode()
    clean_chunks = json.loads(out)["chunks"]

    killed = cli(["reindex", "--full"], kb, data)
    seen = bytearray()

    def read() -> None:
        assert killed.stderr is not None
        while chunk := killed.stderr.read(1):
            seen.extend(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 240
    while b" 16/" not in seen and killed.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert killed.poll() is None, "the rebuild ended before it could be killed"
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=30)
    reader.join(timeout=5)

    ask = cli(["ask", "--json", "Can an AI-generated image be protected by copyright in China?"], kb, data)
    out, err = ask.communicate(timeout=300)
    assert ask.returncode == 0, err.decode()
    answer = json.loads(out)
    assert answer["status"] == "answered" and answer["citations"]

    again = cli(["reindex", "--full", "--json"], kb, data)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err.decode()
    report = json.loads(out)
    assert report["chunks"] == clean_chunks  # no duplicates left by the killed run
    assert report["failed"] == []


def test_data_folder_that_cannot_be_written_gets_a_clear_message(
    kb: Path, tmp_path: Path, make_settings: Callable[..., Settings], local_embeddings: LocalEmbeddings
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    settings = make_settings(data_dir=blocker / "data")
    with pytest.raises(StoreUnavailable) as caught:
        Indexer(settings, embeddings=local_embeddings).reindex()
    assert "DATA_DIR" in str(caught.value) or "data folder" in str(caught.value)


def test_full_disk_gets_a_clear_message_and_keeps_the_old_index(
    kb: Path, tmp_path: Path, make_settings: Callable[..., Settings], local_embeddings: LocalEmbeddings
) -> None:
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    try:
        settings = make_settings(data_dir=mount / "data")
        indexer = Indexer(settings, embeddings=local_embeddings)
        indexer.reindex()
        for i in range(400):  # far more text than 2 MB of index can hold
            (kb / f"bulk-{i}.md").write_text(f"# Bulk {i}\n\n" + f"Licensing terms for dataset {i}. " * 300)
        with pytest.raises(StoreUnavailable, match="full"):
            indexer.reindex(full=True)
        engine = Engine(settings, embeddings=local_embeddings, client=indexer.client)
        assert engine.answer(QUESTION).status is Status.ANSWERED
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_damaged_record_database_says_how_to_recover(indexer: Indexer) -> None:
    indexer.reindex()
    path = indexer.settings.data_dir / "records.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreDamaged, match="reindex --full"):
        indexer.reindex()
    report = indexer.reindex(full=True)  # the way out works, and keeps the damaged file aside
    assert report.chunks > 0
    assert list(path.parent.glob("records.sqlite.damaged-*"))
    assert indexer.reindex().added == 0
