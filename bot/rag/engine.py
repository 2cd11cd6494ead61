"""The answer engine: one `answer()` for the command line and Discord alike.

question -> scope checks -> hybrid retrieval -> relevance floor -> LLM or extractive answer
-> verification -> Answer. Nothing here knows about Discord.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from chromadb.api import ClientAPI
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel

from bot import jurisdictions
from bot.config import Settings
from bot.core.errors import EngineError, StoreUnavailable
from bot.core.questions import check_question
from bot.core.text import tokens
from bot.core.types import Answer, AnswerDelta, Citation, Status, Turn
from bot.index import store
from bot.index.embeddings import RememberingEmbeddings, make_embeddings
from bot.jurisdictions import in_sentence, jurisdictions_in, normalise, with_eu
from bot.knowledge.scopes import Scope
from bot.rag import answer as answering
from bot.rag import asking, news, scope
from bot.rag.retriever import Corpus, Hit, HybridRetriever, name_tokens, title_parties

log = logging.getLogger(__name__)

# The relevance floor, on the cosine similarity of the best passage to the question (all-MiniLM-L6-v2).
ANSWER_FLOOR = 0.36
# A passage weaker than that still counts when it holds most of the question's rarer words.
LEXICAL_FLOOR = 0.55
LEXICAL_DENSE_FLOOR = 0.25
CJK_LEXICAL_FLOOR = 0.35
# Once one passage clears the floor, others come along that match the question's words this well
# and are at least this close in meaning (real dev set: facts in the context 0.848 -> 0.865, right
# source 0.747 -> 0.759, facts in the answer unchanged; dense alone at 0.25 lost answer facts).
SUPPORT_DENSE_FLOOR = 0.25
SUPPORT_LEXICAL_FLOOR = 0.2
# A passage as a whole can be far from a long question that one of its sentences answers ("Would
# writing a prompt ... qualify as 'the requisite level of creativity is extremely low ...'" is 0.26
# from Feist's passage, 0.53 from a sentence on prompts). When no passage clears the floor but one
# of them has a sentence this close, the passages not far from the question (SUPPORT_DENSE_FLOOR)
# are the ones to answer from. Real dev: answered 0.975 -> 0.987, facts in the answer 0.709 ->
# 0.722; questions not for us that fell below the floor came to at most 0.47 ("How do I cancel my
# ChatGPT Plus subscription?"), and the weather in Shanghai to 0.42.
SENTENCE_FLOOR = 0.5
CJK_LANGUAGES = frozenset({"zh", "ja", "ko"})
# The country a question in its language most likely asks about, when it names none: a question in
# Japanese is leaned to Japan (its articles rise in the search and its sentences by the place bonus,
# no other place's falling; a place named puts its own first). Portuguese (Brazil or Portugal) and
# English name no one country.
LANGUAGE_PLACES = {
    "de": "DE",
    "fr": "FR",
    "it": "IT",
    "nl": "NL",
    "es": "ES",
    "ja": "JP",
    "ko": "KR",
    "zh": "CN",
}
FOREIGN_FLOOR = 0.30
# An article one of whose front-matter questions is this close to the question is on point.
QUESTION_FLOOR = 0.58
# Below this, with no word of our subject in the question, the question is not for us.
TOPIC_FLOOR = 0.30
# Below this, a question in English with no word of law (scope.LAW_WORDS), near no article's own
# question and naming no party, is about the technology, not the law: "What GPU do I need to run
# Stable Diffusion locally?" (0.38) was answered with licence terms. On the real dev and old sets
# the answerable questions with no word of law are at 0.48 ("How does this affect LLM systems that
# already have their corpus integrated?") or near an article's own question.
LAW_FREE_FLOOR = 0.45
# A question with no AI in it is still ours when a passage is this close to it ("What does the
# Copyright Office's Part 3 report mean by market dilution?" 0.63); on the real dev set, those
# about copyright in general came no nearer than 0.50 ("I sometimes just Google an image and use
# it on my blog").
GENERAL_FLOOR = 0.55
PASSAGES = 10
# The model reads the passages and the rest of the best articles (an article's answer is often
# spread over its sections): on the real dev set the key facts in what it reads rose from 0.755
# to 0.791 with one article, 0.823 with two, 0.844 with three. With the passages that match the
# question's words (SUPPORT_*): 0.865 with two, 0.886 with three, 0.890 with four, for 9.8k,
# 12.4k and 15.0k characters on average.
MODEL_ARTICLES = 3
# An extractive answer may also quote the other sections of the best article, ranked after the
# passages that came up. With the whole of the best three articles (and an earlier, flatter
# sentence ranking) it quoted the best one's background and lost facts (0.542 -> 0.530); with the
# best one, real dev citation precision rose 0.422 -> 0.446 (old set 0.587 -> 0.639) and facts in
# the answer went 0.671 -> 0.667 (one context-free follow-up); the best two gave the same. Taken
# from what the model reads, so at most MODEL_ARTICLES.
EXTRACTIVE_ARTICLES = 1
# A question that names no place and nothing rarer than a word in this share of the passages
# ("AI") is general: its answer opens with the overviews across places.
GENERAL_SHARE = 0.2
# Retrievers kept for servers with sources of their own (each holds its server's chunks).
SERVER_RETRIEVERS = 64
MODEL_UNAVAILABLE_NOTE = "The language model did not answer, so this answer quotes the sources directly."

MAX_REWRITE_CHARS = 400
UNREPORTED_TEXT = "My sources don't report that. The latest they have:"
NOT_YET_TEXT = "Not as far as my sources report. The latest they have:"
PERSONAL_REFERRAL = (
    "For a dispute of your own (a claim, a notice, a threat to sue, or suing someone), talk to a "
    "qualified lawyer where you live; many bar associations run referral services. In general, my "
    "sources say:"
)
# A dispute of the asker's own that names nothing of our subject ("they threatened to sue me,
# what do I do"): the sources hold no general rule to quote, only other people's cases.
REFERRAL_ONLY = (
    "For a dispute of your own (a claim, a notice, a threat to sue, or suing someone), talk to a "
    "qualified lawyer where you live; many bar associations run referral services. My sources cover "
    "the general rules on AI and copyright, not the facts of one dispute: ask me about a rule itself, "
    'for example "Can an AI image infringe someone\'s copyright?"'
)
ELSEWHERE_TEXT = "My sources have nothing specific to {places} on this. The nearest they have:"
# A question about places the sources never speak of ("is AI art protected in Taiwan?"): another
# country's rule quoted under a note would still be read as the answer, so the bot declines and
# lists the closest sources.
UNHEARD_TEXT = (
    "My sources say nothing about {places}, so I can't tell you what the law there is. The closest "
    "sources I have are listed below; for {places} itself, ask a lawyer there."
)
ENGLISH_SOURCES_NOTE = "My sources are in English, so this answer quotes them in English."

NO_ANSWER_TEXT = (
    "I couldn't find this in my sources, so I won't guess. "
    "Try rephrasing, or ask an admin to add a source that covers it."
)
# A question of copyright with no AI in it: the sources cover the law where AI comes in.
GENERAL_COPYRIGHT_TEXT = (
    "My sources cover copyright where AI comes in (training, what AI makes, AI tools' terms, cloned "
    "voices), not copyright questions in general, so I can't answer this one reliably: for that, "
    "ask a lawyer or your country's copyright office. If your question is about something made "
    "with AI, ask again and say which tool."
)
OUT_OF_SCOPE_TEXT = (
    "I only answer questions about AI and copyright law (and related IP and tech law), "
    "with citations to my sources. Try asking something like: "
    '"Can an AI-generated image be protected by copyright in China?"'
)


@dataclass(frozen=True)
class _Prepared:
    """A question that passed the checks, with the passages to answer from."""

    question: str
    hits: list[Hit]  # the passages an extractive answer quotes from
    context: list[Hit]  # what the model reads: those passages, then the rest of the best articles
    retrieved: list[str]  # sources of all retrieved passages, in rank order
    named: set[str]  # the jurisdictions the question (or the turn it follows) names
    asked: asking.Ask
    retriever: HybridRetriever  # the shared base's, or the base's and the asking server's
    general: bool  # it names no place nor anything in particular ("who owns AI art?")
    leaning: frozenset[str]  # naming no place, the country of its language (and the EU's)


class Engine:
    """Answers questions from the index, with an LLM when one is configured.

    Its parts (the retriever, the chat model, the relevance floor) are handed in, or built from
    the settings on first use: `bot.build.build` hands in the Chroma client and embedding model
    it shares with the indexer; a baseline hands in another retriever and floor.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        embeddings: Embeddings | None = None,
        client: ClientAPI | None = None,
        retriever: HybridRetriever | None = None,
        llm: BaseChatModel | None = None,
        floor: Callable[[Hit, str], bool] | None = None,
    ) -> None:
        self.settings = settings
        if embeddings is None:
            embeddings = retriever.embeddings if retriever is not None else make_embeddings(settings)
        self.embeddings = embeddings
        self._client = client
        self._retriever = retriever
        self._llm = llm
        self._llm_given = llm is not None
        self._loop_llm: BaseChatModel | None = None  # see _streaming_llm
        self._relevant = floor or relevant
        self._servers: OrderedDict[int, HybridRetriever] = OrderedDict()
        self._servers_lock = threading.Lock()

    # -- plumbing ---------------------------------------------------------------------------------

    @property
    def retriever(self) -> HybridRetriever:
        if self._retriever is None:
            self._client = self._client or store.make_client(self.settings)
            self._retriever = HybridRetriever(self.settings, self._client, self.embeddings)
        return self._retriever

    def retriever_for(self, guild: int | None) -> HybridRetriever:
        """The shared base's retriever, or for a question asked in a server, one that also
        searches that server's own sources (never another server's)."""
        if guild is None:
            return self.retriever
        with self._servers_lock:
            found = self._servers.get(guild)
            if found is None:
                found = self._servers[guild] = self.retriever.with_scope(Scope(guild))
                if len(self._servers) > SERVER_RETRIEVERS:
                    self._servers.popitem(last=False)
            self._servers.move_to_end(guild)
            return found

    def llm(self) -> BaseChatModel | None:
        """The chat model: the one handed in, or ChatOpenAI over the chat-completions API built on
        first use when a model is configured; None without one."""
        if self._llm is None and self.settings.llm_configured:
            self._llm = self._chat_openai()
        return self._llm

    def _streaming_llm(self) -> BaseChatModel | None:
        """The chat model to stream from on the running loop. ChatOpenAI's default async HTTP
        client is one a process, and its pooled connections belong to the loop that opened them:
        on the engine's own loop (the blocking calls) a model with an HTTP client of its own, so
        that no connection crosses between that loop and the callers' loops."""
        if self._llm_given or not _on_engine_loop():
            return self.llm()
        if self._loop_llm is None and self.settings.llm_configured:
            import openai

            self._loop_llm = self._chat_openai(http_async_client=openai.DefaultAsyncHttpxClient())
        return self._loop_llm

    def _chat_openai(self, **options: Any) -> BaseChatModel:
        from langchain_openai import ChatOpenAI

        key = self.settings.openai_api_key
        return ChatOpenAI(
            model=self.settings.openai_model,
            api_key=key if key is not None else "not-needed",  # type: ignore[arg-type]
            base_url=self.settings.openai_base_url,
            timeout=self.settings.openai_timeout_seconds,
            max_retries=self.settings.openai_max_retries,
            temperature=0,
            max_tokens=self.settings.openai_max_tokens,  # type: ignore[call-arg]  # alias of max_completion_tokens
            use_responses_api=False,
            **options,
        )

    # -- answering ------------------------------------------------------------------------------

    def answer(
        self,
        question: str,
        *,
        jurisdiction: str | None = None,
        history: Sequence[Turn] = (),
        guild: int | None = None,
    ) -> Answer:
        """Answer a question (blocking): the final answer of `astream`, so that the model's
        failures and cut-off replies fall back the same way for every caller. Raises EngineError
        with a user-facing message. Callable from any thread, with or without a running loop."""
        return _run_blocking(self.aanswer(question, jurisdiction=jurisdiction, history=history, guild=guild))

    async def astream(
        self,
        question: str,
        *,
        jurisdiction: str | None = None,
        history: Sequence[Turn] = (),
        guild: int | None = None,
    ) -> AsyncIterator[AnswerDelta | Answer]:
        """Stream the answer: zero or more AnswerDelta, then exactly one final (verified) Answer."""
        started = time.perf_counter()
        prepared = await asyncio.to_thread(self._prepare, question, jurisdiction, history, guild)
        if isinstance(prepared, Answer):
            yield self._finish(prepared, started)
            return
        text, hits = prepared.question, prepared.context
        llm = self._streaming_llm()
        if llm is None:
            yield self._finish(await asyncio.to_thread(self._extractive, prepared), started, prepared)
            return
        parts: list[str] = []
        room = answering.MAX_REPLY_CHARS  # a server that ignores max_tokens still stops here
        try:
            finished = False
            messages = answering.build_messages(text, hits, history)
            stream = cast(AsyncGenerator[Any, None], llm.astream(messages))  # an async generator: closable
            async with contextlib.aclosing(stream):
                async for chunk in stream:
                    piece = str(chunk.content or "")[:room]
                    finished = finished or bool(chunk.response_metadata.get("finish_reason"))
                    if piece:
                        room -= len(piece)
                        parts.append(piece)
                        yield AnswerDelta(piece)
                    if room <= 0:
                        log.warning("The model's answer passed %d characters: cut", answering.MAX_REPLY_CHARS)
                        finished = True
                        break
            if not finished:
                raise ConnectionError("the model's stream ended before the answer was complete")
        except Exception as error:
            log.warning("The language model failed (%s): falling back to quotes", _describe(error))
            fallback = await asyncio.to_thread(self._extractive, prepared, MODEL_UNAVAILABLE_NOTE)
            yield self._finish(fallback, started, prepared)
            return
        verified = await asyncio.to_thread(self._verified, prepared, "".join(parts))  # off the event loop
        yield self._finish(verified, started, prepared)

    async def aanswer(
        self,
        question: str,
        *,
        jurisdiction: str | None = None,
        history: Sequence[Turn] = (),
        guild: int | None = None,
    ) -> Answer:
        """The final answer of `astream`."""
        final: Answer | None = None
        async for event in self.astream(question, jurisdiction=jurisdiction, history=history, guild=guild):
            if isinstance(event, Answer):
                final = event
        assert final is not None
        return final

    # -- steps ----------------------------------------------------------------------------------

    def _prepare(
        self, question: str, jurisdiction: str | None, history: Sequence[Turn], guild: int | None = None
    ) -> Answer | _Prepared:
        """Checks and retrieval: a finished decline, or the question and passages to answer from."""
        text = check_question(question, self.settings.max_question_chars)
        refusal = scope.refusal(text)
        if refusal:
            return Answer(text, Status.REFUSED, refusal, "extractive")
        jurisdiction = normalise(jurisdiction) or None
        elsewhere = scope.uncovered(text)
        if elsewhere:
            return Answer(text, Status.NO_ANSWER, elsewhere, "extractive")
        asked = asking.read(text)
        if asked.personal and not history and not scope.names_subject(text):
            return Answer(text, Status.NO_ANSWER, REFERRAL_ONLY, "extractive")
        if not history and news.asks_for_news(asked.ask):
            digest = self._news(text, self.retriever_for(guild))
            if digest is not None:
                return digest
        query = asked.query
        rewritten = self._rewrite(asked, history)
        if rewritten:  # with a model: a standalone English question (the condense step)
            query = rewritten
        elif history:  # "and what about the US?" borrows the subject of the last turn
            query = f"{history[-1].question} {query}"
        named = jurisdictions_in(text) or (jurisdictions_in(history[-1].question) if history else set())
        # "Who actually owns what your business creates with AI? [...] unresolved in New Zealand
        # law": the place named around the ask is where it is asked, and the articles' own
        # questions name their places ("Who owns AI-generated art in New Zealand?"). Not a
        # language's name: "a video course (English)" is no question about England.
        around = sorted(jurisdictions_in(_LANGUAGE_NAMES.sub(" ", text)) & named - {"INTL"})
        if around and not rewritten and not jurisdictions_in(query):
            query = f"{query} ({', '.join(jurisdictions.name(code) for code in around)})"
        leaning = frozenset() if named else frozenset(with_eu(implied_places(asked.language)))
        retriever = self.retriever_for(guild)
        boost = with_eu(named) or set(leaning) or None
        try:
            hits = retriever.search(
                query,
                k=PASSAGES,
                jurisdiction=jurisdiction,
                boost=boost,
                context=None if history or rewritten else text,
            )
            if (
                asked.language in CJK_LANGUAGES
                and len(asked.english_terms) >= 2
                and not (history or rewritten)
                and not any(self._relevant(h, asked.language) for h in hits)
            ):  # MiniLM reads English only: nothing came near "模型权重算衍生作品吗？", so it is
                # searched again by its English key terms alone ("derivative work weights model")
                terms = " ".join(asked.english_terms)
                hits = retriever.search(
                    terms, k=PASSAGES, jurisdiction=jurisdiction, boost=boost, context=query
                )
        except EngineError:
            raise
        except Exception as error:
            if not store.is_store_error(error):
                raise  # a bug or a provider's failure is not "the index is unavailable"
            raise StoreUnavailable(store.describe_store_error(self.settings, error)) from error
        best = max(hits, key=lambda h: h.dense, default=None)
        corpus = retriever.corpus()
        parties = parties_named(text, corpus)
        on_topic = (
            scope.mentions_topic(asked.spelt)  # misspellings put right ("midnourney")
            or scope.mentions_topic(" ".join(asked.english_terms))
            or (best is not None and best.dense >= TOPIC_FLOOR)
            # "did Getty win?": the outcome of a case the sources name
            or bool(scope.OUTCOME_WORDS.search(text) and parties)
        )
        if on_topic and not history and asked.language == "en" and not scope.asks_about_law(asked.spelt):
            on_topic = (
                (best is not None and best.dense >= LAW_FREE_FLOOR)
                or any(h.asked >= QUESTION_FLOOR for h in hits)
                or bool(parties)
            )
        if not history and scope.asks_to_choose(text):  # which tool to pick: not a question of law
            on_topic = False
        if not on_topic:
            context = context_of(hits)
            return Answer(text, Status.OUT_OF_SCOPE, OUT_OF_SCOPE_TEXT, "extractive", context=context)
        retrieved = [h.source for h in hits]
        strong = [h for h in hits if self._relevant(h, asked.language)]
        if not strong:  # "Did Getty win?": too short to be near anything, but it names a case
            strong = self._party_hits(retriever, text, hits)
        if not strong:
            strong = self._sentence_hits(asked.query, hits)
        if strong:  # the question is answerable: passages that share its words come along
            strong = [h for h in hits if h in strong or supporting(h)]
        # a question about terms of use is about the model or tool it names anywhere ("Can we use
        # NLLB model output ...? I understand the model license is ..."), not only in its last ask
        named_in = asking.untagged(text) if scope.asks_about_terms(asked.ask) else asked.ask
        unknown = scope.unknown_names(
            named_in, corpus.idf, corpus.has_phrase, corpus.has_name, english=asked.language == "en"
        )
        asked_places = sorted(named - {"INTL"})  # all of them places the sources say nothing of
        unheard = bool(asked_places) and not any(corpus.speaks_of(code) for code in asked_places)
        # copyright with no AI in it: passages on AI would answer a question they do not address
        general_copyright = not history and in_general(text, asked, hits, corpus)
        if not strong or unknown or unheard or general_copyright:
            message = NO_ANSWER_TEXT
            if unheard:
                message = UNHEARD_TEXT.format(places=" or ".join(in_sentence(code) for code in asked_places))
            elif unknown:
                message = f"My sources don't mention {', '.join(unknown[:3])}, so I can't answer that. " + (
                    "Try rephrasing, or ask an admin to add a source that covers it."
                )
            elif general_copyright:
                message = GENERAL_COPYRIGHT_TEXT
            return Answer(
                text,
                Status.NO_ANSWER,
                message,
                "extractive",
                closest=self._closest(hits),
                retrieved=retrieved,
                context=context_of(hits),
            )
        general = not named and names_nothing(asked.ask, corpus)
        strong = self._with_lead(retriever, strong, general)  # the best article's own short answer
        status = answering.asks_status(asked.ask)
        if status:  # "is it over?": where the matter stands
            strong = self._with_status(retriever, strong)
        if answering.asks_about_event(asked.ask):
            # judged on the whole of the best articles, not only the passages that came up; where
            # the matter stands is the answer when the sources do not report the event
            stands = strong if status else self._with_status(retriever, strong)
            stands = [*self._cases_of(retriever, text, stands), *stands]
            articles = self._articles(retriever, stands, 2)
            about = answering.unreported_event(asked.ask, articles)
            if about is not None:
                return self._unreported(retriever, text, asked, articles, retrieved, about)
        reads = self._articles(retriever, strong, MODEL_ARTICLES)
        return _Prepared(text, strong, reads, retrieved, named, asked, retriever, general, leaning)

    @staticmethod
    def _party_hits(retriever: HybridRetriever, text: str, hits: list[Hit]) -> list[Hit]:
        """For a question how a case came out (or what is new in it) that names one of its
        parties, the passages of the articles whose title names that party; else none."""
        if not (
            scope.OUTCOME_WORDS.search(text)
            or answering.STATUS_ASK.search(text)
            or news.ASKS_NEWS.search(text)
        ):
            return []
        named = parties_named(text, retriever.corpus())
        return [h for h in hits if named & set(tokens(str(h.meta.get("title", ""))))]

    @staticmethod
    def _cases_of(retriever: HybridRetriever, text: str, hits: list[Hit]) -> list[Hit]:
        """For a question about an event naming a name of the case articles' titles that no
        passage's title holds ("How much did Midjourney pay to settle?" brought the Anthropic
        settlement and a Chinese damages award), the passages of a case article titled with it (one
        where it is a party first), its Status section first: where that matter stands is "the
        latest they have"."""
        corpus = retriever.corpus()
        named = {t for t in name_tokens(text) & corpus.title_names if not jurisdictions_in(t.title())}
        if not named or any(named & set(tokens(str(h.meta.get("title", "")))) for h in hits):
            return []
        titles = {
            source: str(corpus.metas[chunks[0]].get("title", ""))
            for source, chunks in corpus.by_source.items()
            if chunks and corpus.metas[chunks[0]].get("kind") == "case"
        }
        titled = [source for source, title in titles.items() if named & set(tokens(title))]
        if not titled:
            return []
        # a party to the case before an article whose title merely mentions the name
        titled.sort(key=lambda source: not named & title_parties(titles[source]))
        passages = retriever.section(titled[0])
        for hit in passages:
            hit.dense, hit.asked = hits[0].dense if hits else 0.0, 0.0
        status = [h for h in passages if answering.STATUS_HEADING.search(str(h.meta.get("headings", "")))]
        return [*status, *(h for h in passages if h not in status)]

    def _sentence_hits(self, query: str, hits: list[Hit]) -> list[Hit]:
        """The passages not far from the question, when one of them has a sentence within
        SENTENCE_FLOOR of it; else none."""
        near = [h for h in hits if h.dense >= SUPPORT_DENSE_FLOOR]
        best = answering.closest_sentences(query, near, self.embeddings)
        return near if max(best, default=0.0) >= SENTENCE_FLOOR else []

    def _news(self, text: str, retriever: HybridRetriever) -> Answer | None:
        """ "What's the latest?": the newest dated event of each article (of the places named),
        newest first; None when the sources date nothing there."""
        corpus = retriever.corpus()
        places = with_eu(jurisdictions_in(text))
        articles = [retriever.section(source) for source in corpus.by_source]
        items = news.latest_events(articles, places, dt.date.today())
        if not items:
            return None
        lines, cites = [], []
        for n, item in enumerate(items, 1):
            sentence = item.sentence
            quote = answering.Quote(sentence.text, sentence.start, sentence.end)
            cites.append(answering.citation(n, item.hit, quote))
            lines.append(f"{answering.labelled(item.hit, answering.plain(sentence.text))} [{n}]")
        body = "\n\n".join([news.NEWS_TEXT, *lines])
        used = [item.hit for item in items]
        sources = [h.source for h in used]
        return Answer(
            text, Status.ANSWERED, body, "extractive", cites, retrieved=sources, context=context_of(used)
        )

    def _rewrite(self, asked: asking.Ask, history: Sequence[Turn]) -> str:
        """With a model, a follow-up or a question in another language rewritten as one standalone
        English question for retrieval; "" without a model, when not needed, or on any failure
        (retrieval then uses the question as asked)."""
        llm = self.llm()
        if llm is None or not (history or asked.language != "en"):
            return ""
        try:
            reply = llm.invoke(answering.build_rewrite(asked.ask, history))
        except Exception as error:  # the answer does not depend on this step
            log.warning("The language model could not rewrite the question (%s)", _describe(error))
            return ""
        text = " ".join(str(reply.content).split())
        if not text or len(text) > MAX_REWRITE_CHARS or answering.NO_COVERAGE.search(text):
            return ""
        return text

    def _articles(self, retriever: HybridRetriever, hits: list[Hit], n: int) -> list[Hit]:
        """The passages, then every other chunk of the first `n` files among them."""
        out = list(hits)
        for source in list(dict.fromkeys(h.source for h in hits))[:n]:
            out += self._more_of(retriever, next(h for h in hits if h.source == source), out)
        return out

    def _with_lead(self, retriever: HybridRetriever, hits: list[Hit], general: bool = False) -> list[Hit]:
        """The passages, with the "In short" section of the best one's article added when missing,
        and that of the article whose own question is all but the one asked ("can AI art be
        copyrighted?" is the overview's own question, though its sections on the EU and Japan came
        up, not its short answer); for a `general` question, that of every overview across places
        among them."""
        extra = self._more_of(retriever, hits[0], hits, answering.LEAD_HEADING)
        out = [*hits, *extra[:1]]
        nearest = max(hits, key=lambda h: h.asked)
        if answering.written_for(nearest) and nearest.source != hits[0].source:
            out += self._more_of(retriever, nearest, out, answering.LEAD_HEADING)[:1]
        if general:  # a question naming nothing: each overview's summary across places
            across = (
                h.source
                for h in hits
                if h.meta.get("kind") == "overview" and normalise(h.meta.get("jurisdiction")) == "INTL"
            )
            for source in dict.fromkeys(across):
                first = next(h for h in hits if h.source == source)
                out += self._more_of(retriever, first, out, answering.LEAD_HEADING)[:1]
        return out

    def _with_status(self, retriever: HybridRetriever, hits: list[Hit]) -> list[Hit]:
        """The passages, with the Status section of the best one's article added when missing."""
        extra = self._more_of(retriever, hits[0], hits, answering.STATUS_HEADING)
        return [hits[0], *extra[:2], *hits[1:]]

    def _more_of(
        self, retriever: HybridRetriever, like: Hit, have: list[Hit], heading: re.Pattern[str] | None = None
    ) -> list[Hit]:
        """Chunks of `like`'s file not in `have` (under `heading` if given), scored as `like`."""
        ids = {h.id for h in have}
        extra = [h for h in retriever.section(like.source, heading) if h.id not in ids]
        for hit in extra:
            hit.dense, hit.asked, hit.fused, hit.own = like.dense, like.asked, like.fused, like.own
        return extra

    def _unreported(
        self,
        retriever: HybridRetriever,
        text: str,
        asked: asking.Ask,
        hits: list[Hit],
        retrieved: list[str],
        about: re.Pattern[str],
    ) -> Answer:
        """ "My sources don't report that", with where the matter stands in the sources."""
        scored = answering.score_sentences(
            asked.query, hits, self.embeddings, retriever.corpus().idf, status=True
        )  # where the matter stands, even for "what did the court decide?"
        best = answering.latest(scored, hits, about, asked.ask)
        if best is None:
            return Answer(text, Status.NO_ANSWER, NO_ANSWER_TEXT, "extractive", retrieved=retrieved)
        hit, sentence = hits[best.hit], best.sentence
        cite = answering.citation(1, hit, answering.Quote(sentence.text, sentence.start, sentence.end))
        line = answering.labelled(hit, answering.plain(sentence.text))
        if answering.asks_whether_yet(asked.ask):  # "has it ruled yet?": "not that my sources report"
            return Answer(
                text, Status.ANSWERED, f"{NOT_YET_TEXT}\n\n{line} [1]", "extractive", [cite],
                retrieved=retrieved, context=context_of(hits),
            )  # fmt: skip
        return Answer(
            text,
            Status.NO_ANSWER,
            f"{UNREPORTED_TEXT}\n\n{line} [1]",
            "extractive",
            [cite],
            closest=[cite],
            retrieved=retrieved,
            context=context_of(hits),
        )

    def _extractive(self, prepared: _Prepared, note: str = "") -> Answer:
        question, asked = prepared.question, prepared.asked
        # the passages, then the rest of the best articles, as already read for the model
        files = list(dict.fromkeys(h.source for h in prepared.hits))[:EXTRACTIVE_ARTICLES]
        rest = prepared.context[len(prepared.hits) :]
        hits = [*prepared.hits, *(h for h in rest if h.source in files)]
        idf = prepared.retriever.corpus().idf
        embeddings = RememberingEmbeddings(self.embeddings)  # sentences scored twice, embedded once
        places = frozenset(with_eu(prepared.named))
        # An article's "Yes:" answers the question it was written for: kept only when the question
        # is close to one of that article's own (on the real dev set, 10 of 14 verdicts answered
        # another question: "Is it legal to post derivatives?" -- "Yes: ... can infringe").
        own = max((h.asked for h in hits if h.source == hits[0].source), default=0.0)
        cases = frozenset(h.source for h in self._party_hits(prepared.retriever, asked.ask, hits))
        text, cites = answering.extractive(
            asked.query,
            hits,
            embeddings,
            idf,
            places=places,
            verdicts=own >= QUESTION_FLOOR,
            general=prepared.general,
            cases=cases,
            laws=answering.articles_on_laws(asked.ask, hits),
            leaning=prepared.leaning,
        )
        if not cites:
            return Answer(
                question, Status.NO_ANSWER, NO_ANSWER_TEXT, "extractive", closest=self._closest(hits)
            )
        # "German law is quite different from its British or American equivalent. [...] Under German
        # law, is LAION allowed to do this?": the places the ask itself names are those asked about.
        # In English only, where a second question leaning on the first is told ("And how does it
        # differ from the EU?"); a Japanese "また、欧州の..." would lose the US of the first.
        in_ask = jurisdictions_in(asked.ask) & prepared.named if asked.language == "en" else set()
        asked_places = in_ask or prepared.named
        missing = answering.places_not_covered(asked_places, cites)
        alone = asked_places - {"INTL"}  # "China, unlike the US?": a second place is a contrast
        if len(alone) == 1 and not missing:  # its sources may speak, but not to the ask
            (code,) = alone
            scored = answering.score_sentences(asked.query, hits, embeddings, idf, cases=cases)
            if answering.off_the_ask(code, scored, hits):
                missing = [in_sentence(code)]
                places = frozenset(with_eu(asked_places - {code}))
        if missing:  # the nearest rules, without an article's "Yes:" written for another place
            text, cites = answering.extractive(
                asked.query, hits, embeddings, idf, verdicts=False, places=places
            )
            text = f"{ELSEWHERE_TEXT.format(places=' or '.join(missing))}\n\n{text}"
        if asked.personal:
            text = f"{PERSONAL_REFERRAL}\n\n{text}"
        if asked.language != "en":
            note = " ".join(n for n in (ENGLISH_SOURCES_NOTE, note) if n)
        return Answer(question, Status.ANSWERED, text, "extractive", cites, note=note)

    def _verified(self, prepared: _Prepared, reply: str) -> Answer:
        question, hits, asked = prepared.question, prepared.context, prepared.asked
        text, cites, not_covered = answering.verify(reply, hits)
        if not cites:
            log.info("The model's answer had no valid citation%s", " (it said so)" if not_covered else "")
            return Answer(question, Status.NO_ANSWER, NO_ANSWER_TEXT, "llm", closest=self._closest(hits))
        if not_covered:  # "My sources don't report that." and where the matter stands, cited
            return Answer(
                question, Status.NO_ANSWER, f"{UNREPORTED_TEXT}\n\n{text}", "llm", cites, closest=cites
            )
        if asked.personal:
            text = f"{PERSONAL_REFERRAL}\n\n{text}"
        return Answer(question, Status.ANSWERED, text, "llm", cites)

    def _closest(self, hits: Sequence[Hit]) -> list[Citation]:
        """Up to three nearby sources, one per file, worth a look when we decline."""
        out: list[Citation] = []
        seen: set[str] = set()
        for hit in sorted(hits, key=lambda h: h.dense, reverse=True):
            if hit.source in seen or hit.dense < TOPIC_FLOOR:
                continue
            seen.add(hit.source)
            out.append(answering.citation(len(out) + 1, hit, answering.first_quote(hit)))
            if len(out) == 3:
                break
        return out

    @staticmethod
    def _finish(result: Answer, started: float, prepared: _Prepared | None = None) -> Answer:
        if prepared is not None:
            result.retrieved = prepared.retrieved
            result.context = context_of(prepared.context)
        result.latency_ms = round((time.perf_counter() - started) * 1000)
        return result


