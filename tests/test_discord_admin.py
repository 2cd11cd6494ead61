"""Admin commands: who may use them, one reindex at a time, live progress, managing sources."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, cast
from unittest.mock import AsyncMock, MagicMock, patch

import discord
import pytest
from discord.http import HTTPClient, Route
from discord.webhook.async_ import AsyncWebhookAdapter

from bot.core.errors import SourceError
from bot.core.types import Failure
from bot.discordbot.client import AnswerBot
from bot.discordbot.cogs.admin import AdminCog
from bot.discordbot.errors import ADMINS_ONLY, NotAdmin, UserFacingError
from bot.discordbot.indexing import AlreadyRunning
from bot.discordbot.views import SourcesPager
from bot.knowledge import fetch
from bot.knowledge.library import save_source
from bot.knowledge.scopes import Scope
from tests.discord_fakes import (
    ADMIN_ROLE_ID,
    GUILD_ID,
    USER_ID,
    DiscordHTTP,
    FakeIndexer,
    dispatch,
    embed_text,
    final_edit,
    invoke,
    make_bot,
    make_interaction,
    make_member,
    make_settings,
    slash,
    started,
)
from tests.helpers import ARTICLE, Site

MANAGE_GUILD = 32

META: dict[str, Any] = {
    "title": "T",
    "url": "https://example.org/t",
    "publisher": "P",
    "published": "2025-01-02",
    "jurisdiction": "US",
}


def admin_cog(bot: AnswerBot) -> AdminCog:
    return AdminCog(bot)


def attachment(name: str, data: bytes) -> MagicMock:
    file = MagicMock(spec=discord.Attachment)
    file.filename = name
    file.size = len(data)
    file.read = AsyncMock(return_value=data)
    return file


@pytest.fixture
def indexer() -> FakeIndexer:
    return FakeIndexer()


@pytest.fixture
def bot(tmp_path: Path, indexer: FakeIndexer) -> AnswerBot:
    bot = make_bot(make_settings(tmp_path, admin_role_id=ADMIN_ROLE_ID, owner_ids=[77]), indexer=indexer)
    bot.index_runner.interval = 0.0
    return bot


# -- who may ---------------------------------------------------------------------------------------


async def test_a_non_admin_is_refused_even_when_discord_shows_them_the_command(bot: AnswerBot) -> None:
    cog = admin_cog(bot)
    plain = make_interaction(bot, manage_guild=False)

    with pytest.raises(NotAdmin):
        await cog.interaction_check(plain)
    await bot.tree.on_error(plain, NotAdmin())
    plain.response.send_message.assert_awaited_once_with(ADMINS_ONLY, ephemeral=True)
    assert bot.indexer.calls == []  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "who",
    [
        {"manage_guild": True},
        {"user": make_member(USER_ID, roles=[ADMIN_ROLE_ID])},
        {"user": make_member(77)},  # an owner id
    ],
)
async def test_admins_are_server_managers_the_admin_role_or_owners(
    bot: AnswerBot, who: dict[str, Any]
) -> None:
    assert await admin_cog(bot).interaction_check(make_interaction(bot, **who)) is True


async def test_a_user_outside_a_server_is_never_admin(bot: AnswerBot) -> None:
    interaction = make_interaction(bot, guild_id=None)
    interaction.user = MagicMock(spec=discord.User)
    interaction.user.id = USER_ID
    with pytest.raises(NotAdmin):
        await admin_cog(bot).interaction_check(interaction)


# -- /reindex --------------------------------------------------------------------------------------


async def test_two_reindex_requests_at_once_run_one_and_tell_the_other(
    bot: AnswerBot, indexer: FakeIndexer
) -> None:
    indexer.hold = threading.Event()
    cog = admin_cog(bot)
    first = make_interaction(bot, manage_guild=True)
    second = make_interaction(bot, manage_guild=True, user=make_member(USER_ID + 1, manage_guild=True))

    running = asyncio.create_task(invoke(cog, "reindex", first, full=True))
    await asyncio.to_thread(indexer.started.wait, 5)
    with pytest.raises(AlreadyRunning) as caught:
        await invoke(cog, "reindex", second, full=False)
    await bot.tree.on_error(second, caught.value)
    indexer.hold.set()
    await running

    told = second.response.send_message.await_args.args[0]
    assert told.startswith(f"A reindex is already running (started by <@{USER_ID}> ")
    assert told.endswith("Try again when it has finished.")
    assert indexer.calls == [True]  # only the first ran, as a full rebuild
    assert indexer.threads[0] != threading.main_thread().name  # off the event loop
    summary = final_edit(first)["embed"]
    assert summary.title == "Full reindex finished"
    shown = embed_text(summary)
    assert "Added chunks**: 12" in shown and "Deleted chunks**: 2" in shown
    assert "Failed files (1)**: `knowledge/scan.pdf`: the PDF has no text layer" in shown
    assert "4.2 s" in (summary.description or "")

    again = make_interaction(bot, manage_guild=True)
    await invoke(cog, "reindex", again)  # free again afterwards
    assert indexer.calls == [True, False]


async def test_reindex_shows_live_progress(bot: AnswerBot, indexer: FakeIndexer) -> None:
    indexer.hold = threading.Event()
    cog = admin_cog(bot)
    interaction = make_interaction(bot, manage_guild=True)

    task = asyncio.create_task(invoke(cog, "reindex", interaction))
    for _ in range(100):
        contents = [c.kwargs.get("content") or "" for c in interaction.edit_original_response.await_args_list]
        if any("33%" in c for c in contents):
            break
        await asyncio.sleep(0.02)
    indexer.hold.set()
    await task

    assert any(
        c.startswith("**Reindex**: Embedding and indexing…") and "33% · 3/9 files · 20 chunks" in c
        for c in contents
    )
    interaction.response.defer.assert_awaited_once_with(thinking=True, ephemeral=True)


# -- /sources ----------------------------------------------------------------------------------


async def test_sources_add_saves_with_front_matter_and_indexes(bot: AnswerBot, indexer: FakeIndexer) -> None:
    cog = admin_cog(bot)
    interaction = make_interaction(bot, manage_guild=True)

    await invoke(
        cog,
        "sources add",
        interaction,
        attachment("ai-art.md", b"# AI art\n\nA ruling."),
        title="Court rules on AI art",
        url="https://example.org/ai-art",
        publisher="Example News",
        date="2025-03-07",
        jurisdiction="cn",
    )

    saved = own_folder(bot) / "ai-art.md"  # the server's own sources, not the shared ones
    text = saved.read_text(encoding="utf-8")
    assert text.startswith("---\ntitle: Court rules on AI art\n") and "jurisdiction: CN" in text
    assert indexer.calls == [False]  # incremental
    final = final_edit(interaction)
    assert final["content"] == "Added `ai-art.md` to this server's own sources and updated the index."
    assert final["embed"].title == "Reindex finished"


async def test_sources_add_refuses_a_bad_file_before_downloading_it(bot: AnswerBot) -> None:
    cog = admin_cog(bot)
    interaction = make_interaction(bot, manage_guild=True)
    file = attachment("tool.exe", b"MZ")

    with pytest.raises(SourceError, match=r"Only \.md, \.txt, \.html, \.pdf files can be added"):
        await invoke(
            cog,
            "sources add",
            interaction,
            file,
            title="T",
            url="https://example.org/t",
            publisher="P",
            date="2025-01-02",
            jurisdiction="US",
        )
    file.read.assert_not_awaited()
    interaction.response.defer.assert_not_awaited()


async def test_sources_add_says_when_the_file_could_not_be_indexed(
    bot: AnswerBot, indexer: FakeIndexer
) -> None:
    indexer.report = replace(
        indexer.report, failed=[Failure("knowledge/scan.pdf", "the PDF has no text layer")]
    )
    cog = admin_cog(bot)
    interaction = make_interaction(bot, manage_guild=True)

    await invoke(
        cog,
        "sources add",
        interaction,
        attachment("scan.pdf", b"%PDF-1.4 ..."),
        title="Scan",
        url="https://example.org/scan",
        publisher="P",
        date="2025-01-02",
        jurisdiction="US",
    )

    assert final_edit(interaction)["content"].startswith(
        "Added `scan.pdf` to this server's own sources, but it could not be indexed: the PDF has no text layer"
    )


async def test_sources_add_while_a_reindex_runs_saves_and_says_so(
    bot: AnswerBot, indexer: FakeIndexer
) -> None:
    cog = admin_cog(bot)
    interaction = make_interaction(bot, manage_guild=True)

    with bot.runner_for(Scope(GUILD_ID)).reserve(user_id=1, full=False):  # this server's own
        await invoke(
            cog,
            "sources add",
            interaction,
            attachment("note.txt", b"Some text."),
            title="Note",
            url="https://example.org/n",
            publisher="P",
            date="2025-01-02",
            jurisdiction="EU",
        )

    assert (own_folder(bot) / "note.txt").exists()
    assert "A reindex is running right now" in final_edit(interaction)["content"]
    assert indexer.calls == []


async def test_sources_remove_deletes_and_reindexes_or_explains(bot: AnswerBot, indexer: FakeIndexer) -> None:
    save_source(bot.settings.knowledge_dir, "old.md", b"text", **META, scope=Scope(GUILD_ID))
    cog = admin_cog(bot)
    interaction = make_interaction(bot, manage_guild=True)

    await invoke(cog, "sources remove", interaction, "old.md")

    assert not (own_folder(bot) / "old.md").exists()
    assert (
        final_edit(interaction)["content"]
        == "Removed `old.md` from this server's own sources and updated the index."
    )
    with pytest.raises(SourceError, match=r"There is no source named old\.md"):
        await invoke(cog, "sources remove", make_interaction(bot, manage_guild=True), "old.md")
    with pytest.raises(SourceError):
        await invoke(cog, "sources remove", make_interaction(bot, manage_guild=True), "../../etc/passwd")


async def test_sources_remove_autocomplete_is_empty_for_non_admins(bot: AnswerBot) -> None:
    save_source(bot.settings.knowledge_dir, "a-ruling.md", b"text", **META, scope=Scope(GUILD_ID))
    cog = admin_cog(bot)
    choices = await cast(Any, cog).source_names(make_interaction(bot, manage_guild=True), "rul")
    assert [c.value for c in choices] == ["a-ruling.md"]
    assert await cast(Any, cog).source_names(make_interaction(bot), "rul") == []


async def test_sources_list_is_paged_and_only_its_asker_turns_pages(bot: AnswerBot) -> None:
    for i in range(23):
        save_source(bot.settings.knowledge_dir, f"s{i:02}.md", b"text", **{**META, "title": f"Source {i}"})
    cog = admin_cog(bot)
    interaction = make_interaction(bot, manage_guild=True)

    await invoke(cog, "sources list", interaction)

    call = interaction.response.send_message.await_args
    embed, pager = call.kwargs["embed"], call.kwargs["view"]
    assert isinstance(pager, SourcesPager)
    assert embed.title == "Knowledge sources (23)" and embed.footer.text == "Page 1 of 3"
    assert "`s00.md`" in embed.description and "`s10.md`" not in embed.description
    assert call.kwargs["ephemeral"] is True

    stranger = make_interaction(bot, user=make_member(USER_ID + 1, manage_guild=True))
    assert await pager.interaction_check(stranger) is False
    turn = make_interaction(bot, manage_guild=True)
    await pager.next.callback(turn)
    shown = turn.response.edit_message.await_args.kwargs["embed"]
    assert shown.footer.text == "Page 2 of 3" and "`s10.md`" in shown.description


async def test_sources_stats_shows_index_and_feedback(bot: AnswerBot) -> None:
    from tests.discord_fakes import TYPICAL

    answer_id = bot.feedback.record_answer(TYPICAL, user_id=1, guild_id=None, channel_id=None)
    bot.feedback.vote(answer_id, 5, helpful=True)
    cog = admin_cog(bot)
    interaction = make_interaction(bot, manage_guild=True)

    await invoke(cog, "sources stats", interaction)

    shown = embed_text(final_edit(interaction)["embed"])
    for expected in (
        "Documents indexed**: 9",
        "Chunks**: 55",
        "Embedding model**: `local:all-MiniLM-L6-v2`",
        "👍 1 helpful · 👎 0 not helpful",
        "Answers on record: 1",
        "<t:1767607200:f>",
    ):
        assert expected in shown


async def test_sources_stats_shows_the_scheduled_reindex(tmp_path: Path, indexer: FakeIndexer) -> None:
    bot = make_bot(make_settings(tmp_path, reindex_every="6h"), indexer=indexer)
    assert bot.schedule is not None
    await bot.schedule.run_once()
    interaction = make_interaction(bot, manage_guild=True)

    await invoke(admin_cog(bot), "sources stats", interaction)

    shown = embed_text(final_edit(interaction)["embed"])
    assert "Scheduled reindex**: every 6 h; last <t:" in shown


# -- /sources add url: ----------------------------------------------------------------------------


@pytest.fixture
def site() -> Iterator[Site]:
    server = Site()
    server.page("/news/harlow", ARTICLE)
    yield server
    server.close()


@pytest.fixture
def loopback_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test server is on 127.0.0.1, which the fetcher refuses unless allowed: allow it here."""
    read = fetch.settings_options
    monkeypatch.setattr(fetch, "settings_options", lambda settings: {**read(settings), "allow_private": True})


