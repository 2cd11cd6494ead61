"""The LLM path, through the real openai client, against an OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.core.types import Answer, AnswerDelta, Status, Turn
from bot.eval.evaluate import QuoteChecker
from bot.index.indexer import Indexer
from bot.rag.engine import MODEL_UNAVAILABLE_NOTE, PERSONAL_REFERRAL, Engine
from tests.helpers import article
from tests.llm_server import LLMServer, Reply

QUESTION = "Can an AI-generated image be protected by copyright in China?"


def passage_number(llm: LLMServer, source_title: str) -> int:
    """The number the engine gave the passage with this title in its last prompt."""
    prompt = llm.requests[-1]["messages"][-1]["content"]
    for line in prompt.splitlines():
        if line.startswith("[") and source_title in line:
            return int(line[1 : line.index("]")])
    raise AssertionError(f"{source_title!r} was not among the passages:\n{prompt}")


def test_valid_citations_are_kept_with_verbatim_quotes(llm_engine: Engine, llm: LLMServer, kb: Path) -> None:
    llm.script(
        Reply("On 27 November 2023 the Beijing Internet Court in China held that the image was a work [1].")
    )
    result = llm_engine.answer(QUESTION)
    assert result.status is Status.ANSWERED and result.mode == "llm"
    n = passage_number(llm, "Li v. Liu")
    assert n == 1 or result.citations[0].source == "knowledge/cn-li-v-liu.md"
    assert result.answer.endswith("[1].")
    assert all(QuoteChecker(kb)(c) for c in result.citations)


def test_the_prompt_fences_numbered_passages_as_data(llm_engine: Engine, llm: LLMServer) -> None:
    llm_engine.answer(QUESTION)
    system, user = llm.requests[-1]["messages"]
    assert system["role"] == "system" and "quoted data" in system["content"]
    assert user["content"].startswith("<passages>\n[1] ")
    assert "</passages>" in user["content"] and user["content"].endswith(f"Question: {QUESTION}")
    assert llm.requests[-1]["model"] == "test-model"


def test_invented_citation_is_removed(llm_engine: Engine, llm: LLMServer) -> None:
    llm.script(Reply("The Beijing Internet Court protected the image [1][9]. A higher court agreed [9]."))
    result = llm_engine.answer(QUESTION)
    assert result.status is Status.ANSWERED
    assert "[9]" not in result.answer and "higher court" not in result.answer
    assert [c.n for c in result.citations] == [1]


def test_answer_without_valid_citation_is_no_answer(llm_engine: Engine, llm: LLMServer) -> None:
    llm.script(Reply("Yes, AI images are always protected everywhere [7]."))
    result = llm_engine.answer(QUESTION)
    assert result.status is Status.NO_ANSWER
    assert result.citations == [] and "couldn't find" in result.answer


def test_model_saying_sources_do_not_cover_it_is_no_answer(llm_engine: Engine, llm: LLMServer) -> None:
    llm.script(Reply("The sources don't cover this."))
    assert llm_engine.answer(QUESTION).status is Status.NO_ANSWER


@pytest.mark.parametrize(
    "failure",
    [Reply(status=500), Reply(delay=2.5), Reply(raw_body="{not json")],
    ids=["server-error", "timeout", "malformed-json"],
)
def test_model_failure_falls_back_to_quoting_the_sources(
    llm_engine: Engine, llm: LLMServer, failure: Reply
) -> None:
    llm.script(failure, failure)  # the first try and the one retry
    result = llm_engine.answer(QUESTION)
    assert result.status is Status.ANSWERED
    assert result.mode == "extractive" and result.note == MODEL_UNAVAILABLE_NOTE
    assert result.citations[0].source == "knowledge/cn-li-v-liu.md"


def test_rate_limit_with_retry_after_is_retried(llm_engine: Engine, llm: LLMServer) -> None:
    llm.script(Reply(status=429, headers={"Retry-After": "0"}), Reply("The court protected the image [1]."))
    result = llm_engine.answer(QUESTION)
    assert result.mode == "llm" and result.status is Status.ANSWERED
    assert len(llm.requests) == 2


async def test_stream_yields_text_then_one_verified_answer(llm_engine: Engine, llm: LLMServer) -> None:
    llm.script(Reply("The Beijing Internet Court held the image was a work [1]. Another claim [8]."))
    events = [e async for e in llm_engine.astream(QUESTION)]
    deltas = [e for e in events if isinstance(e, AnswerDelta)]
    assert len(deltas) > 3
    assert "".join(d.text for d in deltas).startswith("The Beijing Internet Court")
    final = events[-1]
    assert isinstance(final, Answer) and sum(isinstance(e, Answer) for e in events) == 1
    assert final.answer == "The Beijing Internet Court held the image was a work [1]."


async def test_stream_cut_half_way_falls_back_to_quotes(llm_engine: Engine, llm: LLMServer) -> None:
    llm.script(Reply("The Beijing Internet Court held the image was a work [1].", cut_after=3))
    events = [e async for e in llm_engine.astream(QUESTION)]
    final = events[-1]
    assert isinstance(final, Answer)
    assert final.status is Status.ANSWERED and final.note == MODEL_UNAVAILABLE_NOTE


def test_a_blocking_answer_cut_half_way_also_falls_back_to_quotes(llm_engine: Engine, llm: LLMServer) -> None:
    llm.script(Reply("The Beijing Internet Court held the image was a work [1].", cut_after=3))
    result = llm_engine.answer(QUESTION)
    assert result.status is Status.ANSWERED and result.mode == "extractive"
    assert result.note == MODEL_UNAVAILABLE_NOTE
    assert result.citations[0].source == "knowledge/cn-li-v-liu.md"


async def test_a_blocking_answer_from_a_worker_thread_while_a_loop_runs(
    llm_engine: Engine, llm: LLMServer
) -> None:
    llm.script(
        Reply("The Beijing Internet Court held the image was a work [1]."), Reply("It was a work [1].")
    )
    first = await asyncio.to_thread(llm_engine.answer, QUESTION)
    second = await llm_engine.aanswer(QUESTION)  # this loop, the same chat model
    assert (first.mode, first.status) == ("llm", Status.ANSWERED)
    assert (second.mode, second.status) == ("llm", Status.ANSWERED)


def test_a_blocking_answer_after_an_async_one_on_a_loop_since_closed(
    llm_engine: Engine, llm: LLMServer
) -> None:
    """Plain JSON replies leave their connection open in the async HTTP client's pool, tied to
    the loop that opened it; the blocking call must still reach the model afterwards."""
    llm.script(Reply(status=500), Reply(status=500))
    assert asyncio.run(llm_engine.aanswer(QUESTION)).note == MODEL_UNAVAILABLE_NOTE
    llm.script(Reply("The Beijing Internet Court held the image was a work [1]."))
    result = llm_engine.answer(QUESTION)
    assert (result.mode, result.status) == ("llm", Status.ANSWERED)


def test_declines_never_reach_the_model(llm_engine: Engine, llm: LLMServer) -> None:
    assert llm_engine.answer("Best pizza dough recipe?").status is Status.OUT_OF_SCOPE
    assert llm_engine.answer("Invent a citation that proves AI art is public domain").status is Status.REFUSED
    assert llm.requests == []


# -- asking the right question ------------------------------------------------------------------


def test_a_follow_up_is_rewritten_into_a_standalone_question_before_retrieval(
    llm_engine: Engine, llm: LLMServer
) -> None:
    """The condense step: "and did she win?" alone finds nothing; the model's rewrite does."""
    earlier = Turn("What was the Li v. Liu case about?", "A Stable Diffusion image in Beijing. [1]")
    llm.script(
        Reply("Did the plaintiff win the Li v. Liu case at the Beijing Internet Court?"),
        Reply("Yes: on 27 November 2023 the Beijing Internet Court held that the image was a work [1]."),
    )
    result = llm_engine.answer("and did he win?", history=[earlier])
    rewrite, answer = llm.requests[-2:]
    assert "Latest message: and did he win?" in rewrite["messages"][-1]["content"]
    assert "Li v. Liu" in rewrite["messages"][-1]["content"]  # the earlier turn fills in the subject
    assert "Li v. Liu" in answer["messages"][-1]["content"]  # the passages found with the rewrite
    assert result.status is Status.ANSWERED
    assert result.citations[0].source == "knowledge/cn-li-v-liu.md"


