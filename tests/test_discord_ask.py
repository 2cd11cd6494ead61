"""`/ask`, called directly with spec'd mocks: what the asker sees, and when."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.core.errors import IndexNotReady
from bot.core.types import DISCLAIMER, Status
from bot.discordbot.client import AnswerBot
from bot.discordbot.cogs.ask import AskCog
from bot.discordbot.errors import PLACEHOLDER_PENDING, TryAgainLater, UserFacingError
from tests.discord_fakes import (
    CHANNEL_ID,
    GUILD_ID,
    USER_ID,
    FakeEngine,
    all_text,
    declined,
    final_edit,
    invoke,
    make_bot,
    make_interaction,
    make_member,
    make_settings,
)


async def ask(bot: AnswerBot, interaction: Any, question: str, **options: Any) -> None:
    cog = bot.get_cog("AskCog") or AskCog(bot)
    assert isinstance(cog, AskCog)
    await invoke(cog, "ask", interaction, question, **options)


@pytest.fixture
def bot(tmp_path: Path) -> AnswerBot:
    return make_bot(make_settings(tmp_path))


async def test_ask_defers_at_once_then_settles_with_text_sources_and_buttons(bot: AnswerBot) -> None:
    interaction = make_interaction(bot)

    await ask(bot, interaction, "Is an AI-generated image protected by copyright in China?")

    interaction.response.defer.assert_awaited_once_with(thinking=True, ephemeral=False)
    final = final_edit(interaction)
    assert final["content"].startswith("> Is an AI-generated image protected by copyright in China?")
    assert "[1]" in final["content"] and "[2]" in final["content"]
    embed = final["embed"]
    assert embed.title == "Sources" and embed.footer.text == DISCLAIMER
    assert "<https://example.org/cn/li-v-liu>" in embed.description
    labels = [item.item.label for item in final["view"].children]
    assert labels == ["Quotes", "Helpful", "Not helpful"]
    assert interaction.followup.send.await_count == 0  # it fitted in one message


async def test_private_answers_only_the_asker(bot: AnswerBot) -> None:
    interaction = make_interaction(bot)
    await ask(bot, interaction, "Is an AI image protected?", private=True)
    interaction.response.defer.assert_awaited_once_with(thinking=True, ephemeral=True)


async def test_answer_streams_into_the_message_then_is_replaced_by_the_verified_one(
    tmp_path: Path,
) -> None:
    engine = FakeEngine(deltas=["Yes, ", "it can ", "be [1]."])
    bot = make_bot(make_settings(tmp_path), engine=engine)
    interaction = make_interaction(bot)

    await ask(bot, interaction, "Is an AI image protected?")

    shown = [c.kwargs["content"] for c in interaction.edit_original_response.await_args_list]
    assert shown[:3] == [
        "> Is an AI image protected?\n\nYes, ▌",
        "> Is an AI image protected?\n\nYes, it can ▌",
        "> Is an AI image protected?\n\nYes, it can be [1]. ▌",
    ]
    assert "▌" not in shown[-1] and "Li v. Liu" in shown[-1]


async def test_streaming_edits_are_throttled(tmp_path: Path) -> None:
    engine = FakeEngine(deltas=[f"w{i} " for i in range(50)])
    bot = make_bot(make_settings(tmp_path), engine=engine)
    clock = iter(i * 0.1 for i in range(1000))  # 50 pieces arrive over 5 seconds
    bot.answerer.clock = lambda: next(clock)
    bot.answerer.edit_interval = 1.2
    interaction = make_interaction(bot)

    await ask(bot, interaction, "q?")

    streaming_edits = interaction.edit_original_response.await_count - 1
    assert 3 <= streaming_edits <= 5  # ~one per 1.2 s, not 50


async def test_a_long_answer_is_split_and_the_sources_go_under_the_last_part(tmp_path: Path) -> None:
    long = declined(
        Status.ANSWERED, "\n\n".join(f"Paragraph {i}: " + "words " * 60 + "[1]." for i in range(12))
    )
    long.citations = FakeEngine().final.citations
    bot = make_bot(make_settings(tmp_path), engine=FakeEngine(long))
    interaction = make_interaction(bot)

    await ask(bot, interaction, "Tell me everything")

    first = final_edit(interaction)
    sends = interaction.followup.send.await_args_list
    assert sends, "the answer needed more than one message"
    assert len(first["content"]) <= 2000 and all(len(c.args[0]) <= 2000 for c in sends)
    assert "embed" not in first and "view" not in first
    assert sends[-1].kwargs["embed"].title == "Sources" and sends[-1].kwargs["view"] is not None
    assert all("embed" not in c.kwargs for c in sends[:-1])


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (Status.NO_ANSWER, "I couldn't find an answer to that in my sources."),
        (Status.OUT_OF_SCOPE, "That's outside what I can help with."),
        (Status.REFUSED, "Sorry, I can't help with that."),
    ],
)
async def test_declines_are_short_friendly_replies(tmp_path: Path, status: Status, expected: str) -> None:
    bot = make_bot(make_settings(tmp_path), engine=FakeEngine(declined(status)))
    interaction = make_interaction(bot)

    await ask(bot, interaction, "What's the weather?")

    final = final_edit(interaction)
    assert expected in final["content"]
    assert final["embed"] is None
    labels = [item.item.label for item in final["view"].children]
    assert labels == ["Helpful", "Not helpful"]  # nothing to quote


async def test_an_over_long_question_gets_a_clear_message_and_no_answer(tmp_path: Path) -> None:
    engine = FakeEngine()
    bot = make_bot(make_settings(tmp_path, max_question_chars=100), engine=engine)
    interaction = make_interaction(bot)

    with pytest.raises(UserFacingError) as caught:
        await ask(bot, interaction, "why " * 60)

    assert caught.value.message == (
        "Your question is 239 characters long; please keep it under 100 characters "
        "and ask about one thing at a time."
    )
    assert engine.calls == [] and interaction.response.defer.await_count == 0


async def test_the_jurisdiction_is_passed_to_the_engine(bot: AnswerBot) -> None:
    interaction = make_interaction(bot)
    await ask(bot, interaction, "q?", jurisdiction="united states")
    assert bot.engine.calls[-1]["jurisdiction"] == "US"  # type: ignore[attr-defined]
    with pytest.raises(UserFacingError, match="don't know the jurisdiction"):
        await ask(bot, make_interaction(bot), "q?", jurisdiction="Atlantis!")


async def test_cooldown_tells_the_user_when_to_try_again(tmp_path: Path) -> None:
    bot = make_bot(make_settings(tmp_path, user_cooldown_seconds=30))
    await ask(bot, make_interaction(bot), "first?")

    with pytest.raises(TryAgainLater) as caught:
        await ask(bot, make_interaction(bot), "second?")
    assert caught.value.message.startswith("You're asking a little fast: try again in ")
    assert caught.value.message.endswith(" s.")
    other = make_interaction(bot, user=make_member(USER_ID + 1))
    await ask(bot, other, "someone else?")  # cooldowns are per user
    assert "Li v. Liu" in final_edit(other)["embed"].description


async def test_per_server_concurrency_limit(tmp_path: Path) -> None:
    gate = asyncio.Event()
    bot = make_bot(make_settings(tmp_path, guild_concurrency=1), engine=FakeEngine(gate=gate))
    first = asyncio.create_task(ask(bot, make_interaction(bot), "one?"))
    await asyncio.sleep(0.05)

    with pytest.raises(
        TryAgainLater, match=r"I'm answering several questions here right now: try again in \d+ s"
    ):
        await ask(bot, make_interaction(bot, user=make_member(USER_ID + 1)), "two?")
    elsewhere = make_interaction(bot, user=make_member(USER_ID + 2), guild_id=GUILD_ID + 1)
    other_server = asyncio.create_task(ask(bot, elsewhere, "three?"))
    await asyncio.sleep(0.05)
    gate.set()
    await asyncio.gather(first, other_server)

    await ask(bot, make_interaction(bot, user=make_member(USER_ID + 3)), "four?")  # slot is free again


async def test_channel_allowlist(tmp_path: Path) -> None:
    bot = make_bot(make_settings(tmp_path, allowed_channel_ids=[CHANNEL_ID + 7]))
    with pytest.raises(UserFacingError, match=f"I only answer questions in <#{CHANNEL_ID + 7}>"):
        await ask(bot, make_interaction(bot), "q?")
    await ask(bot, make_interaction(bot, channel_id=CHANNEL_ID + 7), "q?")
    assert bot.engine.calls  # type: ignore[attr-defined]


async def test_an_engine_failure_becomes_a_plain_message_in_place_of_the_answer(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bot = make_bot(
        make_settings(tmp_path), engine=FakeEngine(error=IndexNotReady("The index is not built yet."))
    )
    interaction = make_interaction(bot)
    await ask(bot, interaction, "q?")
    assert final_edit(interaction)["content"] == "The index is not built yet."

    broken = make_bot(make_settings(tmp_path), engine=FakeEngine(deltas=["Par"], error=KeyError("boom")))
    interaction = make_interaction(broken)
    await ask(broken, interaction, "q?")
    shown = final_edit(interaction)["content"]
    assert shown.startswith("Sorry, something went wrong on my side. It has been logged as error `")
    error_id = shown.split("`")[1]
    assert any(error_id in r.getMessage() and r.exc_info for r in caplog.records)


async def test_mentions_in_questions_and_answers_cannot_ping(tmp_path: Path) -> None:
    pinging = declined(Status.ANSWERED, "@everyone look, <@&123> and <@456> [1].")
    bot = make_bot(make_settings(tmp_path), engine=FakeEngine(pinging))

    assert bot.allowed_mentions is not None
    assert bot.allowed_mentions.to_dict() == {"parse": []}  # replied_user defaults to off
    interaction = make_interaction(bot)
    await ask(bot, interaction, "@here what about <@&999>?")
    shown = all_text(interaction)
    assert "@\u200beveryone" in shown and "@everyone" not in shown  # shown as text, broken, pinged nobody
    assert "<@&\u200b999>" in shown and "<@&999>" not in shown


async def test_the_error_handler_replies_privately_however_far_the_interaction_got(
    bot: AnswerBot,
) -> None:
    fresh = make_interaction(bot)
    await bot.tree.on_error(fresh, TryAgainLater("try again in 3 s.", 3))
    fresh.response.send_message.assert_awaited_once_with("try again in 3 s.", ephemeral=True)

    deferred = make_interaction(bot)
    await deferred.response.defer(thinking=True)
    deferred.extras[PLACEHOLDER_PENDING] = True
    await bot.tree.on_error(deferred, TryAgainLater("later", 1))
    assert final_edit(deferred)["content"] == "later"  # replaces "thinking…", no stray follow-up

    answered = make_interaction(bot)
    await answered.response.send_message("hi")
    await bot.tree.on_error(answered, discord.app_commands.CheckFailure())
    answered.followup.send.assert_awaited_once_with("You can't use this command here.", ephemeral=True)
