"""Feedback and quotes: stored with the answer, changeable, and still working after a restart."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from bot.core.types import Turn
from bot.discordbot.feedback import FeedbackCounts, FeedbackStore, default_url
from bot.discordbot.views import QuotesButton, VoteButton, answer_view
from tests.discord_fakes import (
    CHANNEL_ID,
    GUILD_ID,
    LI_V_LIU,
    TYPICAL,
    USER_ID,
    make_bot,
    make_interaction,
    make_member,
    make_settings,
)


@pytest.fixture
def store(tmp_path: Path) -> FeedbackStore:
    return FeedbackStore(f"sqlite:///{tmp_path / 'data' / 'feedback.sqlite'}")


def test_default_location_is_under_data_dir(tmp_path: Path) -> None:
    url = default_url(make_settings(tmp_path))
    assert url == f"sqlite:///{(tmp_path / 'data' / 'feedback.sqlite').resolve()}"


def test_a_vote_is_stored_with_question_answer_and_citations_and_can_be_changed(
    store: FeedbackStore,
) -> None:
    answer_id = store.record_answer(TYPICAL, user_id=USER_ID, guild_id=GUILD_ID, channel_id=CHANNEL_ID)

    first = store.vote(answer_id, 7, helpful=True)
    again = store.vote(answer_id, 7, helpful=True)
    changed = store.vote(answer_id, 7, helpful=False)
    store.vote(answer_id, 8, helpful=True)

    assert (first.previous, again.changed, changed.changed) == (None, False, True)
    assert store.user_vote(answer_id, 7) is False
    assert store.counts() == FeedbackCounts(answers=1, helpful=1, not_helpful=1)
    stored = store.get_answer(answer_id)
    assert stored is not None
    assert stored.question == TYPICAL.question and stored.answer == TYPICAL.answer
    assert stored.citations == TYPICAL.citations  # quotes, urls, offsets: all of it


def test_recent_turns_feed_follow_ups_oldest_first(store: FeedbackStore) -> None:
    for i in range(6):
        store.record_answer(
            TYPICAL.__class__(**{**TYPICAL.__dict__, "question": f"q{i}", "answer": f"a{i}"}),
            user_id=USER_ID,
            guild_id=GUILD_ID,
            channel_id=CHANNEL_ID,
        )
    store.record_answer(TYPICAL, user_id=USER_ID, guild_id=GUILD_ID, channel_id=CHANNEL_ID + 1)

    assert store.recent_turns(CHANNEL_ID, limit=3) == [Turn("q3", "a3"), Turn("q4", "a4"), Turn("q5", "a5")]
    future = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    assert store.recent_turns(CHANNEL_ID, since=future) == []


def test_answers_are_found_by_any_of_their_messages(store: FeedbackStore) -> None:
    answer_id = store.record_answer(TYPICAL, user_id=USER_ID, guild_id=None, channel_id=None)
    store.attach_messages(answer_id, [11, 12])

    found = store.answer_for_message(12)
    assert found is not None and found.id == answer_id
    assert store.answer_for_message(13) is None


async def test_pressing_helpful_then_not_helpful_changes_the_vote(tmp_path: Path) -> None:
    bot = make_bot(make_settings(tmp_path))
    answer_id = bot.feedback.record_answer(TYPICAL, user_id=USER_ID, guild_id=GUILD_ID, channel_id=CHANNEL_ID)
    voter = make_member(USER_ID + 5)

    up = make_interaction(bot, user=voter)
    await VoteButton(answer_id, True).callback(up)
    down = make_interaction(bot, user=voter)
    await VoteButton(answer_id, False).callback(down)

    up.response.send_message.assert_awaited_once_with(
        "Thanks! I've noted this answer as helpful. You can change your vote any time.", ephemeral=True
    )
    down.response.send_message.assert_awaited_once_with(
        "Changed your vote: this answer is now marked not helpful.", ephemeral=True
    )
    assert bot.feedback.counts() == FeedbackCounts(answers=1, helpful=0, not_helpful=1)


async def test_quotes_button_shows_the_exact_passages_only_to_whoever_pressed(tmp_path: Path) -> None:
    bot = make_bot(make_settings(tmp_path))
    answer_id = bot.feedback.record_answer(TYPICAL, user_id=USER_ID, guild_id=GUILD_ID, channel_id=CHANNEL_ID)
    reader = make_interaction(bot, user=make_member(USER_ID + 9))

    await QuotesButton(answer_id).callback(reader)

    call = reader.response.send_message.await_args
    assert call.kwargs == {"ephemeral": True}
    assert f"> {LI_V_LIU.quote}" in call.args[0]
    assert "**[2] Thaler v. Perlmutter" in call.args[0]


async def test_buttons_keep_working_after_a_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'feedback.sqlite'}"
    before = FeedbackStore(url)
    answer_id = before.record_answer(TYPICAL, user_id=USER_ID, guild_id=GUILD_ID, channel_id=CHANNEL_ID)
    custom_ids = [item.custom_id for item in answer_view(answer_id).children]  # type: ignore[attr-defined]
    before.close()

    bot = make_bot(make_settings(tmp_path), feedback=FeedbackStore(url))  # a new process
    button = VoteButton.__discord_ui_compiled_template__.fullmatch(custom_ids[1])
    assert button is not None
    item = await VoteButton.from_custom_id(make_interaction(bot), None, button)  # type: ignore[arg-type]
    press = make_interaction(bot)
    await item.callback(press)

    assert press.response.send_message.await_args.args[0].startswith("Thanks!")
    assert bot.feedback.counts().helpful == 1
    assert all(re.fullmatch(r"kb:(quotes:\d+|vote:\d+:(up|down))", c) for c in custom_ids)


async def test_a_vote_on_an_unknown_answer_is_answered_kindly(tmp_path: Path) -> None:
    bot = make_bot(make_settings(tmp_path))
    press = make_interaction(bot)
    await VoteButton(12345, True).callback(press)
    press.response.send_message.assert_awaited_once_with(
        "I no longer have this answer on record, sorry.", ephemeral=True
    )
