"""Buttons: Quotes and feedback under every answer (persistent), and the pager of `/sources list`
and `/latest`.

The answer buttons are `DynamicItem`s: the answer's id lives in each button's custom_id, and the
bot registers the item classes at start-up, so buttons on old messages keep working after a
restart without keeping any view in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import discord

from bot.discordbot import errors
from bot.discordbot.feedback import UnknownAnswer
from bot.discordbot.rendering import page_count, quotes_messages, sources_page_embed
from bot.knowledge.library import SourceFile

if TYPE_CHECKING:
    from bot.discordbot.client import AnswerBot

log = logging.getLogger(__name__)

MAX_QUOTE_MESSAGES = 5
GONE = "I no longer have this answer on record, sorry."
T = TypeVar("T")


def _bot(interaction: discord.Interaction[Any]) -> AnswerBot:
    return cast("AnswerBot", interaction.client)


class QuotesButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"kb:quotes:(?P<answer>[0-9]+)"):
    """Shows the exact quoted passages, only to whoever presses."""

    def __init__(self, answer_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Quotes",
                emoji="\N{SCROLL}",
                style=discord.ButtonStyle.secondary,
                custom_id=f"kb:quotes:{answer_id}",
            )
        )
        self.answer_id = answer_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> QuotesButton:
        return cls(int(match["answer"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await show_quotes(interaction, self.answer_id)
        except Exception as error:
            await errors.report(interaction, error)


async def show_quotes(interaction: discord.Interaction[Any], answer_id: int) -> None:
    stored = await asyncio.to_thread(_bot(interaction).feedback.get_answer, answer_id)
    if stored is None or (stored.private and stored.user_id != interaction.user.id):
        await errors.respond(interaction, GONE)  # a private answer's quotes are the asker's only
        return
    messages = quotes_messages(stored.citations)
    if len(messages) > MAX_QUOTE_MESSAGES:
        messages = messages[:MAX_QUOTE_MESSAGES]
        messages[-1] += "\n-# (more quotes left out)"
    for text in messages:
        await errors.respond(interaction, text, ephemeral=True)


class VoteButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"kb:vote:(?P<answer>[0-9]+):(?P<vote>up|down)",
):
    """Helpful / not helpful. One vote per user and answer; pressing again changes it."""

    def __init__(self, answer_id: int, helpful: bool) -> None:
        super().__init__(
            discord.ui.Button(
                label="Helpful" if helpful else "Not helpful",
                emoji="\N{THUMBS UP SIGN}" if helpful else "\N{THUMBS DOWN SIGN}",
                style=discord.ButtonStyle.secondary,
                custom_id=f"kb:vote:{answer_id}:{'up' if helpful else 'down'}",
            )
        )
        self.answer_id = answer_id
        self.helpful = helpful

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> VoteButton:
        return cls(int(match["answer"]), match["vote"] == "up")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await record_vote(interaction, self.answer_id, self.helpful)
        except Exception as error:
            await errors.report(interaction, error)


async def record_vote(interaction: discord.Interaction[Any], answer_id: int, helpful: bool) -> None:
    store = _bot(interaction).feedback
    try:
        result = await asyncio.to_thread(store.vote, answer_id, interaction.user.id, helpful=helpful)
    except UnknownAnswer:
        await errors.respond(interaction, GONE)
        return
    word = "helpful" if helpful else "not helpful"
    if result.previous is None:
        text = f"Thanks! I've noted this answer as {word}. You can change your vote any time."
    elif result.changed:
        text = f"Changed your vote: this answer is now marked {word}."
    else:
        text = f"You've already marked this answer as {word}."
    await errors.respond(interaction, text, ephemeral=True)


def answer_view(answer_id: int, *, quotes: bool = True) -> discord.ui.View:
    """The buttons under an answer."""
    view = discord.ui.View(timeout=None)
    if quotes:
        view.add_item(QuotesButton(answer_id))
    view.add_item(VoteButton(answer_id, True))
    view.add_item(VoteButton(answer_id, False))
    return view


class Pager(discord.ui.View, Generic[T]):
    """Previous / next through a list shown a page at a time; only whoever asked turns pages.
    `render(items, page)` draws one page; `refusal` is what anyone else is told."""

    def __init__(
        self,
        items: Sequence[T],
        render: Callable[[Sequence[T], int], discord.Embed],
        *,
        owner_id: int,
        refusal: str,
        timeout: float = 300.0,
    ) -> None:
        super().__init__(timeout=timeout)
        self.items = list(items)
        self.render = render
        self.owner_id = owner_id
        self.refusal = refusal
        self.page = 0
        self.pages = page_count(len(self.items))
        self.interaction: discord.Interaction[Any] | None = None
        self._sync_buttons()

    def embed(self) -> discord.Embed:
        return self.render(self.items, self.page)

    def _sync_buttons(self) -> None:
        self.previous.disabled = self.page <= 0
        self.next.disabled = self.page >= self.pages - 1

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await errors.respond(interaction, self.refusal)
        return False

    async def _turn(self, interaction: discord.Interaction[Any], step: int) -> None:
        self.page = min(max(self.page + step, 0), self.pages - 1)
        self._sync_buttons()
        await interaction.response.edit_message(embed=self.embed(), view=self)

    @discord.ui.button(label="Previous", emoji="\N{BLACK LEFT-POINTING TRIANGLE}")
    async def previous(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        await self._turn(interaction, -1)

    @discord.ui.button(label="Next", emoji="\N{BLACK RIGHT-POINTING TRIANGLE}")
    async def next(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        await self._turn(interaction, +1)

    async def on_timeout(self) -> None:
        self.previous.disabled = self.next.disabled = True
        if self.interaction is not None:
            # The ephemeral message may be gone already: nothing to tidy then.
            with contextlib.suppress(discord.HTTPException):
                await self.interaction.edit_original_response(view=self)

    async def on_error(
        self,
        interaction: discord.Interaction[Any],
        error: Exception,
        item: discord.ui.Item[Any],
    ) -> None:
        await errors.report(interaction, error)


class SourcesPager(Pager[SourceFile]):
    """`/sources list`, ten files a page."""

    def __init__(
        self, sources: Sequence[SourceFile], *, owner_id: int, summary: str = "", timeout: float = 300.0
    ) -> None:
        super().__init__(
            sources,
            lambda items, page: sources_page_embed(items, page, summary=summary),
            owner_id=owner_id,
            refusal="Run `/sources list` yourself to browse the sources.",
            timeout=timeout,
        )
