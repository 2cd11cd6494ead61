"""The bot: dependencies passed in, cogs loaded one by one, mentions never ping anyone."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.config import Settings
from bot.discordbot import errors
from bot.discordbot.answering import AnswerDelivery
from bot.discordbot.cogs.admin import AdminCog
from bot.discordbot.cogs.ask import AskCog
from bot.discordbot.cogs.latest import LatestCog
from bot.discordbot.cogs.mention import MentionCog
from bot.discordbot.cogs.owner import OwnerCog
from bot.discordbot.feedback import FeedbackStore
from bot.discordbot.guards import Gate
from bot.discordbot.indexing import IndexRunner
from bot.discordbot.schedule import ReindexSchedule
from bot.discordbot.services import AnswerEngine, IndexerLike
from bot.discordbot.views import QuotesButton, VoteButton
from bot.knowledge.library import KnowledgeFolder
from bot.knowledge.scopes import Scope

log = logging.getLogger(__name__)


class AnswerTree(app_commands.CommandTree["AnswerBot"]):
    """The command tree, with the one central error handler."""

    async def on_error(
        self, interaction: discord.Interaction[AnswerBot], error: app_commands.AppCommandError
    ) -> None:
        await errors.report(interaction, error)


def make_intents(settings: Settings) -> discord.Intents:
    """Default intents; message content only for mention mode (a privileged intent)."""
    intents = discord.Intents.default()
    intents.message_content = settings.mention_mode
    return intents


class AnswerBot(commands.Bot):
    """The Discord bot. It owns no resources: the launcher creates and closes them."""

    def __init__(
        self,
        settings: Settings,
        *,
        engine: AnswerEngine,
        indexer: IndexerLike,
        feedback: FeedbackStore,
        library: KnowledgeFolder | None = None,
        sync_dev_guild: bool = True,
    ) -> None:
        options: dict[str, Any] = self._client_options()
        if settings.owner_ids:
            options["owner_ids"] = set(settings.owner_ids)
        # The bot never joins voice: without these, discord.py warns at start that PyNaCl and
        # davey (voice libraries) are missing. The flags are discord.py's own warn-once switches.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,  # unused: there are no text commands
            help_command=None,
            intents=make_intents(settings),
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=AnswerTree,
            **options,
        )
        self.settings = settings
        self.engine = engine
        self.indexer = indexer
        self.feedback = feedback
        self.library = library or KnowledgeFolder.from_settings(settings)
        self.gate = Gate(settings)
        self.answerer = AnswerDelivery(engine, feedback)
        self.index_runner = IndexRunner(indexer)  # the shared sources'
        self._server_runners: dict[int, IndexRunner] = {}
        self.sync_dev_guild = sync_dev_guild
        self.schedule = (
            ReindexSchedule(self.index_runner, settings.reindex_every) if settings.reindex_every else None
        )

    def runner_for(self, scope: Scope) -> IndexRunner:
        """The reindex runner of the shared sources or of one server's own: one reindex at a
        time for each, and a server's never waits for another's."""
        if scope.guild_id is None:
            return self.index_runner
        runner = self._server_runners.get(scope.guild_id)
        if runner is None:
            runner = self._server_runners[scope.guild_id] = IndexRunner(self.indexer.for_scope(scope))
        return runner

    def _client_options(self) -> dict[str, Any]:
        """Extra options for discord.py's client (the sharded bot adds its shards)."""
        return {}

    def cog_factories(self) -> list[tuple[Callable[[AnswerBot], commands.Cog], bool]]:
        """(cog, dev-guild only) for each feature this configuration turns on."""
        factories: list[tuple[Callable[[AnswerBot], commands.Cog], bool]] = [
            (AskCog, False),
            (LatestCog, False),
            (AdminCog, False),
            (OwnerCog, self.settings.dev_guild_id is not None),
        ]
        if self.settings.mention_mode:
            factories.append((MentionCog, False))
        return factories

    async def load_cogs(self) -> list[str]:
        """Add each cog in its own try, so one broken feature does not take the bot down."""
        loaded = []
        dev_guild = self.settings.dev_guild_id
        for factory, dev_only in self.cog_factories():
            name = getattr(factory, "__name__", repr(factory))
            try:
                if dev_only and dev_guild is not None:
                    await self.add_cog(factory(self), guilds=[discord.Object(id=dev_guild)])
                else:
                    await self.add_cog(factory(self))
            except Exception:
                log.exception("Could not load %s; carrying on without it", name)
            else:
                loaded.append(name)
        return loaded

    async def setup_hook(self) -> None:
        self.add_dynamic_items(QuotesButton, VoteButton)  # answer buttons survive restarts
        loaded = await self.load_cogs()
        log.info("Loaded %s", ", ".join(loaded))
        if self.schedule is not None:
            self.schedule.start()
            log.info("Scheduled reindex %s", self.schedule.describe())
        guild_id = self.settings.dev_guild_id
        if guild_id is not None and self.sync_dev_guild:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            try:
                synced = await self.tree.sync(guild=guild)
            except discord.HTTPException:
                log.exception("Could not sync commands to the dev guild %s", guild_id)
            else:
                log.info("Synced %d commands to the dev guild %s", len(synced), guild_id)

    async def close(self) -> None:
        if self.schedule is not None:
            await self.schedule.stop()
        await super().close()

    async def on_ready(self) -> None:
        log.info(
            "Logged in as %s (%s) in %d servers", self.user, getattr(self.user, "id", "?"), len(self.guilds)
        )

    async def on_message(self, message: discord.Message, /) -> None:
        """No text commands: mention mode is handled by its own cog's listener."""
        return


class ShardedAnswerBot(AnswerBot, commands.AutoShardedBot):
    """The same bot on discord.py's auto-sharded client: SHARD_COUNT shards in all, this
    process running SHARD_IDS (all of them when empty)."""

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        self._shard_options: dict[str, Any] = {"shard_count": settings.shard_count}
        if settings.shard_ids:
            self._shard_options["shard_ids"] = list(settings.shard_ids)
        super().__init__(settings, **kwargs)

    def _client_options(self) -> dict[str, Any]:
        return self._shard_options


def bot_class(settings: Settings) -> type[AnswerBot]:
    """The sharded bot when SHARD_COUNT is set, else the plain one."""
    return ShardedAnswerBot if settings.shard_count else AnswerBot
