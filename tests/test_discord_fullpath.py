"""Full path: real `discord.Interaction` payloads through the real command tree and view store.

Only discord.py's HTTP layer is replaced (the webhook adapter that answers interactions, and the
REST client, which nothing here should touch), so these tests see exactly what Discord would
receive: the JSON of every reply.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from discord.http import HTTPClient, Route
from discord.webhook.async_ import AsyncWebhookAdapter

from bot.core.types import DISCLAIMER, Status
from bot.discordbot.errors import ADMINS_ONLY
from bot.discordbot.feedback import FeedbackStore
from bot.discordbot.views import answer_view
from tests.discord_fakes import (
    CHANNEL_ID,
    GUILD_ID,
    DiscordHTTP,
    FakeEngine,
    FakeIndexer,
    declined,
    dispatch,
    interaction_payload,
    make_bot,
    make_settings,
    message_payload,
    slash,
    started,
)

EPHEMERAL = 64


@pytest.fixture
async def http() -> AsyncIterator[DiscordHTTP]:
    fake = DiscordHTTP()

    async def webhook(self: AsyncWebhookAdapter, route: Route, session: Any = None, **kwargs: Any) -> Any:
        return await fake.webhook(self, route, session, **kwargs)

    async def rest(self: HTTPClient, route: Route, **kwargs: Any) -> Any:
        return await fake.rest(self, route, **kwargs)

    with patch.object(AsyncWebhookAdapter, "request", webhook), patch.object(HTTPClient, "request", rest):
        yield fake


async def test_ask_through_the_command_tree_sends_discord_a_cited_answer_that_pings_nobody(
    tmp_path: Path, http: DiscordHTTP
) -> None:
    bot = await started(make_bot(make_settings(tmp_path), engine=FakeEngine(deltas=["Yes, it can."])))
    question = "@everyone is an AI image protected in China? <@&123>"

    await dispatch(bot, slash("ask", [{"name": "question", "type": 3, "value": question}]))

    (callback,) = http.callbacks()
    assert callback["type"] == 5  # deferred: acknowledged at once, "thinking…"
    edits = http.edits()
    assert edits[0]["content"].endswith("Yes, it can. ▌")  # streamed
    final = edits[-1]
    shown = question.replace("@everyone", "@\u200beveryone").replace("<@&123>", "<@&\u200b123>")
    assert final["content"].startswith(f"> {shown}\n\n")  # echoed, mention syntax broken
    assert final["allowed_mentions"] == {"parse": []}  # the echoed @everyone and role ping nobody
    assert all(e["allowed_mentions"] == {"parse": []} for e in edits)
    (embed,) = final["embeds"]
    assert embed["title"] == "Sources" and embed["footer"]["text"] == DISCLAIMER
    assert "<https://example.org/cn/li-v-liu>" in embed["description"]
    buttons = final["components"][0]["components"]
    assert [b["label"] for b in buttons] == ["Quotes", "Helpful", "Not helpful"]
    assert buttons[0]["custom_id"].startswith("kb:quotes:")
    await bot.close()


async def test_a_non_admin_is_refused_by_the_bot_even_if_discord_showed_the_command(
    tmp_path: Path, http: DiscordHTTP
) -> None:
    indexer = FakeIndexer()
    bot = await started(make_bot(make_settings(tmp_path), indexer=indexer))

    await dispatch(bot, slash("reindex", permissions=0))

    (callback,) = http.callbacks()
    assert callback["type"] == 4  # a message
    assert callback["data"]["content"] == ADMINS_ONLY
    assert callback["data"]["flags"] == EPHEMERAL  # only they see it
    assert indexer.calls == []
    await bot.close()


async def test_an_admin_reindex_through_the_tree_ends_with_a_summary(
    tmp_path: Path, http: DiscordHTTP
) -> None:
    indexer = FakeIndexer()
    bot = await started(make_bot(make_settings(tmp_path), indexer=indexer))

    await dispatch(bot, slash("reindex", [{"name": "full", "type": 5, "value": True}], permissions=32))

    assert indexer.calls == [True]
    assert http.callbacks()[0]["data"]["flags"] == EPHEMERAL
    assert http.edits()[-1]["embeds"][0]["title"] == "Full reindex finished"
    await bot.close()


async def test_a_vote_button_on_a_message_from_before_a_restart_still_works(
    tmp_path: Path, http: DiscordHTTP
) -> None:
    url = f"sqlite:///{tmp_path / 'feedback.sqlite'}"
    old = FeedbackStore(url)
    answer_id = old.record_answer(
        declined(Status.ANSWERED, "Old answer [1]."), user_id=1, guild_id=GUILD_ID, channel_id=CHANNEL_ID
    )
    old.close()
    components = [answer_view(answer_id).to_components()[0]]
    bot = await started(make_bot(make_settings(tmp_path), feedback=FeedbackStore(url)))  # the new process
    press = interaction_payload(
        3,
        {"custom_id": f"kb:vote:{answer_id}:down", "component_type": 2},
        message=message_payload({"content": "Old answer [1].", "components": components}),
    )

    await dispatch(bot, press)

    (callback,) = http.callbacks()
    assert callback["type"] == 4 and callback["data"]["flags"] == EPHEMERAL
    assert callback["data"]["content"].startswith("Thanks! I've noted this answer as not helpful.")
    assert bot.feedback.counts().not_helpful == 1
    await bot.close()
