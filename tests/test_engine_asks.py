"""What the engine does with how people ask: names addressed, capitals for emphasis, invented
cases, events the sources do not report, disputes of the asker's own, other languages, the
front-matter questions an article answers, and a model's claims checked against the passages.

Extractive answers come from the fixture knowledge in an embedded store (a Chroma server adds
nothing to these); the model is the OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bot import jurisdictions
from bot.config import Settings
from bot.core.text import plain, sentences
from bot.core.types import Answer, Status
from bot.eval.evaluate import QuoteChecker
from bot.index import store
from bot.index.embeddings import LocalEmbeddings
from bot.index.indexer import Indexer
from bot.jurisdictions import jurisdictions_in
from bot.knowledge.loader import QUESTION_RECORD
from bot.rag import answer as answering
from bot.rag import asking, news
from bot.rag.engine import (
    ELSEWHERE_TEXT,
    ENGLISH_SOURCES_NOTE,
    GENERAL_COPYRIGHT_TEXT,
    MODEL_ARTICLES,
    PERSONAL_REFERRAL,
    REFERRAL_ONLY,
    UNHEARD_TEXT,
    UNREPORTED_TEXT,
    Engine,
    _Prepared,
    known_names,
    names_nothing,
)
from bot.rag.retriever import Corpus, Hit
from tests.helpers import FIXTURE_KNOWLEDGE
from tests.llm_server import LLMServer, Reply


@pytest.fixture(scope="module")
def fixture_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("asks") / "knowledge"
    shutil.copytree(FIXTURE_KNOWLEDGE, target)
    return target


@pytest.fixture(scope="module")
def extractive(fixture_kb: Path, local_embeddings: LocalEmbeddings) -> Engine:
    """An embedded store over the fixture knowledge, no model; read-only, so shared by the module."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        knowledge_dir=fixture_kb,
        data_dir=fixture_kb.parent / "data",
        openai_api_key=None,
        openai_base_url=None,
        chroma_host=None,
        embedding_backend="local",
    )
    indexer = Indexer(settings, embeddings=local_embeddings)
    indexer.reindex()
    return Engine(settings, embeddings=local_embeddings, client=indexer.client)


def assert_quotes_are_cited_source_sentences(result: Answer, knowledge: Path) -> None:
    """Every paragraph is "Label: sentence [n] sentence [n]", the label (when there is one) saying
    where and when the cited source's rule comes from, every sentence verbatim in that source."""
    check = QuoteChecker(knowledge)
    assert result.citations and all(check(c) for c in result.citations)
    by_n = {c.n: c for c in result.citations}
    paragraphs = result.answer.split("\n\n")
    if paragraphs[0] in (PERSONAL_REFERRAL, news.NEWS_TEXT) or paragraphs[0].startswith(
        ELSEWHERE_TEXT.split("{")[0]
    ):
        paragraphs = paragraphs[1:]
    assert paragraphs
    for paragraph in paragraphs:
        label = answering.WHERE_LABEL.match(paragraph)
        rest = paragraph[label.end() :] if label else paragraph
        pieces = re.findall(r"(.+?) \[(\d+)\](?: |$)", rest)
        assert pieces and "".join(f"{t} [{n}] " for t, n in pieces).strip() == rest  # every sentence cited
        cites = [by_n[int(n)] for _, n in pieces]
        assert len({c.source for c in cites}) == 1  # a paragraph quotes one source
        cite = cites[0]
        name = jurisdictions.label(cite.jurisdiction)
        if name and not jurisdictions_in(rest):  # a quote that names no country gets a label
            assert label is not None, paragraph
            dated = re.search(r"\b(1[89]|20)\d\d\b", rest)  # the quote's own dates, or the source's
            assert label.group(0) == (f"{name}: " if dated else f"{name}, {cite.published[:4]}: ")
        else:  # none for a source of no one jurisdiction, nor for a quote that says where itself
            assert label is None, paragraph
        source = loader_text(knowledge, cite.source)
        whole = [plain(s.text).lower() for s in sentences(source)]
        for text, _ in pieces:  # a whole sentence, or one quoted from after its "Yes:"
            assert any(w.endswith(text.lower()) for w in whole), text


