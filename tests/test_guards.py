"""Who may do what, where, and how often: the admin check, the channel allowlist, the per-user
cooldown and the per-server limit, with the waits users are told."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import discord
import pytest

from bot.config import Settings
from bot.discordbot.errors import TryAgainLater
from bot.discordbot.guards import (
    Gate,
    GuildLimiter,
    UserCooldown,
    allowed_channels_text,
    channel_allowed,
    is_admin,
)
from tests.discord_fakes import ADMIN_ROLE_ID, GUILD_ID, USER_ID, make_member, make_settings

OTHER_USER = USER_ID + 1
OTHER_GUILD = GUILD_ID + 1


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def interaction(user: Any, *, manage_guild: bool = False) -> MagicMock:
    it = MagicMock(spec=discord.Interaction)
    it.user = user
    it.permissions = discord.Permissions(manage_guild=manage_guild)
    return it


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, admin_role_id=ADMIN_ROLE_ID, owner_ids=[77])


# -- admins ------------------------------------------------------------------------------------------


def test_an_admin_is_a_server_manager_a_holder_of_the_admin_role_or_an_owner(settings: Settings) -> None:
    assert is_admin(interaction(make_member(manage_guild=True)), settings)
    assert is_admin(interaction(make_member(), manage_guild=True), settings)  # channel permission
    assert is_admin(interaction(make_member(roles=[ADMIN_ROLE_ID])), settings)
    assert is_admin(interaction(make_member(77)), settings)
    assert not is_admin(interaction(make_member(roles=[ADMIN_ROLE_ID + 1])), settings)


def test_outside_a_server_only_an_owner_is_an_admin(settings: Settings) -> None:
    stranger = MagicMock(spec=discord.User)
    stranger.id = USER_ID
    assert not is_admin(interaction(stranger, manage_guild=True), settings)
    owner = MagicMock(spec=discord.User)
    owner.id = 77
    assert is_admin(interaction(owner), settings)


# -- channels ----------------------------------------------------------------------------------------


def channel(channel_id: int, parent_id: int | None = None) -> MagicMock:
    found = MagicMock(spec=discord.Thread if parent_id else discord.TextChannel)
    found.id = channel_id
    if parent_id:
        found.parent_id = parent_id
    return found


def test_without_an_allowlist_every_channel_is_allowed(tmp_path: Path) -> None:
    assert channel_allowed(channel(5), make_settings(tmp_path))


def test_with_an_allowlist_only_its_channels_and_their_threads_are(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, allowed_channel_ids=[5, 6])
    assert channel_allowed(channel(5), settings)
    assert channel_allowed(channel(99, parent_id=6), settings)  # a thread the bot opened there
    assert not channel_allowed(channel(7), settings)
    assert not channel_allowed(channel(98, parent_id=7), settings)
    assert allowed_channels_text(settings) == "I only answer questions in <#5>, <#6>."


# -- how often ---------------------------------------------------------------------------------------


def test_one_question_per_user_per_cooldown() -> None:
    clock = Clock()
    cooldown = UserCooldown(10.0, clock=clock)
    cooldown.charge(USER_ID)
    clock.now += 3.0
    assert cooldown.retry_after(USER_ID) == pytest.approx(7.0)
    assert cooldown.retry_after(OTHER_USER) == 0.0  # other users are not held up
    clock.now += 7.0
    assert cooldown.retry_after(USER_ID) == 0.0
    off = UserCooldown(0.0, clock=clock)
    off.charge(USER_ID)
    assert off.retry_after(USER_ID) == 0.0


def test_a_user_asking_again_too_soon_is_told_how_long_to_wait(tmp_path: Path) -> None:
    clock = Clock()
    gate = Gate(make_settings(tmp_path, user_cooldown_seconds=10.0), clock=clock)
    with gate.admit(user_id=USER_ID, guild_id=GUILD_ID):
        pass
    clock.now += 2.5

    with pytest.raises(TryAgainLater) as caught, gate.admit(user_id=USER_ID, guild_id=GUILD_ID):
        pass

    assert caught.value.message == "You're asking a little fast: try again in 8 s."
    assert caught.value.retry_after == pytest.approx(7.5)
    with gate.admit(user_id=OTHER_USER, guild_id=GUILD_ID):  # someone else may ask meanwhile
        pass
    clock.now += 7.5
    with gate.admit(user_id=USER_ID, guild_id=GUILD_ID):  # and the first user again, once it is over
        pass


def test_a_busy_server_turns_questions_away_without_costing_the_askers_their_turn(tmp_path: Path) -> None:
    clock = Clock()
    gate = Gate(make_settings(tmp_path, user_cooldown_seconds=10.0, guild_concurrency=1), clock=clock)
    with gate.admit(user_id=USER_ID, guild_id=GUILD_ID):
        with pytest.raises(TryAgainLater) as caught, gate.admit(user_id=OTHER_USER, guild_id=GUILD_ID):
            pass
        assert caught.value.message.startswith(
            "I'm answering several questions here right now: try again in "
        )
        with gate.admit(user_id=OTHER_USER, guild_id=OTHER_GUILD):  # another server is not held up
            pass
    with gate.admit(user_id=OTHER_USER + 1, guild_id=GUILD_ID):  # the slot is free again
        pass
    clock.now += 1.0
    assert gate.cooldown.retry_after(OTHER_USER) == pytest.approx(9.0)  # charged for the answer only


def test_direct_messages_are_limited_per_user(tmp_path: Path) -> None:
    gate = Gate(make_settings(tmp_path, user_cooldown_seconds=0.0, guild_concurrency=1), clock=Clock())
    with gate.admit(user_id=USER_ID, guild_id=None):
        with pytest.raises(TryAgainLater), gate.admit(user_id=USER_ID, guild_id=None):
            pass
        with gate.admit(user_id=OTHER_USER, guild_id=None):
            pass


def test_the_wait_for_a_busy_server_follows_how_long_answers_take() -> None:
    clock = Clock()
    limiter = GuildLimiter(1, clock=clock)
    assert limiter.retry_after(GUILD_ID) == 0.0
    for _ in range(30):  # answers that take 2 s each
        with limiter.slot(GUILD_ID):
            clock.now += 2.0
    with limiter.slot(GUILD_ID):
        assert limiter.retry_after(GUILD_ID) == pytest.approx(2.0, abs=0.1)
        clock.now += 5.0
        assert limiter.retry_after(GUILD_ID) == 1.0  # overdue: never "try again in 0 s"
    assert limiter.retry_after(GUILD_ID) == 0.0
