"""What users read: message splitting, embeds within Discord's limits, answers and declines."""

from __future__ import annotations

import re

import discord
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.cli import render_text
from bot.core.types import DISCLAIMER, Answer, Citation, Progress, ReindexReport, Status
from bot.discordbot.cogs.mention import strip_bot_mentions, thread_name
from bot.discordbot.rendering import (
    EMBED_TOTAL_LIMIT,
    answer_embed,
    answer_text,
    clamp_embed,
    progress_text,
    quotes_messages,
    reindex_embed,
    sources_embed,
    stream_preview,
)
from bot.discordbot.splitting import split_message
from tests.discord_fakes import LI_V_LIU, TYPICAL, declined, embed_text

# -- splitting ---------------------------------------------------------------------------------

ATOM_PATTERNS = [
    re.compile(r"\[\d+\]"),  # citation markers
    re.compile(r"<https?://[^>\s]+>"),  # links without previews
    re.compile(r"\[[^\]\n]*\]\(https?://[^)\s]*\)"),  # markdown links
    re.compile(r"```.*?```", re.S),  # code fences
]

words = st.text(alphabet="abcdefghij KLMN,;'", min_size=1, max_size=12).map(str.strip).filter(bool)
marker = st.integers(1, 30).map(lambda n: f"[{n}]")
angle_link = st.text("abcdefgh/", min_size=1, max_size=30).map(lambda p: f"<https://ex.org/{p}>")
md_link = st.tuples(st.text("abc ", min_size=1, max_size=10), st.text("abc/", max_size=20)).map(
    lambda t: f"[{t[0]}](https://ex.org/{t[1]})"
)
fence = st.text("abc xyz\n", min_size=1, max_size=40).map(lambda body: f"```py\n{body}\n```")
separator = st.sampled_from([" ", " ", " ", ". ", "! ", "\n", "\n\n", ", "])
token = st.one_of(words, words, words, marker, angle_link, md_link, fence)
texts = st.lists(st.tuples(token, separator), min_size=1, max_size=160).map(
    lambda parts: "".join(a + b for a, b in parts)
)


def _squash(text: str) -> str:
    return "".join(text.split())


@settings(max_examples=300, deadline=None)
@given(text=texts, limit=st.integers(min_value=120, max_value=600))
def test_split_keeps_every_piece_under_the_limit_and_loses_nothing(text: str, limit: int) -> None:
    chunks = split_message(text, limit)

    assert all(0 < len(c) <= limit for c in chunks)
    assert _squash("".join(chunks)) == _squash(text)


@settings(max_examples=300, deadline=None)
@given(text=texts, limit=st.integers(min_value=120, max_value=600))
@example(  # once paired the backticks of two fences as inline code, and cut the first fence
    text="```py\na\n``` ; ; ; ; ;;;;;;;;;;;; ;;;;;;;;;;;; <https://ex.org/aa> <https://ex.org/aaaaaa> "
    "<https://ex.org/aaaaaaaaaaaa> ```py\na\n``` ",
    limit=120,
)
def test_split_never_cuts_a_link_a_marker_or_a_code_fence(text: str, limit: int) -> None:
    chunks = split_message(text, limit)

    for pattern in ATOM_PATTERNS:
        whole = [m.group(0) for m in pattern.finditer(text.strip())]
        found = [m.group(0) for c in chunks for m in pattern.finditer(c)]
        assert found == whole
    for chunk in chunks:
        assert chunk.count("```") % 2 == 0  # every message renders its code blocks whole


@settings(max_examples=100, deadline=None)
@given(paragraphs=st.lists(st.text("abc def. ", min_size=20, max_size=300), min_size=2, max_size=12))
def test_split_prefers_paragraph_boundaries(paragraphs: list[str]) -> None:
    paragraphs = [p.strip() or "x" for p in paragraphs]
    text = "\n\n".join(paragraphs)
    limit = 700

    chunks = split_message(text, limit)

    # Whenever paragraphs fit, no paragraph is split across two messages.
    for chunk in chunks:
        for part in chunk.split("\n\n"):
            assert part in paragraphs