def loader_text(knowledge: Path, source: str) -> str:
    return (knowledge / source.split("/", 1)[1]).read_text(encoding="utf-8")


# -- names addressed, emphasis, invented names ---------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        "Happy New Year, Zelda! Did the Beijing Internet Court protect the Stable Diffusion image?",
        "Hi Bartholomew, did the Beijing Internet Court protect the Stable Diffusion image?",
        "Did China REALLY protect an AI image?",
    ],
)
def test_a_name_addressed_or_a_word_in_capitals_does_not_stop_an_answer(
    extractive: Engine, fixture_kb: Path, question: str
) -> None:
    result = extractive.answer(question)
    assert result.status is Status.ANSWERED, result.answer
    assert "don't mention" not in result.answer
    assert result.citations[0].source == "knowledge/cn-li-v-liu.md"
    assert_quotes_are_cited_source_sentences(result, fixture_kb)


def test_an_invented_case_is_still_declined_by_name(extractive: Engine) -> None:
    result = extractive.answer("What did the court hold in Zorblatt v. Quenmore?")
    assert result.status is Status.NO_ANSWER
    assert "Zorblatt" in result.answer and "Quenmore" in result.answer
    assert result.citations == []


def test_the_weather_is_never_answered(extractive: Engine) -> None:
    result = extractive.answer("What's the weather in Beijing tomorrow?")
    assert result.status in {Status.OUT_OF_SCOPE, Status.NO_ANSWER}
    assert result.citations == []
    assert "Beijing Internet Court" not in result.answer


# -- an event the sources do not report -----------------------------------------------------------


def test_an_extractive_answer_can_quote_a_section_of_the_best_article_that_did_not_come_up(
    extractive: Engine, fixture_kb: Path
) -> None:
    question = "Who refused to register Thaler's picture, and what did he list as its author?"
    prepared = extractive._prepare(question, None, [])
    assert isinstance(prepared, _Prepared)
    assert prepared.hits[0].source == "knowledge/us-thaler.md"
    # as if retrieval had brought only the article's other section
    others = [h for h in prepared.hits if "The ruling" not in str(h.meta.get("headings", ""))]
    assert others and others[0].source == "knowledge/us-thaler.md"
    reads = extractive._articles(prepared.retriever, others, MODEL_ARTICLES)  # as _prepare reads them
    result = extractive._extractive(dataclasses.replace(prepared, hits=others, context=reads))
    assert "listed his machine as the sole author" in result.answer, result.answer
    assert_quotes_are_cited_source_sentences(result, fixture_kb)


def test_a_decision_the_sources_do_not_report_is_said_to_be_unreported(
    extractive: Engine, fixture_kb: Path
) -> None:
    article = (fixture_kb / "cn-li-v-liu.md").read_text(encoding="utf-8")
    assert "Court of Appeal" not in article and "appeal" not in article.lower()  # nothing to report
    result = extractive.answer("What did the Court of Appeal decide in Li v. Liu?")
    assert result.status is Status.NO_ANSWER
    assert result.answer.startswith("My sources don't report that")
    assert result.answer.startswith(UNREPORTED_TEXT)
    assert len(result.citations) == 1
    cite = result.citations[0]
    assert cite.source == "knowledge/cn-li-v-liu.md"
    assert QuoteChecker(fixture_kb)(cite)
    assert result.answer.rstrip().endswith("[1]")
    assert "Court of Appeal" not in result.answer


def test_a_decision_the_sources_do_report_is_answered(extractive: Engine, fixture_kb: Path) -> None:
    result = extractive.answer("What did the Beijing Internet Court decide in Li v. Liu?")
    assert result.status is Status.ANSWERED
    assert "held that the AI-generated image was a protected work" in result.answer
    assert_quotes_are_cited_source_sentences(result, fixture_kb)


