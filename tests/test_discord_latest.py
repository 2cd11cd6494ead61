"""`/latest`, called directly with spec'd mocks: the dated list everyone can see, ten a page."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.discordbot.client import AnswerBot
from bot.discordbot.cogs.latest import LatestCog
from bot.discordbot.errors import UserFacingError
from bot.discordbot.views import Pager
from tests.discord_fakes import (
    CHANNEL_ID,
    USER_ID,
    final_edit,
    invoke,
    make_bot,
    make_interaction,
    make_member,
    make_settings,
)
from tests.helpers import FIXTURE_KNOWLEDGE, article


@pytest.fixture
def bot(tmp_path: Path) -> AnswerBot:
    bot = make_bot(make_settings(tmp_path))
    shutil.copytree(FIXTURE_KNOWLEDGE, bot.settings.knowledge_dir)
    return bot


async def latest(bot: AnswerBot, interaction: Any, **options: Any) -> None:
    await invoke(LatestCog(bot), "latest", interaction, **options)


async def test_latest_is_public_acknowledged_at_once_and_lists_date_jurisdiction_and_link(
    bot: AnswerBot,
) -> None:
    interaction = make_interaction(bot)

    await latest(bot, interaction)

    interaction.response.defer.assert_awaited_once_with(thinking=True, ephemeral=False)
    shown = final_edit(interaction)
    embed = shown["embed"]
    assert embed.title == "Latest developments (4)" and embed.footer.text == "Page 1 of 1"
    assert embed.description.splitlines() == [
        "`2025-03-18` **US** Thaler v. Perlmutter: no copyright without a human author <https://example.org/us/thaler>",
        "`2024-07-12` **EU** EU AI Act: labels for AI-generated content <https://example.org/eu/ai-act>",
        "`2023-11-27` **CN** Li v. Liu: Beijing Internet Court protects a Stable Diffusion image "
        "<https://example.org/cn/li-v-liu>",
        "`1988-11-15` **UK** UK computer-generated works under the CDPA <https://example.org/uk/cdpa>",
    ]
    assert shown["view"] is None  # one page: no buttons


async def test_jurisdiction_by_code_or_name_and_topic_filter_the_list(bot: AnswerBot) -> None:
    by_name = make_interaction(bot)
    await latest(bot, by_name, jurisdiction="China")
    embed = final_edit(by_name)["embed"]
    assert embed.title == "Latest developments · CN (1)" and "Li v. Liu" in embed.description

    by_topic = make_interaction(bot)
    await latest(bot, by_topic, jurisdiction="us", topic="authorship")
    embed = final_edit(by_topic)["embed"]
    assert embed.title == "Latest developments · US · “authorship” (1)" and "Thaler" in embed.description


async def test_nothing_matching_is_a_plain_message(bot: AnswerBot) -> None:
    interaction = make_interaction(bot)

    await latest(bot, interaction, jurisdiction="US", topic="patents")

    shown = final_edit(interaction)
    assert shown["content"] == "I have nothing dated in my sources for US · “patents”."
    assert shown["embed"] is None and shown["view"] is None


async def test_outside_the_allowed_channels_it_says_where_it_works(tmp_path: Path) -> None:
    bot = make_bot(make_settings(tmp_path, allowed_channel_ids=[CHANNEL_ID + 7]))
    interaction = make_interaction(bot)
    with pytest.raises(UserFacingError, match="I only answer questions in"):
        await latest(bot, interaction)
    interaction.response.defer.assert_not_awaited()


async def test_titles_from_files_never_ping(bot: AnswerBot) -> None:
    article(bot.settings.knowledge_dir, "loud.md", title="@everyone look <@123>", published="2025-06-01")
    interaction = make_interaction(bot)

    await latest(bot, interaction)

    first = final_edit(interaction)["embed"].description.splitlines()[0]
    assert "@everyone" not in first and "<@123>" not in first
    assert bot.allowed_mentions is not None and bot.allowed_mentions.everyone is False


async def test_more_than_ten_are_paged_and_only_the_asker_turns_pages(tmp_path: Path) -> None:
    bot = make_bot(make_settings(tmp_path))
    for day in range(1, 24):
        article(
            bot.settings.knowledge_dir,
            f"r{day:02}.md",
            title=f"Ruling {day:02}",
            published=f"2025-01-{day:02}",
        )
    interaction = make_interaction(bot)

    await latest(bot, interaction)

    shown = final_edit(interaction)
    embed, pager = shown["embed"], shown["view"]
    assert isinstance(pager, Pager)
    assert embed.title == "Latest developments (23)" and embed.footer.text == "Page 1 of 3"
    lines = embed.description.splitlines()
    assert len(lines) == 10 and "Ruling 23" in lines[0] and "Ruling 14" in lines[-1]  # newest first
    assert pager.previous.disabled and not pager.next.disabled

    stranger = make_interaction(bot, user=make_member(USER_ID + 1))
    assert await pager.interaction_check(stranger) is False
    stranger.response.send_message.assert_awaited_once()
    assert "Run `/latest` yourself" in stranger.response.send_message.await_args.args[0]

    turn = make_interaction(bot)
    await pager.next.callback(turn)
    page2 = turn.response.edit_message.await_args.kwargs["embed"]
    assert page2.footer.text == "Page 2 of 3"
    assert (
        "Ruling 13" in page2.description.splitlines()[0] and "Ruling 04" in page2.description.splitlines()[-1]
    )

    last = make_interaction(bot)
    await pager.next.callback(last)
    page3 = last.response.edit_message.await_args.kwargs["embed"].description.splitlines()
    assert len(page3) == 3 and "Ruling 01" in page3[-1] and pager.next.disabled


async def test_jurisdiction_autocomplete_offers_the_folders_jurisdictions(bot: AnswerBot) -> None:
    cog: Any = LatestCog(bot)
    choices = await cog.jurisdiction_choices(make_interaction(bot), "chi")
    assert [(c.name, c.value) for c in choices] == [("China (CN)", "CN")]
    everything = await cog.jurisdiction_choices(make_interaction(bot), "")
    assert [c.value for c in everything] == ["US", "EU", "UK", "CN"]


def test_latest_reuses_the_sources_pager() -> None:
    from bot.discordbot.views import SourcesPager

    assert issubclass(SourcesPager, Pager) and issubclass(Pager, discord.ui.View)
