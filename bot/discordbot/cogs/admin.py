"""Admin commands: `/reindex [full]` and `/sources add|list|remove|stats`.

`/sources add` takes an attached file with its metadata, or only a `url` to fetch a web page or
PDF (see `bot.knowledge.fetch`, which refuses private and local addresses unless allowed).

Hidden from non-admins by default permissions (Manage Server) and enforced again here, because
a server's admins can let anyone see a command: the check below is the real gate.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.types import Progress, ReindexReport
from bot.discordbot.errors import NotAdmin, UserFacingError, defer, respond
from bot.discordbot.guards import is_admin, is_operator
from bot.discordbot.indexing import AlreadyRunning, ProgressSink
from bot.discordbot.rendering import progress_text, reindex_embed, sources_summary, stats_embed, truncate
from bot.discordbot.views import SourcesPager
from bot.knowledge.library import MAX_SOURCE_BYTES, KnowledgeFolder, check_name
from bot.knowledge.scopes import BASE, Scope

if TYPE_CHECKING:
    from bot.discordbot.client import AnswerBot

log = logging.getLogger(__name__)

MANAGE_SERVER = discord.Permissions(manage_guild=True)


class AdminCog(commands.Cog):
    """Keeping the knowledge base current, from Discord."""

    sources = app_commands.Group(
        name="sources",
        description="Manage the knowledge sources (admins)",
        guild_only=True,
        default_permissions=MANAGE_SERVER,
    )

    def __init__(self, bot: AnswerBot) -> None:
        self.bot = bot

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        """Runs before every command of this cog, whatever Discord chose to show."""
        if not is_admin(interaction, self.bot.settings):
            log.info("Refused admin command for user %s", interaction.user.id)
            raise NotAdmin()
        return True

    # -- /reindex -------------------------------------------------------------------------------

    @app_commands.command(
        name="reindex", description="Update the search index from the knowledge folder (admins)"
    )
    @app_commands.describe(
        full="Rebuild everything from scratch instead of only changed files",
        shared="The shared sources every server sees, instead of this server's own (the bot's operator)",
    )
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def reindex(
        self, interaction: discord.Interaction[Any], full: bool = False, shared: bool = False
    ) -> None:
        scope = self._scope(interaction, shared)
        with self.bot.runner_for(scope).reserve(user_id=interaction.user.id, full=full) as job:
            await defer(interaction, ephemeral=True)
            report = await job.run(self._progress_sink(interaction, full))
        await self._finish(interaction, None, reindex_embed(report))

    # -- /sources ---------------------------------------------------------------------------

    @sources.command(name="add", description="Add a file or a web page to the knowledge folder and index it")
    @app_commands.describe(
        file="A .md, .txt, .html or .pdf file; or leave it out and give a url to fetch",
        title="Title (needed with a file; a fetched page's own title by default)",
        url="With a file: where it was published. Alone: a web page or PDF to fetch (https://…)",
        publisher="Who published it (needed with a file; the site's name by default)",
        date="Publication date, YYYY-MM-DD (needed with a file)",
        jurisdiction="Country or region code, e.g. US, EU, UK, CN (INTL by default for a url)",
        shared="Add it to the shared sources every server sees, not this server's own (the bot's operator)",
    )
    async def sources_add(
        self,
        interaction: discord.Interaction[Any],
        file: discord.Attachment | None = None,
        title: app_commands.Range[str, 1, 300] | None = None,
        url: app_commands.Range[str, 8, 2000] | None = None,
        publisher: app_commands.Range[str, 1, 300] | None = None,
        date: app_commands.Range[str, 10, 10] | None = None,
        jurisdiction: app_commands.Range[str, 2, 10] | None = None,
        shared: bool = False,
    ) -> None:
        scope = self._scope(interaction, shared)
        library = self.bot.library.for_scope(scope)
        if file is None:
            if not url:
                raise UserFacingError("Attach a file, or give a `url` of a web page or PDF for me to fetch.")
            await self._add_from_url(
                interaction,
                library,
                url,
                title=title,
                publisher=publisher,
                date=date,
                jurisdiction=jurisdiction,
            )
            return
        name = check_name(file.filename, for_new_file=True)  # refuse before downloading
        given = {
            "title": title,
            "url": url,
            "publisher": publisher,
            "date": date,
            "jurisdiction": jurisdiction,
        }
        missing = [key for key, value in given.items() if not value]
        if missing:
            raise UserFacingError(
                f"With a file, also give its {_and(missing)}. To fetch a web page instead, give "
                "only its `url`, without a file."
            )
        if file.size > MAX_SOURCE_BYTES:
            raise UserFacingError(
                f"That file is {file.size / 1048576:.1f} MB; the limit is "
                f"{MAX_SOURCE_BYTES / 1048576:.0f} MB."
            )
        await asyncio.to_thread(library.room, file.size)  # a server at its limits: before downloading
        await defer(interaction, ephemeral=True)
        data = await file.read()
        await asyncio.to_thread(
            library.save,
            name,
            data,
            title=title or "",
            url=url or "",
            publisher=publisher or "",
            published=date or "",
            jurisdiction=jurisdiction or "",
        )
        await self._index_after_change(interaction, scope, f"Added `{name}`{_to(scope)}", name)

    async def _add_from_url(
        self,
        interaction: discord.Interaction[Any],
        library: KnowledgeFolder,
        url: str,
        *,
        title: str | None,
        publisher: str | None,
        date: str | None,
        jurisdiction: str | None,
    ) -> None:
        """Fetch a web page or PDF into the knowledge folder (off the event loop), then index."""
        await defer(interaction, ephemeral=True)
        await interaction.edit_original_response(content="Fetching the page…")
        log.info("User %s adds a source from %s", interaction.user.id, url)
        path = await asyncio.to_thread(
            library.add_url,
            url,
            title=title,
            publisher=publisher,
            published=date,
            jurisdiction=jurisdiction,
        )
        host = urlsplit(url).hostname or "the web"
        await self._index_after_change(
            interaction,
            library.scope,
            f"Added `{path.name}` (fetched from {host}){_to(library.scope)}",
            path.name,
        )

    @sources.command(name="list", description="List this server's own sources, then the shared ones")
    async def sources_list(self, interaction: discord.Interaction[Any]) -> None:
        server = _server(interaction)
        own, shared, own_stats, shared_stats = await asyncio.gather(
            asyncio.to_thread(self.bot.library.for_scope(server).sources),
            asyncio.to_thread(self.bot.library.sources),
            asyncio.to_thread(self.bot.runner_for(server).indexer.stats),
            asyncio.to_thread(self.bot.indexer.stats),
        )
        summary = sources_summary(len(own), own_stats, len(shared), shared_stats)
        pager = SourcesPager(own + shared, owner_id=interaction.user.id, summary=summary)
        await respond(interaction, embed=pager.embed(), view=pager if pager.pages > 1 else None)
        pager.interaction = interaction

    @sources.command(name="remove", description="Remove one of this server's own sources")
    @app_commands.describe(
        name="The file, as /sources list shows it",
        shared="Remove one of the shared sources every server sees (the bot's operator)",
    )
    async def sources_remove(
        self, interaction: discord.Interaction[Any], name: str, shared: bool = False
    ) -> None:
        scope = self._scope(interaction, shared)
        library = self.bot.library.for_scope(scope)
        if not scope.is_base:
            own, base = await asyncio.gather(
                asyncio.to_thread(library.holds, name), asyncio.to_thread(self.bot.library.holds, name)
            )
            if not own and base:
                raise UserFacingError(
                    f"`{truncate(name, 100)}` is one of the shared sources the bot comes with, which every "
                    "server uses; only the bot's operator can remove it. Nothing was removed."
                )
        await defer(interaction, ephemeral=True)
        await asyncio.to_thread(library.remove, name)
        await self._index_after_change(interaction, scope, f"Removed `{name}`{_to(scope, 'from')}", None)

    @sources_remove.autocomplete("name")
    async def source_names(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        if not is_admin(interaction, self.bot.settings):
            return []
        shared = bool(getattr(interaction.namespace, "shared", False))
        scope = BASE if shared and is_operator(interaction, self.bot.settings) else _server(interaction)
        found = await asyncio.to_thread(self.bot.library.for_scope(scope).sources)
        typed = current.strip().lower()
        matches = [s for s in found if typed in s.path.lower() or typed in s.title.lower()]
        return [
            app_commands.Choice(name=truncate(f"{s.path} · {s.title}", 100), value=s.path)
            for s in matches[:25]
            if len(s.path) <= 100
        ]

    @sources.command(name="stats", description="Index size, last indexing and feedback counts")
    async def sources_stats(self, interaction: discord.Interaction[Any]) -> None:
        await defer(interaction, ephemeral=True)
        server = _server(interaction)
        stats, counts, found, own_stats, own = await asyncio.gather(
            asyncio.to_thread(self.bot.indexer.stats),
            asyncio.to_thread(self.bot.feedback.counts),
            asyncio.to_thread(self.bot.library.sources),
            asyncio.to_thread(self.bot.runner_for(server).indexer.stats),
            asyncio.to_thread(self.bot.library.for_scope(server).sources),
        )
        schedule = self.bot.schedule.describe() if self.bot.schedule is not None else None
        embed = stats_embed(stats, counts, len(found), schedule, own=(len(own), own_stats))
        await respond(interaction, embed=embed)

    # -- helpers --------------------------------------------------------------------------------

    def _progress_sink(self, interaction: discord.Interaction[Any], full: bool) -> ProgressSink:
        async def show(progress: Progress) -> None:
            await interaction.edit_original_response(content=progress_text(progress, full=full))

        return show

    def _scope(self, interaction: discord.Interaction[Any], shared: bool) -> Scope:
        """The sources a command works on: the server's own, or (for the operator) the shared ones."""
        if not shared:
            return _server(interaction)
        if not is_operator(interaction, self.bot.settings):
            log.info("Refused a change to the shared sources for user %s", interaction.user.id)
            raise UserFacingError(
                "Only the bot's operator changes the shared sources every server uses. "
                "Leave out `shared` to work on this server's own sources."
            )
        return BASE

    async def _index_after_change(
        self, interaction: discord.Interaction[Any], scope: Scope, done: str, added: str | None
    ) -> None:
        """Index incrementally after a file was added or removed, unless a reindex runs."""
        try:
            with self.bot.runner_for(scope).reserve(user_id=interaction.user.id, full=False) as job:
                report = await job.run(self._progress_sink(interaction, False))
        except AlreadyRunning:
            await self._finish(
                interaction,
                f"{done}. A reindex is running right now, so run `/reindex` once it has "
                "finished to bring the index up to date.",
                None,
            )
            return
        message = f"{done} and updated the index."
        if added is not None:
            failure = _failure_for(report, added)
            if failure:
                message = (
                    f"{done}, but it could not be indexed: {failure}\n"
                    f"Fix the file and add it again, or remove it with `/sources remove`."
                )
        await self._finish(interaction, message, reindex_embed(report))

    async def _finish(
        self,
        interaction: discord.Interaction[Any],
        content: str | None,
        embed: discord.Embed | None,
    ) -> None:
        """The final message; a channel message if the interaction expired (after 15 minutes)."""
        try:
            await interaction.edit_original_response(content=content, embed=embed)
        except discord.HTTPException as error:
            log.warning("Could not edit the reindex message (%s); posting in the channel", error)
            channel = interaction.channel
            if isinstance(channel, discord.abc.Messageable):
                await channel.send(content=content, embeds=[embed] if embed else [])


def _server(interaction: discord.Interaction[Any]) -> Scope:
    """The server's own sources (the commands are guild-only)."""
    if interaction.guild_id is None:
        raise UserFacingError("Use this command in a server.")
    return Scope(interaction.guild_id)


def _to(scope: Scope, word: str = "to") -> str:
    return f" {word} the shared sources" if scope.is_base else f" {word} this server's own sources"


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _failure_for(report: ReindexReport, name: str) -> str | None:
    for failure in report.failed:
        if PurePosixPath(failure.source).name == name:
            return failure.reason
    return None