def test_an_appeal_the_sources_do_not_report_is_said_to_be_unreported(
    extractive: Engine, fixture_kb: Path
) -> None:
    result = extractive.answer("Was Li v. Liu overturned on appeal?")
    assert result.status is Status.NO_ANSWER
    assert result.answer.startswith(UNREPORTED_TEXT)
    assert [c.source for c in result.citations] == ["knowledge/cn-li-v-liu.md"]
    assert QuoteChecker(fixture_kb)(result.citations[0])


def test_an_appeal_the_sources_report_is_answered(extractive: Engine, fixture_kb: Path) -> None:
    # the D.C. Circuit's sentence does not name Thaler, but it is in the article on his case
    result = extractive.answer("Did Thaler lose his appeal?")
    assert result.status is Status.ANSWERED
    assert not result.answer.startswith(UNREPORTED_TEXT)
    assert {c.source for c in result.citations} == {"knowledge/us-thaler.md"}
    assert_quotes_are_cited_source_sentences(result, fixture_kb)


def test_a_short_question_how_a_named_case_came_out_is_answered(extractive: Engine) -> None:
    result = extractive.answer("Did Thaler win?")
    assert result.status is Status.ANSWERED
    assert {c.source for c in result.citations} == {"knowledge/us-thaler.md"}


def test_how_a_match_came_out_is_not_answered(extractive: Engine) -> None:
    result = extractive.answer("Did Arsenal win against Chelsea?")
    assert result.status in {Status.OUT_OF_SCOPE, Status.NO_ANSWER}
    assert result.citations == []


# -- what is new ----------------------------------------------------------------------------------


def test_whats_the_latest_is_the_newest_dated_events_newest_first(
    extractive: Engine, fixture_kb: Path
) -> None:
    result = extractive.answer("what's the latest in AI copyright?")
    assert result.status is Status.ANSWERED
    assert result.answer.startswith(news.NEWS_TEXT)
    assert [c.source for c in result.citations] == ["knowledge/us-thaler.md", "knowledge/cn-li-v-liu.md"]
    assert result.answer.index("18 March 2025") < result.answer.index("27 November 2023")
    assert_quotes_are_cited_source_sentences(result, fixture_kb)


def test_whats_new_in_a_place_is_that_places_news(extractive: Engine) -> None:
    result = extractive.answer("any news from China?")
    assert result.status is Status.ANSWERED
    assert [c.source for c in result.citations] == ["knowledge/cn-li-v-liu.md"]


# -- a dispute of the asker's own ----------------------------------------------------------------


def test_a_personal_dispute_opens_with_the_lawyer_referral_then_cited_sentences(
    extractive: Engine, fixture_kb: Path
) -> None:
    result = extractive.answer("Someone threatened to sue me over my AI image, what should I do?")
    assert result.status is Status.ANSWERED
    assert result.answer.startswith(PERSONAL_REFERRAL + "\n\n")
    after = result.answer[len(PERSONAL_REFERRAL) :].strip()
    assert re.search(r"\[\d+\]$", after)
    assert_quotes_are_cited_source_sentences(result, fixture_kb)


@pytest.mark.parametrize(
    "question", ["they threatened to sue me, what do I do", "Should I join these lawsuits or sue myself?"]
)
def test_a_dispute_that_names_nothing_of_the_subject_gets_the_referral_alone(
    extractive: Engine, question: str
) -> None:
    # no rule to quote, and other people's cases would read as advice on this one
    result = extractive.answer(question)
    assert result.status is Status.NO_ANSWER
    assert result.answer == REFERRAL_ONLY
    assert result.citations == []


def test_a_general_question_has_no_lawyer_referral(extractive: Engine) -> None:
    result = extractive.answer("Can an AI-generated image be protected by copyright in China?")
    assert result.status is Status.ANSWERED
    assert PERSONAL_REFERRAL not in result.answer


