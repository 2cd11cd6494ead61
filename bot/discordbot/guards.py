"""Who may do what, where, and how often: admin check, channel allowlist, cooldown, concurrency."""

from __future__ import annotations

import contextlib
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import discord

from bot.config import Settings
from bot.core.errors import QuestionError
from bot.core.questions import check_question
from bot.discordbot.errors import TryAgainLater, UserFacingError, seconds

Clock = Callable[[], float]


def is_admin(interaction: discord.Interaction[Any], settings: Settings) -> bool:
    """Manage Server, the configured admin role, or a configured owner id.

    Checked by the bot itself, because a server's admins can override which commands Discord
    shows to whom: the command being visible proves nothing.
    """
    user = interaction.user
    if user.id in settings.owner_ids:
        return True
    if not isinstance(user, discord.Member):
        return False
    if interaction.permissions.manage_guild or user.guild_permissions.manage_guild:
        return True
    role_id = settings.admin_role_id
    return role_id is not None and any(role.id == role_id for role in user.roles)


def is_operator(interaction: discord.Interaction[Any], settings: Settings) -> bool:
    """Whether this admin may change the shared sources every server uses: an owner id, or an
    admin of a server listed in SHARED_ADMIN_GUILD_IDS (the command line always may)."""
    if interaction.user.id in settings.owner_ids:
        return True
    return interaction.guild_id in settings.shared_admin_guild_ids and is_admin(interaction, settings)


def channel_allowed(channel: object, settings: Settings) -> bool:
    """Whether questions are answered here: always, unless ALLOWED_CHANNEL_IDS is set.

    A thread counts as its parent channel, so threads the bot opens stay allowed.
    """
    allowed = settings.allowed_channel_ids
    if not allowed:
        return True
    ids = {getattr(channel, "id", None), getattr(channel, "parent_id", None)}
    return any(i in allowed for i in ids if i is not None)


def allowed_channels_text(settings: Settings) -> str:
    channels = ", ".join(f"<#{cid}>" for cid in settings.allowed_channel_ids[:10])
    return f"I only answer questions in {channels}."


def checked_question(question: str, settings: Settings) -> str:
    """The question as typed (trimmed, so that its echo shows what the user wrote) if it passes
    the question rule; UserFacingError with the rule's message if not."""
    try:
        check_question(question, settings.max_question_chars)
    except QuestionError as error:
        raise UserFacingError(str(error)) from None
    return (question or "").strip()


class UserCooldown:
    """At most one question per user every `per` seconds (0 turns it off)."""

    def __init__(self, per: float, *, clock: Clock = time.monotonic) -> None:
        self.per = per
        self._clock = clock
        self._last: dict[int, float] = {}

    def retry_after(self, user_id: int) -> float:
        last = self._last.get(user_id)
        if last is None or self.per <= 0:
            return 0.0
        return max(0.0, self.per - (self._clock() - last))

    def charge(self, user_id: int) -> None:
        now = self._clock()
        self._last[user_id] = now
        if len(self._last) > 10_000:  # forget users whose cooldown is long over
            self._last = {u: t for u, t in self._last.items() if now - t < self.per}


class GuildLimiter:
    """At most `limit` answers in progress per server (per user in direct messages)."""

    def __init__(self, limit: int, *, clock: Clock = time.monotonic) -> None:
        self.limit = max(1, limit)
        self._clock = clock
        self._running: dict[int, list[float]] = defaultdict(list)
        self._typical = 15.0  # seconds an answer takes, learned as answers finish

    def retry_after(self, key: int) -> float:
        running = self._running.get(key, [])
        if len(running) < self.limit:
            return 0.0
        oldest = min(running)
        return max(1.0, self._typical - (self._clock() - oldest))

    @contextlib.contextmanager
    def slot(self, key: int) -> Iterator[None]:
        started = self._clock()
        running = self._running[key]
        running.append(started)
        try:
            yield
        finally:
            running.remove(started)
            if not running:
                del self._running[key]
            took = self._clock() - started
            self._typical = 0.8 * self._typical + 0.2 * min(max(took, 1.0), 120.0)


class Gate:
    """Admission for one question: length, cooldown, then a per-server slot."""

    def __init__(self, settings: Settings, *, clock: Clock = time.monotonic) -> None:
        self.settings = settings
        self.clock = clock
        self.cooldown = UserCooldown(settings.user_cooldown_seconds, clock=clock)
        self.limiter = GuildLimiter(settings.guild_concurrency, clock=clock)

    @contextlib.contextmanager
    def admit(self, *, user_id: int, guild_id: int | None) -> Iterator[None]:
        """Hold a slot while answering; TryAgainLater if the user or the server must wait."""
        wait = self.cooldown.retry_after(user_id)
        if wait > 0:
            raise TryAgainLater(f"You're asking a little fast: try again in {seconds(wait)} s.", wait)
        key = guild_id if guild_id is not None else -user_id
        wait = self.limiter.retry_after(key)
        if wait > 0:
            raise TryAgainLater(
                f"I'm answering several questions here right now: try again in {seconds(wait)} s.",
                wait,
            )
        self.cooldown.charge(user_id)
        with self.limiter.slot(key):
            yield
