"""One reindex at a time: a second one is told plainly that one is running, and a reindex whose
process died never blocks the next one for good."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from bot.core.errors import ReindexBusy
from bot.index import locks
from bot.index.locks import BUSY, LOST, FileLock, LeaseLock, make_lock
from tests.discord_fakes import make_settings
from tests.helpers import ROOT, without_settings


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(locks, "time", fake)  # the lease module's clock only
    return fake


@pytest.fixture
def database(tmp_path: Path) -> Engine:
    return create_engine(f"sqlite:///{tmp_path / 'records.sqlite'}")


# -- one host: a file lock ---------------------------------------------------------------------------


def test_a_second_reindex_on_the_same_data_folder_is_refused_until_the_first_ends(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    with FileLock(settings).hold():
        with pytest.raises(ReindexBusy, match=f"^{re.escape(BUSY)}$"), FileLock(settings).hold():
            pass
        with FileLock(make_settings(tmp_path / "other")).hold():  # another data folder is free
            pass
    with FileLock(settings).hold():
        pass


def test_a_reindex_process_killed_while_holding_the_lock_does_not_block_the_next(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from bot.index.locks import FileLock\n"
            "from tests.discord_fakes import make_settings\n"
            "from pathlib import Path\n"
            f"with FileLock(make_settings(Path({str(tmp_path)!r}))).hold():\n"
            "    print('holding', flush=True)\n"
            "    time.sleep(120)\n",
        ],
        cwd=tmp_path,
        env=without_settings(PYTHONPATH=str(ROOT)),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
        with pytest.raises(ReindexBusy), FileLock(settings).hold():
            pass
    finally:
        holder.kill()  # as a crash or `kill -9` would
        holder.wait(30)
    with FileLock(settings).hold():
        pass


# -- several hosts: a lease in the shared database ---------------------------------------------------


def test_a_lease_is_held_by_one_process_and_names_where_it_runs(database: Engine, clock: Clock) -> None:
    first = LeaseLock(database, "kb:reindex", lease_seconds=60)
    second = LeaseLock(database, "kb:reindex", lease_seconds=60)
    with first.hold():
        with pytest.raises(ReindexBusy) as caught, second.hold():
            pass
        host = first.holder.rsplit(":", 1)[0]
        assert str(caught.value) == f"{BUSY} (running on {host})"
        with LeaseLock(database, "other:reindex").hold():  # another collection is free
            pass
    with second.hold():  # released at the end of the block
        pass


def test_a_dead_holders_lease_expires_and_the_next_reindex_takes_it_over(
    database: Engine, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    crashed = LeaseLock(database, "kb:reindex", lease_seconds=600)
    held = crashed.hold()
    held.__enter__()  # taken, never released: its process died
    waiting = LeaseLock(database, "kb:reindex", lease_seconds=600)

    clock.now += 599
    with pytest.raises(ReindexBusy), waiting.hold():
        pass
    clock.now += 2
    with caplog.at_level(logging.WARNING), waiting.hold():
        assert "Took over an expired reindex lease" in caplog.text
        with pytest.raises(ReindexBusy, match=f"^{re.escape(LOST)}$"):
            crashed.renew()  # had it only been paused, it stops instead of racing the new run


def test_renewing_keeps_a_long_reindex_its_lease(database: Engine, clock: Clock) -> None:
    working = LeaseLock(database, "kb:reindex", lease_seconds=600)
    other = LeaseLock(database, "kb:reindex", lease_seconds=600)
    with working.hold():
        for _ in range(3):  # an hour's reindex, renewed between batches
            clock.now += 500
            working.renew()
            with pytest.raises(ReindexBusy), other.hold():
                pass


def test_the_lease_is_used_with_a_shared_database_and_its_length_comes_from_settings(tmp_path: Path) -> None:
    assert isinstance(make_lock(make_settings(tmp_path)), FileLock)
    shared = make_lock(
        make_settings(
            tmp_path,
            database_url=f"sqlite:///{tmp_path / 'records.sqlite'}",
            collection_prefix="team",
            reindex_lease_seconds=90,
        )
    )
    assert isinstance(shared, LeaseLock)
    assert (shared.name, shared.lease) == ("team:reindex", 90)