# -- other languages ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "source"),
    [
        ("Kann ein Werk ohne menschlichen Urheber in den USA geschützt werden?", "knowledge/us-thaler.md"),
        ("Wer ist der Urheber eines mit KI erstellten Bildes in China?", "knowledge/cn-li-v-liu.md"),
    ],
)
def test_a_german_question_is_answered_from_the_english_sources_with_a_note(
    extractive: Engine, fixture_kb: Path, question: str, source: str
) -> None:
    result = extractive.answer(question)
    assert result.status is Status.ANSWERED, result.answer
    assert ENGLISH_SOURCES_NOTE in result.note
    assert result.citations[0].source == source
    assert_quotes_are_cited_source_sentences(result, fixture_kb)


def test_a_country_the_sources_never_speak_of_is_declined_with_the_closest_sources(
    extractive: Engine,
) -> None:
    """Another country's rule, even under a note, would be read as Mexico's: the bot says it has
    nothing on Mexico and lists the closest sources instead of quoting them."""
    for question in (
        "Can an AI-generated image be protected by copyright in Mexico?",
        "¿La ley mexicana reconoce a la IA como autora?",
    ):
        result = extractive.answer(question)
        assert result.status is Status.NO_ANSWER, result.answer
        assert result.answer == UNHEARD_TEXT.format(places="Mexico") and not result.citations
    assert extractive.answer("Can an AI-generated image be protected by copyright in Mexico?").closest


@pytest.mark.parametrize(
    "question",
    [
        "Is it okay to publish fanfiction for free?",
        "I'm editing a video and I'd love to use a 10-second snippet of a popular song. Is that fair use?",
        # asking what to do is no dispute, and a company's name used as a verb names no company
        "I sometimes just Google an image and use it on my blog, but I've heard that is a copyright "
        "violation. Is it and what should I do?",
    ],
)
def test_copyright_with_no_ai_in_it_is_declined_as_general_copyright(
    extractive: Engine, question: str
) -> None:
    """The sources cover copyright where AI comes in; quoting them on fan fiction or a song clip
    would answer a question they do not address."""
    result = extractive.answer(question)
    assert result.status is Status.NO_ANSWER and result.answer == GENERAL_COPYRIGHT_TEXT
    assert not result.citations


@pytest.mark.parametrize(
    "question",
    [
        "Is it okay to publish AI-written fanfiction for free?",
        "So where are the winning lawsuits of all that copyright infringement then?",  # a reply
        "What did the court hold in Thaler v. Perlmutter?",  # a case the sources name
        "Who owns the copyright in a work made by a computer in the UK?",
        "Wem gehört ein Bild, das eine Künstliche Intelligenz erstellt hat?",
    ],
)
def test_copyright_with_ai_in_it_or_a_named_case_is_not_general(extractive: Engine, question: str) -> None:
    assert extractive.answer(question).answer != GENERAL_COPYRIGHT_TEXT


def test_a_country_beside_one_the_sources_cover_is_still_answered(extractive: Engine) -> None:
    result = extractive.answer("Is an AI-generated image protected by copyright in China and in Mexico?")
    assert result.status is Status.ANSWERED, result.answer
    assert any(c.jurisdiction == "CN" for c in result.citations)


def test_a_country_the_sources_cover_gets_no_such_note(extractive: Engine) -> None:
    result = extractive.answer("Can an AI-generated image be protected by copyright in China?")
    assert result.status is Status.ANSWERED and "nothing specific" not in result.answer
    assert result.citations[0].jurisdiction == "CN"


def passage(source: str, jurisdiction: str, body: str, kind: str = "case") -> Hit:
    meta = {
        "source": source,
        "jurisdiction": jurisdiction,
        "kind": kind,
        "start": 0,
        "end": len(body),
        "header_len": 0,
    }
    return Hit(id=source, text=body, meta=meta)


