"""Text utilities shared by retrieval and answering: tokens and sentences."""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORD = re.compile(r"[a-z0-9]+(?:[-.'][a-z0-9]+)*", re.IGNORECASE)
# A run of Chinese, Japanese or Korean characters.
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+")

STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with from as is are was were be been being it its
    this that these those there here what which who whom whose when where why how do does did done
    can could should would will shall may might must i me my we our you your he she they them their
    his her about into than then so not no yes just like also any some all more most other such
    only own same too very s t get got have has had having say says said one someone something
    anything thing things lol pls plz u ur im i'm hey hi ok okay yo bro guys v""".split()
)


def tokens(text: str) -> list[str]:
    """Lower-case word tokens without stop words; hyphenated numbers stay whole and split too;
    Chinese, Japanese and Korean runs become single characters and bigrams."""
    out: list[str] = []
    for match in _WORD.finditer(text):
        word = match.group(0).lower().replace("'", "")
        if word in STOPWORDS:
            continue
        out.append(word)
        if "-" in word or "." in word:
            out.extend(p for p in re.split(r"[-.]", word) if p and p not in STOPWORDS)
            if "." in word and "-" not in word and len(word) <= 8:
                out.append(word.replace(".", ""))  # "D.C." is "DC", "U.S." is "US"
    for run in CJK.findall(text):
        out.extend(run)
        out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int  # offset in the text it was cut from
    end: int


# -- sentences ---------------------------------------------------------------------------------
# The one home of the sentence-boundary rule. A sentence ends at a Latin stop (. ! ?), closing
# quotes or brackets may follow it, then white space; or at a Chinese or Japanese stop, which
# takes no space after it. A stop that ends an abbreviation (ABBREVIATION) ends no sentence.
# Three splitters read text with it, each built from these parts: `sentences` (the sources),
# `claims` (a model's answer) and SENTENCE_CUT (where a Discord message may be cut).
STOP = "[.!?]"
CJK_STOP = "[。！？]"
CLOSERS = r"\"')\]"  # inside [...]: closing quotes and brackets that may follow a stop
# A citation marker after a sentence of an answer: [1], [2, 3], [1; 4].
CITATION = r"\[\d+(?:\s*[,;]\s*\d+)*\]"

# In a source, the next sentence starts with a capital, a digit or Markdown emphasis, perhaps
# after an opening quote or bracket. Paragraphs and list items end a sentence too.
_SENTENCE_END = re.compile(
    rf"(?<={STOP})[{CLOSERS}]*\s+(?=[\"'(\[]?[A-Z0-9*_])|(?<={CJK_STOP})\s*|\n\s*\n|\n(?=\s*(?:[-*+]|\d+\.)\s)"
)
ABBREVIATION = re.compile(
    r"(?:\b(?:v|vs|No|Nos|Co|Inc|Ltd|Corp|Bros|Tenn|Doc|Mr|Ms|Mrs|Dr|St|Art|Arts|para|paras|U\.S|U\.K|e\.g|i\.e|cf|al|Fed|Reg|Cir|Cal|Del|Colo|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|approx|ca|s|ss|Sec|Min|Chu|Jing|Yue|Cap|Ct)\.|\b[A-Z]\.)$"
)


# ABBREVIATION is anchored at the end and shorter than this: callers search only the last
# ABBREVIATION_WINDOW characters (with pos/endpos, so \b still sees the text before them).
ABBREVIATION_WINDOW = 16

# In a model's answer a sentence keeps the markers after its stop ("...a work. [1]"), and the
# next one may start with anything, even without a space: Chinese and Japanese put none after a
# stop, and models sometimes leave none after a marker: "…作品。[1]美国则不同。" and
# "…a work.[1]The US…" are two claims each.
_CLAIM_END = re.compile(rf"{STOP}(?:\s*{CITATION})+|{STOP}(?=\s|$)|{CJK_STOP}(?:\s*{CITATION})*")

# Where a Discord message may be cut: just after any stop and its closers that white space
# follows. Positions, not sentences, and looser than the rule above on purpose: a cut after
# "v." or before a lower-case word only looks a little odd, while a message must be cut
# somewhere. Curly closing quotes count here; the sources' rule has never counted them, and
# adding them there would move quotes and the evaluation figures.
SENTENCE_CUT = re.compile(rf"{STOP}[{CLOSERS}\u201d\u2019]*(?=\s)|{CJK_STOP}")


def sentences(text: str) -> list[Sentence]:
    """Sentences with offsets; list items and paragraphs end a sentence too."""
    out: list[Sentence] = []
    cursor = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.start()  # no slice of text[cursor:end]: after a run of "A. B. C." it grows
        while end > cursor and text[end - 1].isspace():
            end -= 1
        tail = max(cursor, end - ABBREVIATION_WINDOW)
        if ABBREVIATION.search(text, tail, end) and "\n" not in text[match.start() : match.end()]:
            continue  # "Li v. Liu", "No. 23-5233", "U.S. law": not the end of a sentence
        _add(out, text, cursor, match.start())
        cursor = match.end()
    _add(out, text, cursor, len(text))
    return out


def _add(out: list[Sentence], text: str, start: int, end: int) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return
    lead = piece.find(stripped)
    out.append(Sentence(stripped, start + lead, start + lead + len(stripped)))


def claims(paragraph: str) -> list[str]:
    """Sentences of a model's answer, each keeping the citation markers that follow it."""
    out: list[str] = []
    cursor = 0
    for match in _CLAIM_END.finditer(paragraph):
        # ABBREVIATION is anchored at the end and at most a few characters long: look at the
        # tail only (searching from the cursor rescans the text after every "v." and "A.")
        tail_start = max(cursor, match.end() - ABBREVIATION_WINDOW)
        if "[" not in match.group(0) and ABBREVIATION.search(paragraph, tail_start, match.end()):
            continue  # "Li v. Liu": not the end of a claim
        out.append(paragraph[cursor : match.end()].strip())
        cursor = match.end()
    tail = paragraph[cursor:].strip()
    if tail:
        out.append(tail)
    return [o for o in out if o]


_MARKDOWN = re.compile(r"^\s*(?:[-*+]|\d+\.)\s+|\*\*|__|`|^#+\s*")


def plain(sentence: str) -> str:
    """A sentence for display: list markers and Markdown emphasis removed, one line."""
    text = _MARKDOWN.sub("", sentence)
    text = re.sub(r"(?<!\w)\*(?=\S)|(?<=\S)\*(?!\w)", "", text)
    return re.sub(r"\s+", " ", text).strip()


def is_mostly_cjk(text: str) -> bool:
    """Whether most letters of a text are Chinese, Japanese or Korean."""
    cjk = sum(len(run) for run in CJK.findall(text))
    latin = sum(len(m.group(0)) for m in _WORD.finditer(text))
    return cjk > latin