_LANGUAGE_NAMES = re.compile(
    r"\b(english|french|german|spanish|chinese|japanese|korean|italian|portuguese|dutch)\b", re.I
)


def names_nothing(ask: str, corpus: Corpus) -> bool:
    """Whether a question names nothing in particular: no case, company, product or law, only
    words as common in the sources as "AI" ("who owns AI art?", not "does Midjourney own ..."
    nor "did the authors win against anthropic?")."""
    common = GENERAL_SHARE * len(corpus.ids)
    names = name_tokens(ask) | (set(tokens(ask)) & corpus.title_names)
    return all(corpus.df.get(t, 0) >= common for t in names)


def in_general(text: str, asked: asking.Ask, hits: Sequence[Hit], corpus: Corpus) -> bool:
    """Whether a question is about copyright in general, not where AI comes in ("Is it okay to
    publish fanfiction for free?"): it brings no AI in (in its words or, in another language, in
    its English key terms), names nothing of the sources' titles, no passage is near it, and it
    neither leans on a message before it nor is a dispute of the asker's own (those get the
    lawyer referral). Asking what to do is no dispute: "I sometimes just Google an image and use it
    on my blog ... what should I do?" is about copyright in general."""
    return not (
        asked.dispute
        or scope.about_ai(asked.spelt)  # misspellings put right ("midnourney")
        or scope.about_ai(" ".join(asked.english_terms))
        # "ohne menschlichen Urheber": the glossary gives the words one by one
        or {"human", "author"} <= set(asked.english_terms)
        or scope.leans_back(text)
        or known_names(asked.spelt, corpus)
        or any(h.dense >= GENERAL_FLOOR or h.asked >= QUESTION_FLOOR for h in hits)
    )