def test_a_question_in_another_language_is_searched_in_english_and_answered_in_its_own(
    llm_engine: Engine, llm: LLMServer
) -> None:
    llm.script(
        Reply("Can a work with no human author be registered for copyright in the United States?"),
        Reply("Nein: Der D.C. Circuit entschied 2025, dass ein Werk einen menschlichen Urheber braucht [1]."),
    )
    result = llm_engine.answer("Kann ein Werk ohne menschlichen Urheber in den USA geschützt werden?")
    assert len(llm.requests) == 2  # the rewrite, then the answer
    assert "Thaler" in llm.requests[-1]["messages"][-1]["content"]
    assert result.status is Status.ANSWERED and result.answer.startswith("Nein")
    assert result.citations[0].source == "knowledge/us-thaler.md"
    assert not result.note  # the model answered in German: no "sources are in English" note


def test_a_failed_rewrite_still_answers_from_the_question_as_asked(
    llm_engine: Engine, llm: LLMServer
) -> None:
    llm.script(
        Reply(status=500),
        Reply(status=500),
        Reply("The Beijing Internet Court held the image was a work [1]."),
    )
    earlier = Turn("What was the Li v. Liu case about?", "A Stable Diffusion image in Beijing. [1]")
    result = llm_engine.answer("and in China, is an AI image protected?", history=[earlier])
    assert result.status is Status.ANSWERED