def test_an_eu_member_state_is_answered_with_the_eus_rule_first(local_embeddings: LocalEmbeddings) -> None:
    china = passage(
        "knowledge/cn.md",
        "CN",
        "In China, an AI image can be a protected work if a person chose its details.",
    )
    eu = passage(
        "knowledge/eu.md", "EU", "Under the AI Act, providers must mark AI images in a machine-readable way."
    )
    text, cites = answering.extractive(
        "Is an AI image protected, and must it be marked, in France?",
        [china, eu],
        local_embeddings,
        {},
        places=frozenset({"FR", "EU"}),
    )
    assert cites[0].source == "knowledge/eu.md", text


def test_a_question_in_a_countrys_language_leans_to_that_countrys_sources(
    local_embeddings: LocalEmbeddings,
) -> None:
    """Asked in Japanese, naming no place: Japan's source's sentence rises by the place bonus; no
    other place's falls (the place is favoured, not required, unlike a place the question names)."""
    us = passage("knowledge/us.md", "US", "In the US, training AI on copyrighted works can be fair use.")
    japan = passage("knowledge/jp.md", "JP", "Article 30-4 allows AI training on works without permission.")
    question = asking.read("AIの学習に著作物を利用することは許されますか？").query

    def scores(
        places: frozenset[str] = frozenset(), leaning: frozenset[str] = frozenset()
    ) -> dict[str, float]:
        scored = answering.score_sentences(
            question, [us, japan], local_embeddings, {}, places, leaning=leaning
        )
        return {["us", "japan"][c.hit]: c.score for c in scored}

    plain_scores, leaning = scores(), scores(leaning=frozenset({"JP"}))
    named = scores(places=frozenset({"JP"}))

    assert leaning["japan"] == pytest.approx(plain_scores["japan"] + answering.PLACE_BONUS)
    assert leaning["us"] == pytest.approx(plain_scores["us"])
    assert named["us"] < plain_scores["us"]  # a place the question names lowers the others


def test_a_places_own_article_leads_over_another_articles_mention_of_it(
    local_embeddings: LocalEmbeddings,
) -> None:
    japan = passage(
        "knowledge/jp.md",
        "JP",
        "Under Article 30-4, Japan allows AI training on almost any copyrighted work.",
    )
    brazil = passage(  # Brazil's article comparing: not Japan's rule, so not lifted as one
        "knowledge/br.md",
        "BR",
        "Singapore and Japan, by contrast, allow AI training without payment, subject to conditions.",
    )
    question = "does Japan allow AI training on anything?"
    _, cites = answering.extractive(question, [japan, brazil], local_embeddings, {}, places=frozenset({"JP"}))
    assert cites[0].source == "knowledge/jp.md"


def test_a_general_question_opens_with_the_overview_across_places(local_embeddings: LocalEmbeddings) -> None:
    china = passage(
        "knowledge/cn.md",
        "CN",
        "In China, AI art can be a protected work if it is an original achievement in art or science.",
    )
    overview = passage(
        "knowledge/overview.md",
        "INTL",
        "Whether anyone owns AI output is decided by each country's copyright law, not by the tool's terms.",
        kind="overview",
    )
    question = "who owns ai art"
    overview.asked = 0.6  # the overview's own front-matter question is the nearest
    best = answering.score_sentences(question, [china, overview], local_embeddings, {})[0]
    assert best.hit == 0  # China's sentence matches more words
    _, cites = answering.extractive(question, [china, overview], local_embeddings, {}, general=True)
    assert [c.source for c in cites] == ["knowledge/overview.md", "knowledge/cn.md"]
    _, cites = answering.extractive(question, [china, overview], local_embeddings, {})
    assert cites[0].source == "knowledge/cn.md"  # asked about a place or a name: the best sentence first
    china.asked = 0.95  # a single place's article is nearer: its best sentence leads
    _, cites = answering.extractive(question, [china, overview], local_embeddings, {}, general=True)
    assert cites[0].source == "knowledge/cn.md"
    # an article on a standard used everywhere is no overview of the law across places
    china.asked, overview.meta["kind"] = 0.0, "standard"
    _, cites = answering.extractive(question, [china, overview], local_embeddings, {}, general=True)
    assert cites[0].source == "knowledge/cn.md"


