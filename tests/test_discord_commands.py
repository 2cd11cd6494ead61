"""Command metadata, start-up and the launcher: what server admins and operators see."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock, patch

import discord
import pytest
from discord.ext import commands

from bot.discordbot import runner
from bot.discordbot.client import AnswerBot, make_intents
from tests.discord_fakes import make_bot, make_settings
from tests.helpers import ROOT, run_bot


def by_name(tree: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in tree}


def test_the_command_tree_as_json(tmp_path: Path) -> None:
    tree = by_name(runner.command_tree_json(make_settings(tmp_path)))

    assert set(tree) == {"ask", "latest", "reindex", "sources", "sync"}
    ask = tree["ask"]
    assert ask["guild_only"] is False and ask["default_permissions"] == []
    assert [(o["name"], o["type"], o["required"]) for o in ask["options"]] == [
        ("question", "string", True),
        ("jurisdiction", "string", False),
        ("private", "boolean", False),
    ]
    assert ask["options"][1]["autocomplete"] is True
    latest = tree["latest"]  # public, like /ask
    assert latest["guild_only"] is False and latest["default_permissions"] == []
    assert [(o["name"], o["type"], o["required"]) for o in latest["options"]] == [
        ("jurisdiction", "string", False),
        ("topic", "string", False),
    ]
    assert latest["options"][0]["autocomplete"] is True
    for admin in ("reindex", "sources"):
        assert tree[admin]["guild_only"] is True
        assert tree[admin]["default_permissions"] == ["manage_guild"]
        assert tree[admin]["default_member_permissions"] == "32"
    assert [s["name"] for s in tree["sources"]["subcommands"]] == ["add", "list", "remove", "stats"]
    add = tree["sources"]["subcommands"][0]
    assert [o["name"] for o in add["options"]] == [
        "file",
        "title",
        "url",
        "publisher",
        "date",
        "jurisdiction",
        "shared",
    ]
    assert add["options"][0]["type"] == "attachment"
    assert tree["sync"]["default_permissions"] == ["administrator"] and tree["sync"]["scope"] == "global"
    json.dumps(list(tree.values()))  # printable as JSON


def test_with_a_dev_guild_the_owner_command_lives_only_there(tmp_path: Path) -> None:
    tree = runner.command_tree_json(make_settings(tmp_path, dev_guild_id=1234))
    scopes = {c["name"]: c["scope"] for c in tree}
    assert scopes == {
        "ask": "global",
        "latest": "global",
        "reindex": "global",
        "sources": "global",
        "sync": "guild:1234",
    }


def test_message_content_intent_only_in_mention_mode(tmp_path: Path) -> None:
    assert make_intents(make_settings(tmp_path)).message_content is False
    assert make_intents(make_settings(tmp_path, mention_mode=True)).message_content is True
    intents = make_intents(make_settings(tmp_path))
    assert not intents.members and not intents.presences  # no other privileged intents


async def test_mention_listener_only_loads_in_mention_mode(tmp_path: Path) -> None:
    off = make_bot(make_settings(tmp_path))
    on = make_bot(make_settings(tmp_path, mention_mode=True))
    assert "MentionCog" not in await off.load_cogs()
    assert "MentionCog" in await on.load_cogs()


async def test_a_broken_cog_is_logged_and_the_others_still_load(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bot = make_bot(make_settings(tmp_path))

    def broken(_bot: AnswerBot) -> commands.Cog:
        raise RuntimeError("cog exploded")

    factories = [(broken, False), *bot.cog_factories()]
    with patch.object(AnswerBot, "cog_factories", return_value=factories):
        loaded = await bot.load_cogs()

    assert loaded == ["AskCog", "LatestCog", "AdminCog", "OwnerCog"]
    assert bot.tree.get_command("ask") is not None
    assert any("Could not load broken" in r.getMessage() and r.exc_info for r in caplog.records)


async def test_setup_syncs_to_the_dev_guild_and_registers_persistent_buttons(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, dev_guild_id=555)
    bot = AnswerBot(settings, engine=AsyncMock(), indexer=AsyncMock(), feedback=make_bot(settings).feedback)

    with patch.object(bot.tree, "sync", AsyncMock(return_value=[])) as sync:
        await bot.setup_hook()

    sync.assert_awaited_once_with(guild=discord.Object(id=555))
    assert {c.name for c in bot.tree.get_commands(guild=discord.Object(id=555))} >= {"ask", "reindex", "sync"}
    assert bot.tree.get_command("sync") is None  # not global when a dev guild is set
    patterns = {p.pattern for p in bot._connection._view_store._dynamic_items}  # registered for restarts
    assert patterns == {r"kb:quotes:(?P<answer>[0-9]+)", r"kb:vote:(?P<answer>[0-9]+):(?P<vote>up|down)"}


async def test_no_global_sync_happens_without_being_asked(tmp_path: Path) -> None:
    bot = make_bot(make_settings(tmp_path))
    bot.sync_dev_guild = True
    with patch.object(bot.tree, "sync", AsyncMock(return_value=[])) as sync:
        await bot.setup_hook()
    sync.assert_not_awaited()


def test_run_without_a_token_names_it_and_exits_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert runner.run(make_settings(tmp_path)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "DISCORD_TOKEN" in err and "Traceback" not in err
    assert runner.sync(make_settings(tmp_path, discord_token="  ")) == 2


def test_run_with_the_example_token_stops_before_connecting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    example = next(
        line.split("=", 1)[1]
        for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
        if line.startswith("DISCORD_TOKEN=")
    )
    serve = AsyncMock()
    monkeypatch.setattr(runner, "_serve", serve)
    settings = make_settings(tmp_path, discord_token=example)

    assert runner.run(settings) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "DISCORD_TOKEN is still the example value from .env.example" in err
    assert runner.sync(settings) == 2
    serve.assert_not_called()


def test_listing_the_commands_logs_no_voice_warnings(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # discord.py warns once per process; pretend no client was made yet in this one
    monkeypatch.setattr(discord.VoiceClient, "warn_nacl", True)
    monkeypatch.setattr(discord.VoiceClient, "warn_dave", True)
    with caplog.at_level(logging.WARNING):
        runner.command_tree_json(make_settings(tmp_path))
    assert not [r.getMessage() for r in caplog.records if "voice" in r.getMessage().lower()]


def test_bot_py_run_without_a_token_prints_one_line(tmp_path: Path) -> None:
    done = run_bot(["run"], cwd=tmp_path, timeout=120)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "DISCORD_TOKEN" in lines[0], done.stderr
