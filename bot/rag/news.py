"""What is new: the answer to "what's the latest in AI copyright?", a question that names no case,
party or topic, only (perhaps) a place.

Retrieval has nothing to match in such a question, so it used to quote whatever sentence was
nearest in meaning (the Copyright Office's report of January 2025). The answer is instead the
most recent dated events the sources report: one sentence per article, the newest first, each
saying when it happened ("On 10 December 2025 the Higher Regional Court of Hamburg dismissed ...").
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot import jurisdictions
from bot.core.text import plain, tokens
from bot.knowledge.latest import calendar_date
from bot.rag.answer import Sentence, hit_sentences
from bot.rag.retriever import Hit

# The events quoted, at most one per article.
NEWS_ITEMS = 5
NEWS_TEXT = "The most recent developments in my sources, newest first:"

ASKS_NEWS = re.compile(
    r"\b(latest|news|new|newest|recent|recently|lately|update|updates|happening|developments?)\b", re.I
)
# Words a question for the news may hold besides the place: "what's the latest in AI copyright
# law?", "any news on AI lawsuits?", "what happened recently in the UK?"
_GENERIC = frozenset(
    """a about ai and any anything are artificial been big cases copyright court courts developments
    development did do does done generative genai going has have happened happening in intelligence
    is it its law laws lawsuit lawsuits lately latest legal me month new news newest of on recent
    recently regarding rules s so tell the there this today update updates week what whats when
    with world year front field space scene stuff""".split()
)
# "On 4 November 2025", "on 3 Sept 2024"
_DAY_DATE = re.compile(r"\b(\d{1,2})\s+([A-Z][a-z]{2,8}\.?)\s+(20\d\d)\b")
# A sentence that reports something happening on its date, not one that says where a matter
# stood ("As of July 2026 no decision was reported") or what is due ("applies from 2 August").
# (Not answer.DECIDED: its "found" and "rules" report no event: "undecided in the sources found".)
_EVENT = re.compile(
    r"\b(held|ruled|decided|dismissed|rejected|affirmed|reversed|upheld|granted|denied|declined|fined|"
    r"sued|filed|signed|settled|passed|adopted|approved|enacted|published|issued|released|announced|"
    r"registered|refused|voted|reached|opened|launched|entered into force|came into force|took effect|"
    r"gave judgment)\b",
    re.I,
)
_SPAN_WORD = re.compile(r"\b(from|since|until|till|by|before|after)\s+$", re.I)
_NOT_AN_EVENT = re.compile(r"^\W*(as of|since|until|from)\b|\b(due to|expected|will|would|is to)\b", re.I)


def asks_for_news(question: str) -> bool:
    """Whether the question asks only what is new, in the subject as a whole or in a place."""
    if not ASKS_NEWS.search(question):
        return False
    named = jurisdictions.jurisdictions_in(question)
    places = {w for code in named for w in tokens(jurisdictions.name(code))}
    rest = [t for t in tokens(question) if t not in _GENERIC and t not in places]
    return all(len(t) <= 2 or _is_place_word(t) for t in rest)


def _is_place_word(token: str) -> bool:
    found = jurisdictions.jurisdictions_in
    return bool(found(token.upper()) or found(token.title()))


@dataclass(frozen=True)
class Item:
    """A dated event, as one sentence of one passage."""

    when: dt.date
    hit: Hit
    sentence: Sentence


def event_date(text: str, today: dt.date) -> dt.date | None:
    """The latest day-month-year date the sentence reports an event on, none after today."""
    if _NOT_AN_EVENT.search(plain(text)) or not _EVENT.search(text):
        return None
    dates = []
    for found in _DAY_DATE.finditer(text):
        if _SPAN_WORD.search(text, max(0, found.start() - 8), found.start()):
            continue  # "applies from 2 August 2026", "since 19 May 2026": a rule's span
        when = calendar_date(*found.groups())
        if when is not None:
            dates.append(when)
    dates = [d for d in dates if d <= today]
    return max(dates, default=None)


def latest_events(
    articles: Iterable[Sequence[Hit]], places: set[str], today: dt.date, n: int = NEWS_ITEMS
) -> list[Item]:
    """The newest dated event of each article (of the places asked about, if any), newest first."""
    items: list[Item] = []
    for chunks in articles:
        if not chunks:
            continue
        code = jurisdictions.normalise(chunks[0].meta.get("jurisdiction"))
        best: Item | None = None
        for hit in chunks:
            for sentence in hit_sentences(hit):
                speaks = code in places or places & jurisdictions.jurisdictions_in(sentence.text)
                if places and not speaks:
                    continue
                when = event_date(sentence.text, today)
                if when is not None and (best is None or when > best.when):
                    best = Item(when, hit, sentence)
        if best is not None:
            items.append(best)
    items.sort(key=lambda item: item.when, reverse=True)
    out: list[Item] = []
    for item in items:  # an overview repeats its cases' news: one event a day
        if all(item.when != other.when for other in out):
            out.append(item)
    return out[:n]