def test_a_question_naming_a_product_or_case_is_not_general() -> None:
    corpus = Corpus(
        "c",
        0,
        ids=[str(i) for i in range(10)],
        df={"ai": 9, "art": 5, "midjourney": 1, "anthropic": 1, "thaler": 1},
    )
    corpus.title_names = {"ai", "midjourney", "anthropic"}  # from titles such as "Bartz v. Anthropic"
    assert names_nothing("who owns ai art", corpus)
    assert names_nothing("Is AI art theft?", corpus)
    assert not names_nothing("Can I copyright an image I made with Midjourney?", corpus)
    assert not names_nothing("What did Thaler argue about AI art?", corpus)
    assert not names_nothing("did the authors win against anthropic?", corpus)  # a name in lower case


def test_how_a_case_came_out_asked_in_lower_case_is_answered(extractive: Engine) -> None:
    result = extractive.answer("did thaler win or nah")
    assert result.status is Status.ANSWERED, result.answer
    assert result.citations[0].source == "knowledge/us-thaler.md"


def test_a_party_is_a_sign_of_our_subject_only_when_asking_how_its_case_came_out() -> None:
    corpus = Corpus("c", 0)
    corpus.title_names, corpus.parties = {"reddit", "microsoft"}, {"disney", "getty"}
    assert known_names("Just how did Reddit do this?", corpus)
    assert known_names("Did Getty win?", corpus)
    assert known_names("did getty win or nah", corpus)  # in lower case, asking how it came out
    assert not known_names("Could Disney sue people who call him Mickey rather than Willie?", corpus)
    assert not known_names("Is fan fiction legal in the US?", corpus)


def test_an_english_answer_carries_no_language_note(extractive: Engine) -> None:
    result = extractive.answer("Can a work without a human author be protected in the US?")
    assert result.status is Status.ANSWERED
    assert ENGLISH_SOURCES_NOTE not in result.note


@pytest.mark.parametrize(
    "question",
    [
        "Darf ich mit KI erstellte Bilder verkaufen?",
        "Puis-je vendre des images générées par l'IA ?",
    ],
)
def test_a_question_about_ai_in_another_language_is_not_called_off_topic(
    extractive: Engine, question: str
) -> None:
    """ "KI" and "IA" are AI: the question is on our subject, whether or not the sources answer it."""
    result = extractive.answer(question)
    assert result.status in {Status.ANSWERED, Status.NO_ANSWER}, result.answer


# -- the shape of an extractive answer -------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        "Can an AI-generated image be protected by copyright in China?",
        "Who owns a computer-generated work in the UK?",
        "Do I have to label AI-generated images in the EU?",
        "Can a picture made by an AI system on its own be registered in the US?",
        "Did the publishers have to give permission for keeping scanned volumes?",
        "Who is the author of an AI picture in China, the UK and the US?",
    ],
)
def test_each_paragraph_is_a_where_label_and_verbatim_cited_sentences(
    extractive: Engine, fixture_kb: Path, question: str
) -> None:
    result = extractive.answer(question)
    assert result.status is Status.ANSWERED, result.answer
    assert_quotes_are_cited_source_sentences(result, fixture_kb)


# -- front-matter questions --------------------------------------------------------------------

