"""Scale-out: shards, and reindexing on a schedule that is cheap when nothing changed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import discord
import pytest

from bot.config import Settings
from bot.discordbot.client import AnswerBot, ShardedAnswerBot, bot_class
from bot.discordbot.feedback import FeedbackStore
from bot.discordbot.indexing import IndexRunner
from bot.discordbot.schedule import ReindexSchedule
from bot.index.embeddings import CountingEmbeddings
from bot.index.indexer import Indexer


def make_bot(settings: Settings) -> AnswerBot:
    return bot_class(settings)(settings, engine=None, indexer=None, feedback=FeedbackStore("sqlite://"))  # type: ignore[arg-type]


async def test_shard_settings_give_an_auto_sharded_bot_running_its_shards() -> None:
    bot = make_bot(Settings(_env_file=None, shard_count=4, shard_ids=[1, 3]))  # type: ignore[call-arg]
    assert isinstance(bot, ShardedAnswerBot) and isinstance(bot, discord.AutoShardedClient)
    assert (bot.shard_count, bot.shard_ids) == (4, [1, 3])
    assert bot.allowed_mentions is not None and bot.allowed_mentions.everyone is False


async def test_without_shard_settings_the_bot_is_not_sharded() -> None:
    bot = make_bot(Settings(_env_file=None))  # type: ignore[call-arg]
    assert type(bot) is AnswerBot and not isinstance(bot, discord.AutoShardedClient)


@pytest.mark.parametrize(("text", "seconds"), [("6h", 21600), ("30m", 1800), ("1d", 86400), ("120", 120)])
def test_reindex_every_reads_durations(text: str, seconds: float) -> None:
    assert Settings(_env_file=None, reindex_every=text).reindex_every == seconds  # type: ignore[call-arg,arg-type]


def test_reindex_every_refuses_a_busy_loop() -> None:
    with pytest.raises(ValueError, match="at least 60 seconds"):
        Settings(_env_file=None, reindex_every="5s")  # type: ignore[call-arg,arg-type]


async def test_scheduled_reindex_is_cheap_when_nothing_changed(
    indexer: Indexer, embeddings: CountingEmbeddings, kb: Path
) -> None:
    schedule = ReindexSchedule(IndexRunner(indexer), every=3600)
    first = await schedule.run_once()
    assert "chunks changed" in first.summary
    calls = embeddings.calls
    second = await schedule.run_once()
    assert second.summary.startswith("nothing changed")
    assert embeddings.calls == calls
    (kb / "new.md").write_text("# New\n\nA new note on the licensing of voice data for AI models.")
    third = await schedule.run_once()
    assert third.summary.startswith("1 chunks changed")
    assert "last <t:" in schedule.describe() and schedule.describe().startswith("every 1 h")


async def test_scheduled_reindex_skips_while_another_runs(indexer: Indexer) -> None:
    runner = IndexRunner(indexer)
    schedule = ReindexSchedule(runner, every=3600)
    with runner.reserve(user_id=42, full=True):
        result = await schedule.run_once()
    assert result.summary.startswith("skipped: A reindex is already running")


async def test_schedule_runs_by_itself_and_stops(indexer: Indexer) -> None:
    schedule = ReindexSchedule(IndexRunner(indexer), every=0.05)
    schedule.start()
    for _ in range(400):  # bounded wait for the first scheduled run
        if schedule.last is not None:
            break
        await asyncio.sleep(0.05)
    await schedule.stop()
    assert schedule.last is not None and "chunks changed" in schedule.last.summary
