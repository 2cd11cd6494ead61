"""Text utilities shared by retrieval and answering: tokens, sentences, jurisdictions."""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORD = re.compile(r"[a-z0-9]+(?:[-.'][a-z0-9]+)*", re.IGNORECASE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+")

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
    for run in _CJK.findall(text):
        out.extend(run)
        out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int  # offset in the text it was cut from
    end: int


_SENTENCE_END = re.compile(
    r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9*_])|(?<=[。！？])\s*|\n\s*\n|\n(?=\s*(?:[-*+]|\d+\.)\s)"
)
ABBREVIATION = re.compile(
    r"(?:\b(?:v|vs|No|Nos|Co|Inc|Ltd|Corp|Mr|Ms|Mrs|Dr|St|Art|Arts|para|paras|U\.S|U\.K|e\.g|i\.e|cf|al|Fed|Reg|Cir|Cal|Del|Colo|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|approx|ca|s|ss|Sec|Min|Chu|Jing|Yue)\.|\b[A-Z]\.)$"
)


# ABBREVIATION is anchored at the end and shorter than this: callers search only the last
# ABBREVIATION_WINDOW characters (with pos/endpos, so \b still sees the text before them).
ABBREVIATION_WINDOW = 16


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


_MARKDOWN = re.compile(r"^\s*(?:[-*+]|\d+\.)\s+|\*\*|__|`|^#+\s*")


def plain(sentence: str) -> str:
    """A sentence for display: list markers and Markdown emphasis removed, one line."""
    text = _MARKDOWN.sub("", sentence)
    text = re.sub(r"(?<!\w)\*(?=\S)|(?<=\S)\*(?!\w)", "", text)
    return re.sub(r"\s+", " ", text).strip()


JURISDICTION_WORDS: dict[str, tuple[str, ...]] = {
    "CN": (
        "china",
        "chinese",
        "prc",
        "beijing",
        "shanghai",
        "guangzhou",
        "hangzhou",
        "jiangsu",
        "changshu",
        "zhangjiagang",
        "中国",
        "北京",
        "中华",
    ),
    "US": (
        "the us",
        "u.s",
        "usa",
        "united states",
        "america",
        "american",
        "uspto",
        "usco",
        "copyright office",
        "美国",
        "federal",
    ),
    "EU": ("eu", "european", "europe", "cjeu", "ai act", "brussels", "欧盟"),
    "DE": ("germany", "german", "munich", "münchen", "hamburg", "gema", "德国"),
    "UK": (
        "the uk",
        "united kingdom",
        "britain",
        "british",
        "england",
        "english",
        "scotland",
        "cdpa",
        "英国",
    ),
    "JP": ("japan", "japanese", "日本"),
    "IN": ("india", "indian", "delhi", "印度"),
    "CA": ("canada", "canadian", "cipo", "加拿大"),
    "AU": ("australia", "australian", "aussie", "澳大利亚"),
    "KR": ("korea", "korean", "한국", "韩国"),
}


_UPPER_CODES = {
    "US": re.compile(r"\b(?:US|USA|U\.S\.?)(?![\w])"),
    "UK": re.compile(r"\b(?:UK|U\.K\.?)(?![\w])"),
    "EU": re.compile(r"\bEU\b"),
}


def jurisdictions_in(question: str) -> set[str]:
    """Jurisdiction codes a question names ("does China protect AI images but the US not?")."""
    lowered = " " + re.sub(r"[^\w.\u3040-\u9fff\uac00-\ud7af]+", " ", question.lower()) + " "
    found = {code for code, pattern in _UPPER_CODES.items() if pattern.search(question)}
    for code, words in JURISDICTION_WORDS.items():
        for word in words:
            if _CJK.search(word):
                if word in lowered:
                    found.add(code)
            elif f" {word} " in lowered or f" {word}. " in lowered:
                found.add(code)
    return found


def is_mostly_cjk(text: str) -> bool:
    """Whether most letters of a text are Chinese, Japanese or Korean."""
    cjk = sum(len(run) for run in _CJK.findall(text))
    latin = sum(len(m.group(0)) for m in _WORD.finditer(text))
    return cjk > latin
