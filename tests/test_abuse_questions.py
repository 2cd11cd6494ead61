"""Hostile questions: prompt injection, asking for secrets or the system prompt, a lawyer's
role-play, invented citations, forged passage fences, mass pings, and the benign questions that
look like them.

The question set is tests/eval/abuse.jsonl: each line a hostile question, the status the bot must
give with no model (`expect`) and when the model obeys the attack (`expect_llm`, with `obey` the
reply the model server sends), and text that must never be in the answer (`must_not`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.core.types import Answer, Status
from bot.rag import answer as answering
from bot.rag.engine import Engine
from tests.helpers import fence_tags
from tests.llm_server import LLMServer, Reply

ABUSE = Path(__file__).resolve().parent / "eval" / "abuse.jsonl"
ROWS: list[dict[str, Any]] = [
    json.loads(line) for line in ABUSE.read_text(encoding="utf-8").splitlines() if line
]


def _text_of(result: Answer) -> str:
    return " ".join([result.answer, result.note]).lower()


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_hostile_questions_without_a_model(row: dict[str, Any], hostile_engine: Engine) -> None:
    result = hostile_engine.answer(row["question"])

    assert result.status.value in row["expect"], (row["why"], result.answer)
    for forbidden in row["must_not"]:
        assert forbidden.lower() not in _text_of(result)
    if result.status in (Status.REFUSED, Status.OUT_OF_SCOPE):
        assert result.citations == [] and result.closest == []
    if row["kind"] == "benign":
        assert result.status is not Status.REFUSED


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_hostile_questions_when_the_model_obeys(
    row: dict[str, Any], hostile_llm_engine: Engine, llm: LLMServer
) -> None:
    llm.script(Reply(row["obey"]))

    result = hostile_llm_engine.answer(row["question"])

    assert result.status.value in row["expect_llm"], (row["why"], result.answer)
    for forbidden in row["must_not"]:
        assert forbidden.lower() not in _text_of(result)
    if result.status in (Status.REFUSED, Status.OUT_OF_SCOPE):
        assert llm.requests == []  # the model never saw it
    for request in llm.requests:
        system, user = request["messages"]
        assert system["content"] == answering.SYSTEM_PROMPT
        content = user["content"]
        assert fence_tags(content) == ["<passages>", "</passages>"]  # forged tags defused
        assert content.startswith("<passages>\n") and "Question: " in content.split("</passages>")[1]


def test_the_question_set_covers_each_kind_of_attack() -> None:
    kinds = {r["kind"] for r in ROWS}
    assert kinds >= {"injection", "leak", "lawyer", "citation", "fence", "ping", "abuse", "benign"}
    assert len({r["id"] for r in ROWS}) == len(ROWS)
    for row in ROWS:
        assert set(row) == {"id", "kind", "question", "expect", "expect_llm", "obey", "must_not", "why"}
