"""`/sync`: publish the slash commands, for the bot's owners only.

When DEV_GUILD_ID is set this command exists only in that server; otherwise it is global but
hidden behind Administrator and refused to anyone who is not an owner.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discordbot.errors import NotOwner, defer, respond

if TYPE_CHECKING:
    from bot.discordbot.client import AnswerBot

log = logging.getLogger(__name__)


class OwnerCog(commands.Cog):
    """Owner-only maintenance."""

    def __init__(self, bot: AnswerBot) -> None:
        self.bot = bot

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        if not await self.bot.is_owner(interaction.user):
            raise NotOwner()
        return True

    @app_commands.command(name="sync", description="Owner only: publish the bot's slash commands")
    @app_commands.describe(scope="Every server (slow to show up) or this server only (at once)")
    @app_commands.choices(
        scope=[
            app_commands.Choice(name="global", value="global"),
            app_commands.Choice(name="this server", value="guild"),
        ]
    )
    @app_commands.guild_only()
    @app_commands.default_permissions(administrator=True)
    async def sync(self, interaction: discord.Interaction[Any], scope: str = "global") -> None:
        await defer(interaction, ephemeral=True)
        if scope == "guild" and interaction.guild is not None:
            self.bot.tree.copy_global_to(guild=interaction.guild)
            synced = await self.bot.tree.sync(guild=interaction.guild)
            where = "this server"
        else:
            synced = await self.bot.tree.sync()
            where = "every server (Discord may take a little while to show changes)"
        log.info("Synced %d commands to %s by %s", len(synced), scope, interaction.user.id)
        names = ", ".join(f"/{c.name}" for c in synced)
        await respond(interaction, f"Synced {len(synced)} commands to {where}: {names}")
