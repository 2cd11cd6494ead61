"""What changed lately: the dated developments in the knowledge folder, newest first.

Read straight from the files through the loader (no index, no model), so it works before anything
has been indexed. A development is

- an article's `published` date, summed up by the first sentence of its "In short". Not for
  overviews (`kind: overview`): their date is when the summary was written, not when anything
  happened in the law;
- a dated line in an article's body, in the form the articles use for timelines:
  "- 21 January 2025: GEMA files suit ..." or "- 2025-01-21: ...". When such a line has the
  article's own `published` date, the line stands for that day (it says what happened).

Undated articles are left out, and so is anything dated after today (a hearing set for next month
has not happened yet). PDFs give their metadata only: their text is not searched for dated lines,
because reading a PDF can take a minute.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bot.core.text import plain, sentences
from bot.knowledge import loader

log = logging.getLogger(__name__)

PUBLISHED = "published"  # Development.event: the article itself
DATED_LINE = "dated line"  # Development.event: a dated line in its body
NOT_DEVELOPMENTS = frozenset({"overview"})  # kinds whose `published` is when they were written
MAX_SUMMARY_CHARS = 300

_MONTHS = {
    name: n
    for n, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
# "- 21 January 2025: text", "* **2025-01-21** – text", "- 3 Sept. 2024 — text"
_DATED = re.compile(
    r"^[ \t]*[-*+][ \t]+\**[ \t]*"
    r"(?:(?P<day>\d{1,2})[ \t]+(?P<month>[A-Za-z]{3,9})\.?[ \t]+(?P<year>\d{4})"
    r"|(?P<iso>\d{4}-\d{2}-\d{2}))"
    r"[ \t]*\**[ \t]*[:\u2013\u2014][ \t]*\**[ \t]*(?P<text>\S[^\n]*)$",
    re.MULTILINE,
)
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Development:
    """One dated development, as the CLI and Discord show it."""

    date: str  # YYYY-MM-DD
    jurisdiction: str  # the article's code: US, EU, CN, INTL, ...
    title: str  # the article's title
    url: str  # the article's primary source
    source: str  # "knowledge/<file>"
    kind: str  # case, statute, guidance, ...
    summary: str  # one line: what happened
    event: str = PUBLISHED  # PUBLISHED or DATED_LINE

    @property
    def headline(self) -> str:
        """What a list shows: the title, and for a dated line also what happened that day."""
        return f"{self.title} — {self.summary}" if self.event == DATED_LINE else self.title

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def developments(
    knowledge_dir: Path,
    *,
    jurisdiction: str | None = None,
    topic: str | None = None,
    today: dt.date | None = None,
) -> list[Development]:
    """Every dated development in the folder up to `today`, newest first; with `jurisdiction`
    (a code, any case) only that jurisdiction's, with `topic` only articles whose title, tags
    or kind mention every word of it (a word also matches longer words: "train" -> "training")."""
    today = today or dt.date.today()
    code = (jurisdiction or "").strip().upper()
    wanted = _words(topic or "")
    found: list[Development] = []
    for path in loader.iter_files(knowledge_dir):
        article = _read(knowledge_dir, path)
        if article is None:
            continue
        meta, body = article
        if code and meta["jurisdiction"] != code:
            continue
        if wanted and not _mentions(meta, wanted):
            continue
        found += _of_article(knowledge_dir, path, meta, body, today)
    found.sort(key=lambda d: d.date, reverse=True)  # stable: same-day items keep file order
    return found


def _read(knowledge_dir: Path, path: Path) -> tuple[dict[str, Any], str] | None:
    """(normalised metadata, Markdown body) of a file; None when the loader refuses it."""
    try:
        if path.suffix.lower() == ".pdf":
            meta = loader.sidecar_meta(path)
            default = path.stem.replace("-", " ").replace("_", " ")
            return loader.normalise_meta(meta, default_title=default), ""
        doc = loader.load_file(knowledge_dir, path)
    except loader.LoadError as error:
        log.info("Left out %s: %s", path.name, error)
        return None
    except Exception as error:  # one broken file must not hide the others' news
        log.info("Left out %s: %s: %s", path.name, type(error).__name__, error)
        return None
    return doc.meta, doc.text[doc.body_start :] if doc.verbatim_file else ""


def _of_article(
    knowledge_dir: Path, path: Path, meta: dict[str, Any], body: str, today: dt.date
) -> list[Development]:
    def make(date: dt.date, summary: str, event: str) -> Development:
        return Development(
            date=date.isoformat(),
            jurisdiction=meta["jurisdiction"],
            title=meta["title"],
            url=meta["url"],
            source=loader.source_name(knowledge_dir, path),
            kind=meta["kind"],
            summary=_cut(summary),
            event=event,
        )

    lines = [make(date, text, DATED_LINE) for date, text in dated_lines(body) if date <= today]
    published = _date(meta["published"])
    out: list[Development] = []
    if (
        published is not None
        and published <= today
        and meta["kind"].lower() not in NOT_DEVELOPMENTS
        and published.isoformat() not in {d.date for d in lines}
    ):
        out.append(make(published, first_sentence(body) or meta["title"], PUBLISHED))
    return out + lines


def dated_lines(body: str) -> list[tuple[dt.date, str]]:
    """The dated list items of a Markdown body (Sources and References sections left out)."""
    out: list[tuple[dt.date, str]] = []
    for section in loader.sections(body, 0):
        if section.headings and section.headings[-1].strip().lower() in loader.SKIPPED_SECTIONS:
            continue
        for match in _DATED.finditer(body, section.start, section.end):
            date = _line_date(match)
            text = plain(match["text"])
            if date is not None and text:
                out.append((date, text))
    return out


def first_sentence(body: str) -> str:
    """The first sentence of the "In short" section, else of the body's first paragraph."""
    parts = loader.sections(body, 0)
    ordered = [s for s in parts if s.headings and s.headings[-1].strip().lower() == "in short"]
    for section in [*ordered, *parts]:
        if section.headings and section.headings[-1].strip().lower() in loader.SKIPPED_SECTIONS:
            continue
        for sentence in sentences(body[section.start : section.end]):
            text = plain(sentence.text)
            if text:
                return text
    return ""


def _line_date(match: re.Match[str]) -> dt.date | None:
    if match["iso"]:
        return _date(match["iso"])
    return calendar_date(match["day"], match["month"], match["year"])


def calendar_date(day: str, month: str, year: str) -> dt.date | None:
    """ "21", "January" (or "Jan", "Sept"), "2025" as a date; None for a day or month that does
    not exist."""
    number = _MONTHS.get(month.lower().rstrip("."))
    if number is None:
        return None
    try:
        return dt.date(int(year), number, int(day))
    except ValueError:  # 31 February
        return None


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_SUMMARY_CHARS else text[: MAX_SUMMARY_CHARS - 1].rstrip() + "…"


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def _mentions(meta: dict[str, Any], wanted: Iterable[str]) -> bool:
    """Whether every wanted word starts a word of the title, tags or kind ("labels" also
    matches "labelling": a plural s is dropped when the plural itself does not match)."""
    have = _words(" ".join((meta["title"], meta["tags"], meta["kind"])))

    def found(word: str) -> bool:
        if any(h.startswith(word) for h in have):
            return True
        return len(word) > 3 and word.endswith("s") and any(h.startswith(word[:-1]) for h in have)

    return all(found(word) for word in wanted)
