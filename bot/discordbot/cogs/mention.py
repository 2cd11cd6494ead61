"""Mention mode: @bot (or a reply to the bot) in a channel answers in a new thread; messages in
that thread are follow-ups that see the thread's recent turns.

Loaded only when MENTION_MODE is on, which also requests the privileged message-content intent
(without it, follow-ups in a thread arrive with empty text).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from typing import TYPE_CHECKING, Literal

import discord
from discord.ext import commands

from bot.core.types import Turn
from bot.discordbot.answering import Asked, MessageTarget
from bot.discordbot.errors import TryAgainLater, UserFacingError, describe
from bot.discordbot.guards import channel_allowed, checked_question
from bot.discordbot.rendering import one_line, truncate

if TYPE_CHECKING:
    from bot.discordbot.client import AnswerBot

log = logging.getLogger(__name__)

HISTORY_TURNS = 4
DM_MEMORY = dt.timedelta(hours=1)  # in direct messages, earlier turns count for an hour
THREAD_ARCHIVE_MINUTES: Literal[60, 1440, 4320, 10080] = 1440
USAGE = "Ask me a question after the mention, e.g. “@me Is an AI image protected in China?”"


class MentionCog(commands.Cog):
    """Questions by mention or reply, answered in threads."""

    def __init__(self, bot: AnswerBot) -> None:
        self.bot = bot
        self._told_until: dict[int, float] = {}  # user id -> end of the wait we already told them

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        try:
            await self.handle(message)
        except Exception as error:  # never let one message break the listener
            text, _ = describe(error)
            try:
                await message.reply(text, mention_author=False)
            except discord.HTTPException:
                log.warning("Could not report an error for message %s", message.id)

    async def handle(self, message: discord.Message) -> None:
        me = self.bot.user
        if me is None or message.author.bot or message.webhook_id is not None:
            return
        replies_to_me, replied = await self._replied(message, me.id)
        if not (replies_to_me or self._addressed(message, me.id)):
            return
        if not channel_allowed(message.channel, self.bot.settings):
            return
        role = message.guild.self_role if message.guild is not None else None
        question = strip_bot_mentions(message.content, me.id, role.id if role else None)
        if not question:
            await message.reply(USAGE, mention_author=False)
            return
        guild_id = message.guild.id if message.guild is not None else None
        try:
            question = checked_question(question, self.bot.settings)
            with self.bot.gate.admit(user_id=message.author.id, guild_id=guild_id):
                await self._answer(message, question, replied)
        except TryAgainLater as refusal:  # cooldown, server busy: say so once per wait
            now = self.bot.gate.clock()
            if now < self._told_until.get(message.author.id, 0.0):
                return  # already told; a burst of mentions must not become a burst of replies
            self._told_until[message.author.id] = now + refusal.retry_after
            if len(self._told_until) > 10_000:
                self._told_until = {u: t for u, t in self._told_until.items() if t > now}
            await message.reply(refusal.message, mention_author=False)
        except UserFacingError as refusal:  # too long, empty
            await message.reply(refusal.message, mention_author=False)

    @staticmethod
    def _addressed(message: discord.Message, my_id: int) -> bool:
        """Mentioned (as a user or by the bot's role), in a DM, or in a thread the bot opened."""
        if any(user.id == my_id for user in message.mentions):
            return True
        if isinstance(message.channel, discord.DMChannel):
            return True
        guild = message.guild
        role = guild.self_role if guild is not None else None
        if role is not None and role.id in message.raw_role_mentions:
            return True
        channel = message.channel
        return isinstance(channel, discord.Thread) and channel.owner_id == my_id

    async def _replied(self, message: discord.Message, my_id: int) -> tuple[bool, Turn | None]:
        """Whether this replies to the bot, and the earlier exchange if it was an answer."""
        ref = message.reference
        if ref is None or ref.message_id is None:
            return False, None
        resolved = ref.resolved
        if isinstance(resolved, discord.Message) and resolved.author.id != my_id:
            return False, None
        stored = await asyncio.to_thread(self.bot.feedback.answer_for_message, ref.message_id)
        if stored is not None and stored.private:
            return True, None  # a private answer is never context, whoever replies to it
        if stored is not None:
            return True, Turn(question=stored.question, answer=stored.answer)
        return isinstance(resolved, discord.Message), None

    async def _answer(self, message: discord.Message, question: str, replied: Turn | None) -> None:
        channel = message.channel
        store = self.bot.feedback
        history: list[Turn]
        target: MessageTarget
        if isinstance(channel, discord.Thread):
            history = await asyncio.to_thread(store.recent_turns, channel.id, limit=HISTORY_TURNS)
            target = MessageTarget(channel, reply_to=message)
        elif isinstance(channel, discord.DMChannel):
            since = dt.datetime.now(dt.UTC) - DM_MEMORY
            history = await asyncio.to_thread(
                store.recent_turns, channel.id, limit=HISTORY_TURNS, since=since
            )
            target = MessageTarget(channel, reply_to=message)
        else:
            history = []
            target = await self._thread_target(message, question)
        if replied is not None and replied not in history:
            history = [*history, replied][-HISTORY_TURNS:]
        await target.start()
        asked = Asked(
            question=question,
            user_id=message.author.id,
            guild_id=message.guild.id if message.guild else None,
            channel_id=getattr(target.channel, "id", None),
            history=history,
        )
        await self.bot.answerer.deliver(asked, target)

    async def _thread_target(self, message: discord.Message, question: str) -> MessageTarget:
        """A new public thread on the question; the channel itself if threads are not possible."""
        try:
            thread = await message.create_thread(
                name=thread_name(question), auto_archive_duration=THREAD_ARCHIVE_MINUTES
            )
        except (discord.HTTPException, ValueError) as error:
            log.warning(
                "Could not open a thread in channel %s (%s); replying inline", message.channel.id, error
            )
            return MessageTarget(message.channel, reply_to=message)
        return MessageTarget(thread)


def thread_name(question: str) -> str:
    """A thread title from a question: one line, 1-100 characters."""
    name = one_line(re.sub(r"<[@#][!&]?\d+>", "", question))
    return truncate(name, 90) or "Question"


def strip_bot_mentions(content: str, bot_id: int, role_id: int | None = None) -> str:
    """The question without the mentions that addressed it to the bot."""
    content = re.sub(rf"<@!?{bot_id}>", " ", content)
    if role_id is not None:
        content = content.replace(f"<@&{role_id}>", " ")
    return content.strip()
