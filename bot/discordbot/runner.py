"""Entry points for the command line: `run`, `commands` (the tree as JSON) and `sync`.

The launcher owns the resources (the parts `bot.build.build` makes, the feedback store) and closes
them.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import discord

from bot.config import Settings
from bot.core.types import Answer, AnswerDelta, IndexStats, Progress, ReindexReport, Turn
from bot.discordbot.client import AnswerBot, bot_class
from bot.discordbot.feedback import FeedbackStore
from bot.knowledge.scopes import Scope

log = logging.getLogger(__name__)


# The placeholder in .env.example: a copied, unedited .env must not reach Discord with it.
EXAMPLE_TOKEN = "your-bot-token-here"  # noqa: S105  # the placeholder, not a secret


def _say_no_token(settings: Settings) -> None:
    secret = settings.discord_token
    if secret is not None and secret.get_secret_value().strip() == EXAMPLE_TOKEN:
        print(
            "error: DISCORD_TOKEN is still the example value from .env.example: put your bot's "
            "token there (see docs/discord.md)",
            file=sys.stderr,
        )
        return
    print(
        "error: DISCORD_TOKEN is not set: put the bot token in the environment or in .env "
        "(see docs/discord.md)",
        file=sys.stderr,
    )


def run(settings: Settings) -> int:
    """Run the bot until interrupted; the exit code."""
    token = _token(settings)
    if token is None:
        _say_no_token(settings)
        return 2
    if not logging.getLogger().handlers:  # discord.py's own format, INFO and up, for operators
        discord.utils.setup_logging(root=True)
    try:
        asyncio.run(_serve(settings, token))
    except KeyboardInterrupt:
        return 0
    except discord.LoginFailure:
        print("error: Discord refused DISCORD_TOKEN: check the bot token", file=sys.stderr)
        return 1
    except discord.PrivilegedIntentsRequired:
        print(
            "error: MENTION_MODE needs the Message Content intent: turn it on under Bot > "
            "Privileged Gateway Intents in the Developer Portal, or set MENTION_MODE=false",
            file=sys.stderr,
        )
        return 1
    return 0


def sync(settings: Settings) -> int:
    """Publish the slash commands globally (and to DEV_GUILD_ID, when set)."""
    token = _token(settings)
    if token is None:
        _say_no_token(settings)
        return 2
    try:
        names = asyncio.run(_sync(settings, token))
    except discord.LoginFailure:
        print("error: Discord refused DISCORD_TOKEN: check the bot token", file=sys.stderr)
        return 1
    print(f"Synced {len(names)} global commands: {', '.join('/' + n for n in names)}")
    print("Discord may take a little while to show changes in every server.")
    return 0


def command_tree_json(settings: Settings) -> list[dict[str, Any]]:
    """The application commands the bot would register, without connecting to Discord."""
    return asyncio.run(_tree(settings))


# -- internals -----------------------------------------------------------------------------------


def _token(settings: Settings) -> str | None:
    """The bot token, or None when it is unset, blank or still the example value."""
    secret = settings.discord_token
    token = "" if secret is None else secret.get_secret_value().strip()
    if not token or token == EXAMPLE_TOKEN:
        return None
    return token


async def _serve(settings: Settings, token: str) -> None:
    from bot.build import build  # heavy: the engine is imported only when the bot really runs

    parts = await asyncio.to_thread(build, settings)
    report = await asyncio.to_thread(parts.indexer.ensure_index)  # before connecting
    if report is not None:
        log.info("Indexed %d files into %d chunks", report.files, report.chunks)
    feedback = await asyncio.to_thread(FeedbackStore.from_settings, settings)
    try:
        bot_type = bot_class(settings)
        async with bot_type(
            settings, engine=parts.engine, indexer=parts.indexer, library=parts.library, feedback=feedback
        ) as bot:
            await bot.start(token)
    finally:
        feedback.close()


async def _sync(settings: Settings, token: str) -> list[str]:
    feedback = FeedbackStore("sqlite://")
    try:
        async with _offline_bot(settings, feedback) as bot:
            await bot.login(token)  # runs setup_hook: loads cogs, syncs the dev guild
            synced = await bot.tree.sync()
            return [c.name for c in synced]
    finally:
        feedback.close()


async def _tree(settings: Settings) -> list[dict[str, Any]]:
    feedback = FeedbackStore("sqlite://")
    try:
        async with _offline_bot(settings, feedback) as bot:
            await bot.load_cogs()
            tree = bot.tree
            out = [_describe(c.to_dict(tree), scope="global") for c in tree.get_commands()]
            if settings.dev_guild_id is not None:
                guild = discord.Object(id=settings.dev_guild_id)
                out += [
                    _describe(c.to_dict(tree), scope=f"guild:{settings.dev_guild_id}")
                    for c in tree.get_commands(guild=guild)
                ]
            return out
    finally:
        feedback.close()


def _offline_bot(settings: Settings, feedback: FeedbackStore) -> AnswerBot:
    return AnswerBot(
        settings,
        engine=_Offline(),
        indexer=_Offline(),
        feedback=feedback,
        sync_dev_guild=False,
    )


class _Offline:
    """Stands in for the engine and indexer where commands are listed or synced, not run."""

    def astream(
        self,
        question: str,
        *,
        jurisdiction: str | None = None,
        history: Sequence[Turn] = (),
        guild: int | None = None,
    ) -> AsyncIterator[AnswerDelta | Answer]:
        raise RuntimeError("the answer engine is not loaded in this mode")

    def for_scope(self, scope: Scope) -> _Offline:
        return self

    def reindex(
        self, *, full: bool = False, progress: Callable[[Progress], None] | None = None
    ) -> ReindexReport:
        raise RuntimeError("the indexer is not loaded in this mode")

    def stats(self) -> IndexStats:
        raise RuntimeError("the indexer is not loaded in this mode")


_OPTION_TYPES = {t.value: t.name for t in discord.AppCommandOptionType}


def _describe(payload: dict[str, Any], *, scope: str) -> dict[str, Any]:
    """A command as Discord would receive it, reshaped for people to read."""
    perms = payload.get("default_member_permissions")
    contexts = payload.get("contexts")
    out: dict[str, Any] = {
        "name": payload["name"],
        "description": payload.get("description", ""),
        "scope": scope,
        "guild_only": contexts == [0] if contexts else not payload.get("dm_permission", True),
        "default_member_permissions": None if perms is None else str(perms),
        "default_permissions": (
            [] if perms is None else [n for n, on in discord.Permissions(int(perms)) if on]
        ),
    }
    options, subcommands = _options(payload.get("options", []))
    out["options"] = options
    out["subcommands"] = subcommands
    return out


def _options(raw: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    options: list[dict[str, Any]] = []
    subcommands: list[dict[str, Any]] = []
    for opt in raw:
        kind = _OPTION_TYPES.get(opt["type"], str(opt["type"]))
        if kind in ("subcommand", "subcommand_group"):
            inner, nested = _options(opt.get("options", []))
            sub: dict[str, Any] = {"name": opt["name"], "description": opt.get("description", "")}
            sub["options"] = inner
            if nested:
                sub["subcommands"] = nested
            subcommands.append(sub)
            continue
        item: dict[str, Any] = {
            "name": opt["name"],
            "description": opt.get("description", ""),
            "type": kind,
            "required": bool(opt.get("required", False)),
        }
        for key in ("choices", "autocomplete", "min_length", "max_length", "min_value", "max_value"):
            if opt.get(key) not in (None, [], False):
                item[key] = opt[key]
        options.append(item)
    return options, subcommands
