"""Answers as posted and the votes on them, in SQLite (or any SQLAlchemy database).

Every answer the bot posts is recorded first, so that its buttons (Quotes, Helpful, Not helpful)
can find it again after a restart, and so that follow-up questions in a thread can use the
thread's earlier turns. A user has at most one vote per answer: a later vote replaces it.

All methods are blocking: call them through `asyncio.to_thread` from the event loop.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    false,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.pool import StaticPool

from bot.config import Settings
from bot.core.types import Answer, Citation, Turn
from bot.index.locks import create_tables

log = logging.getLogger(__name__)


class _Base(DeclarativeBase):
    pass


class AnswerRow(_Base):
    __tablename__ = "answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    guild_id: Mapped[int | None] = mapped_column(BigInteger)
    channel_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    user_id: Mapped[int] = mapped_column(BigInteger)  # who asked
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    mode: Mapped[str] = mapped_column(String(20))
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # Shown only to the asker (/ask private:True): never context for anyone's later question.
    private: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class AnswerMessageRow(_Base):
    __tablename__ = "answer_messages"

    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"), index=True)


class VoteRow(_Base):
    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("answer_id", "user_id", name="one_vote_per_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(BigInteger)  # who voted
    helpful: Mapped[bool]
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class StoredAnswer:
    id: int
    question: str
    answer: str
    status: str
    citations: list[Citation]
    channel_id: int | None
    user_id: int
    private: bool = False


@dataclass(frozen=True)
class VoteResult:
    helpful: bool
    previous: bool | None  # the user's earlier vote on this answer, if any

    @property
    def changed(self) -> bool:
        return self.previous is not None and self.previous != self.helpful


@dataclass(frozen=True)
class FeedbackCounts:
    answers: int
    helpful: int
    not_helpful: int


class UnknownAnswer(LookupError):
    """No answer with that id is on record."""


def default_url(settings: Settings) -> str:
    """DATABASE_URL if set, else sqlite:///<DATA_DIR>/feedback.sqlite."""
    url = settings.database_url
    if url:
        return str(url)
    return f"sqlite:///{(Path(settings.data_dir) / 'feedback.sqlite').resolve()}"