def parties_named(text: str, corpus: Corpus) -> set[str]:
    """The parties to the sources' cases that the question names: capitalised, or in any case
    when it asks how a case came out ("did getty win")."""
    words = name_tokens(text)
    if scope.OUTCOME_WORDS.search(text):
        words |= set(tokens(text))
    return corpus.parties & words


# A company's name used as a verb ("I just Google an image and use it on my blog") names no company.
_AS_VERB = re.compile(r"\b([A-Z][a-z]+)\s+(?:an?|it)\b")


def known_names(text: str, corpus: Corpus) -> bool:
    """Whether the question names a company or product of the sources' titles ("Does Microsoft
    own ...", "how did Reddit do this"), or asks how a case came out naming a party to it ("did
    Getty win?"), places and numbers aside. A party named otherwise ("could Disney sue people who
    call him Mickey?") is no sign of our subject."""
    names = name_tokens(text) & corpus.title_names
    names -= {m.group(1).lower() for m in _AS_VERB.finditer(text)}  # "just Google an image"
    if scope.OUTCOME_WORDS.search(text):  # "did Getty win?"
        names |= parties_named(text, corpus)
    return any(not any(c.isdigit() for c in t) and not jurisdictions_in(t.title()) for t in names)


def implied_places(language: str) -> set[str]:
    """The country a question's language points to, if one ("ja": Japan)."""
    place = LANGUAGE_PLACES.get(language)
    return {place} if place else set()


