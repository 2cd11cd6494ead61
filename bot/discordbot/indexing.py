"""Run the (blocking) indexer off the event loop, one run at a time, relaying its progress."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

from bot.core.types import Progress, ReindexReport
from bot.discordbot.errors import UserFacingError
from bot.discordbot.services import IndexerLike

log = logging.getLogger(__name__)

ProgressSink = Callable[[Progress], Awaitable[None]]
PROGRESS_INTERVAL = 1.5  # seconds between progress edits


class AlreadyRunning(UserFacingError):
    """A second reindex was asked for while one runs."""


@dataclass
class IndexJob:
    runner: IndexRunner
    user_id: int
    full: bool
    started: float = field(default_factory=time.monotonic)
    progress: Progress | None = None

    async def run(self, on_progress: ProgressSink | None = None) -> ReindexReport:
        return await self.runner._run(self, on_progress)


class IndexRunner:
    """Owns the indexer for the Discord side: at most one reindex at a time."""

    def __init__(self, indexer: IndexerLike, *, interval: float = PROGRESS_INTERVAL) -> None:
        self.indexer = indexer
        self.interval = interval
        self.job: IndexJob | None = None

    @property
    def busy(self) -> bool:
        return self.job is not None

    def describe(self) -> str:
        job = self.job
        if job is None:
            return "No reindex is running."
        elapsed = int(time.monotonic() - job.started)
        progress = job.progress
        done = f", {progress.percent}% done" if progress and progress.files_total else ""
        return (
            f"A reindex is already running (started by <@{job.user_id}> {elapsed} s ago{done}). "
            "Try again when it has finished."
        )

    @contextlib.contextmanager
    def reserve(self, *, user_id: int, full: bool) -> Iterator[IndexJob]:
        """Claim the indexer at once (before any await), or AlreadyRunning."""
        if self.job is not None:
            raise AlreadyRunning(self.describe())
        job = self.job = IndexJob(self, user_id=user_id, full=full)
        try:
            yield job
        finally:
            self.job = None

    async def _run(self, job: IndexJob, on_progress: ProgressSink | None) -> ReindexReport:
        loop = asyncio.get_running_loop()
        changed = asyncio.Event()

        def store(progress: Progress) -> None:
            job.progress = progress
            changed.set()

        def from_thread(progress: Progress) -> None:  # called in the indexer's thread
            with contextlib.suppress(RuntimeError):  # the loop is closing: progress is moot
                loop.call_soon_threadsafe(store, progress)

        async def pump() -> None:
            while True:
                await changed.wait()
                changed.clear()
                if on_progress is not None and job.progress is not None:
                    try:
                        await on_progress(job.progress)
                    except Exception as error:  # a failed progress edit must not stop indexing
                        log.warning("Progress update failed: %s", error)
                await asyncio.sleep(self.interval)

        pumping = asyncio.create_task(pump(), name="reindex-progress")
        log.info("Reindex (full=%s) started by user %s", job.full, job.user_id)
        try:
            return await asyncio.to_thread(self.indexer.reindex, full=job.full, progress=from_thread)
        finally:
            pumping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pumping
