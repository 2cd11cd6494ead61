"""`/ask question [jurisdiction] [private]`: a cited answer, streamed into the reply."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discordbot.answering import Asked, InteractionTarget
from bot.discordbot.errors import UserFacingError, defer
from bot.discordbot.guards import allowed_channels_text, channel_allowed, clean_question
from bot.discordbot.rendering import JURISDICTIONS

if TYPE_CHECKING:
    from bot.discordbot.client import AnswerBot

log = logging.getLogger(__name__)

_CODE = re.compile(r"[A-Z][A-Z-]{1,9}")
_BY_NAME = {name.lower(): code for code, name in JURISDICTIONS.items()}


def normalise_jurisdiction(value: str | None) -> str | None:
    """A jurisdiction code from what the user typed or picked; None for "any"."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    code = _BY_NAME.get(text.lower(), text.upper())
    if code in ("ANY", "ALL"):
        return None
    if not _CODE.fullmatch(code):
        raise UserFacingError(
            f"I don't know the jurisdiction “{text[:40]}”. Pick one from the list, "
            "or use a short code like US, EU, UK or CN."
        )
    return code


class AskCog(commands.Cog):
    """Questions by slash command."""

    def __init__(self, bot: AnswerBot) -> None:
        self.bot = bot
        self._codes: list[str] = []
        self._codes_at = float("-inf")

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
        question = clean_question(question, settings.max_question_chars)
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
        codes = await self._known_codes()
        typed = current.strip().lower()
        choices = []
        for code in codes:
            label = f"{JURISDICTIONS.get(code, code)} ({code})"
            if typed in label.lower():
                choices.append(app_commands.Choice(name=label, value=code))
        return choices[:25]

    async def _known_codes(self) -> list[str]:
        """Jurisdictions the knowledge folder covers, refreshed every few minutes."""
        if time.monotonic() - self._codes_at > 300:
            try:
                sources = await asyncio.to_thread(self.bot.library.sources)
            except OSError as error:
                log.warning("Could not list sources for autocomplete: %s", error)
                sources = []
            found = {s.jurisdiction for s in sources if s.jurisdiction}
            ordered = [c for c in JURISDICTIONS if c in found]
            self._codes = ordered + sorted(found - set(ordered)) or list(JURISDICTIONS)
            self._codes_at = time.monotonic()
        return self._codes