def relevant(hit: Hit, language: str = "en") -> bool:
    """The relevance floor. The local model reads English only: a question in another
    language is searched with English key terms added, which match less closely, and for
    Chinese, Japanese or Korean the lexical match (character bigrams) counts on its own too."""
    if language != "en":
        return (
            hit.dense >= FOREIGN_FLOOR
            or hit.asked >= QUESTION_FLOOR
            or (language in CJK_LANGUAGES and hit.lexical >= CJK_LEXICAL_FLOOR)
        )
    return (
        hit.dense >= ANSWER_FLOOR
        or hit.asked >= QUESTION_FLOOR
        or (hit.lexical >= LEXICAL_FLOOR and hit.dense >= LEXICAL_DENSE_FLOOR)
    )


def supporting(hit: Hit) -> bool:
    """A passage below the relevance floor that still belongs in the answer once another passage
    has cleared it: one that shares a fair part of the question's words and is not far from it in
    meaning. MiniLM reads "In 2025 are we still ... if model weights are a derived work" as closest
    to a passage about 2025 labelling rules; the Getty judgment on model weights came fourth."""
    return hit.dense >= SUPPORT_DENSE_FLOOR and hit.lexical >= SUPPORT_LEXICAL_FLOOR


def context_of(hits: Sequence[Hit]) -> list[dict[str, str]]:
    """Passages as evaluation records them: source, heading path and text."""
    return [{"source": h.source, "heading": str(h.meta.get("headings", "")), "text": h.body} for h in hits]


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {str(error)[:200]}"


# -- the blocking call --------------------------------------------------------------------------

T = TypeVar("T")
_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def _engine_loop() -> asyncio.AbstractEventLoop:
    """One event loop, in a daemon thread, that runs the blocking calls' coroutines; started on
    first use and kept. One a process, not one a call or an engine: langchain-openai keeps one
    async HTTP client a process, whose pooled connections belong to the loop that opened them."""
    global _loop
    with _loop_lock:
        if _loop is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="engine-loop", daemon=True).start()
            _loop = loop
        return _loop


def _on_engine_loop() -> bool:
    try:
        return asyncio.get_running_loop() is _loop
    except RuntimeError:
        return False


def _run_blocking(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on the engine's loop and wait for its result in this thread."""
    loop = _engine_loop()
    if _on_engine_loop():
        coroutine.close()
        raise RuntimeError("a blocking engine call on the engine's own event loop: await it instead")
    future = asyncio.run_coroutine_threadsafe(coroutine, loop)
    try:
        return future.result()
    except BaseException:  # interrupted while waiting (Ctrl-C): stop the work too
        future.cancel()
        raise
