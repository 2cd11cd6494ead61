"""The one table of jurisdictions: what a person may type, and what the answers and the picker show."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import jurisdictions
from bot.knowledge.library import list_sources

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


@pytest.mark.parametrize(
    ("typed", "code"),
    [("us", "US"), (" United States ", "US"), ("china", "CN"), ("intl", "INTL"), ("", None), ("Any", None)],
)
def test_a_typed_code_or_name_becomes_a_code(typed: str, code: str | None) -> None:
    assert jurisdictions.chosen(typed) == code


def test_something_that_is_no_code_is_refused() -> None:
    with pytest.raises(ValueError):
        jurisdictions.chosen("Atlantis!")


def test_quoted_lines_are_labelled_by_country_and_overviews_are_not() -> None:
    assert jurisdictions.label("cn") == "China"
    assert jurisdictions.label("US") == "US"
    assert jurisdictions.label("INTL") == ""
    assert jurisdictions.label("XX") == ""


def test_a_question_names_its_jurisdictions_in_words_codes_or_chinese() -> None:
    assert jurisdictions.jurisdictions_in("Does China protect AI images but the US not?") == {"CN", "US"}
    assert jurisdictions.jurisdictions_in("AI绘画在中国受保护吗？") == {"CN"}
    assert jurisdictions.jurisdictions_in("can you help us with this") == set()
    # a state is in the US: "are AI voice clones legal in California?"
    assert jurisdictions.jurisdictions_in("are AI voice clones legal in California?") == {"US"}
    assert jurisdictions.jurisdictions_in("Can I clone a voice in Tennessee or the UK?") == {"US", "UK"}


@pytest.mark.parametrize(
    ("question", "codes"),
    [
        ("¿Es legal usar obras protegidas para entrenar IA generativa en Europa?", {"EU"}),
        ("L'IA est-elle protégée aux États-Unis ou au Royaume-Uni ?", {"US", "UK"}),
        ("Ist KI-Kunst in Deutschland geschützt?", {"DE"}),
        ("米国ではAIの画像に著作権はありますか", {"US"}),
        ("미국과 중국의 AI 저작권", {"US", "CN"}),
        ("Can AI images be copyrighted in Mexico or Spain?", {"MX", "ES"}),  # no article of their own
    ],
)
def test_a_question_in_another_language_names_its_jurisdictions_too(question: str, codes: set[str]) -> None:
    assert jurisdictions.jurisdictions_in(question) == codes


def test_every_jurisdiction_of_the_knowledge_folder_has_a_name_for_the_picker() -> None:
    codes = {s.jurisdiction for s in list_sources(KNOWLEDGE) if s.jurisdiction}
    assert codes
    assert {c for c in codes if jurisdictions.name(c) == c} == set()  # "Ireland (IE)", never "IE (IE)"


def test_a_place_is_named_in_a_sentence_with_its_article() -> None:
    """ "My sources have nothing specific to the United States on this", not "to United States"."""
    assert [jurisdictions.in_sentence(c) for c in ("US", "EU", "NL", "CN")] == [
        "the United States",
        "the European Union",
        "the Netherlands",
        "China",
    ]