class FeedbackStore:
    """The answers the bot posted and the votes on them."""

    def __init__(self, url: str) -> None:
        # A connection left in the pool by a restarted database server is replaced, not handed out.
        options: dict[str, Any] = {"pool_pre_ping": True}
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            # Used from asyncio.to_thread workers, so connections cross threads.
            options["connect_args"] = {"check_same_thread": False}
            if parsed.database in (None, "", ":memory:"):
                options["poolclass"] = StaticPool  # one shared in-memory database, not one per thread
            else:
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        self._engine = create_engine(url, **options)
        create_tables(self._engine, _Base.metadata)  # safe when shard processes start at once
        self._upgrade()
        log.info("Feedback store at %s", self._engine.url.render_as_string(hide_password=True))

    @classmethod
    def from_settings(cls, settings: Settings) -> FeedbackStore:
        return cls(default_url(settings))

    def close(self) -> None:
        self._engine.dispose()

    def _upgrade(self) -> None:
        """Add columns that tables made by an older version lack (create_all adds none)."""
        if "private" in self._answer_columns():
            return
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    text("ALTER TABLE answers ADD COLUMN private BOOLEAN NOT NULL DEFAULT FALSE")
                )
        except DBAPIError:
            if "private" not in self._answer_columns():
                raise
            return  # another process (a shard starting at the same time) added it first
        log.info("Feedback store upgraded: answers now record whether they were private")

    def _answer_columns(self) -> set[str]:
        return {c["name"] for c in inspect(self._engine).get_columns(AnswerRow.__tablename__)}

    # -- answers ------------------------------------------------------------------------------

    def record_answer(
        self,
        answer: Answer,
        *,
        user_id: int,
        guild_id: int | None,
        channel_id: int | None,
        private: bool = False,
    ) -> int:
        """Store an answer about to be posted; returns its id (used in the buttons' ids).

        A private answer (seen only by the asker) is kept for its buttons, but never becomes
        context: `recent_turns` skips it.
        """
        row = AnswerRow(
            created_at=_now(),
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            question=answer.question,
            answer=answer.answer,
            status=answer.status.value,
            mode=answer.mode,
            citations=[c.to_dict() for c in answer.citations],
            private=private,
        )
        with Session(self._engine) as session, session.begin():
            session.add(row)
            session.flush()
            return row.id

    def attach_messages(self, answer_id: int, message_ids: Iterable[int]) -> None:
        """Remember which Discord messages show an answer (replies to them continue it)."""
        with Session(self._engine) as session, session.begin():
            for message_id in message_ids:
                session.merge(AnswerMessageRow(message_id=message_id, answer_id=answer_id))

    def get_answer(self, answer_id: int) -> StoredAnswer | None:
        with Session(self._engine) as session:
            row = session.get(AnswerRow, answer_id)
            return None if row is None else _stored(row)

    def answer_for_message(self, message_id: int) -> StoredAnswer | None:
        with Session(self._engine) as session:
            row = session.scalars(
                select(AnswerRow)
                .join(AnswerMessageRow, AnswerMessageRow.answer_id == AnswerRow.id)
                .where(AnswerMessageRow.message_id == message_id)
            ).first()
            return None if row is None else _stored(row)

    def recent_turns(
        self, channel_id: int, *, limit: int = 4, since: dt.datetime | None = None
    ) -> list[Turn]:
        """The last `limit` public exchanges in a channel or thread, oldest first (private
        answers are never anyone's context, not even in a thread where they were asked)."""
        query = select(AnswerRow).where(AnswerRow.channel_id == channel_id, AnswerRow.private.is_(False))
        if since is not None:
            query = query.where(AnswerRow.created_at >= since)
        query = query.order_by(AnswerRow.id.desc()).limit(limit)
        with Session(self._engine) as session:
            rows: Sequence[AnswerRow] = session.scalars(query).all()
            return [Turn(question=r.question, answer=r.answer) for r in reversed(rows)]

    # -- votes --------------------------------------------------------------------------------

    def vote(self, answer_id: int, user_id: int, *, helpful: bool) -> VoteResult:
        """Record a user's vote on an answer, replacing their earlier vote."""
        for attempt in range(2):
            try:
                return self._vote(answer_id, user_id, helpful)
            except IntegrityError:  # the same user's two clicks raced; the retry updates
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _vote(self, answer_id: int, user_id: int, helpful: bool) -> VoteResult:
        with Session(self._engine) as session, session.begin():
            if session.get(AnswerRow, answer_id) is None:
                raise UnknownAnswer(answer_id)
            row = session.scalars(
                select(VoteRow).where(VoteRow.answer_id == answer_id, VoteRow.user_id == user_id)
            ).first()
            if row is None:
                vote = VoteRow(answer_id=answer_id, user_id=user_id, helpful=helpful, updated_at=_now())
                session.add(vote)
                return VoteResult(helpful=helpful, previous=None)
            previous = row.helpful
            row.helpful = helpful
            row.updated_at = _now()
            return VoteResult(helpful=helpful, previous=previous)

    def user_vote(self, answer_id: int, user_id: int) -> bool | None:
        with Session(self._engine) as session:
            return session.scalars(
                select(VoteRow.helpful).where(VoteRow.answer_id == answer_id, VoteRow.user_id == user_id)
            ).first()

    def counts(self) -> FeedbackCounts:
        with Session(self._engine) as session:
            answers = session.scalar(select(func.count()).select_from(AnswerRow)) or 0
            rows = session.execute(select(VoteRow.helpful, func.count()).group_by(VoteRow.helpful))
            by_vote = {bool(helpful): int(n) for helpful, n in rows}
        return FeedbackCounts(
            answers=int(answers), helpful=by_vote.get(True, 0), not_helpful=by_vote.get(False, 0)
        )


def _stored(row: AnswerRow) -> StoredAnswer:
    return StoredAnswer(
        id=row.id,
        question=row.question,
        answer=row.answer,
        status=row.status,
        citations=[_citation(c) for c in row.citations or []],
        channel_id=row.channel_id,
        user_id=row.user_id,
        private=bool(row.private),
    )


_CITATION_FIELDS = {f.name for f in fields(Citation)}


def _citation(data: dict[str, Any]) -> Citation:
    """A stored citation, tolerant of keys added or dropped since it was stored."""
    known = {k: v for k, v in data.items() if k in _CITATION_FIELDS}
    for name in ("title", "url", "publisher", "published", "jurisdiction", "source", "quote"):
        known.setdefault(name, "")
    known.setdefault("n", 0)
    return Citation(**known)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
