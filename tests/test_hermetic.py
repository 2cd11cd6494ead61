"""The suite is hermetic: no setting of the developer's reaches a test, whether from the
environment or from the repository's `.env`, in this process or in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import AliasChoices, Field, ValidationError
from pydantic_settings import SettingsError

from bot.config import Settings
from tests.helpers import (
    BOT_PY,
    ROOT,
    bot_command,
    clear_settings,
    run_bot,
    setting_env_names,
    without_settings,
)


def test_every_field_of_the_settings_model_is_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    names = setting_env_names()
    assert {name.lower() for name in Settings.model_fields} <= names
    for name in names:
        monkeypatch.setenv(name.upper(), "stray")
    monkeypatch.setenv("database_url", "postgresql://stray")  # read whatever its case
    with pytest.raises((ValidationError, SettingsError)):
        Settings(_env_file=None)  # type: ignore[call-arg]  # the stray values are read...

    removed = clear_settings(os.environ)

    assert "database_url" in removed and len(removed) == len(names) + 1
    assert Settings(_env_file=None) == defaults  # type: ignore[call-arg]  # ...and all gone


class Extended(Settings):
    """The settings model with a setting added later, one of them under a former name too."""

    answer_style: str = "short"
    answer_limit: int = Field(default=3, validation_alias=AliasChoices("ANSWER_LIMIT", "OLD_LIMIT"))


def test_a_setting_added_later_is_cleared_without_listing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANSWER_STYLE", "long")
    monkeypatch.setenv("OLD_LIMIT", "9")
    assert (Extended(_env_file=None).answer_style, Extended(_env_file=None).answer_limit) == ("long", 9)  # type: ignore[call-arg]

    clear_settings(os.environ, Extended)

    assert (Extended(_env_file=None).answer_style, Extended(_env_file=None).answer_limit) == ("short", 3)  # type: ignore[call-arg]


@pytest.mark.slow
def test_settings_built_before_any_test_runs_see_no_stray_setting(tmp_path: Path) -> None:
    """Module-scoped fixtures build settings before the per-test clean-up: the environment must be
    clean from the start. A pytest run with a stray value for every setting shows it is."""
    (tmp_path / "test_early.py").write_text(
        "import pytest\n"
        "from bot.config import Settings\n\n\n"
        '@pytest.fixture(scope="module")\n'
        "def early() -> Settings:\n"
        "    return Settings(_env_file=None)\n\n\n"
        "def test_early(early: Settings) -> None:\n"
        "    assert early == Settings(_env_file=None)\n",
        encoding="utf-8",
    )
    stray = {name.upper(): "stray" for name in setting_env_names()}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "tests.conftest",
            "test_early.py",
        ],
        cwd=tmp_path,
        env={**without_settings(), **stray, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


@pytest.mark.slow
def test_the_command_line_under_test_never_reads_the_repositorys_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A copy of the repository whose .env holds a setting the bot refuses.
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(BOT_PY, repo / "bot.py")
    (repo / "bot").symlink_to(ROOT / "bot")
    (repo / ".env").write_text("EMBEDDING_BACKEND=nonsense\n", encoding="utf-8")
    run_in_repo = subprocess.run(
        bot_command("run", script=repo / "bot.py"),
        cwd=repo,
        env=without_settings(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run_in_repo.returncode == 2 and "EMBEDDING_BACKEND is not valid" in run_in_repo.stderr

    # As the tests run it: from another folder, without the developer's own settings either.
    monkeypatch.setenv("EMBEDDING_BACKEND", "nonsense")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = run_bot(["run"], cwd=elsewhere, script=repo / "bot.py", timeout=120)

    assert done.returncode == 2 and "EMBEDDING_BACKEND" not in done.stderr
    assert "DISCORD_TOKEN is not set" in done.stderr  # it got as far as needing the token
