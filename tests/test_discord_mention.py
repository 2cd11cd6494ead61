"""Mention mode: a mention becomes a thread with the answer; the thread remembers its turns."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest

from bot.core.types import Turn
from bot.discordbot.client import AnswerBot
from bot.discordbot.cogs.mention import USAGE, MentionCog
from bot.discordbot.rendering import THINKING
from tests.discord_fakes import (
    BOT_ID,
    CHANNEL_ID,
    GUILD_ID,
    THREAD_ID,
    TYPICAL,
    USER_ID,
    FakeEngine,
    make_bot,
    make_message,
    make_settings,
    make_thread,
    next_id,
    sent_message,
    set_bot_user,
)


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine(deltas=["Yes, ", "it can [1]."])


@pytest.fixture
def bot(tmp_path: Path, engine: FakeEngine) -> AnswerBot:
    bot = make_bot(make_settings(tmp_path, mention_mode=True), engine=engine)
    set_bot_user(bot)
    return bot


def final_content(message: MagicMock) -> dict[str, Any]:
    return dict(message.edit.await_args.kwargs)


async def test_a_mention_turns_into_a_thread_with_the_answer(bot: AnswerBot, engine: FakeEngine) -> None:
    message = make_message(f"<@{BOT_ID}> Is an AI image protected in China?")

    await MentionCog(bot).on_message(message)

    message.create_thread.assert_awaited_once_with(
        name="Is an AI image protected in China?", auto_archive_duration=1440
    )
    thread = message.create_thread.return_value
    thread.send.assert_awaited_once_with(THINKING)  # acknowledged at once, then edited
    assert engine.calls == [
        {
            "question": "Is an AI image protected in China?",
            "jurisdiction": None,
            "history": [],
            "guild": GUILD_ID,  # the server's own sources count beside the shared ones
        }
    ]
    stored = bot.feedback.recent_turns(THREAD_ID)
    assert stored == [Turn("Is an AI image protected in China?", TYPICAL.answer)]


async def test_the_thread_message_streams_then_settles_with_sources_and_buttons(bot: AnswerBot) -> None:
    message = make_message(f"<@{BOT_ID}> Is an AI image protected in China?")
    placeholder = sent_message()
    thread = make_thread()
    thread.send = AsyncMock(return_value=placeholder)
    message.create_thread = AsyncMock(return_value=thread)

    await MentionCog(bot).on_message(message)

    edits = [c.kwargs for c in placeholder.edit.await_args_list]
    assert edits[0] == {"content": "Yes, ▌"}
    final = edits[-1]
    assert final["content"].startswith("Yes, it can be. In Li v. Liu")  # no echo: the question is right above
    assert final["embed"].title == "Sources"
    assert [i.item.label for i in final["view"].children] == ["Quotes", "Helpful", "Not helpful"]


async def test_a_follow_up_in_the_thread_uses_the_threads_recent_turns(
    bot: AnswerBot, engine: FakeEngine
) -> None:
    await MentionCog(bot).on_message(make_message(f"<@{BOT_ID}> Is an AI image protected in China?"))
    follow_up = make_message("and what about the US?", channel=make_thread(), mentions_bot=False)

    await MentionCog(bot).on_message(follow_up)

    assert engine.calls[-1]["question"] == "and what about the US?"
    assert engine.calls[-1]["history"] == [Turn("Is an AI image protected in China?", TYPICAL.answer)]
    follow_up.create_thread.assert_not_awaited()  # no thread inside a thread
    follow_up.reply.assert_awaited_once_with(THINKING, mention_author=False)


async def test_replying_to_an_answer_continues_it_in_a_new_thread(bot: AnswerBot, engine: FakeEngine) -> None:
    answer_id = bot.feedback.record_answer(TYPICAL, user_id=USER_ID, guild_id=GUILD_ID, channel_id=CHANNEL_ID)
    answer_message_id = next_id()
    bot.feedback.attach_messages(answer_id, [answer_message_id])
    reference = discord.MessageReference(message_id=answer_message_id, channel_id=CHANNEL_ID)
    reply = make_message("What about Japan?", mentions_bot=False, reference=reference)

    await MentionCog(bot).on_message(reply)

    reply.create_thread.assert_awaited_once()
    assert engine.calls[-1]["history"] == [Turn(TYPICAL.question, TYPICAL.answer)]


async def test_messages_not_for_the_bot_are_ignored(bot: AnswerBot, engine: FakeEngine) -> None:
    chatter = make_message("just chatting", mentions_bot=False)
    own = make_message(f"<@{BOT_ID}> hi", author_id=BOT_ID)
    own.author.bot = True
    other_thread = make_message("hello", channel=make_thread(owner_id=USER_ID), mentions_bot=False)

    for message in (chatter, own, other_thread):
        await MentionCog(bot).on_message(message)

    assert engine.calls == []
    for message in (chatter, own, other_thread):
        message.reply.assert_not_awaited()
        message.create_thread.assert_not_awaited()


async def test_a_bare_mention_gets_a_usage_hint(bot: AnswerBot, engine: FakeEngine) -> None:
    message = make_message(f"<@{BOT_ID}>")
    await MentionCog(bot).on_message(message)
    message.reply.assert_awaited_once_with(USAGE, mention_author=False)
    assert engine.calls == []


async def test_limits_apply_to_mentions_too(tmp_path: Path, engine: FakeEngine) -> None:
    bot = make_bot(
        make_settings(tmp_path, mention_mode=True, user_cooldown_seconds=60, max_question_chars=50),
        engine=engine,
    )
    set_bot_user(bot)
    cog = MentionCog(bot)

    long = make_message(f"<@{BOT_ID}> " + "why " * 20)
    await cog.on_message(long)
    assert long.reply.await_args.args[0].startswith("Your question is 79 characters long")

    await cog.on_message(make_message(f"<@{BOT_ID}> first?"))
    second = make_message(f"<@{BOT_ID}> second?")
    await cog.on_message(second)
    assert second.reply.await_args.args[0].startswith("You're asking a little fast: try again in ")
    assert len(engine.calls) == 1


async def test_channels_outside_the_allowlist_are_ignored(tmp_path: Path, engine: FakeEngine) -> None:
    bot = make_bot(
        make_settings(tmp_path, mention_mode=True, allowed_channel_ids=[CHANNEL_ID + 1]), engine=engine
    )
    set_bot_user(bot)
    await MentionCog(bot).on_message(make_message(f"<@{BOT_ID}> q?"))
    assert engine.calls == []


async def test_without_thread_permission_it_answers_inline(bot: AnswerBot) -> None:
    message = make_message(f"<@{BOT_ID}> Is an AI image protected in China?")
    response = MagicMock(status=403, reason="Forbidden")
    message.create_thread = AsyncMock(side_effect=discord.Forbidden(response, "Missing Permissions"))
    placeholder = sent_message()
    message.reply = AsyncMock(return_value=placeholder)

    await MentionCog(bot).on_message(message)

    message.reply.assert_awaited_once_with(THINKING, mention_author=False)
    assert final_content(placeholder)["embed"].title == "Sources"


async def test_in_a_direct_message_every_message_is_a_question_answered_in_place(
    bot: AnswerBot, engine: FakeEngine
) -> None:
    dm = MagicMock(spec=discord.DMChannel)
    dm.id = 808
    first = make_message("Is an AI image protected in China?", channel=dm, mentions_bot=False)
    first.guild = None
    await MentionCog(bot).on_message(first)
    second = make_message("and in the US?", channel=dm, mentions_bot=False)
    second.guild = None
    await MentionCog(bot).on_message(second)

    first.create_thread.assert_not_awaited()
    first.reply.assert_awaited_once_with(THINKING, mention_author=False)
    assert engine.calls[-1]["history"] == [Turn("Is an AI image protected in China?", TYPICAL.answer)]
