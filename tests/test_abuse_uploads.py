"""Hostile uploads through /sources add: names that climb out of the knowledge folder or hide
control characters, files too big or bigger than they said. Refused before downloading, with
nothing written anywhere."""

from __future__ import annotations

from pathlib import Path
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest

from bot.core.errors import SourceError
from bot.discordbot.client import AnswerBot
from bot.discordbot.cogs.admin import AdminCog
from bot.discordbot.errors import UserFacingError
from bot.knowledge.library import MAX_SOURCE_BYTES
from bot.knowledge.scopes import Scope
from tests.discord_fakes import (
    GUILD_ID,
    FakeIndexer,
    final_edit,
    invoke,
    make_bot,
    make_interaction,
)
from tests.discord_fakes import make_settings as discord_settings
from tests.hostile import FIFTY_MB


@pytest.fixture
def admin_bot(tmp_path: Path) -> AnswerBot:
    # Two levels below tmp_path, so that "../../x.md" would land inside it where we can see it.
    settings = discord_settings(tmp_path, knowledge_dir=tmp_path / "srv" / "bot" / "knowledge")
    bot = make_bot(settings, indexer=FakeIndexer())
    bot.index_runner.interval = 0.0
    return bot


def _upload(name: str, data: bytes, size: int | None = None) -> MagicMock:
    file = MagicMock(spec=discord.Attachment)
    file.filename = name
    file.size = len(data) if size is None else size
    file.read = AsyncMock(return_value=data)
    return file


async def _add(bot: AnswerBot, interaction: MagicMock, file: MagicMock) -> None:
    await invoke(
        AdminCog(bot),
        "sources add",
        interaction,
        file,
        title="T",
        url="https://example.org/t",
        publisher="P",
        date="2026-01-02",
        jurisdiction="US",
    )


def _tree(root: Path) -> set[Path]:
    return set(root.rglob("*"))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../../x.md", "Give a plain file name, without folders."),
        ("..", "The file name may not contain folder parts like '..' or '/'."),
        ("/etc/cron.d/x.md", "Give a plain file name, without folders."),
        ("..\\..\\x.md", "The file name may not contain '\\' or ':'."),
        ("a\x00b.md", "The file name contains control characters."),
        ("con\x1b[31m.md", "The file name contains control characters."),
        ("x\u202edm.exe", "The file name contains control characters."),  # right-to-left override
        ("x.exe", "Only .md, .txt, .html, .pdf files can be added (got .exe)."),
        ("x.md.meta.yaml", "Names ending in .meta.yaml are reserved for metadata files."),
        (".env.md", "The file name may not start with a dot."),
    ],
)
async def test_sources_add_refuses_hostile_names_and_writes_nothing_anywhere(
    admin_bot: AnswerBot, tmp_path: Path, name: str, message: str
) -> None:
    before = _tree(tmp_path)
    interaction = make_interaction(admin_bot, manage_guild=True)
    file = _upload(name, b"# Title\n\nSome text about AI and copyright.")

    with pytest.raises(SourceError) as caught:
        await _add(admin_bot, interaction, file)
    await admin_bot.tree.on_error(interaction, caught.value)  # type: ignore[arg-type]

    interaction.response.send_message.assert_awaited_once_with(message, ephemeral=True)
    file.read.assert_not_awaited()  # refused before downloading
    interaction.response.defer.assert_not_awaited()
    assert _tree(tmp_path) == before and not (tmp_path / "srv" / "x.md").exists()
    assert admin_bot.indexer.calls == []  # type: ignore[attr-defined]


async def test_a_50_mb_pdf_is_refused_by_its_size_before_downloading(
    admin_bot: AnswerBot, tmp_path: Path
) -> None:
    before = _tree(tmp_path)
    interaction = make_interaction(admin_bot, manage_guild=True)
    file = _upload("big.pdf", b"", size=FIFTY_MB)

    with pytest.raises(UserFacingError) as caught:
        await _add(admin_bot, interaction, file)

    assert caught.value.message == "That file is 50.0 MB; the limit is 20 MB."
    file.read.assert_not_awaited()
    interaction.response.defer.assert_not_awaited()
    assert _tree(tmp_path) == before


async def test_a_file_bigger_than_it_said_is_refused_and_nothing_is_written(
    admin_bot: AnswerBot, tmp_path: Path
) -> None:
    before = _tree(tmp_path)
    interaction = make_interaction(admin_bot, manage_guild=True)
    file = _upload("big.pdf", b"%PDF-1.4\n" + bytes(MAX_SOURCE_BYTES), size=1000)

    with pytest.raises(SourceError, match=r"^The file is 20,971,529 bytes; the limit is 20,971,520 bytes\.$"):
        await _add(admin_bot, interaction, file)

    assert {p for p in _tree(tmp_path) - before if p.is_file()} == set()
    assert admin_bot.indexer.calls == []  # type: ignore[attr-defined]


async def test_an_odd_but_allowed_name_stays_a_literal_name_inside_the_folder(tmp_path: Path) -> None:
    """Percent-escapes are not decoded, and the text's @everyone can never ping."""
    settings = discord_settings(tmp_path)
    bot = make_bot(settings, indexer=FakeIndexer())
    bot.index_runner.interval = 0.0
    interaction = make_interaction(bot, manage_guild=True)

    await _add(bot, interaction, _upload("%2e%2e%2fx.md", b"@everyone AI art text."))

    folder = Scope(GUILD_ID).folder(settings.knowledge_dir).resolve()  # the server's own sources
    assert [p.relative_to(folder).as_posix() for p in folder.iterdir()] == ["%2e%2e%2fx.md"]
    assert not (settings.knowledge_dir / "%2e%2e%2fx.md").exists()
    assert final_edit(interaction)["content"] == (
        "Added `%2e%2e%2fx.md` to this server's own sources and updated the index."
    )
    assert bot.allowed_mentions is not None and bot.allowed_mentions.to_dict() == {"parse": []}
