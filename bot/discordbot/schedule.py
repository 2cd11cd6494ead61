"""Scheduled reindexing (REINDEX_EVERY): cheap when nothing changed, reported in the log and in
`/sources stats`. Several bot processes may all schedule it: the reindex lock lets one run and
the others note that they skipped."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from dataclasses import dataclass

from bot.core.errors import EngineError
from bot.discordbot.indexing import AlreadyRunning, IndexRunner

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScheduledRun:
    """What the last scheduled reindex did."""

    at: dt.datetime
    summary: str


class ReindexSchedule:
    """Runs an incremental reindex every `every` seconds, one at a time with all other reindexes."""

    def __init__(self, runner: IndexRunner, every: float) -> None:
        self.runner = runner
        self.every = every
        self.last: ScheduledRun | None = None
        self.next_at: dt.datetime | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="scheduled-reindex")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            self.next_at = _now() + dt.timedelta(seconds=self.every)
            await asyncio.sleep(self.every)
            await self.run_once()

    async def run_once(self) -> ScheduledRun:
        """One scheduled reindex; never raises (a failure is logged and reported)."""
        try:
            with self.runner.reserve(user_id=0, full=False) as job:
                report = await job.run()
        except (AlreadyRunning, EngineError) as error:
            summary = f"skipped: {error}"
            log.info("Scheduled reindex %s", summary)
        except Exception:
            log.exception("Scheduled reindex failed")
            summary = "failed (see the log)"
        else:
            changed = report.added + report.updated + report.deleted
            summary = (
                f"{changed} chunks changed, {len(report.failed)} files failed, {report.seconds:.1f} s"
                if changed or report.failed
                else f"nothing changed ({report.seconds:.1f} s)"
            )
            log.info("Scheduled reindex: %s", summary)
        self.last = ScheduledRun(_now(), summary)
        return self.last

    def describe(self) -> str:
        """One line for `/sources stats`."""
        hours = self.every / 3600
        every = f"{hours:g} h" if hours >= 1 else f"{self.every / 60:g} min"
        last = f"; last {_stamp(self.last.at)}: {self.last.summary}" if self.last else ""
        upcoming = f"; next {_stamp(self.next_at)}" if self.next_at else ""
        return f"every {every}{last}{upcoming}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _stamp(moment: dt.datetime) -> str:
    return f"<t:{int(moment.timestamp())}:R>"