async def test_sources_add_url_fetches_off_the_event_loop_then_indexes(
    bot: AnswerBot, indexer: FakeIndexer, site: Site, loopback_allowed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    add_url = fetch.add_url

    def recording_add_url(*args: Any, **kwargs: Any) -> Path:
        threads.append(threading.current_thread().name)
        return add_url(*args, **kwargs)

    monkeypatch.setattr(fetch, "add_url", recording_add_url)
    cog = admin_cog(bot)
    interaction = make_interaction(bot, manage_guild=True)

    await invoke(cog, "sources add", interaction, url=site.url("/news/harlow"), jurisdiction="us")

    interaction.response.defer.assert_awaited_once_with(thinking=True, ephemeral=True)
    assert threads and threads[0] != threading.main_thread().name  # fetched off the event loop
    (saved,) = own_folder(bot).iterdir()
    text = saved.read_text(encoding="utf-8")
    assert text.startswith(
        "---\ntitle: 'Harlow v. Brightline Records: no copyright in a song written by AI'\n"
    )
    assert "jurisdiction: US" in text and "the district court held" in text
    assert indexer.calls == [False]  # incremental
    shown = [c.kwargs.get("content") for c in interaction.edit_original_response.await_args_list]
    assert shown[0] == "Fetching the page…"
    final = final_edit(interaction)
    assert final["content"] == (
        f"Added `{saved.name}` (fetched from 127.0.0.1) to this server's own sources and updated the index."
    )
    assert final["embed"].title == "Reindex finished"


async def test_sources_add_url_refuses_a_private_address_by_default(
    bot: AnswerBot, indexer: FakeIndexer, site: Site
) -> None:
    cog = admin_cog(bot)
    interaction = make_interaction(bot, manage_guild=True)

    with pytest.raises(SourceError) as caught:
        await invoke(cog, "sources add", interaction, url=site.url("/news/harlow"))
    await bot.tree.on_error(interaction, cast(Any, caught.value))

    assert final_edit(interaction)["content"].startswith("That address points to a private network")
    assert site.requests == [] and indexer.calls == []
    assert not bot.settings.knowledge_dir.exists() or not any(bot.settings.knowledge_dir.iterdir())


async def test_sources_add_needs_a_file_or_a_url(bot: AnswerBot) -> None:
    cog = admin_cog(bot)
    interaction = make_interaction(bot, manage_guild=True)

    with pytest.raises(UserFacingError) as caught:
        await invoke(cog, "sources add", interaction, title="A title only")
    await bot.tree.on_error(interaction, caught.value)

    interaction.response.send_message.assert_awaited_once_with(
        "Attach a file, or give a `url` of a web page or PDF for me to fetch.", ephemeral=True
    )
    interaction.response.defer.assert_not_awaited()


async def test_sources_add_with_a_file_still_needs_its_metadata(bot: AnswerBot) -> None:
    cog = admin_cog(bot)
    interaction = make_interaction(bot, manage_guild=True)
    file = attachment("ruling.md", b"# Ruling\n\nText.")

    with pytest.raises(UserFacingError, match=r"With a file, also give its url, date and jurisdiction\."):
        await invoke(cog, "sources add", interaction, file, title="Ruling", publisher="Court")
    file.read.assert_not_awaited()
    interaction.response.defer.assert_not_awaited()


def _sources_add(url: str, permissions: int) -> dict[str, Any]:
    option = {"name": "add", "type": 1, "options": [{"name": "url", "type": 3, "value": url}]}
    return slash("sources", [option], permissions=permissions)


async def test_sources_add_url_through_the_command_tree_admins_only(
    tmp_path: Path, site: Site, loopback_allowed: None
) -> None:
    """Real interaction payloads: a url alone is a valid /sources add; a non-admin never fetches."""
    discord_http = DiscordHTTP()

    async def webhook(self: AsyncWebhookAdapter, route: Route, session: Any = None, **kwargs: Any) -> Any:
        return await discord_http.webhook(self, route, session, **kwargs)

    async def rest(self: HTTPClient, route: Route, **kwargs: Any) -> Any:
        return await discord_http.rest(self, route, **kwargs)

    indexer = FakeIndexer()
    with patch.object(AsyncWebhookAdapter, "request", webhook), patch.object(HTTPClient, "request", rest):
        bot = await started(make_bot(make_settings(tmp_path), indexer=indexer))
        bot.index_runner.interval = 0.0

        await dispatch(bot, _sources_add(site.url("/news/harlow"), permissions=0))
        (refusal,) = discord_http.callbacks()
        assert refusal["data"]["content"] == ADMINS_ONLY
        assert site.requests == [] and indexer.calls == []

        await dispatch(bot, _sources_add(site.url("/news/harlow"), permissions=MANAGE_GUILD))
        assert discord_http.callbacks()[-1]["type"] == 5  # deferred at once
        assert [path for path, _ in site.requests] == ["/news/harlow"]
        assert discord_http.edits()[-1]["content"].endswith(
            "(fetched from 127.0.0.1) to this server's own sources and updated the index."
        )
        assert indexer.calls == [False]


def own_folder(bot: AnswerBot) -> Path:
    """Where a server admin's additions go: the server's own folder under the knowledge folder."""
    return Scope(GUILD_ID).folder(bot.settings.knowledge_dir)
