"""One reindex at a time, across threads, processes and hosts.

With the default SQLite record database, a file lock under DATA_DIR is enough: every process
that shares the index shares the folder. With DATABASE_URL pointing at a shared database,
processes on several hosts share a lease row in it instead; a holder that dies without
releasing it is replaced once its lease runs out (REINDEX_LEASE_SECONDS).

Processes that start at once on a fresh shared database also take turns creating its tables:
see `create_tables`.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import IO, Protocol

from sqlalchemy import (
    Column,
    Float,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from bot.config import Settings
from bot.core.errors import ReindexBusy

log = logging.getLogger(__name__)

BUSY = "A reindex is already running; wait for it to finish."
LEASE_SECONDS = 600.0
LOST = (
    "This reindex stopped: it lost its lease to another process (it was paused for longer than "
    "REINDEX_LEASE_SECONDS). The other run brings the index up to date."
)
# Key of the PostgreSQL advisory lock under which the bot's processes create their tables.
SCHEMA_LOCK_KEY = 0x6B62_5F73_6368_656D  # "kb_schem"

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
        # one per collection prefix: the shared base and each server's sources reindex apart
        self.path = settings.data_dir / f"reindex-{settings.collection_prefix}.lock"

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
        create_tables(engine, _metadata, tables=[_leases])

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
        """Extend the lease; raises ReindexBusy if another process has taken it over meanwhile."""
        with self.engine.begin() as conn:
            kept = conn.execute(
                update(_leases)
                .where(_leases.c.name == self.name, _leases.c.holder == self.holder)
                .values(expires_at=time.time() + self.lease)
            ).rowcount
        if not kept:
            raise ReindexBusy(LOST)


def make_lock(settings: Settings, engine: Engine | None = None) -> ReindexLock:
    """The lease lock when DATABASE_URL is set, else the file lock."""
    if settings.database_url:
        return LeaseLock(
            engine or create_engine(settings.database_url, pool_pre_ping=True),
            f"{settings.collection_prefix}:reindex",
            lease_seconds=settings.reindex_lease_seconds,
        )
    return FileLock(settings)


def create_tables(engine: Engine, metadata: MetaData, tables: Sequence[Table] | None = None) -> None:
    """`metadata.create_all`, safe for several processes starting at once on a fresh database.

    create_all checks, then creates; two processes doing so together both see no table, and on
    PostgreSQL the second CREATE TABLE then fails on a catalog index ("duplicate key value
    violates unique constraint pg_type_typname_nsp_index"). There, a transaction-scoped advisory
    lock makes them take turns, and as its DDL is transactional the second finds the tables made.
    Elsewhere, a failed attempt is retried once: by then the tables exist and are skipped.
    """
    for attempt in range(2):
        try:
            with engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
                metadata.create_all(conn, tables=tables)
            return
        except DBAPIError:
            if attempt:
                raise
            log.info("Creating tables raced another process; checking again")
