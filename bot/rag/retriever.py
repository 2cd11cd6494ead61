"""Hybrid retrieval: dense (Chroma) and lexical (BM25) results fused by reciprocal rank.

Dense search finds passages that mean the same thing in other words; BM25 finds exact case
names, docket numbers and statute sections that an embedding blurs. Every candidate also gets
its cosine similarity to the question, which the relevance floor is judged on.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from chromadb.api import ClientAPI
from langchain_core.embeddings import Embeddings
from rank_bm25 import BM25Okapi

from bot.config import Settings
from bot.core.errors import IndexNotReady
from bot.core.text import ABBREVIATION, ABBREVIATION_WINDOW, CJK, tokens
from bot.index import store
from bot.jurisdictions import jurisdictions_in, normalise, with_eu
from bot.knowledge.loader import QUESTION_RECORD
from bot.knowledge.scopes import BASE, Scope
from bot.rag.asking import questions_alone

log = logging.getLogger(__name__)

RRF_K = 60
PAGE = 5000  # chunks read from Chroma at a time
CANDIDATES = 24
RARE_TERM_BONUS = 1.0 / (RRF_K + 1)
# A named jurisdiction lifts its passages a little: a quarter of a top rank. A whole top rank
# put every passage of that jurisdiction above the best passage from anywhere else (the US
# report on SURYAST fell out of the top 5 for "... registered in India or Canada?").
JURISDICTION_BONUS = 0.25 / (RRF_K + 3)
# ... and its own nearest passages are candidates, however far down the whole list they are: "Who
# owns what your business creates with AI? ... in New Zealand law" was near the ownership overviews
# only, and the New Zealand article never came up.
PLACE_CANDIDATES = 4
# Front-matter questions: the nearest few are looked up, and an article whose question is near
# the asker's lifts its passages like a top rank, and brings its opening passage along.
QUESTION_CANDIDATES = 8
QUESTION_MIN = 0.65
# The article written for the question: its own question is at least OWN_MIN near the one asked
# and nearer by OWN_MARGIN than any other article's. So chosen, the article is one the question
# expects in 9 of 10 real dev questions and 37 of 37 on the old set ("will my AI art be protected
# in the UK?": section 9(3) at 0.847, the consultation on training at 0.724).
OWN_MIN = 0.75
OWN_MARGIN = 0.05
_CHUNKS_ONLY: dict[str, Any] = {"record": {"$ne": QUESTION_RECORD}}
_SQUASH = re.compile(r"[\W_]+")
_HIRAGANA = re.compile(r"[\u3040-\u309f]")
_NAME_WORD = re.compile(r"\b[A-Z][\w'-]*")
# "Getty Images v Stability AI", "Thomson Reuters v. Ross Intelligence": up to four capitalised
# words either side of "v"; a party word in more than PARTY_SHARE of the chunks is a common one
_PARTY_WORD = r"[A-Z][\w.&'/-]*"
_PARTIES = re.compile(
    rf"((?:{_PARTY_WORD}\s+){{0,3}}{_PARTY_WORD})\s+v\.?\s+({_PARTY_WORD}(?:\s+{_PARTY_WORD}){{0,3}})"
)
PARTY_SHARE = 0.05
PARTY_MIN_COMMON = 5  # in a corpus of a few dozen chunks, a name in five is still rare
_CASE_NAME_NEXT = re.compile(r"(?<!\s)\s+(v|vs)\.?\s", re.IGNORECASE)  # "Zorblatt v. Quenmore" first


@dataclass
class Hit:
    """A retrieved chunk with its scores."""

    id: str
    text: str  # page_content: context line + verbatim body
    meta: dict[str, Any]
    dense: float = 0.0  # cosine similarity to the question
    asked: float = 0.0  # similarity of the article's nearest front-matter question to the question
    own: bool = False  # the article was written for this question (see OWN_MIN)
    lexical: float = 0.0  # share of the question's weighted terms found in the chunk
    fused: float = 0.0
    dense_rank: int | None = None
    bm25_rank: int | None = None

    @property
    def body(self) -> str:
        return self.text[int(self.meta.get("header_len", 0)) :]

    @property
    def source(self) -> str:
        return str(self.meta.get("source", ""))


@dataclass
class Corpus:
    collection: str
    generation: int
    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    metas: list[dict[str, Any]] = field(default_factory=list)
    token_sets: list[set[str]] = field(default_factory=list)
    bm25: BM25Okapi | None = None
    idf: dict[str, float] = field(default_factory=dict)
    df: dict[str, int] = field(default_factory=dict)
    lowered: str = ""  # all chunk texts, lower-cased, for phrase look-ups
    questions: int = 0  # front-matter question records in the collection (not in the lists above)
    by_source: dict[str, list[int]] = field(default_factory=dict)  # source -> its chunks, in order
    max_idf: float = 0.0
    # With a server's own sources beside the shared base, the chunks come from several
    # collections: each collection's chunk and question counts, and a chunk's collection.
    chunks_in: dict[str, int] = field(default_factory=dict)
    questions_in: dict[str, int] = field(default_factory=dict)
    home: dict[str, str] = field(default_factory=dict)
    parts: tuple[tuple[str, int], ...] = ()  # (collection, generation) of each part
    # The parties named in case titles ("Getty Images v Stability AI"), each by its first word,
    # without common words: "did Getty win?" is about a case in the sources.
    parties: set[str] = field(default_factory=set)
    # Every name in the articles' titles ("Midjourney", "Anthropic", "Thaler"), lower-cased: a
    # question may name them in lower case ("did the authors win against anthropic?").
    title_names: set[str] = field(default_factory=set)
    _squashed: str | None = None
    _places: frozenset[str] | None = None

    def collection_of(self, chunk_id: str) -> str:
        return self.home.get(chunk_id, self.collection)

    def has_phrase(self, phrase: str) -> bool:
        """Whether any chunk contains the phrase (case and spacing aside)."""
        return " ".join(phrase.lower().split()) in self.lowered

    def speaks_of(self, code: str) -> bool:
        """Whether the sources say anything of a place: an article of its own (or, for a member
        state, of the EU's), or a chunk that names it."""
        if self._places is None:  # once per corpus: a pass over all its text
            own = {normalise(meta.get("jurisdiction")) for meta in self.metas}
            self._places = frozenset(own | jurisdictions_in(self.lowered))
        return bool(self._places & with_eu({code}))

    def has_name(self, name: str) -> bool:
        """Whether any chunk contains the name, punctuation aside ("OpenRAILM" is "OpenRAIL-M")."""
        if self._squashed is None:
            self._squashed = _SQUASH.sub("", self.lowered)
        return _SQUASH.sub("", name.lower()) in self._squashed


class _Parts:
    """Loaded collections by name, shared by the retrievers of one engine, so the base's
    chunks and BM25 index exist once however many servers have sources of their own."""

    def __init__(self) -> None:
        self._loaded: dict[Scope, Corpus] = {}  # a scope's active collection, as last loaded
        self._lock = threading.Lock()

    def get(self, scope: Scope, pointer: store.Pointer, load: Callable[[str, int], Corpus]) -> Corpus:
        with self._lock:
            part = self._loaded.get(scope)
        if part is None or (part.collection, part.generation) != (pointer.active, pointer.generation):
            part = load(pointer.active, pointer.generation)
            with self._lock:
                self._loaded[scope] = part
        return part


class HybridRetriever:
    """Dense + BM25 over the active collection of the shared base, and of a server's own sources
    when `scopes` names one; reloads itself when a reindex switches a collection."""

    def __init__(
        self,
        settings: Settings,
        client: ClientAPI,
        embeddings: Embeddings,
        scopes: Sequence[Scope] = (BASE,),
        parts: _Parts | None = None,
    ) -> None:
        self.settings = settings
        self.client = client
        self.embeddings = embeddings
        self.scopes = tuple(scopes)
        self._corpus: Corpus | None = None
        self._parts = parts or _Parts()
        self._lock = threading.Lock()

    def with_scope(self, scope: Scope) -> HybridRetriever:
        """A retriever over the shared base and one server's own sources; the base's chunks
        are loaded once for all such retrievers."""
        return HybridRetriever(self.settings, self.client, self.embeddings, (BASE, scope), self._parts)

    def corpus(self) -> Corpus:
        """The active collections' chunks and BM25 index, rebuilt when a pointer moves. The shared
        base must be indexed; a server's own sources count once they are."""
        pointers: list[tuple[Scope, store.Pointer]] = []
        for scope in self.scopes:
            pointer = store.read_pointer(self.client, scope.settings(self.settings))
            if pointer is None and scope.is_base:
                raise IndexNotReady("The knowledge index is empty. Build it with `python bot.py reindex`.")
            if pointer is None:
                continue
            if pointer.embedding_model != self.settings.embedding_model_id:
                raise IndexNotReady(
                    f"The index was built with the embedding model {pointer.embedding_model}, but "
                    f"{self.settings.embedding_model_id} is configured. Rebuild it with "
                    "`python bot.py reindex --full` (or /reindex full:True)."
                )
            pointers.append((scope, pointer))
        key = tuple((p.active, p.generation) for _, p in pointers)
        with self._lock:
            current = self._corpus
            if current and current.parts == key:
                return current
            parts = [self._parts.get(scope, pointer, self._load) for scope, pointer in pointers]
            self._corpus = parts[0] if len(parts) == 1 else _union(parts)
            return self._corpus

    def _load(self, name: str, generation: int) -> Corpus:
        collection = self.client.get_collection(name, embedding_function=None)
        ids: list[str] = []
        documents: list[str] = []
        metadatas: list[dict[str, Any]] = []
        while True:  # in pages: one get() of ~33k records or more fails in Chroma's SQLite
            got = collection.get(include=["documents", "metadatas"], limit=PAGE, offset=len(ids))
            ids.extend(got["ids"])
            documents.extend(got["documents"] or [])
            metadatas.extend(dict(m) for m in got["metadatas"] or [])
            if len(got["ids"]) < PAGE:
                break
        keep = [i for i, m in enumerate(metadatas) if m.get("record") != QUESTION_RECORD]
        corpus = Corpus(
            name,
            generation,
            [ids[i] for i in keep],
            [documents[i] for i in keep],
            [metadatas[i] for i in keep],
            questions=len(ids) - len(keep),
        )
        corpus.parts = ((name, generation),)
        corpus.chunks_in = {name: len(corpus.ids)}
        corpus.questions_in = {name: corpus.questions}
        _build(corpus)
        log.info("Loaded %d chunks of %s for lexical search", len(corpus.ids), name)
        return corpus

    def search(
        self,
        query: str,
        *,
        k: int = 6,
        jurisdiction: str | None = None,
        boost: set[str] | None = None,
        per_source: int = 2,
        context: str | None = None,
    ) -> list[Hit]:
        """The best `k` chunks, fused, deduplicated, at most `per_source` from one file.

        `query` is what the question asks; `context`, the whole question around it, adds a
        second dense ranking at half weight (the ask decides, the context breaks ties)."""
        corpus = self.corpus()
        if not corpus.ids:
            return []
        query_vector = self.embeddings.embed_query(query)
        hits = {h.id: h for h in self.dense_hits(corpus, query_vector, jurisdiction)}
        around: dict[str, int] = {}
        if context and context.strip() != query.strip():
            context_vector = self.embeddings.embed_query(context)
            for hit in self.dense_hits(corpus, context_vector, jurisdiction):
                around[hit.id] = hit.dense_rank or 0
                if hit.id not in hits:
                    hit.dense_rank, hit.dense = None, 0.0
                    hits[hit.id] = hit
        places = set() if jurisdiction else (boost or set()) - {"INTL"}
        for code in sorted(places):
            for hit in self.dense_hits(corpus, query_vector, code)[:PLACE_CANDIDATES]:
                if hit.id not in hits:  # ranked among all by its similarity, not first of its place
                    hit.dense_rank = None
                    hits[hit.id] = hit
        asked = self.asked_sources(corpus, query_vector, jurisdiction)
        own = own_article(asked)
        # "Who owns the images generated by the engine? Or are they published under CC0?": each
        # question of several is looked up on its own too, as together they are near neither.
        alone = questions_alone(query)
        for part in alone:
            for source, near in self.asked_sources(
                corpus, self.embeddings.embed_query(part), jurisdiction
            ).items():
                asked[source] = max(near, asked.get(source, 0.0))
        if alone:
            asked = dict(sorted(asked.items(), key=lambda a: -a[1]))
        index_of = {cid: i for i, cid in enumerate(corpus.ids)}
        for source in asked:  # the article's opening passage comes along
            for lead in corpus.by_source.get(source, [])[:1]:
                if corpus.ids[lead] not in hits:
                    hits[corpus.ids[lead]] = Hit(corpus.ids[lead], corpus.texts[lead], corpus.metas[lead])
        query_tokens = tokens(query)
        if corpus.bm25 is not None and query_tokens:
            scores = corpus.bm25.get_scores(query_tokens)
            order = np.argsort(-scores)
            rank = 0
            for i in order:
                if scores[i] <= 0 or rank >= CANDIDATES:
                    break
                meta = corpus.metas[i]
                if jurisdiction and normalise(meta.get("jurisdiction")) != normalise(jurisdiction):
                    continue
                cid = corpus.ids[i]
                hit = hits.get(cid) or Hit(cid, corpus.texts[i], meta)
                hit.bm25_rank = rank
                hits[cid] = hit
                rank += 1
        self._fill_dense(corpus, query_vector, [h for h in hits.values() if h.dense_rank is None])
        # A word no source uses is the rarest of all: "weather in Beijing" is not a question
        # about Beijing that happens to have two unimportant words.
        weights = {t: corpus.idf.get(t, corpus.max_idf) for t in set(query_tokens)}
        rare_limit = max(2, len(corpus.ids) // 100)
        rare = {t for t in set(query_tokens) if 0 < corpus.df.get(t, 0) <= rare_limit and not t.isdigit()}
        rare &= name_tokens(query)
        total = sum(weights.values()) or 1.0
        order_asked = list(asked)
        for hit in hits.values():
            token_set = corpus.token_sets[index_of[hit.id]] if hit.id in index_of else set(tokens(hit.text))
            hit.lexical = sum(w for t, w in weights.items() if t in token_set) / total
            hit.fused = sum(1.0 / (RRF_K + r) for r in (hit.dense_rank, hit.bm25_rank) if r is not None)
            if hit.id in around:
                hit.fused += 0.5 / (RRF_K + around[hit.id])
            # An exact rare name (a case, a docket number, a statute section) counts like a top rank.
            hit.fused += min(2, len(rare & token_set)) * RARE_TERM_BONUS
            if hit.source in asked:
                hit.asked = asked[hit.source]
                hit.own = hit.source == own
                hit.fused += 1.0 / (RRF_K + 1 + order_asked.index(hit.source))
            code = normalise(hit.meta.get("jurisdiction"))
            # A question naming several jurisdictions is comparative: overviews cover them all.
            if boost and (code in boost or (len(boost) > 1 and code == "INTL")):
                hit.fused += JURISDICTION_BONUS
        ranked = sorted(hits.values(), key=lambda h: h.fused, reverse=True)
        return spread(ranked, k=k, per_source=per_source, boost=boost)

    def section(self, source: str, heading: re.Pattern[str] | None = None) -> list[Hit]:
        """The chunks of one file in order, or only those under a heading that matches (e.g. its
        Status section)."""
        corpus = self.corpus()
        return [
            Hit(corpus.ids[i], corpus.texts[i], corpus.metas[i])
            for i in corpus.by_source.get(source, [])
            if heading is None or heading.search(str(corpus.metas[i].get("headings", "")))
        ]

    def asked_sources(
        self, corpus: Corpus, query_vector: list[float], jurisdiction: str | None
    ) -> dict[str, float]:
        """Articles whose front-matter questions are near the question: source -> best similarity,
        nearest first."""
        if not corpus.questions:
            return {}
        where: Any = {"record": QUESTION_RECORD}
        if jurisdiction:
            where = {"$and": [where, {"jurisdiction": normalise(jurisdiction)}]}
        found: list[tuple[float, str]] = []
        for name, count in corpus.questions_in.items():
            if not count:
                continue
            got = self.client.get_collection(name, embedding_function=None).query(
                query_embeddings=np.asarray([query_vector], dtype=np.float32),
                n_results=min(QUESTION_CANDIDATES, count),
                where=where,
                include=["metadatas", "distances"],
            )
            for meta, distance in zip(
                (got["metadatas"] or [[]])[0], (got["distances"] or [[]])[0], strict=True
            ):
                found.append((1.0 - float(distance), str((meta or {}).get("source", ""))))
        out: dict[str, float] = {}
        for similarity, source in sorted(found, key=lambda f: -f[0])[:QUESTION_CANDIDATES]:
            if similarity >= QUESTION_MIN and source not in out:
                out[source] = similarity
        return out

    def dense_hits(self, corpus: Corpus, query_vector: list[float], jurisdiction: str | None) -> list[Hit]:
        """Chroma's nearest neighbours of the question, in order, with cosine similarity."""
        where: Any = _CHUNKS_ONLY
        if jurisdiction:
            where = {"$and": [_CHUNKS_ONLY, {"jurisdiction": normalise(jurisdiction)}]}
        found: list[tuple[float, str, str, dict[str, Any]]] = []
        for name, count in corpus.chunks_in.items():
            if not count:
                continue
            got = self.client.get_collection(name, embedding_function=None).query(
                query_embeddings=np.asarray([query_vector], dtype=np.float32),
                n_results=min(CANDIDATES, count),
                where=where,
                include=["documents", "metadatas", "distances"],
            )
            found += [
                (float(distance), cid, text or "", dict(meta or {}))
                for cid, text, meta, distance in zip(
                    got["ids"][0],
                    (got["documents"] or [[]])[0],
                    (got["metadatas"] or [[]])[0],
                    (got["distances"] or [[]])[0],
                    strict=True,
                )
            ]
        if len(corpus.chunks_in) > 1:  # nearest first across the collections (a stable sort)
            found = sorted(found, key=lambda f: f[0])[:CANDIDATES]
        return [
            Hit(cid, text, meta, dense=1.0 - distance, dense_rank=rank)
            for rank, (distance, cid, text, meta) in enumerate(found)
        ]

    def _fill_dense(self, corpus: Corpus, query_vector: list[float], hits: list[Hit]) -> None:
        """Cosine similarity for chunks that only BM25 found."""
        if not hits:
            return
        q = np.asarray(query_vector, dtype=np.float32)
        q /= np.linalg.norm(q) or 1.0
        wanted: dict[str, list[str]] = defaultdict(list)
        for hit in hits:
            wanted[corpus.collection_of(hit.id)].append(hit.id)
        vectors: dict[str, Any] = {}
        for name, ids in wanted.items():
            collection = self.client.get_collection(name, embedding_function=None)
            got = collection.get(ids=ids, include=["embeddings"])
            embedded = got["embeddings"] if got["embeddings"] is not None else []
            for cid, vector in zip(got["ids"], embedded, strict=True):
                vectors[cid] = np.asarray(vector, dtype=np.float32)
        for hit in hits:
            vector = vectors.get(hit.id)
            if vector is not None:
                hit.dense = float(vector @ q / (np.linalg.norm(vector) or 1.0))


def _build(corpus: Corpus) -> None:
    """The lexical side of a corpus: chunks by file, BM25 and word statistics."""
    for i, meta in enumerate(corpus.metas):
        corpus.by_source.setdefault(str(meta.get("source", "")), []).append(i)
    for chunks in corpus.by_source.values():
        chunks.sort(key=lambda i: int(corpus.metas[i].get("start", 0)))
    corpus.lowered = "\n".join(" ".join(t.lower().split()) for t in corpus.texts)
    tokenised = [tokens(t) for t in corpus.texts]
    corpus.token_sets = [set(t) for t in tokenised]
    if tokenised:
        corpus.bm25 = BM25Okapi(tokenised)
        n = len(tokenised)
        df: dict[str, int] = defaultdict(int)
        for token_set in corpus.token_sets:
            for token in token_set:
                df[token] += 1
        corpus.idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        corpus.df = dict(df)
        corpus.max_idf = max(corpus.idf.values(), default=0.0)
        titles = {str(meta.get("title", "")) for meta in corpus.metas}
        common = max(PARTY_SHARE * n, PARTY_MIN_COMMON)
        heads = (  # a party by its first word: "Getty", "Thomson", not "York" of New York Times
            (tokens(re.sub(r"['’]s\b", "", side)) or [""])[0]
            for title in titles
            for match in _PARTIES.finditer(title)
            for side in match.groups()
        )
        # a word the sources also write in lower case ("art", "office") is no name
        lower = {w for text in corpus.texts for w in _WORD_RUN.findall(text) if w.islower()}
        corpus.title_names = {t for title in titles for t in name_tokens(title) if t not in lower}
        corpus.parties = {
            t
            for t in heads
            if len(t) > 1 and df.get(t, 0) <= common and not t.isdigit() and not jurisdictions_in(t.title())
        }


_WORD_RUN = re.compile(r"[A-Za-z][a-z]*")


def title_parties(title: str) -> set[str]:
    """The words of the parties a case title names ("Disney Enterprises v. Midjourney": disney,
    enterprises, midjourney), lower-cased."""
    return {t for match in _PARTIES.finditer(title) for side in match.groups() for t in tokens(side)}


def _union(parts: list[Corpus]) -> Corpus:
    """Several collections searched as one: the shared base and a server's own sources."""
    union = Corpus(parts[0].collection, parts[0].generation)
    union.parts = tuple(pair for part in parts for pair in part.parts)
    for part in parts:
        union.ids += part.ids
        union.texts += part.texts
        union.metas += part.metas
        union.questions += part.questions
        union.chunks_in.update(part.chunks_in)
        union.questions_in.update(part.questions_in)
        union.home.update(dict.fromkeys(part.ids, part.collection))
    _build(union)
    return union


def name_tokens(query: str) -> set[str]:
    """Tokens of a question that can be an exact name: from capitalised words that do not start
    a sentence ("Zorblatt", "GEMA"; a first word followed by "v."), with a digit ("30-4"), or in
    Chinese, Japanese or Korean (no capitals there). A common word that is merely rare in a
    small corpus ("down", "refuse", "differ") is not a name."""
    out: set[str] = set()
    for match in _NAME_WORD.finditer(query):
        end = match.start()  # of the text before the word, without trailing spaces (no copies:
        while end and query[end - 1].isspace():  # slicing the whole prefix per word is quadratic)
            end -= 1
        starts_sentence = not end or (
            query[end - 1] in ".!?" and not ABBREVIATION.search(query, max(0, end - ABBREVIATION_WINDOW), end)
        )
        if not starts_sentence or _CASE_NAME_NEXT.match(query, match.end()):
            out.update(tokens(match.group(0)))
    out.update(t for t in tokens(query) if any(c.isdigit() for c in t) or (not t.isascii() and _cjk_name(t)))
    return out


def _cjk_name(token: str) -> bool:
    """Whether a token of Chinese, Japanese or Korean can be part of a name: two characters
    without hiragana. Single characters and kana grammar ("的", "は", "に著") are rare in a
    mostly English corpus, so they counted as rare names and lifted any passage that quotes
    Japanese or Chinese: a Chinese question about who owns an AI work put the Japanese
    statute first, on "的" and "作品"."""
    if not CJK.search(token):
        return True  # accented Latin and other scripts: as before
    return len(token) > 1 and not _HIRAGANA.search(token)


def spread(ranked: list[Hit], *, k: int, per_source: int, boost: set[str] | None = None) -> list[Hit]:
    """Top `k` with overlapping chunks of one file merged away and at most `per_source` a file;
    each jurisdiction the question names (besides "INTL") gets a place if it has any hit, and when
    it names several, so does "INTL"."""
    chosen: list[Hit] = []
    per: dict[str, int] = defaultdict(int)

    def overlaps(hit: Hit) -> bool:
        for other in chosen:
            if (
                other.source == hit.source
                and int(hit.meta["start"]) < int(other.meta["end"])
                and int(other.meta["start"]) < int(hit.meta["end"])
            ):
                return True
        return False

    def take(hit: Hit) -> None:
        chosen.append(hit)
        per[hit.source] += 1

    if boost:
        for code in sorted(boost if len(boost) > 1 else boost - {"INTL"}):
            for hit in ranked:
                if normalise(hit.meta.get("jurisdiction")) == code:
                    if hit not in chosen:
                        take(hit)
                    break
    for hit in ranked:
        if len(chosen) >= k:
            break
        if hit in chosen or per[hit.source] >= per_source or overlaps(hit):
            continue
        take(hit)
    return sorted(chosen, key=lambda h: h.fused, reverse=True)


def own_article(asked: dict[str, float]) -> str | None:
    """The article whose own question is clearly the nearest (`asked`: source -> similarity,
    nearest first), if any."""
    near = list(asked.values())
    if not near or near[0] < OWN_MIN:
        return None
    runner_up = near[1] if len(near) > 1 else 0.0
    return next(iter(asked)) if near[0] - runner_up >= OWN_MARGIN else None
