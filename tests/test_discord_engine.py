"""The Discord layer over the real answer engine and indexer (fixture knowledge, local model)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock, MagicMock

import discord

from bot.core.types import DISCLAIMER
from bot.discordbot.cogs.admin import AdminCog
from bot.discordbot.cogs.ask import AskCog
from bot.discordbot.feedback import FeedbackStore
from bot.discordbot.views import QuotesButton
from bot.index.indexer import Indexer
from bot.knowledge import loader
from bot.rag.engine import Engine
from tests.discord_fakes import embed_text, final_edit, invoke, make_bot, make_interaction

NEW_SOURCE = b"""# Court of Appeal rules on AI music

The Court of Appeal held that a song composed entirely by an AI system had no human author and
therefore no copyright protection in Freedonia. The judges said prompts alone were not enough.
"""


def rendered(final: dict[str, Any]) -> str:
    """The message as a reader sees it: text, then the embed."""
    return f"{final['content']}\n\n[embed]\n{embed_text(final['embed'])}"


async def test_ask_with_the_real_engine_cites_verifiable_sources(engine: Engine, kb: Path) -> None:
    bot = make_bot(engine.settings, engine=engine, feedback=FeedbackStore("sqlite://"))
    cog = AskCog(bot)
    interaction = make_interaction(bot)

    await invoke(cog, "ask", interaction, "Can an AI-generated image be protected by copyright in China?")

    final = final_edit(interaction)
    print(rendered(final))  # shown with `pytest -s`: the typical answer, as users see it
    assert final["content"].startswith("> Can an AI-generated image be protected by copyright in China?")
    assert "[1]" in final["content"]
    embed = final["embed"]
    assert "**[1]** Li v. Liu: Beijing Internet Court protects a Stable Diffusion image" in embed.description
    assert "Beijing Internet Court · 2023-11-27 · CN\n<https://example.org/cn/li-v-liu>" in embed.description
    assert embed.footer.text == DISCLAIMER

    quotes_button = final["view"].children[0]
    assert isinstance(quotes_button, QuotesButton)
    press = make_interaction(bot)
    await quotes_button.callback(press)
    shown = press.response.send_message.await_args.args[0]
    by_title = {}
    for path in kb.glob("*.md"):
        text = path.read_text(encoding="utf-8")
        by_title[loader.parse_front_matter(text)[0]["title"]] = " ".join(text.split())
    blocks = [block.split("\n") for block in shown.split("\n\n")]
    assert blocks[0][0].startswith("**[1] Li v. Liu")  # the ruling first, then any other source cited
    for head, *lines in blocks:
        source_text = by_title[head.split("] ", 1)[1].rstrip("*")]
        quoted = [" ".join(line[2:].split()) for line in lines if line.startswith("> ")]
        assert quoted and all(q in source_text for q in quoted)  # verbatim, in the source it names


async def test_a_source_added_from_discord_is_indexed_and_then_cited(
    engine: Engine, indexer: Indexer
) -> None:
    bot = make_bot(engine.settings, engine=engine, indexer=indexer, feedback=FeedbackStore("sqlite://"))
    bot.index_runner.interval = 0.0
    admin = AdminCog(bot)
    upload = MagicMock(spec=discord.Attachment)
    upload.filename = "freedonia-ai-music.md"
    upload.size = len(NEW_SOURCE)
    upload.read = AsyncMock(return_value=NEW_SOURCE)
    interaction = make_interaction(bot, manage_guild=True)

    await invoke(
        admin,
        "sources add",
        interaction,
        upload,
        title="Freedonia Court of Appeal on AI music",
        url="https://example.org/fd/ai-music",
        publisher="Freedonia Court of Appeal",
        date="2026-02-01",
        jurisdiction="FD",
    )

    final = final_edit(interaction)
    assert final["content"] == (
        "Added `freedonia-ai-music.md` to this server's own sources and updated the index."
    )
    assert "Added chunks**: " in embed_text(final["embed"])

    cog = AskCog(bot)
    question = make_interaction(bot)
    await invoke(
        cog, "ask", question, "Is a song composed entirely by AI protected by copyright in Freedonia?"
    )
    answer = final_edit(question)
    assert "<https://example.org/fd/ai-music>" in answer["embed"].description
