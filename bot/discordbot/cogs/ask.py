"""`/ask question [jurisdiction] [private]`: a cited answer, streamed into the reply."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import jurisdictions
from bot.discordbot.answering import Asked, InteractionTarget
from bot.discordbot.errors import UserFacingError, defer
from bot.discordbot.guards import allowed_channels_text, channel_allowed, checked_question
from bot.knowledge.library import list_sources

if TYPE_CHECKING:
    from bot.discordbot.client import AnswerBot

log = logging.getLogger(__name__)


def normalise_jurisdiction(value: str | None) -> str | None:
    """A jurisdiction code from what the user typed or picked; None for "any"."""
    try:
        return jurisdictions.chosen(value)
    except ValueError:
        raise UserFacingError(
            f"I don't know the jurisdiction “{(value or '').strip()[:40]}”. Pick one from the list, "
            "or use a short code like US, EU, UK or CN."
        ) from None


class JurisdictionChoices:
    """The jurisdiction picker of `/ask` and `/latest`: the codes the knowledge folder covers,
    refreshed every few minutes, filtered by what the user has typed."""

    def __init__(self, knowledge_dir: Path) -> None:
        self.knowledge_dir = knowledge_dir
        self._codes: list[str] = []
        self._codes_at = float("-inf")

    async def matching(self, current: str) -> list[app_commands.Choice[str]]:
        codes = await self._known_codes()
        typed = current.strip().lower()
        choices = []
        for code in codes:
            label = f"{jurisdictions.name(code)} ({code})"
            if typed in label.lower():
                choices.append(app_commands.Choice(name=label, value=code))
        return choices[:25]

    async def _known_codes(self) -> list[str]:
        if time.monotonic() - self._codes_at > 300:
            try:
                sources = await asyncio.to_thread(list_sources, self.knowledge_dir)
            except OSError as error:
                log.warning("Could not list sources for autocomplete: %s", error)
                sources = []
            found = {s.jurisdiction for s in sources if s.jurisdiction}
            ordered = [c for c in jurisdictions.OFFERED if c in found]
            self._codes = ordered + sorted(found - set(ordered)) or list(jurisdictions.OFFERED)
            self._codes_at = time.monotonic()
        return self._codes


class AskCog(commands.Cog):
    """Questions by slash command."""

    def __init__(self, bot: AnswerBot) -> None:
        self.bot = bot
        self.jurisdictions = JurisdictionChoices(bot.settings.knowledge_dir)

    @app_commands.command(
        name="ask",
        description="Ask about AI and copyright law; the answer cites its sources.",
    )
    @app_commands.describe(
        question="Your question, e.g. Is an AI-generated image protected in China?",
        jurisdiction="Focus on one country or region (optional)",
        private="Only you see the answer (default: everyone in the channel)",
    )
    async def ask(
        self,
        interaction: discord.Interaction[Any],
        question: str,
        jurisdiction: str | None = None,
        private: bool = False,
    ) -> None:
        settings = self.bot.settings
        if not channel_allowed(interaction.channel, settings):
            raise UserFacingError(allowed_channels_text(settings))
        question = checked_question(question, settings)
        code = normalise_jurisdiction(jurisdiction)
        with self.bot.gate.admit(user_id=interaction.user.id, guild_id=interaction.guild_id):
            await defer(interaction, ephemeral=private)
            asked = Asked(
                question=question,
                user_id=interaction.user.id,
                guild_id=interaction.guild_id,
                channel_id=interaction.channel_id,
                jurisdiction=code,
                echo=True,
                private=private,
            )
            target = InteractionTarget(interaction, ephemeral=private)
            await self.bot.answerer.deliver(asked, target)

    @ask.autocomplete("jurisdiction")
    async def jurisdiction_choices(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self.jurisdictions.matching(current)
