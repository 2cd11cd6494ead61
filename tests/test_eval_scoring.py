"""How `eval` scores answers: what each figure counts, on answers made by hand."""

from __future__ import annotations

from bot.core.types import Answer, Citation, Status
from bot.eval import evaluate

RULING = "knowledge/cn-li-v-liu.md"
OFFICE = "knowledge/us-copyright-office-report-part2-copyrightability.md"


def _cite(source: str) -> Citation:
    return Citation(
        1, "A title", "https://example.org/a", "A publisher", "2024-01-01", "CN", source, "A quote."
    )


def _passage(source: str) -> dict[str, str]:
    return {"source": source, "heading": "In short", "text": "Human authorship is required."}


def _row(question_id: str) -> dict[str, object]:
    return {"id": question_id, "expect": "answer", "sources": [RULING], "kind": "factual", "facts": []}


def test_a_right_source_among_the_passages_is_told_apart_from_one_cited() -> None:
    """Where the right article was found but the answer quoted another, the loss is in the answer,
    not in retrieval: "right.ctx" counts the questions whose passages hold a right source."""
    cited = Answer(
        "q1", Status.ANSWERED, "Yes. [1]", "extractive", [_cite(RULING)], context=[_passage(RULING)]
    )
    found_not_cited = Answer(
        "q2",
        Status.ANSWERED,
        "No. [1]",
        "extractive",
        [_cite(OFFICE)],
        context=[_passage(OFFICE), _passage(RULING)],
    )
    missed = Answer(
        "q3", Status.ANSWERED, "No. [1]", "extractive", [_cite(OFFICE)], context=[_passage(OFFICE)]
    )
    declined = Answer(
        "q4", Status.NO_ANSWER, "I couldn't find this.", "extractive", context=[_passage(RULING)]
    )
    rows = [
        (_row("q1"), cited, [RULING]),
        (_row("q2"), found_not_cited, [OFFICE, RULING]),
        (_row("q3"), missed, [OFFICE]),
        (_row("q4"), declined, [RULING]),
    ]

    report = evaluate.score(rows, lambda _cite: True)

    assert report.overall.metrics()["right_source_cited"] == 0.25
    assert report.overall.metrics()["right_source_in_context"] == 0.75
    assert "right.ctx" in evaluate.format_table(report)
