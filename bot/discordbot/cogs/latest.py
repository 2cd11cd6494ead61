"""`/latest [jurisdiction] [topic]`: the newest dated developments in the sources, ten a page."""

from __future__ import annotations

import asyncio
import functools
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discordbot.cogs.ask import JurisdictionChoices, normalise_jurisdiction
from bot.discordbot.errors import UserFacingError, defer, respond
from bot.discordbot.guards import allowed_channels_text, channel_allowed
from bot.discordbot.rendering import latest_page_embed, neutralise, one_line, truncate
from bot.discordbot.views import Pager
from bot.knowledge.latest import developments

if TYPE_CHECKING:
    from bot.discordbot.client import AnswerBot

MAX_TOPIC_CHARS = 100


class LatestCog(commands.Cog):
    """What changed lately, for everyone."""

    def __init__(self, bot: AnswerBot) -> None:
        self.bot = bot
        self.jurisdictions = JurisdictionChoices(bot.settings.knowledge_dir)

    @app_commands.command(
        name="latest", description="The newest rulings, laws and other dated developments in my sources"
    )
    @app_commands.describe(
        jurisdiction="Only one country or region (optional)",
        topic="Only sources about this, e.g. training, voice, labelling (optional)",
    )
    async def latest(
        self,
        interaction: discord.Interaction[Any],
        jurisdiction: str | None = None,
        topic: app_commands.Range[str, 1, MAX_TOPIC_CHARS] | None = None,
    ) -> None:
        settings = self.bot.settings
        if not channel_allowed(interaction.channel, settings):
            raise UserFacingError(allowed_channels_text(settings))
        code = normalise_jurisdiction(jurisdiction)
        topic = one_line(topic or "")[:MAX_TOPIC_CHARS] or None
        await defer(interaction, ephemeral=False)  # reading every file can take a moment
        found = await asyncio.to_thread(developments, settings.knowledge_dir, jurisdiction=code, topic=topic)
        filters = " · ".join(f for f in (code, f"“{topic}”" if topic else "") if f)
        if not found:
            where = neutralise(f" for {filters}") if filters else ""
            await respond(interaction, f"I have nothing dated in my sources{where}.", ephemeral=False)
            return
        heading = truncate(f"Latest developments · {filters}" if filters else "Latest developments", 200)
        pager = Pager(
            found,
            functools.partial(latest_page_embed, heading=heading),
            owner_id=interaction.user.id,
            refusal="Run `/latest` yourself to browse the list.",
        )
        view = pager if pager.pages > 1 else None
        await respond(interaction, embed=pager.embed(), view=view, ephemeral=False)
        pager.interaction = interaction

    @latest.autocomplete("jurisdiction")
    async def jurisdiction_choices(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self.jurisdictions.matching(current)
