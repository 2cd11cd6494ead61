"""`python bot.py ... --help`: what a newcomer reads before the first command."""

from __future__ import annotations

import re

import pytest

from bot.cli import main


def help_text(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    with pytest.raises(SystemExit) as done:
        main([*args, "--help"])
    assert done.value.code == 0
    return capsys.readouterr().out


def undescribed(text: str) -> list[str]:
    """The arguments listed in a help text with no description beside or below them."""
    lines = text.splitlines()
    bare = []
    for i, line in enumerate(lines):
        if not re.match(r"  \S", line) or line.startswith("  -h, --help"):
            continue
        described_beside = re.match(r"  \S.*?\s{2,}\S", line) is not None
        following = lines[i + 1] if i + 1 < len(lines) else ""
        described_below = re.match(r"\s{3,}\S", following) is not None
        if not (described_beside or described_below):
            bare.append(line.strip())
    return bare


def test_ask_help_explains_the_question(capsys: pytest.CaptureFixture[str]) -> None:
    text = help_text(capsys, "ask")
    assert re.search(r"^  question {2,}\S", text, re.MULTILINE), text


def test_every_argument_of_every_command_has_a_help_text(capsys: pytest.CaptureFixture[str]) -> None:
    usage = help_text(capsys)
    found = re.search(r"\{([a-z,]+)\}", usage)
    assert found is not None, usage
    commands = found.group(1).split(",")
    assert {"ask", "reindex", "eval", "run"} <= set(commands)
    missing = {c: undescribed(help_text(capsys, c)) for c in commands}
    assert not {c: bare for c, bare in missing.items() if bare}
