"""Starting the bot (`python bot.py run` and `sync`): a missing or example token is named in one
line before anything loads; the first start builds the index before connecting; Discord's
refusals become one plain line and an exit code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import discord
import pytest

from bot.core.types import IndexStats, ReindexReport
from bot.discordbot import runner
from tests.discord_fakes import make_settings

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GAbCdE.a-token-that-looks-real-0123456789"


class Launch:
    """Stands in for what `run` starts (engine, indexer, bot) and records what happened, in order."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, chunks: int, error: BaseException | None) -> None:
        self.events: list[str] = []
        launch = self

        class Engine:
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                launch.events.append("engine")

        class Indexer:
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                launch.events.append("indexer")

            def stats(self) -> IndexStats:
                return IndexStats(0, chunks, "", "local:all-MiniLM-L6-v2", "kb")

            def reindex(self) -> ReindexReport:
                launch.events.append("reindex")
                return ReindexReport(added=5, chunks=5, files=1)

            def ensure_index(self, progress: Any = None) -> ReindexReport | None:
                return self.reindex() if self.stats().chunks == 0 else None

        class Bot:
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                pass

            async def __aenter__(self) -> Bot:
                return self

            async def __aexit__(self, *exc: object) -> None:
                launch.events.append("closed")

            async def start(self, token: str) -> None:
                launch.events.append(f"connect with {token}")
                if error is not None:
                    raise error

        monkeypatch.setattr("bot.rag.engine.Engine", Engine)
        monkeypatch.setattr("bot.index.indexer.Indexer", Indexer)
        monkeypatch.setattr(runner, "bot_class", lambda settings: Bot)


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.strip()


@pytest.mark.parametrize("token", [None, "", "   "])
def test_without_a_token_nothing_loads_and_one_line_says_so(
    token: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    launch = Launch(monkeypatch, chunks=10, error=None)
    settings = make_settings(tmp_path, discord_token=token)

    assert runner.run(settings) == 2
    assert one_line(capsys) == (
        "error: DISCORD_TOKEN is not set: put the bot token in the environment or in .env (see docs/discord.md)"
    )
    assert runner.sync(settings) == 2
    assert "DISCORD_TOKEN is not set" in one_line(capsys)
    assert launch.events == []


def test_the_example_token_from_env_example_is_refused_before_anything_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Copying .env.example to .env and forgetting the token must not cost a model load and an
    index build before Discord turns the token down."""
    example = (Path(__file__).resolve().parent.parent / ".env.example").read_text(encoding="utf-8")
    placeholder = next(line for line in example.splitlines() if line.startswith("DISCORD_TOKEN="))
    launch = Launch(monkeypatch, chunks=10, error=None)
    settings = make_settings(tmp_path, discord_token=placeholder.split("=", 1)[1])

    assert runner.run(settings) == 2
    line = one_line(capsys)
    assert "DISCORD_TOKEN" in line and ".env.example" in line
    assert runner.sync(settings) == 2
    assert ".env.example" in one_line(capsys)
    assert launch.events == []


def test_the_first_start_builds_the_index_before_connecting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    launch = Launch(monkeypatch, chunks=0, error=None)
    assert runner.run(make_settings(tmp_path, discord_token=f"  {TOKEN}\n")) == 0
    assert launch.events == ["engine", "indexer", "reindex", f"connect with {TOKEN}", "closed"]


def test_an_existing_index_is_not_rebuilt_on_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    launch = Launch(monkeypatch, chunks=10, error=None)
    assert runner.run(make_settings(tmp_path, discord_token=TOKEN)) == 0
    assert "reindex" not in launch.events and f"connect with {TOKEN}" in launch.events


@pytest.mark.parametrize(
    ("error", "code", "says"),
    [
        (discord.LoginFailure("Improper token has been passed."), 1, "Discord refused DISCORD_TOKEN"),
        (discord.PrivilegedIntentsRequired(None), 1, "MENTION_MODE needs the Message Content intent"),
        (KeyboardInterrupt(), 0, ""),
    ],
    ids=["bad-token", "intent-off", "ctrl-c"],
)
def test_discords_refusals_and_ctrl_c_end_with_a_plain_line_and_an_exit_code(
    error: BaseException,
    code: int,
    says: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    launch = Launch(monkeypatch, chunks=10, error=error)

    assert runner.run(make_settings(tmp_path, discord_token=TOKEN, mention_mode=True)) == code

    err = capsys.readouterr().err
    assert "Traceback" not in err and TOKEN not in err
    if says:
        assert err.count("\n") == 1 and says in err
    assert launch.events[-1] == "closed"  # the bot was shut down cleanly either way
