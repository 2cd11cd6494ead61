"""One place that turns exceptions into plain messages, and the reply helper used everywhere.

Expected problems (cooldowns, missing permissions, bad input, a reindex already running) become
short messages. Anything else is logged with its traceback under a short error id, and the user
sees an apology quoting that id, so a report can be matched to the log.
"""

from __future__ import annotations

import logging
import math
import secrets
from typing import Any

import discord
from discord import app_commands

from bot.core.errors import BotError
from bot.logs import redact

log = logging.getLogger(__name__)

# Set while an interaction shows only Discord's "thinking…" placeholder after a defer: the next
# reply must replace that placeholder (a follow-up would silently take its place and its flags).
PLACEHOLDER_PENDING = "placeholder_pending"


class UserFacingError(app_commands.AppCommandError):
    """A problem to show the user as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TryAgainLater(UserFacingError):
    """The user has to wait: a cooldown or a busy server."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NotAdmin(app_commands.CheckFailure):
    """The user is neither a server manager, nor has the admin role, nor is an owner."""


class NotOwner(app_commands.CheckFailure):
    """Only the bot's owners may do this."""


ADMINS_ONLY = (
    "This command is for server admins: you need the Manage Server permission or the bot's admin role."
)


def seconds(value: float) -> int:
    """A wait in whole seconds, never 0."""
    return max(1, math.ceil(value))


def describe(error: BaseException) -> tuple[str, str | None]:
    """(message for the user, error id if the error was unexpected and must be logged).

    The message passes the same secret masking as the logs: an error's text may quote a key."""
    message, error_id = _describe(error)
    return redact(message), error_id


def _describe(error: BaseException) -> tuple[str, str | None]:
    if isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError):
        error = error.__cause__ or error
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original

    match error:
        case UserFacingError():
            return error.message, None
        case BotError():
            return str(error), None
        case app_commands.CommandOnCooldown():
            return f"Slow down a little: try again in {seconds(error.retry_after)} s.", None
        case NotAdmin():
            return ADMINS_ONLY, None
        case NotOwner():
            return "Only the bot's owners can use this command.", None
        case app_commands.NoPrivateMessage():
            return "This command only works in a server, not in direct messages.", None
        case app_commands.MissingPermissions():
            return f"You need the {_perms(error.missing_permissions)} permission for this.", None
        case app_commands.BotMissingPermissions():
            missing = _perms(error.missing_permissions)
            return f"I'm missing the {missing} permission here; ask an admin to grant it.", None
        case app_commands.CheckFailure():
            return "You can't use this command here.", None
        case discord.Forbidden():
            log.warning("Discord refused an action: %s", error)
            return (
                "Discord didn't let me do that here: I may be missing a permission "
                "(Send Messages, Create Public Threads, Embed Links or Read Message History).",
                None,
            )
    error_id = secrets.token_hex(4)
    log.error("Unexpected error %s", error_id, exc_info=error)
    return (
        f"Sorry, something went wrong on my side. It has been logged as error `{error_id}`.",
        error_id,
    )


def _perms(names: list[str]) -> str:
    return ", ".join(n.replace("_", " ").replace("guild", "server").title() for n in names)


async def respond(
    interaction: discord.Interaction[Any],
    content: str | None = None,
    *,
    embed: discord.Embed | None = None,
    view: discord.ui.View | None = None,
    ephemeral: bool = True,
) -> None:
    """Reply whatever state the interaction is in: fresh, deferred, or already answered."""
    if content is not None:
        content = redact(content)
    extra: dict[str, Any] = {}
    if embed is not None:
        extra["embed"] = embed
    if view is not None:
        extra["view"] = view
    if interaction.extras.get(PLACEHOLDER_PENDING):
        interaction.extras[PLACEHOLDER_PENDING] = False
        await interaction.edit_original_response(content=content, embed=embed, view=view)
    elif interaction.response.is_done():
        await interaction.followup.send(content or "", ephemeral=ephemeral, **extra)
    else:
        await interaction.response.send_message(content, ephemeral=ephemeral, **extra)


async def defer(interaction: discord.Interaction[Any], *, ephemeral: bool) -> None:
    """Acknowledge at once (Discord drops interactions not answered within 3 seconds)."""
    await interaction.response.defer(thinking=True, ephemeral=ephemeral)
    interaction.extras[PLACEHOLDER_PENDING] = True


async def report(interaction: discord.Interaction[Any], error: BaseException) -> None:
    """Tell the user what went wrong, privately; never raises."""
    message, _ = describe(error)
    try:
        await respond(interaction, message, ephemeral=True)
    except discord.HTTPException as failure:
        log.warning("Could not tell the user about an error: %s", failure)