ZAPDRAW_QUESTION = "Can I sell pictures I made with Zapdraw?"
ZAPDRAW_BODY = """# Zapdraw membership terms

Zapdraw's subscription terms let paying members use generated artwork commercially, including on merchandise and in advertising. Members on the free tier receive a non-commercial licence only, and the company keeps a licence to show every output in its public gallery.

## Status

The terms were last revised in March 2025 and apply worldwide.
"""
ZAPDRAW = f"""---
title: "Zapdraw membership terms"
url: https://example.org/zapdraw/terms
publisher: Zapdraw
published: 2025-03-01
jurisdiction: INTL
kind: terms
questions: ["{ZAPDRAW_QUESTION}"]
---
{ZAPDRAW_BODY}"""
MARKET = """---
title: "Selling pictures at craft markets"
url: https://example.org/markets
publisher: Makers Weekly
published: 2024-05-10
jurisdiction: US
kind: article
---
# Selling pictures at craft markets

Artists who sell pictures they made by hand at weekend craft markets in the United States usually need a seller's permit from their state. Many market organisers also ask sellers to carry liability insurance before they can rent a stall.
"""


@pytest.fixture
def zapdraw_kb(tmp_path: Path) -> Path:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "zapdraw-terms.md").write_text(ZAPDRAW, encoding="utf-8")
    (knowledge / "craft-markets.md").write_text(MARKET, encoding="utf-8")
    return knowledge


def question_records(indexer: Indexer) -> list[str]:
    pointer = store.read_pointer(indexer.client, indexer.settings)
    assert pointer is not None
    collection = indexer.client.get_collection(pointer.active, embedding_function=None)
    got = collection.get(where={"record": QUESTION_RECORD}, include=["documents"])
    return list(got["documents"] or [])


def test_front_matter_questions_find_their_article_and_are_never_quoted(
    zapdraw_kb: Path, make_settings: Callable[..., Settings], local_embeddings: LocalEmbeddings
) -> None:
    settings = make_settings(knowledge_dir=zapdraw_kb)
    indexer = Indexer(settings, embeddings=local_embeddings)
    first = indexer.reindex()
    assert question_records(indexer) == [ZAPDRAW_QUESTION]
    engine = Engine(settings, embeddings=local_embeddings, client=indexer.client)

    for question in (
        "Am I allowed to sell the pictures I make with Zapdraw?",
        "can i sell pics i made on zapdraw",
    ):
        hits = engine.retriever.search(question, k=5)
        assert hits[0].source == "knowledge/zapdraw-terms.md", [h.source for h in hits]
        result = engine.answer(question)
        assert result.status is Status.ANSWERED, result.answer
        assert "knowledge/zapdraw-terms.md" in {c.source for c in result.citations}
        assert "paying members use generated artwork commercially" in result.answer
        shown = [result.answer, *(c.quote for c in result.citations)]
        assert not any(ZAPDRAW_QUESTION in text or "questions:" in text for text in shown)
        assert all(QuoteChecker(zapdraw_kb)(c) for c in result.citations)

    # The question is a record of its own: the index holds one more record than chunks.
    chunks_only = first.chunks - 1
    (zapdraw_kb / "zapdraw-terms.md").write_text(
        ZAPDRAW.replace(f'questions: ["{ZAPDRAW_QUESTION}"]\n', ""), encoding="utf-8"
    )
    second = indexer.reindex()
    assert question_records(indexer) == []
    assert second.chunks == chunks_only
    assert engine.retriever.corpus().questions == 0
    hits = engine.retriever.search(ZAPDRAW_QUESTION, k=5)
    assert all(h.asked == 0.0 for h in hits)  # no article is lifted by a question any more


def test_an_articles_yes_opens_the_answer_only_to_a_question_close_to_the_articles_own(
    tmp_path: Path, make_settings: Callable[..., Settings], local_embeddings: LocalEmbeddings
) -> None:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    verdict = "Yes: Zapdraw's subscription terms let paying members use generated artwork commercially"
    (knowledge / "zapdraw-terms.md").write_text(
        ZAPDRAW.replace("Zapdraw's subscription terms", "Yes: Zapdraw's subscription terms"),
        encoding="utf-8",
    )
    settings = make_settings(knowledge_dir=knowledge)
    indexer = Indexer(settings, embeddings=local_embeddings)
    indexer.reindex()
    engine = Engine(settings, embeddings=local_embeddings, client=indexer.client)

    own = engine.answer("Am I allowed to sell the pictures I make with Zapdraw?")
    assert own.status is Status.ANSWERED and own.answer.startswith(verdict), own.answer

    # another yes-or-no question the article's "Yes" was not written for
    other = engine.answer("Does Zapdraw show every output in its public gallery?")
    assert other.status is Status.ANSWERED
    assert "Yes:" not in other.answer and "Zapdraw's subscription terms let paying members" in other.answer
    assert all(QuoteChecker(knowledge)(c) for c in other.citations)


