"""Flooding: bursts of questions or mentions from one user, many at once on one server, and a
100 KB question. The work done stays bounded, nothing is left queued, and the user is told
plainly how long to wait."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import discord
import pytest

import bot as bot_package
from bot.core.errors import QuestionError
from bot.discordbot.client import AnswerBot
from bot.discordbot.cogs.ask import AskCog
from bot.discordbot.cogs.mention import MentionCog
from bot.discordbot.errors import TryAgainLater, UserFacingError
from bot.discordbot.guards import Gate
from bot.index.embeddings import CountingEmbeddings, LocalEmbeddings
from bot.rag.engine import Engine
from tests.discord_fakes import (
    BOT_ID,
    GUILD_ID,
    FakeEngine,
    invoke,
    make_bot,
    make_interaction,
    make_message,
    set_bot_user,
)
from tests.discord_fakes import make_settings as discord_settings
from tests.hostile import Indexed
from tests.llm_server import LLMServer


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _ask(bot: AnswerBot, interaction: MagicMock, question: str) -> BaseException | None:
    """/ask as the command tree runs it: the callback, then the error handler on failure."""
    try:
        await invoke(AskCog(bot), "ask", interaction, question)
    except UserFacingError as error:
        await bot.tree.on_error(interaction, error)
        return error
    return None


OURS = (str(Path(bot_package.__file__).parent), str(Path(discord.__file__).parent))


def _other_tasks() -> set[asyncio.Task[Any]]:
    """Work the bot (or discord.py on its behalf) left running or queued in the event loop.

    Other libraries' housekeeping is not ours: an HTTP client collected as garbage from an
    earlier test schedules its own close on whatever loop is running."""
    out = set()
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        if (
            task is not asyncio.current_task()
            and not task.done()
            and code
            and code.co_filename.startswith(OURS)
        ):
            out.add(task)
    return out


async def test_a_burst_of_100_questions_in_10_seconds_does_bounded_work_and_leaves_no_backlog(
    tmp_path: Path,
) -> None:
    engine = FakeEngine()
    bot = make_bot(discord_settings(tmp_path, user_cooldown_seconds=10.0), engine=engine)
    clock = FakeClock()
    bot.gate = Gate(bot.settings, clock=clock)
    start = clock.now
    refusals: list[tuple[float, MagicMock, BaseException]] = []

    for i in range(100):
        clock.now = start + i * 0.1
        interaction = make_interaction(bot)
        error = await _ask(bot, interaction, f"Question {i} about AI art?")
        if error is not None:
            refusals.append((clock.now - start, interaction, error))

    assert len(engine.calls) == 1 and len(refusals) == 99  # bounded: one answer per cooldown
    for elapsed, interaction, error in refusals:
        assert isinstance(error, TryAgainLater)
        interaction.response.send_message.assert_awaited_once_with(error.message, ephemeral=True)
        said = re.fullmatch(r"You're asking a little fast: try again in (\d+) s\.", error.message)
        assert said is not None
        assert 10.0 - elapsed - 1e-6 <= int(said.group(1)) < 10.0 - elapsed + 1  # the true wait
        interaction.response.defer.assert_not_awaited()  # no "thinking…" left hanging
        interaction.edit_original_response.assert_not_awaited()
    # No backlog: nothing runs or waits, no slot is held, and the next question, once the
    # cooldown is over, is answered at once and is the only extra work.
    assert _other_tasks() == set()
    assert bot.gate.limiter.retry_after(GUILD_ID) == 0.0
    clock.now = start + 10.0
    assert await _ask(bot, make_interaction(bot), "And one more?") is None
    assert [c["question"] for c in engine.calls] == ["Question 0 about AI art?", "And one more?"]


async def test_100_questions_at_once_are_refused_without_waiting_behind_the_one_answered(
    tmp_path: Path,
) -> None:
    gate = asyncio.Event()
    engine = FakeEngine(gate=gate)
    bot = make_bot(discord_settings(tmp_path, user_cooldown_seconds=10.0), engine=engine)
    interactions = [make_interaction(bot) for _ in range(100)]
    tasks = [asyncio.create_task(_ask(bot, i, "Is AI art protected?")) for i in interactions]
    for _ in range(20):
        await asyncio.sleep(0)

    done = [t for t in tasks if t.done()]
    assert len(done) == 99 and len(engine.calls) == 1  # refused while the first is still answering
    assert all(isinstance(t.result(), TryAgainLater) for t in done)
    gate.set()
    await asyncio.gather(*tasks)
    assert len(engine.calls) == 1 and _other_tasks() == set()


async def test_with_the_cooldown_off_the_server_limit_still_bounds_a_burst(tmp_path: Path) -> None:
    gate = asyncio.Event()
    engine = FakeEngine(gate=gate)
    bot = make_bot(discord_settings(tmp_path, user_cooldown_seconds=0.0, guild_concurrency=3), engine=engine)
    tasks = [asyncio.create_task(_ask(bot, make_interaction(bot), f"q{i}?")) for i in range(100)]
    for _ in range(20):
        await asyncio.sleep(0)

    refused = [t.result() for t in tasks if t.done()]
    assert len(engine.calls) == 3 and len(refused) == 97
    assert all(
        isinstance(e, TryAgainLater)
        and re.fullmatch(r"I'm answering several questions here right now: try again in \d+ s\.", e.message)
        for e in refused
    )
    gate.set()
    await asyncio.gather(*tasks)
    assert len(engine.calls) == 3 and _other_tasks() == set()
    assert bot.gate.limiter.retry_after(GUILD_ID) == 0.0


async def test_a_burst_of_mentions_gets_at_most_a_few_replies(tmp_path: Path) -> None:
    """A refused mention is answered in public, so each refusal would be a channel message (and
    Discord's per-channel rate limit would queue them): a user is told to wait once per wait."""
    engine = FakeEngine()
    bot = make_bot(discord_settings(tmp_path, mention_mode=True, user_cooldown_seconds=10.0), engine=engine)
    set_bot_user(bot)
    clock = FakeClock()
    bot.gate = Gate(bot.settings, clock=clock)
    cog = MentionCog(bot)
    messages = []
    start = clock.now
    for i in range(100):
        clock.now = start + i * 0.1
        message = make_message(f"<@{BOT_ID}> Question {i} about AI art?")
        await cog.on_message(message)
        messages.append(message)

    assert len(engine.calls) == 1
    replies = sum(m.reply.await_count for m in messages)
    assert replies <= 3


HUGE_QUESTION = ("AI art? " * 12_500).strip() + "?"  # 100,000 characters


async def test_a_100_kb_question_is_refused_by_the_engine_before_any_work(
    hostile_index: Indexed, local_embeddings: LocalEmbeddings, hostile_llm_engine: Engine, llm: LLMServer
) -> None:
    counting = CountingEmbeddings(local_embeddings)
    engine = Engine(hostile_index.settings, embeddings=counting, client=hostile_index.indexer.client)
    message = (
        "Your question is 100,000 characters long; please keep it under 1,000 characters "
        "and ask about one thing at a time."
    )

    with pytest.raises(QuestionError) as caught:
        engine.answer(HUGE_QUESTION)
    assert str(caught.value) == message
    with pytest.raises(QuestionError):
        await engine.aanswer(HUGE_QUESTION)
    with pytest.raises(QuestionError):
        hostile_llm_engine.answer(HUGE_QUESTION)
    assert counting.calls == 0 and llm.requests == []  # nothing embedded, nothing sent


async def test_a_100_kb_question_is_refused_by_ask_before_deferring(tmp_path: Path) -> None:
    engine = FakeEngine()
    bot = make_bot(discord_settings(tmp_path), engine=engine)
    interaction = make_interaction(bot)

    error = await _ask(bot, interaction, HUGE_QUESTION)

    assert isinstance(error, UserFacingError)
    expected = (
        "Your question is 100,000 characters long; please keep it under 1,000 characters "
        "and ask about one thing at a time."
    )
    interaction.response.send_message.assert_awaited_once_with(expected, ephemeral=True)
    interaction.response.defer.assert_not_awaited()
    assert engine.calls == []
