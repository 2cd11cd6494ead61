"""One reindex at a time, across threads, processes and hosts.

With the default SQLite record database, a file lock under DATA_DIR is enough: every process
that shares the index shares the folder. With DATABASE_URL pointing at a shared database,
processes on several hosts share a lease row in it instead; a holder that dies without
releasing it is replaced once its lease runs out.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
import time
import uuid
from collections.abc import Iterator
from typing import IO, Protocol

from sqlalchemy import Column, Float, MetaData, String, Table, create_engine, delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.config import Settings
from bot.rag.errors import ReindexBusy

log = logging.getLogger(__name__)

BUSY = "A reindex is already running; wait for it to finish."
LEASE_SECONDS = 600.0

_metadata = MetaData()
_leases = Table(
    "reindex_lock",
    _metadata,
    Column("name", String(200), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("expires_at", Float, nullable=False),
)


class ReindexLock(Protocol):
    def hold(self) -> contextlib.AbstractContextManager[None]:
        """Hold the lock for the block, or raise ReindexBusy at once."""
        ...

    def renew(self) -> None:
        """Tell other processes the holder is still at work (called between batches)."""
        ...


class FileLock:
    """flock on a file under DATA_DIR: works across threads and processes of one host."""

    def __init__(self, settings: Settings) -> None:
        self.path = settings.data_dir / "reindex.lock"

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle: IO[str]
        with open(self.path, "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ReindexBusy(BUSY) from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def renew(self) -> None:
        pass


class LeaseLock:
    """A lease row in a shared SQL database: works across hosts."""

    def __init__(self, engine: Engine, name: str, lease_seconds: float = LEASE_SECONDS) -> None:
        self.engine = engine
        self.name = name
        self.lease = lease_seconds
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        _metadata.create_all(engine, tables=[_leases])

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        self._acquire()
        try:
            yield
        finally:
            with self.engine.begin() as conn:
                conn.execute(
                    delete(_leases).where(_leases.c.name == self.name, _leases.c.holder == self.holder)
                )

    def _acquire(self) -> None:
        now = time.time()
        with self.engine.begin() as conn:
            taken = conn.execute(
                update(_leases)
                .where(_leases.c.name == self.name, _leases.c.expires_at < now)
                .values(holder=self.holder, expires_at=now + self.lease)
            ).rowcount
        if taken:
            log.warning("Took over an expired reindex lease (its holder stopped without releasing it)")
            return
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(_leases).values(name=self.name, holder=self.holder, expires_at=now + self.lease)
                )
        except IntegrityError:
            with self.engine.connect() as conn:
                row = conn.execute(select(_leases.c.holder).where(_leases.c.name == self.name)).first()
            holder = row[0].rsplit(":", 1)[0] if row else "another process"
            raise ReindexBusy(f"{BUSY} (running on {holder})") from None

    def renew(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(_leases)
                .where(_leases.c.name == self.name, _leases.c.holder == self.holder)
                .values(expires_at=time.time() + self.lease)
            )


def make_lock(settings: Settings, engine: Engine | None = None) -> ReindexLock:
    """The lease lock when DATABASE_URL is set, else the file lock."""
    if settings.database_url:
        return LeaseLock(
            engine or create_engine(settings.database_url), f"{settings.collection_prefix}:reindex"
        )
    return FileLock(settings)