def test_split_order_of_preference() -> None:
    line = "a" * 50
    assert split_message(f"{line}\n{line}", 80) == [line, line]
    sentence = "word " * 14 + "end."
    assert split_message(f"{sentence} {sentence}", 80) == [sentence, sentence]
    assert split_message("aaaa bbbb cccc", 10) == ["aaaa bbbb", "cccc"]


def test_split_moves_a_whole_marker_or_link_to_the_next_message() -> None:
    text = "x" * 70 + " see [12] and <https://example.org/a/long/path>"
    for limit in range(72, 110):
        chunks = split_message(text, limit)
        assert "[12]" in "".join(chunks) and any("[12]" in c for c in chunks), limit
        assert any("<https://example.org/a/long/path>" in c for c in chunks), limit


def test_a_code_fence_longer_than_a_message_is_closed_and_reopened() -> None:
    code = "\n".join(f"line_{i} = {i}" for i in range(400))
    chunks = split_message(f"Here:\n\n```python\n{code}\n```\nDone.", 2000)

    assert len(chunks) > 1
    assert all(len(c) <= 2000 and c.count("```") % 2 == 0 for c in chunks)
    assert all("```python" in c for c in chunks if "line_" in c)
    assert _squash("".join(chunks)).count("line_399=399") == 1


def test_an_unclosed_fence_is_closed() -> None:
    assert split_message("```\ncode") == ["```\ncode\n```"]


def test_split_of_a_short_text_is_itself_and_of_blank_is_nothing() -> None:
    assert split_message("  hello  ") == ["hello"]
    assert split_message("   ") == []


# -- embeds ------------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(
    title=st.text(max_size=400),
    description=st.text(max_size=6000),
    fields=st.lists(
        st.tuples(st.text(min_size=1, max_size=300), st.text(min_size=1, max_size=1200)), max_size=30
    ),
    footer=st.text(max_size=2500),
)
def test_clamped_embeds_respect_every_discord_limit(
    title: str, description: str, fields: list[tuple[str, str]], footer: str
) -> None:
    embed = discord.Embed(title=title or None, description=description or None)
    for name, value in fields:
        embed.add_field(name=name, value=value)
    embed.set_footer(text=footer or None)

    clamp_embed(embed)

    assert len(embed.title or "") <= 256
    assert len(embed.description or "") <= 4096
    assert len(embed.fields) <= 25
    assert all(len(f.name or "") <= 256 and len(f.value or "") <= 1024 for f in embed.fields)
    assert len(embed.footer.text or "") <= 2048
    assert len(embed) <= EMBED_TOTAL_LIMIT


def test_many_sources_fit_the_embed_and_say_how_many_are_left_out() -> None:
    citations = [
        Citation(
            n,
            "A very long title " * 10,
            f"https://example.org/{n}/" + "x" * 100,
            "Publisher",
            "2024-01-01",
            "US",
            f"knowledge/x{n}.md",
            "quote",
        )
        for n in range(1, 60)
    ]
    embed = sources_embed(citations, disclaimer=DISCLAIMER, colour=discord.Colour.blurple())

    assert len(embed.description or "") <= 4096 and len(embed) <= EMBED_TOTAL_LIMIT
    assert re.search(r"…and \d+ more$", embed.description or "")
    assert "**[1]**" in (embed.description or "")


def test_a_file_quoted_twice_is_listed_once_with_both_numbers() -> None:
    def cite(n: int, source: str, title: str) -> Citation:
        return Citation(
            n, title, f"https://example.org/{n}", "Publisher", "2024-01-01", "US", source, "quote"
        )

    citations = [
        cite(1, "knowledge/terms.md", "Midjourney terms"),
        cite(2, "knowledge/terms.md", "Midjourney terms"),
        cite(3, "knowledge/allen.md", "Allen v. Perlmutter"),
    ]
    description = sources_embed(citations, disclaimer=DISCLAIMER, colour=discord.Colour.blurple()).description
    assert description is not None
    assert description.count("Midjourney terms") == 1 and "**[1] [2]** Midjourney terms" in description
    assert "**[3]** Allen v. Perlmutter" in description

    text = render_text(Answer("q", Status.ANSWERED, "a [1] b [2] c [3]", "extractive", citations))
    assert text.count("Midjourney terms") == 1 and "  [1] [2] Midjourney terms (US, 2024-01-01" in text


