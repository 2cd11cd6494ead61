"""Property tests (hypothesis) for the parsers users' text and files go through.

Front matter, the model's citations, sentence and chunk offsets, and the HTML reader: for any
input, they fail only in the documented way and every offset points at the text it claims to.
Message splitting has its own properties in test_discord_rendering.py.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.errors import QuestionError
from bot.core.questions import check_question
from bot.core.text import claims, sentences
from bot.knowledge import loader
from bot.knowledge.loader import LoadError, parse_front_matter
from bot.rag.answer import CITATION_MARKER, verify
from bot.rag.retriever import Hit
from bot.rag.scope import refusal, unknown_names

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text with the characters that parsers trip on: line breaks, markers, fences, abbreviations.
PIECES = st.sampled_from(
    [
        " ",
        "\n",
        "\n\n",
        ". ",
        "! ",
        "? ",
        "。",
        "！",
        "v. ",
        "No. ",
        "U.S. ",
        "e.g. ",
        "- ",
        "* ",
        "1. ",
        "# ",
        "## ",
        "---",
        "---\n",
        ":",
        "'",
        '"',
        "[",
        "]",
        "[1]",
        "[2, 3]",
        "[0]",
        "[99]",
        "(",
        ")",
        "The court held that the image was a work",
        "Li v. Liu",
        "AI",
        "版权",
        "\t",
        "\r\n",
        "**",
        "`",
    ]
)
ROUGH_TEXT = st.lists(st.one_of(PIECES, st.text(max_size=8)), max_size=40).map("".join)
WORD = st.sampled_from(
    "the court held that image work author human copyright training data model Beijing Thaler "
    "registered protected picture prompt choices judges appeal ruling statute".split()
)


def sentence_text(words: list[str], end: str) -> str:
    return " ".join(words).capitalize() + end


SENTENCE = st.builds(sentence_text, st.lists(WORD, min_size=3, max_size=14), st.sampled_from([".", "!", "?"]))


# -- front matter -------------------------------------------------------------------------------


@FAST
@given(ROUGH_TEXT)
def test_front_matter_fails_only_with_load_error(text: str) -> None:
    for candidate in (text, "---\n" + text, "---\n" + text + "\n---\n"):
        try:
            data, body_start = parse_front_matter(candidate)
        except LoadError:
            continue
        assert isinstance(data, dict)
        assert 0 <= body_start <= len(candidate)


SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=loader.MAX_META_VALUE_CHARS),  # longer values are cut
    st.dates(min_value=dt.date(1000, 1, 1)),
)
MAPPING = st.dictionaries(
    st.one_of(st.sampled_from(loader.KNOWN_KEYS), st.text(min_size=1, max_size=20)),
    st.one_of(SCALAR, st.lists(SCALAR, max_size=4)),
    max_size=8,
)


@FAST
@given(MAPPING, ROUGH_TEXT)
def test_front_matter_round_trips_what_yaml_dumps(data: dict[str, Any], body: str) -> None:
    """The known keys come back as written (values within the bounds); other keys are dropped."""
    text = "---\n" + yaml.safe_dump(data, sort_keys=False) + "---\n" + body
    parsed, body_start = parse_front_matter(text)
    assert parsed == {k: v for k, v in data.items() if k in loader.KNOWN_KEYS}
    assert text[body_start:] == body


# -- the model's citations --------------------------------------------------------------------


def make_hit(n: int, body: str, offset: int) -> Hit:
    header = f"T{n}\n\n"
    return Hit(
        id=f"id{n}",
        text=header + body,
        meta={
            "source": f"knowledge/h{n}.md",
            "title": f"T{n}",
            "start": offset,
            "end": offset + len(body),
            "header_len": len(header),
        },
    )


HIT_BODIES = st.lists(st.lists(SENTENCE, min_size=1, max_size=5).map(" ".join), min_size=0, max_size=6)
MARKS = st.lists(st.integers(min_value=-1, max_value=9), max_size=3).map(
    lambda ns: "".join(f"[{n}]" for n in ns) if len(ns) != 2 else f"[{ns[0]}, {ns[1]}]"
)
REPLY = st.lists(
    st.tuples(st.one_of(SENTENCE, ROUGH_TEXT), MARKS, st.sampled_from([" ", "\n\n", "\n", ""])),
    max_size=10,
).map(lambda parts: "".join(f"{s}{m}{sep}" for s, m, sep in parts))


@FAST
@given(HIT_BODIES, REPLY, st.integers(min_value=0, max_value=5000))
def test_verification_keeps_only_cited_sentences_and_verbatim_quotes(
    bodies: list[str], reply: str, offset: int
) -> None:
    hits = [make_hit(i, body, offset * i) for i, body in enumerate(bodies, start=1)]

    text, cites, _ = verify(reply, hits)

    assert [c.n for c in cites] == list(range(1, len(cites) + 1))  # renumbered in order
    numbers = [int(n) for m in CITATION_MARKER.finditer(text) for n in re.split(r"[,;]", m.group(1))]
    assert set(numbers) == {c.n for c in cites}  # no marker names a passage not given
    if not cites:
        assert text == ""
    for paragraph in text.split("\n\n") if text else []:
        for claim in claims(paragraph):
            if re.search(r"\w", claim):  # a sentence, not a stray full stop
                assert CITATION_MARKER.search(claim), claim  # every kept sentence carries a citation
    by_source = {h.source: h for h in hits}
    for cite in cites:
        hit = by_source[cite.source]
        base = int(hit.meta["start"])
        assert cite.quote and cite.quote in hit.body
        assert hit.body[cite.start - base : cite.end - base] == cite.quote  # offsets in the source


# -- sentence and chunk offsets ---------------------------------------------------------------


@FAST
@given(ROUGH_TEXT)
def test_sentence_offsets_point_at_the_sentence(text: str) -> None:
    found = sentences(text)
    previous_end = 0
    for s in found:
        assert text[s.start : s.end] == s.text
        assert s.text and s.text == s.text.strip()
        assert s.start >= previous_end  # in order, never overlapping
        previous_end = s.end


HEADING = st.builds(
    lambda level, words: "#" * level + " " + " ".join(words),
    st.integers(1, 4),
    st.lists(WORD, min_size=1, max_size=4),
)
LIST_ITEM = st.builds(lambda mark, s: f"{mark} {s}", st.sampled_from(["-", "*", "1."]), SENTENCE)
BLOCK = st.one_of(
    HEADING,
    st.just("## Sources"),
    st.lists(SENTENCE, min_size=1, max_size=12).map(" ".join),
    st.lists(LIST_ITEM, min_size=1, max_size=6).map("\n".join),
    ROUGH_TEXT,
)
MARKDOWN = st.lists(BLOCK, min_size=1, max_size=14).map("\n\n".join)
META = st.fixed_dictionaries(
    {"title": st.text(min_size=1, max_size=30), "jurisdiction": st.sampled_from(["US", "cn", "EU"])},
    optional={"published": st.dates(min_value=dt.date(1990, 1, 1))},
)


@SLOW
@given(st.one_of(st.none(), META), MARKDOWN)
def test_chunks_are_verbatim_at_their_offsets(front: dict[str, Any] | None, body: str) -> None:
    text = body if front is None else "---\n" + yaml.safe_dump(front, allow_unicode=True) + "---\n" + body
    try:
        meta, body_start = parse_front_matter(text)
    except LoadError:  # a body that itself starts with "---": the loader reports the file
        assert front is None and text.startswith("---\n")
        return
    doc = loader.SourceText(
        source="knowledge/x.md",
        text=text,
        body_start=body_start,
        meta=loader.normalise_meta(meta, default_title="x"),
    )
    previous_start = body_start
    for chunk in loader.chunk(doc):
        start, end = chunk.metadata["start"], chunk.metadata["end"]
        assert text[start:end] == chunk.page_content[chunk.metadata["header_len"] :]
        assert body_start <= start < end <= len(text)
        assert end - start <= loader.CHUNK_SIZE
        assert start >= previous_start - loader.CHUNK_OVERLAP  # in reading order
        previous_start = start
        assert chunk.metadata["headings"].split(" > ")[-1].lower() not in loader.SKIPPED_SECTIONS


# -- HTML -------------------------------------------------------------------------------------

VISIBLE = st.sampled_from(["alpha", "bravo", "charlie", "delta"])
HIDDEN_WORD = "zulusecret"


def element(children: list[str], tag: str) -> str:
    return f"<{tag}>" + "".join(children) + f"</{tag}>"


RAW_TEXT = ("script", "style")  # their content is text up to the first end tag, never markup
TREE = st.recursive(
    st.one_of(
        VISIBLE.map(lambda w: f" {w} "),
        st.sampled_from(RAW_TEXT).map(lambda tag: f"<{tag}>if (a < b) {{ {HIDDEN_WORD}(); }}</{tag}>"),
    ),
    lambda inner: st.one_of(
        st.builds(
            element, st.lists(inner, max_size=4), st.sampled_from(["div", "p", "span", "b", "table", "li"])
        ),
        st.builds(
            lambda kids, tag: f"<{tag}>{HIDDEN_WORD}" + "".join(kids) + f"</{tag}>",
            st.lists(inner, max_size=2),
            st.sampled_from(sorted(loader.HIDDEN_HTML - set(RAW_TEXT))),
        ),
    ),
    max_leaves=30,
)


def read_html(markup: str) -> loader.SourceText:
    with tempfile.TemporaryDirectory() as folder:
        kb = Path(folder) / "knowledge"
        kb.mkdir()
        (kb / "page.html").write_text(markup, encoding="utf-8")
        return loader.load_file(kb, kb / "page.html")


def visible_words(markup: str) -> list[str]:
    """The words outside hidden elements, by removing them innermost first."""
    pattern = re.compile(r"<(" + "|".join(sorted(loader.HIDDEN_HTML)) + r")>(?:(?!<\1>).)*?</\1>", re.S)
    while True:
        stripped = pattern.sub("", markup)
        if stripped == markup:
            break
        markup = stripped
    return re.findall(r"[a-z]+", re.sub(r"<[^>]*>", " ", markup))


@FAST
@given(TREE)
def test_html_text_keeps_the_visible_words_in_order_and_nothing_hidden(markup: str) -> None:
    words = visible_words(markup)
    try:
        doc = read_html(f"<html><body>{markup}</body></html>")
    except LoadError as error:
        assert not words and str(error) == "no readable text"
        return
    assert HIDDEN_WORD not in doc.text
    assert doc.text.split() == words


@FAST
@given(
    ROUGH_TEXT.map(lambda t: t.replace("\x00", "")),
    st.sampled_from(["", "<", "<a ", "<!--", "</", "<![", "<?"]),
)
def test_html_reading_fails_only_with_load_error(text: str, tail: str) -> None:
    markup = text.replace("[", "<").replace("]", ">") + tail
    with contextlib.suppress(LoadError):
        read_html(markup)


# -- questions ------------------------------------------------------------------------------


@FAST
@given(st.text(max_size=300))
def test_question_checks_fail_only_with_a_message_for_the_user(question: str) -> None:
    try:
        text = check_question(question, max_chars=200)
    except QuestionError as error:
        assert str(error)
        return
    assert text and "@everyone" not in text and "@here" not in text
    assert refusal(text) is None or isinstance(refusal(text), str)
    assert all(name in text for name in unknown_names(text, set()))