# -- a model's claims are checked against the passage they cite -----------------------------------

QUESTION = "Can an AI-generated image be protected by copyright in China?"


def li_v_liu_number(engine: Engine, llm: LLMServer) -> int:
    """The number the engine gives the Li v. Liu passage for QUESTION (retrieval is deterministic)."""
    engine.answer(QUESTION)  # the server's default reply: "The sources don't cover this."
    prompt = llm.requests[-1]["messages"][-1]["content"]
    for line in prompt.splitlines():
        if line.startswith("[") and "Li v. Liu" in line:
            return int(line[1 : line.index("]")])
    raise AssertionError(f"Li v. Liu was not among the passages:\n{prompt}")


def test_a_claim_that_shares_almost_no_words_with_its_passage_is_dropped(
    llm_engine: Engine, llm: LLMServer
) -> None:
    n = li_v_liu_number(llm_engine, llm)
    llm.script(
        Reply(
            f"Every subscriber may freely resell generated artwork worldwide without any restriction [{n}]."
        )
    )
    result = llm_engine.answer(QUESTION)
    assert result.status is Status.NO_ANSWER
    assert result.citations == []
    assert "resell" not in result.answer


def test_a_claim_that_restates_its_passage_is_kept_and_an_unsupported_one_beside_it_dropped(
    llm_engine: Engine, llm: LLMServer, kb: Path
) -> None:
    n = li_v_liu_number(llm_engine, llm)
    kept = "In November 2023 the Beijing Internet Court held that the AI-generated image was a protected work"
    llm.script(
        Reply(
            f"{kept} [{n}]. Every subscriber may freely resell generated artwork worldwide without restriction [{n}]."
        )
    )
    result = llm_engine.answer(QUESTION)
    assert result.status is Status.ANSWERED and result.mode == "llm"
    assert result.answer == f"{kept} [1]."
    assert [c.source for c in result.citations] == ["knowledge/cn-li-v-liu.md"]
    assert "Beijing Internet Court" in result.citations[0].quote
    assert QuoteChecker(kb)(result.citations[0])


def test_a_misspelt_copyright_finds_what_copyright_finds(extractive: Engine) -> None:
    # "copywrite" matched no passage's words, so the answer followed "my ai art" alone
    misspelt = extractive.answer("can i copywrite my ai art?")
    spelt = extractive.answer("can i copyright my ai art?")
    assert misspelt.status is Status.ANSWERED
    assert [c.source for c in misspelt.citations] == [c.source for c in spelt.citations]


def test_a_forums_tag_on_a_question_about_terms_is_not_taken_for_a_name(extractive: Engine) -> None:
    # a question about terms is searched for unknown names in full: "[PubQ]" was one
    result = extractive.answer("[PubQ] Can I license an AI-generated image commercially in China?")
    assert "PubQ" not in result.answer
    assert result.status is Status.ANSWERED, result.answer


def test_a_misspelt_tool_name_still_brings_ai_in(extractive: Engine) -> None:
    # "midnourney" was no tool: with no word of AI left, the question was out of scope
    result = extractive.answer(
        "As long as I am not profiting off the character, I should be able to reproduce it. Does it "
        "get sticky when chatgtp profits off people reproducing it?"
    )
    # the fixture sources never name ChatGPT: the bot says so, as it would of the right spelling
    assert result.status is not Status.OUT_OF_SCOPE, result.answer
    assert "ChatGPT" in result.answer