# -- answers -----------------------------------------------------------------------------------


def test_typical_answer_renders_text_with_markers_and_a_sources_embed() -> None:
    text = answer_text(TYPICAL, echo=TYPICAL.question)
    embed = answer_embed(TYPICAL)

    assert text.startswith("> Is an AI-generated image protected by copyright in China?\n\n")
    assert "[1]" in text and "[2]" in text
    assert embed is not None
    rendered = embed_text(embed)
    assert "**[1]** Li v. Liu: Beijing Internet Court protects a Stable Diffusion image" in rendered
    assert "Beijing Internet Court · 2023-11-27 · CN" in rendered
    assert "<https://example.org/cn/li-v-liu>" in rendered
    assert embed.footer.text == DISCLAIMER and "not legal advice" in DISCLAIMER


def test_bare_links_in_an_answer_get_no_preview() -> None:
    answer = declined(Status.ANSWERED, "See https://example.org/page. And <https://ok.org/x>.")
    text = answer_text(answer)

    assert "<https://example.org/page>." in text
    assert "<https://ok.org/x>" in text and "<<" not in text


@pytest.mark.parametrize(
    ("status", "engine_text", "expected"),
    [
        (Status.NO_ANSWER, "", "I couldn't find an answer to that in my sources."),
        (Status.OUT_OF_SCOPE, "", "That's outside what I can help with."),
        (Status.REFUSED, "", "Sorry, I can't help with that."),
        (Status.NO_ANSWER, "My sources don't cover Brazil yet.", "My sources don't cover Brazil yet."),
    ],
)
def test_declines_read_as_short_friendly_replies(status: Status, engine_text: str, expected: str) -> None:
    text = answer_text(declined(status, engine_text))

    assert text.startswith(expected)
    assert len(text) < 300
    assert "Traceback" not in text and "error" not in text.lower()


def test_a_decline_shows_the_closest_sources_when_there_are_any() -> None:
    answer = declined(Status.NO_ANSWER, "Not covered.")
    assert answer_embed(answer) is None
    answer.closest = [LI_V_LIU]
    embed = answer_embed(answer)
    assert embed is not None and embed.title == "Closest sources I have"


def test_a_fallback_note_is_shown_small_under_the_answer() -> None:
    answer = declined(Status.ANSWERED, "Quoted [1].")
    answer.note = "The language model was unavailable; quoting the sources directly."
    assert answer_text(answer).endswith(
        "-# The language model was unavailable; quoting the sources directly."
    )


def test_quotes_are_exact_and_quoted() -> None:
    (message,) = quotes_messages([LI_V_LIU])
    assert message.startswith("**[1] Li v. Liu")
    assert f"> {LI_V_LIU.quote}" in message


def test_stream_preview_stays_under_the_limit() -> None:
    preview = stream_preview("word " * 1000, echo="q?")
    assert len(preview) <= 2000 and preview.startswith("> q?") and preview.endswith("…")
    assert stream_preview("Hello", echo=None) == "Hello ▌"


def test_thread_names_and_mentions() -> None:
    assert thread_name("  <@123> Is an   AI image\nprotected? ") == "Is an AI image protected?"
    assert len(thread_name("why " * 100)) <= 100
    assert thread_name("<@1>") == "Question"
    assert strip_bot_mentions("<@42> hello <@!42>", 42) == "hello"
    assert strip_bot_mentions("<@&7> hi", 42, role_id=7) == "hi"


def test_progress_and_summary_show_the_numbers() -> None:
    text = progress_text(Progress(3, 12, 140, "indexing"), full=True)
    assert text.startswith("**Full reindex**: Embedding and indexing…")
    assert "25%" in text and "3/12 files" in text and "140 chunks" in text

    report = ReindexReport(added=5, updated=1, skipped=7, deleted=2, chunks=90, files=4, seconds=3.25)
    embed = reindex_embed(report)
    shown = embed_text(embed)
    for expected in (
        "Added chunks**: 5",
        "Updated chunks**: 1",
        "Skipped chunks**: 7",
        "Deleted chunks**: 2",
        "Failed files**: none",
        "3.2 s",
    ):
        assert expected in shown
