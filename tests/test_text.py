"""Text utilities: the words retrieval matches on, the sentences answers quote, the countries a
question names."""

from __future__ import annotations

import pytest

from bot.core.text import is_mostly_cjk, plain, sentences, tokens
from bot.jurisdictions import jurisdictions_in


def test_tokens_drop_filler_and_keep_what_a_search_needs() -> None:
    assert tokens("Hey, can I copyright my AI art pls?") == ["copyright", "ai", "art"]
    # A docket number stays whole and its parts match too; "U.S." matches "US".
    assert tokens("No. 23-5233") == ["23-5233", "23", "5233"]
    assert "us" in tokens("U.S. law")


def test_chinese_is_matched_by_characters_and_pairs() -> None:
    assert tokens("版权法") == ["版", "权", "法", "版权", "权法"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "In Li v. Liu the court in Beijing ruled for the plaintiff. U.S. law differs, e.g. in "
            "Thaler v. Perlmutter, No. 23-5233. The appeal failed.",
            [
                "In Li v. Liu the court in Beijing ruled for the plaintiff.",
                "U.S. law differs, e.g. in Thaler v. Perlmutter, No. 23-5233.",
                "The appeal failed.",
            ],
        ),
        (  # "Warner Bros. Discovery" was cut in two, and "Discovery (No. ...)" quoted on its own
            "The studios and Warner Bros. Discovery sued the image service. The rule was published as "
            "FR Doc. 2023-05321. Tenn. Code section 47-25-1105 applies.",
            [
                "The studios and Warner Bros. Discovery sued the image service.",
                "The rule was published as FR Doc. 2023-05321.",
                "Tenn. Code section 47-25-1105 applies.",
            ],
        ),
        (  # "528) protects computer-generated works" was quoted on its own
            "Hong Kong's Copyright Ordinance (Cap. 528) protects computer-generated works. The ruling "
            "is reported at 141 S. Ct. 1183. It was 6-2.",
            [
                "Hong Kong's Copyright Ordinance (Cap. 528) protects computer-generated works.",
                "The ruling is reported at 141 S. Ct. 1183.",
                "It was 6-2.",
            ],
        ),
    ],
)
def test_sentences_do_not_end_at_case_names_or_abbreviations(text: str, expected: list[str]) -> None:
    assert [s.text for s in sentences(text)] == expected


def test_list_items_paragraphs_and_chinese_full_stops_end_sentences() -> None:
    text = "Key points:\n- First point\n- Second point\n\nA new paragraph"
    assert [s.text for s in sentences(text)] == [
        "Key points:",
        "- First point",
        "- Second point",
        "A new paragraph",
    ]
    assert [s.text for s in sentences("法院认定图片是作品。原告胜诉！")] == [
        "法院认定图片是作品。",
        "原告胜诉！",
    ]


def test_each_sentence_knows_where_it_stands_in_the_text() -> None:
    text = "  First one.  Second one!\n\nThird?  "
    found = sentences(text)
    assert [s.text for s in found] == ["First one.", "Second one!", "Third?"]
    assert all(text[s.start : s.end] == s.text for s in found)


def test_plain_removes_markdown_for_display() -> None:
    assert plain("- **Held:** the image is a `work`\n  of its *author*.") == (
        "Held: the image is a work of its author."
    )
    assert plain("3. Second item") == "Second item"
    assert plain("2 * 3 = 6") == "2 * 3 = 6"  # an asterisk between spaces is not emphasis


@pytest.mark.parametrize(
    ("question", "codes"),
    [
        ("Does China protect AI images while the US does not?", {"CN", "US"}),
        ("What does the U.K. say about computer-generated works?", {"UK"}),
        ("Is the EU AI Act relevant to Germany?", {"EU", "DE"}),
        ("人工智能生成的图片在中国受版权保护吗？", {"CN"}),
        ("Can you help us understand AI authorship?", set()),  # "us" here is not the US
        ("Who owns a picture drawn by AI?", set()),
    ],
)
def test_jurisdictions_a_question_names(question: str, codes: set[str]) -> None:
    assert jurisdictions_in(question) == codes


def test_mostly_cjk() -> None:
    assert is_mostly_cjk("人工智能生成的图片受保护吗 AI?")
    assert not is_mostly_cjk("Is an AI image (AI生成) protected?")
