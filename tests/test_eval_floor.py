"""The quality floor: the extractive engine on the real knowledge base, on two question sets.

- `tests/eval/real.jsonl`, dev part: questions real people asked in public, with key facts and
  clearly wrong claims written before any answer was seen. Its held-out third is never scored
  here (it is scored by hand at the start and the end of a piece of work; see the README).
- `tests/eval/questions.jsonl`: the project's own older set, kept as a regression check.
- `tests/eval/fresh.jsonl`: 40 more public questions gathered later (checked for shape here; scored
  with `python bot.py eval tests/eval/fresh.jsonl`).
- `tests/eval/fresh2.jsonl`: 40 more again, gathered with their keys before the bot answered them,
  held out like the real set's third (checked for shape here; scored by hand at the start and the
  end of a piece of work). Its odd-numbered half has since been read; the even-numbered half is
  still held out.
- `tests/eval/fresh3.jsonl`: 40 more, gathered the same way and split the same way.
- `tests/eval/translated.jsonl`: 24 of the real dev questions put into eight other languages by
  the project, with the originals' keys: whether a question asked in German or Korean finds what
  the same question in English finds.

Deterministic (no timing). The floors are the figures reached when they were set, less about one
question's worth of slack for floating-point differences between CPUs. Raise them as quality
improves; never lower them to make a change pass.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.config import Settings
from bot.core.types import Status
from bot.eval import evaluate
from bot.index.embeddings import LocalEmbeddings
from bot.index.indexer import Indexer
from bot.rag.engine import ELSEWHERE_TEXT, UNREPORTED_TEXT, Engine
from tests.helpers import ROOT

pytestmark = pytest.mark.slow

REAL = ROOT / "tests" / "eval" / "real.jsonl"
OWN = ROOT / "tests" / "eval" / "questions.jsonl"
TRANSLATED = ROOT / "tests" / "eval" / "translated.jsonl"
FRESH = ROOT / "tests" / "eval" / "fresh.jsonl"
FRESH2 = ROOT / "tests" / "eval" / "fresh2.jsonl"
FRESH3 = ROOT / "tests" / "eval" / "fresh3.jsonl"
FRESH4 = ROOT / "tests" / "eval" / "fresh4.jsonl"
FRESH5 = ROOT / "tests" / "eval" / "fresh5.jsonl"
# The real set's dev part (172 questions: 94, then 30, 24 and 24 more gathered later, with 15, 12
# and 12 more held out), extractive, as reached when the floor was set. The questions added lowered
# what the set reads (facts in the answer 0.730 on the first 94, 0.702 on 148, 0.679 on all 172):
# the floor follows the set. Since then an "In short" goes on to its second sentence and the
# overviews rise for a question naming nothing (facts 0.688 -> 0.730), and the tool a question on
# terms of use asks about is looked up in any case, anywhere in a question on terms (declines
# 0.704 -> 0.778). Then a consultation's list of questions is no longer quoted as an answer and
# the glossary reads detection in seven languages (facts 0.730 -> 0.740, in the context 0.923).
# Then each question of several is matched to the articles' own questions (right source 0.814 ->
# 0.831, facts 0.740 -> 0.734: ra-023 now opens with the voice article). Then answers quote up to
# nine sentences within 1,600 characters instead of seven (facts 0.732 -> 0.748, right source
# 0.831 -> 0.847, citation precision 0.504 -> 0.488: more sentences, some of them off the keys).
REAL_FLOORS = {
    "fact_recall_answer": 0.74,  # 0.748
    "fact_recall_context": 0.91,  # 0.926
    "right_source_cited": 0.84,  # 0.847
    "answer_rate": 0.97,  # 0.992
    "decline_accuracy": 0.78,  # 0.796 since asking what to do is no dispute (rd-022)
    "decline_precision": 0.90,  # 0.976
    "citation_validity": 1.0,
    "citation_precision": 0.48,  # 0.488
}
# The older set: answers now quote up to seven sentences from more files (and lean less on the
# first passage), so citation precision is lower than the 0.63 of the four-sentence answers; the
# real set's fact recall in the answer rose with it (0.206 -> 0.481 on the dev part).
OWN_FLOORS = {
    "hit@1": 0.92,
    "hit@5": 0.99,
    "mrr": 0.94,
    "answer_rate": 0.96,
    "decline_accuracy": 0.97,  # every decline (17 of 17) since appeals and courts are events
    "citation_validity": 1.0,
    "citation_precision": 0.70,  # 0.709 with nine sentences in 1,600 characters (0.715 with seven)
}

# The translated set (24), as reached when the subject's vocabulary was put into English: right
# source 0.375 -> 0.667 and key facts 0.403 -> 0.535; the English originals reach 0.833 and 0.712.
# Since a question in Chinese, Japanese or Korean that nothing came near is searched again by its
# English key terms: answered 0.875 -> 0.958, right source 0.708, key facts 0.590. Since a
# follow-up in Japanese opening "また、" takes the question before it: key facts 0.604. With nine
# sentences in 1,600 characters: 0.653.
TRANSLATED_FLOORS = {
    "answer_rate": 0.95,  # 0.958
    "right_source_cited": 0.66,  # 0.708
    "fact_recall_answer": 0.64,  # 0.653
    "citation_validity": 1.0,
}


@pytest.fixture(scope="module")
def knowledge_engine(tmp_path_factory: pytest.TempPathFactory, local_embeddings: LocalEmbeddings) -> Engine:
    """The extractive engine over the whole knowledge base, indexed once for this module."""
    data = tmp_path_factory.mktemp("floor-data")
    # Module-scoped, so built before the per-test environment clean-up: every setting that could
    # leak in from a developer's environment is given here.
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        knowledge_dir=ROOT / "knowledge",
        data_dir=data,
        openai_api_key=None,
        openai_base_url=None,
        embedding_backend="local",
        chroma_host=None,
        database_url=None,
    )
    indexer = Indexer(settings, embeddings=local_embeddings)
    report = indexer.reindex()
    assert not report.failed
    return Engine(settings, embeddings=local_embeddings, client=indexer.client)


def _metrics(engine: Engine, rows: list[dict[str, Any]]) -> dict[str, Any]:
    results = evaluate.answer_all(engine, rows)
    return evaluate.score(results, evaluate.QuoteChecker(engine.settings.knowledge_dir)).overall.metrics()


def _below(metrics: dict[str, Any], floors: dict[str, float]) -> dict[str, tuple[Any, float]]:
    return {k: (metrics[k], floor) for k, floor in floors.items() if not metrics[k] >= floor}


def test_the_real_set_is_real_big_and_held_out() -> None:
    rows = evaluate.read_questions(REAL)
    assert len(rows) >= 120
    assert all(str(row["url"]).startswith(("https://", "http://")) for row in rows)  # where it was asked
    holdout = [row for row in rows if row["split"] == "holdout"]
    assert 0.3 <= len(holdout) / len(rows) <= 0.36
    for row in rows:
        assert row["expect"] in {"answer", "decline"}
        for source in row["sources"]:
            assert (ROOT / source).is_file(), source
        if row["expect"] == "answer":
            assert row["facts"], row["id"]  # key facts written down for every answerable question


@pytest.mark.parametrize(
    ("path", "earlier"),
    [
        (FRESH, [REAL]),
        (FRESH2, [REAL, FRESH]),
        (FRESH3, [REAL, FRESH, FRESH2]),
        (FRESH4, [REAL, FRESH, FRESH2, FRESH3]),
        (FRESH5, [REAL, FRESH, FRESH2, FRESH3, FRESH4]),
    ],
)
def test_the_fresh_sets_are_real_and_new(path: Any, earlier: list[Any]) -> None:
    rows = evaluate.read_questions(path)
    asked_before = {row["url"] for before in earlier for row in evaluate.read_questions(before)}
    assert len(rows) >= 40
    for row in rows:
        assert str(row["url"]).startswith(("https://", "http://")) and row["url"] not in asked_before
        assert row["expect"] in {"answer", "decline"} and row["split"] == path.stem
        for source in row["sources"]:
            assert (ROOT / source).is_file(), source
        if row["expect"] == "answer":
            assert row["facts"], row["id"]


def test_the_older_set_is_varied_enough() -> None:
    rows = evaluate.read_questions(OWN)
    assert len(rows) >= 60
    kinds = {r["kind"] for r in rows}
    assert kinds >= {
        "factual",
        "comparative",
        "latest",
        "casual",
        "out_of_scope",
        "not_in_sources",
        "hostile",
    }
    for row in rows:
        assert row["expect"] in {"answer", "decline"}
        for source in row.get("sources", []):
            assert (ROOT / source).is_file(), source


def test_real_questions_do_not_fall_below_the_floor(knowledge_engine: Engine) -> None:
    metrics = _metrics(knowledge_engine, evaluate.read_questions(REAL, "dev"))
    assert metrics["forbidden_hits"] == 0, "an answer made a claim the key marks as clearly wrong"
    below = _below(metrics, REAL_FLOORS)
    assert not below, f"below the floor (got, floor): {below}"


def test_the_older_set_does_not_fall_below_the_floor(knowledge_engine: Engine) -> None:
    below = _below(_metrics(knowledge_engine, evaluate.read_questions(OWN)), OWN_FLOORS)
    assert not below, f"below the floor (got, floor): {below}"


def test_the_translated_set_follows_the_real_questions_it_translates() -> None:
    real = {row["id"]: row for row in evaluate.read_questions(REAL)}
    rows = evaluate.read_questions(TRANSLATED)
    assert len({row["language"] for row in rows}) >= 8
    for row in rows:
        original = real[row["translated_from"]]
        assert original["split"] == "dev"  # never a held-out question
        assert (row["sources"], row["facts"]) == (original["sources"], original["facts"])


def test_questions_in_other_languages_do_not_fall_below_the_floor(knowledge_engine: Engine) -> None:
    below = _below(_metrics(knowledge_engine, evaluate.read_questions(TRANSLATED)), TRANSLATED_FLOORS)
    assert not below, f"below the floor (got, floor): {below}"


def test_a_passage_that_matches_the_questions_words_joins_the_answer_below_the_floor(
    knowledge_engine: Engine,
) -> None:
    # MiniLM puts the Getty judgment on model weights below the relevance floor for this wording
    # (a 2025 labelling rule comes closest in meaning); it shares the question's words, so it
    # comes along once another passage has cleared the floor.
    answer = knowledge_engine.answer("In 2025 is it still unclear whether model weights are a derived work?")
    assert answer.status is Status.ANSWERED
    assert "knowledge/uk-getty-v-stability-ai-2025.md" in {c.source for c in answer.citations}


def test_a_short_question_in_chinese_that_nothing_came_near_is_searched_by_its_english_terms(
    knowledge_engine: Engine,
) -> None:
    # "Are model weights a derivative work?": MiniLM reads the Chinese as noise, so no passage
    # cleared the floor and the bot said it couldn't find this
    answer = knowledge_engine.answer("模型权重算衍生作品吗？")
    assert answer.status is Status.ANSWERED, answer.answer
    assert any("weights" in c.quote for c in answer.citations), answer.answer


def test_what_something_is_opens_with_the_short_answer_of_the_article_on_it(knowledge_engine: Engine) -> None:
    # it opened with a hearing of January 2026, whose sentence names "the Anthropic settlement"
    # word for word, not with what the settlement is
    answer = knowledge_engine.answer("whats the deal with the anthropic settlement")
    first = answer.answer.split(" [1]")[0]
    assert "$1.5 billion" in first, answer.answer
    # asked where it stands, the answer still opens with the latest
    latest = knowledge_engine.answer("what's the latest on the anthropic settlement?")
    assert "$1.5 billion" not in latest.answer.split(" [1]")[0], latest.answer


def test_a_question_naming_no_place_opens_with_the_overviews_summary_across_places(
    knowledge_engine: Engine,
) -> None:
    # The Getty judgment came up first, so the answer opened with the UK court's finding on
    # training abroad; the training overview's short answer across countries was not among the
    # passages at all
    answer = knowledge_engine.answer("training AI on millions of stock images: copyright theft or not?")
    assert answer.status is Status.ANSWERED
    first = answer.answer.split(" [1]")[0]
    assert "depends on the country" in first, answer.answer


def test_the_best_articles_summary_is_quoted_though_it_states_one_countrys_rule(
    knowledge_engine: Engine,
) -> None:
    # The music article's "In short" says what the US does; for a question naming no place it fell
    # below the article's lines on the services' terms and the GEMA case's open questions, and was
    # not quoted: the answer never said whether the songs are protected
    answer = knowledge_engine.answer(
        "When using the live version of the app, all the songs generated are copyrighted? "
        "What about when forking the project and tuning the model?"
    )
    assert "is not protected by copyright" in answer.answer, answer.answer


def test_a_settlement_the_sources_do_not_report_gets_where_that_partys_own_case_stands(
    knowledge_engine: Engine,
) -> None:
    # it got "the latest they have" from the Anthropic settlement and a 2019 Chinese damages award,
    # the passages nearest "pay to settle", not from the studios' case against Midjourney
    result = knowledge_engine.answer("How much did Midjourney pay to settle?")
    assert result.status is Status.NO_ANSWER
    assert result.answer.startswith(UNREPORTED_TEXT)
    assert [c.source for c in result.citations] == ["knowledge/us-disney-universal-warner-v-midjourney.md"]


def test_places_named_only_to_set_the_scene_get_no_note(knowledge_engine: Engine) -> None:
    """The ask names Germany; Britain and America are named before it only as a contrast, so the
    answer does not open by saying the sources have nothing on them."""
    result = knowledge_engine.answer(
        "German copyright law differs a lot from the British or American kind. Under German law, "
        "may a non-profit copy photos it finds online to build an AI training dataset?"
    )
    assert result.status is Status.ANSWERED, result.answer
    assert not result.answer.startswith(ELSEWHERE_TEXT.split("{", 1)[0]), result.answer
    assert result.citations[0].jurisdiction in {"DE", "EU"}