def test_the_model_saying_the_sources_do_not_report_an_event_is_a_cited_decline(
    llm_engine: Engine, llm: LLMServer, kb: Path
) -> None:
    llm.script(
        Reply(
            "My sources don't report that. As of the judgment of 27 November 2023 the Beijing Internet "
            "Court held that the image was a work [1]."
        )
    )
    result = llm_engine.answer("Did Liu appeal the Li v. Liu judgment and win?")
    assert result.status is Status.NO_ANSWER
    assert result.answer.startswith("My sources don't report that.")
    assert result.citations and all(QuoteChecker(kb)(c) for c in result.citations)


def test_the_model_saying_the_sources_do_not_cover_it_is_a_decline_with_the_closest_sources(
    llm_engine: Engine, llm: LLMServer
) -> None:
    llm.script(Reply("The sources don't cover this."))
    result = llm_engine.answer(QUESTION)
    assert result.status is Status.NO_ANSWER and not result.citations
    assert result.closest  # where to look instead


def test_a_personal_dispute_opens_with_a_referral_to_a_lawyer(llm_engine: Engine, llm: LLMServer) -> None:
    llm.script(
        Reply("In China the Beijing Internet Court held in 2023 that such an image can be a work [1].")
    )
    result = llm_engine.answer(
        "Someone copied my AI image in China and I want to sue them, what should I do?"
    )
    assert result.status is Status.ANSWERED
    assert result.answer.startswith(PERSONAL_REFERRAL)
    assert result.answer.rstrip().endswith("[1].")


def test_the_model_reads_the_whole_of_the_best_article_not_only_the_passages_that_matched(
    llm_engine: Engine, llm: LLMServer, kb: Path
) -> None:
    sections = {
        "What happened": "Ms Zephyr, a songwriter, found that the Quill app sang her lyrics back to users. ",
        "The claim": "She claimed that Quill had copied her lyrics into its training data without a licence. ",
        "Damages": "The court ordered Quill to pay Zephyr 12,345 euros and to stop using the lyrics. ",
        "Appeal": "Quill lodged an appeal to the regional court, which has not yet been heard. ",
    }
    body = "\n\n".join(f"## {heading}\n\n{text * 8}" for heading, text in sections.items())
    article(kb, "de-zephyr-v-quill.md", title="Zephyr v. Quill (Germany, 2025)", published="2025-03-01",
            jurisdiction="DE", body=body)  # fmt: skip
    Indexer(llm_engine.settings, embeddings=llm_engine.embeddings).reindex()

    llm_engine.answer("Did Zephyr win her lyrics case against Quill?")

    prompt = llm.requests[-1]["messages"][-1]["content"]
    assert all(text.strip() in prompt for text in sections.values())  # each section, matched or not
