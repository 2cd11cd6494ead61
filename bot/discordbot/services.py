"""What the Discord layer needs from the answer engine, as structural types.

`bot.rag.engine.Engine` and `bot.index.indexer.Indexer` satisfy these; tests pass small fakes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Protocol

from bot.core.types import Answer, AnswerDelta, IndexStats, Progress, ReindexReport, Turn
from bot.knowledge.scopes import Scope


class AnswerEngine(Protocol):
    def astream(
        self,
        question: str,
        *,
        jurisdiction: str | None = None,
        history: Sequence[Turn] = (),
        guild: int | None = None,
    ) -> AsyncIterator[AnswerDelta | Answer]:
        """Zero or more AnswerDelta, then exactly one final Answer. `guild`: the server asked in
        (its own sources count beside the shared ones), None in direct messages."""
        ...


class IndexerLike(Protocol):
    def reindex(
        self, *, full: bool = False, progress: Callable[[Progress], None] | None = None
    ) -> ReindexReport:
        """Blocking; calls `progress` from the thread it runs in."""
        ...

    def stats(self) -> IndexStats: ...

    def for_scope(self, scope: Scope) -> IndexerLike:
        """The indexer of one server's own sources (or of the shared ones)."""
        ...
