"""Stream an answer into a Discord message, then settle it with sources and buttons.

The same flow serves `/ask` (an interaction's message) and mentions (a message in a thread): a
target knows how to show text while streaming and how to post the final messages.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import discord

from bot.core.types import Answer, AnswerDelta, Status, Turn
from bot.discordbot.errors import PLACEHOLDER_PENDING, describe
from bot.discordbot.feedback import FeedbackStore
from bot.discordbot.rendering import DECLINE_DEFAULTS, THINKING, answer_embed, answer_text, stream_preview
from bot.discordbot.services import AnswerEngine
from bot.discordbot.splitting import split_message
from bot.discordbot.views import answer_view
from bot.logs import redact

log = logging.getLogger(__name__)

EDIT_INTERVAL = 1.2  # seconds between streaming edits: inside Discord's 5 edits / 5 s per channel


class AnswerTarget(Protocol):
    async def show(self, content: str) -> None:
        """Replace the visible (streaming) text."""
        ...

    async def finish(
        self, chunks: Sequence[str], embed: discord.Embed | None, view: discord.ui.View | None
    ) -> list[int]:
        """Post the final answer; the embed and buttons go under the last part. Message ids."""
        ...

    async def fail(self, text: str) -> None:
        """Show an error where the answer would have been."""
        ...


class InteractionTarget:
    """The message of a deferred slash command, plus follow-ups for long answers."""

    def __init__(self, interaction: discord.Interaction[Any], *, ephemeral: bool) -> None:
        self.interaction = interaction
        self.ephemeral = ephemeral

    async def show(self, content: str) -> None:
        await self.interaction.edit_original_response(content=content)
        self.interaction.extras[PLACEHOLDER_PENDING] = False

    async def finish(
        self, chunks: Sequence[str], embed: discord.Embed | None, view: discord.ui.View | None
    ) -> list[int]:
        extras: dict[str, Any] = {"embed": embed, "view": view} if len(chunks) == 1 else {}
        first = await self.interaction.edit_original_response(content=chunks[0], **extras)
        self.interaction.extras[PLACEHOLDER_PENDING] = False
        ids = [first.id]
        for i, chunk in enumerate(chunks[1:], start=2):
            last: dict[str, Any] = {}
            if i == len(chunks):
                last = {"embed": embed} if embed is not None else {}
                if view is not None:
                    last["view"] = view
            message = await self.interaction.followup.send(chunk, ephemeral=self.ephemeral, wait=True, **last)
            ids.append(message.id)
        return ids

    async def fail(self, text: str) -> None:
        await self.interaction.edit_original_response(content=text, embed=None, view=None)
        self.interaction.extras[PLACEHOLDER_PENDING] = False


class MessageTarget:
    """A placeholder message in a channel or thread, edited as the answer streams in."""

    def __init__(self, channel: discord.abc.Messageable, *, reply_to: discord.Message | None = None) -> None:
        self.channel = channel
        self.reply_to = reply_to
        self.message: discord.Message | None = None

    async def start(self) -> None:
        if self.reply_to is not None:
            self.message = await self.reply_to.reply(THINKING, mention_author=False)
        else:
            self.message = await self.channel.send(THINKING)

    async def show(self, content: str) -> None:
        if self.message is None:
            await self.start()
        assert self.message is not None
        self.message = await self.message.edit(content=content)

    async def finish(
        self, chunks: Sequence[str], embed: discord.Embed | None, view: discord.ui.View | None
    ) -> list[int]:
        if self.message is None:
            await self.start()
        assert self.message is not None
        extras: dict[str, Any] = {"embed": embed, "view": view} if len(chunks) == 1 else {}
        self.message = await self.message.edit(content=chunks[0], **extras)
        ids = [self.message.id]
        for i, chunk in enumerate(chunks[1:], start=2):
            last: dict[str, Any] = {}
            if i == len(chunks):
                last = {"embed": embed} if embed is not None else {}
                if view is not None:
                    last["view"] = view
            sent = await self.channel.send(chunk, **last)
            ids.append(sent.id)
        return ids

    async def fail(self, text: str) -> None:
        """Show an error where the answer would have been."""
        if self.message is not None:
            await self.message.edit(content=text, embed=None, view=None)
        elif self.reply_to is not None:
            await self.reply_to.reply(text, mention_author=False)
        else:
            await self.channel.send(text)


@dataclass(frozen=True)
class Asked:
    """Who asked what, where."""

    question: str
    user_id: int
    guild_id: int | None
    channel_id: int | None
    jurisdiction: str | None = None
    history: Sequence[Turn] = ()
    echo: bool = False  # repeat the question above the answer (slash commands do not show it)
    private: bool = False  # only the asker sees the answer: it must never become others' context


class AnswerDelivery:
    """Runs the engine for a question and shows the result in a target."""

    def __init__(
        self,
        engine: AnswerEngine,
        feedback: FeedbackStore,
        *,
        edit_interval: float = EDIT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.feedback = feedback
        self.edit_interval = edit_interval
        self.clock = clock

    async def deliver(self, asked: Asked, target: AnswerTarget) -> Answer | None:
        """Answer in the target; on failure, say so in the target instead (None)."""
        try:
            return await self._deliver(asked, target)
        except Exception as error:
            message, _ = describe(error)  # logs the traceback of anything unexpected
            try:
                await target.fail(message)
            except discord.HTTPException as failure:
                log.warning("Could not show an error in place of an answer: %s", failure)
            return None

    async def _deliver(self, asked: Asked, target: AnswerTarget) -> Answer:
        final = await self._stream(asked, target)
        answer_id = await self._record(final, asked)
        content = redact(answer_text(final, echo=asked.question if asked.echo else None))
        chunks = split_message(content) or [DECLINE_DEFAULTS[Status.NO_ANSWER]]
        embed = answer_embed(final)
        view = answer_view(answer_id, quotes=bool(final.citations)) if answer_id is not None else None
        message_ids = await target.finish(chunks, embed, view)
        if answer_id is not None:
            try:
                await asyncio.to_thread(self.feedback.attach_messages, answer_id, message_ids)
            except Exception:
                log.exception("Could not link messages to answer %s", answer_id)
        log.info(
            "Answered (%s, %d citations, %d ms, %d messages)",
            final.status.value,
            len(final.citations),
            final.latency_ms,
            len(message_ids),
        )
        return final

    async def _stream(self, asked: Asked, target: AnswerTarget) -> Answer:
        streamed = ""
        last_edit = float("-inf")
        final: Answer | None = None
        echo = asked.question if asked.echo else None
        stream = self.engine.astream(
            asked.question, jurisdiction=asked.jurisdiction, history=asked.history, guild=asked.guild_id
        )
        async for item in stream:
            if isinstance(item, AnswerDelta):
                streamed += item.text
                now = self.clock()
                if streamed.strip() and now - last_edit >= self.edit_interval:
                    last_edit = now
                    try:
                        await target.show(redact(stream_preview(streamed, echo=echo)))
                    except discord.HTTPException as error:  # a lost preview is not worth failing
                        log.warning("Streaming edit failed: %s", error)
            elif isinstance(item, Answer):
                final = item
        if final is None:
            raise RuntimeError("the engine finished without an answer")
        return final

    async def _record(self, answer: Answer, asked: Asked) -> int | None:
        """Store the answer so its buttons work after a restart; None (no buttons) on failure."""
        try:
            return await asyncio.to_thread(
                self.feedback.record_answer,
                answer,
                user_id=asked.user_id,
                guild_id=asked.guild_id,
                channel_id=asked.channel_id,
                private=asked.private,
            )
        except Exception:
            log.exception("Could not record an answer; posting it without buttons")
            return None
