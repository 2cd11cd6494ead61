"""Knowledge files -> source texts with metadata -> heading-aware chunks with offsets.

Every chunk keeps the character offsets of its text in the source text, so that any quote taken
from a chunk can be checked against the file it came from.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml
from langchain_core.documents import Document
from langchain_text_splitters import RecursiveCharacterTextSplitter

from bot import jurisdictions
from bot.core.types import Failure
from bot.knowledge.scopes import BASE, Scope

log = logging.getLogger(__name__)

SUFFIXES = {".md", ".markdown", ".txt", ".html", ".htm", ".pdf"}
SIDECAR = ".meta.yaml"
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_TEXT_CHARS = 2_000_000
# Real pages, even long statutes, have tens of thousands of tags; far more means a generated or
# hostile file (100,000 nested <div>s is 200,000 tags) that would only waste time.
MAX_HTML_TAGS = 500_000
# PDFs: a few kilobytes can draw megabytes of content on every page (8 pages sharing one 1 MB
# stream took 12.6 s), so pages, text and time are capped, and a page whose content streams
# were already read is not read again.
MAX_PDF_PAGES = 1_000
PDF_SECONDS = 60.0
_clock = time.monotonic
CHUNK_SIZE = 900
CHUNK_OVERLAP = 150
META_KEYS = ("title", "url", "publisher", "published", "jurisdiction", "kind", "status_as_of")
SKIPPED_SECTIONS = {"sources", "references", "further reading"}
# Front-matter `questions` and `aliases`: what people ask about an article and the other names
# they use for its subject. Indexed as their own records for retrieval; never quoted.
MAX_QUESTIONS = 16
MAX_QUESTION_CHARS = 300
QUESTION_RECORD = "question"
# Front matter and sidecars keep these keys only (tags, urls, aliases, questions: lists of strings),
# each value a scalar or a short list of scalars, strings cut at MAX_META_VALUE_CHARS.
KNOWN_KEYS = (*META_KEYS, "tags", "urls", "aliases", "questions", "fetched")
MAX_META_YAML_CHARS = 65_536
MAX_META_VALUE_CHARS = 2_000
MAX_META_ITEMS = 64

# The closing #s are stripped in sections(): "(.+?)[ \t#]*$" took quadratic time on "# a # # # … b"
_HEADING = re.compile(r"^(#{1,6})[ \t]+(\S[^\n]*)$", re.MULTILINE)


class LoadError(Exception):
    """A file that cannot be used; the message says why."""


@dataclass
class SourceText:
    """The text of one knowledge file and its metadata."""

    source: str  # "knowledge/name.md": the folder's name and the path below it
    text: str  # the text quotes are checked against (the file itself for Markdown and text)
    body_start: int  # where the body starts, after any front matter
    meta: dict[str, Any] = field(default_factory=dict)
    verbatim_file: bool = True  # False for HTML/PDF, whose text is extracted
    questions: list[str] = field(default_factory=list)  # front matter `questions` and `aliases`


def source_name(knowledge_dir: Path, path: Path) -> str:
    """The `source` of a file: the knowledge folder's name, then the path below it."""
    return f"{knowledge_dir.name}/{path.relative_to(knowledge_dir).as_posix()}"


def source_path(knowledge_dir: Path, source: str) -> Path:
    """The file behind a `source` value."""
    _, _, rel = source.partition("/")
    return knowledge_dir / rel


def iter_files(knowledge_dir: Path, scope: Scope = BASE) -> Iterator[Path]:
    """One scope's knowledge files (the shared base by default), in a stable order; hidden files
    and sidecars skipped."""
    folder = scope.folder(knowledge_dir)
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(knowledge_dir)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if not scope.holds(knowledge_dir, path):
            continue
        if path.name.endswith(SIDECAR) or path.name.lower() == "readme.md":
            continue
        yield path


def load_all(
    knowledge_dir: Path, pdf_cache: Path | None = None, scope: Scope = BASE
) -> tuple[list[SourceText], list[Failure]]:
    """Read one scope's knowledge files; a file that fails is reported, never fatal. With
    `pdf_cache` (a folder), a PDF read before (same SHA-256) is not read again."""
    texts: list[SourceText] = []
    failures: list[Failure] = []
    cache = _PdfCache(pdf_cache) if pdf_cache is not None else None
    for path in iter_files(knowledge_dir, scope):
        source = source_name(knowledge_dir, path)
        try:
            texts.append(load_file(knowledge_dir, path, cache))
        except LoadError as error:
            log.warning("Skipped %s: %s", source, error)
            failures.append(Failure(source, str(error)))
        except Exception as error:  # a broken file must never stop the run
            log.warning("Skipped %s: unexpected %s: %s", source, type(error).__name__, error)
            failures.append(Failure(source, f"could not be read ({type(error).__name__}: {error})"))
    if cache is not None:
        cache.prune()
    return texts, failures


def load_file(knowledge_dir: Path, path: Path, pdf_cache: _PdfCache | None = None) -> SourceText:
    """One knowledge file as a SourceText, or LoadError saying why not."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise LoadError(f"unsupported file type {suffix or '(none)'}; use .md, .txt, .html or .pdf")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise LoadError(
            f"file is {size // (1024 * 1024)} MB; the limit is {MAX_FILE_BYTES // (1024 * 1024)} MB"
        )
    source = source_name(knowledge_dir, path)
    if suffix == ".pdf":
        text = pdf_cache.read(path) if pdf_cache is not None else _read_pdf(path)
        meta, verbatim = sidecar_meta(path), False
        body_start = 0
    elif suffix in {".html", ".htm"}:
        text, title = _read_html(path)
        meta, verbatim, body_start = sidecar_meta(path), False, 0
        meta.setdefault("title", title)
    else:
        text = _read_text(path)
        meta, body_start = parse_front_matter(text)
        verbatim = True
    if len(text) > MAX_TEXT_CHARS:
        raise LoadError(f"text is {len(text)} characters; the limit is {MAX_TEXT_CHARS}")
    if not text[body_start:].strip():
        raise LoadError("no readable text")
    questions = retrieval_phrases(meta)
    meta = normalise_meta(meta, default_title=path.stem.replace("-", " ").replace("_", " "))
    return SourceText(
        source=source,
        text=text,
        body_start=body_start,
        meta=meta,
        verbatim_file=verbatim,
        questions=questions,
    )


def retrieval_phrases(meta: dict[str, Any]) -> list[str]:
    """The front matter's `questions` and `aliases` as short strings (bounded in number and size)."""
    out: list[str] = []
    for key in ("questions", "aliases"):
        values = meta.get(key) or []
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list):
            continue
        for value in values:
            if isinstance(value, str | int | float) and str(value).strip():
                out.append(" ".join(str(value).split())[:MAX_QUESTION_CHARS])
    return list(dict.fromkeys(out))[:MAX_QUESTIONS]


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise LoadError(f"not UTF-8 text (byte {error.start})") from None
    if "\x00" in text:
        raise LoadError("contains NUL bytes: not a text file")
    return text.replace("\r\n", "\n")


HIDDEN_HTML = frozenset({"script", "style", "noscript", "nav", "footer", "header", "template", "svg"})
HEADING_HTML = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# Elements that end a paragraph: their text is not run into the next element's
BLOCK_HTML = frozenset(
    """p div li ul ol dl dt dd table tr td th section article main aside blockquote pre figure
    figcaption address details summary form fieldset hr""".split()
)


class _HTMLText(HTMLParser):
    """The readable text of a page, read as a stream: no tree is built and nothing recurses, so
    deeply nested or enormous markup costs time in proportion to its size and no extra memory."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self._hidden: dict[str, int] = dict.fromkeys(HIDDEN_HTML, 0)
        self._in_title = False
        self._title_done = False
        self._heading = 0  # inside <h1> .. <h6>: its text stays on one line

    def _hiding(self) -> bool:
        return any(self._hidden.values())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._hidden:
            self._hidden[tag] += 1
        elif tag == "title" and not self._title_done:
            self._in_title = True
            if not self._hiding():
                self.parts.append("\n\n# ")  # the page's title heads its text
        elif self._hiding():
            return
        elif tag in HEADING_HTML:
            self._heading += 1
            self.parts.append(f"\n\n{'#' * int(tag[1])} ")
        elif tag in BLOCK_HTML:
            self.parts.append("\n\n")
        elif tag == "br":
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br" and not self._hiding():
            self.parts.append("\n")  # <br/>; <svg/> and the like open nothing

    def handle_endtag(self, tag: str) -> None:
        if self._hidden.get(tag):
            self._hidden[tag] -= 1
        elif tag == "title" and self._in_title:
            self._in_title, self._title_done = False, True
            self.parts.append("\n\n")
        elif self._hiding():
            return
        elif tag in HEADING_HTML and self._heading:
            self._heading -= 1
            self.parts.append("\n\n")
        elif tag in BLOCK_HTML:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        if not self._hiding():
            one_line = self._heading or self._in_title
            self.parts.append(re.sub(r"\s+", " ", data) if one_line else data)

    def unknown_decl(self, data: str) -> None:
        if data.startswith("CDATA["):
            self.handle_data(data[len("CDATA[") :])


def _read_html(path: Path) -> tuple[str, str]:
    return html_to_text(_read_text(path))


def html_to_text(html: str) -> tuple[str, str]:
    """(readable text, <title>) of an HTML page; LoadError when it is too big or unreadable."""
    tags = html.count("<")
    if tags > MAX_HTML_TAGS:
        raise LoadError(
            f"the HTML has about {tags:,} tags; the limit is {MAX_HTML_TAGS:,} "
            "(save the page's text as .txt or .md instead)"
        )
    parser = _HTMLText()
    try:
        parser.feed(html)
        parser.feed("<br>")  # lets trailing text through
    except AssertionError as error:  # what html.parser raises for some broken declarations
        raise LoadError(f"not readable HTML ({error})") from None
    # No close(): its end-of-file handling takes quadratic time on some broken markup (a 60 KB
    # file of "<a " took 45 s on Python 3.11), and all it would add is an unterminated tag or
    # comment, which browsers drop too.
    title = " ".join("".join(parser.title).split())
    # A page's title, headings and paragraphs end where their element ends: "<h2>Ruling</h2><p>The
    # court held ...</p>" is a heading and a paragraph, not the sentence "Ruling The court held ...".
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    lines = [line for line in lines if not line or line.strip("#")]  # no heading left without its text
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return text, title


class _TooSlow(Exception):
    pass


def _read_pdf(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    deadline = _clock() + PDF_SECONDS

    def on_time(*_: Any) -> None:  # called by pypdf for each drawing operator
        if _clock() > deadline:
            raise _TooSlow

    pages: list[str] = []
    size = 0
    seen: set[tuple[Any, ...]] = set()
    try:
        reader = PdfReader(str(path))
        count = len(reader.pages)
        if count > MAX_PDF_PAGES:
            raise LoadError(f"the PDF has {count:,} pages; the limit is {MAX_PDF_PAGES:,}")
        for page in reader.pages:
            contents = _content_ids(page)
            if contents and contents in seen:
                continue  # the same content streams as an earlier page: the same text again
            seen.add(contents)
            on_time()
            text = (page.extract_text(visitor_operand_before=on_time) or "").strip()
            size += len(text) + 2
            if size > MAX_TEXT_CHARS:
                raise LoadError(f"text is over {MAX_TEXT_CHARS} characters; the limit is {MAX_TEXT_CHARS}")
            pages.append(text)
    except _TooSlow:
        raise LoadError(
            f"the PDF took longer than {PDF_SECONDS:g} s to read (its pages draw too much content)"
        ) from None
    except PdfReadError as error:
        raise LoadError(f"not a readable PDF ({error})") from None
    text = "\n\n".join(page for page in pages if page)
    if not text.strip():
        raise LoadError("the PDF has no text layer (scanned images need OCR first)")
    return text


def _content_ids(page: Any) -> tuple[tuple[int, int], ...]:
    """Which indirect objects a page's /Contents are; empty when any part is inline."""
    from pypdf.generic import IndirectObject

    raw = page.raw_get("/Contents") if "/Contents" in page else None
    if isinstance(raw, IndirectObject) and isinstance(raw.get_object(), list):
        raw = raw.get_object()  # an indirect array of streams
    items = list(raw) if isinstance(raw, list) else [raw]
    refs = [o for o in items if isinstance(o, IndirectObject)]
    if len(refs) != len(items):
        return ()
    return tuple((o.idnum, o.generation) for o in refs)


class _PdfCache:
    """The text (or the reason for refusing) of each PDF read, by SHA-256 of the file and the
    limits it was read with; entries of files no longer present are removed by prune()."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.used: set[str] = set()

    def read(self, path: Path) -> str:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        limits = f"{MAX_PDF_PAGES}-{MAX_TEXT_CHARS}-{PDF_SECONDS:g}"
        name = f"{digest}-{hashlib.sha256(limits.encode()).hexdigest()[:8]}.json"
        self.used.add(name)
        entry = self.folder / name
        try:
            stored = json.loads(entry.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            stored = None
        if isinstance(stored, dict) and isinstance(stored.get("text"), str):
            return str(stored["text"])
        if isinstance(stored, dict) and isinstance(stored.get("error"), str):
            raise LoadError(stored["error"])
        try:
            text = _read_pdf(path)
        except LoadError as error:
            self._store(entry, {"error": str(error)})
            raise
        self._store(entry, {"text": text})
        return text

    def _store(self, entry: Path, value: dict[str, str]) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            partial = entry.with_suffix(".tmp")
            partial.write_text(json.dumps(value), encoding="utf-8")
            partial.replace(entry)
        except OSError as error:  # a cache that cannot be written only costs time
            log.warning("Could not cache the text of a PDF: %s", error)

    def prune(self) -> None:
        if not self.folder.is_dir():
            return
        for entry in self.folder.glob("*.json"):
            if entry.name not in self.used:
                entry.unlink(missing_ok=True)


class _MetaLoader(yaml.SafeLoader):
    """yaml.safe_load without anchors and aliases: metadata never needs them, and a few hundred
    bytes of nested aliases expand to many megabytes (430 bytes made 44 MB of metadata a chunk)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise yaml.composer.ComposerError(
                None, None, "YAML anchors and aliases (&name, *name) are not allowed", event.start_mark
            )
        return super().compose_node(parent, index)


def load_meta_yaml(text: str) -> Any:
    """Metadata YAML (front matter or sidecar), refusing anchors and aliases; raises YAMLError."""
    if len(text) > MAX_META_YAML_CHARS:
        raise yaml.YAMLError(f"{len(text):,} characters of metadata; the limit is {MAX_META_YAML_CHARS:,}")
    parser = _MetaLoader(text)
    try:
        return parser.get_single_data()
    finally:
        parser.dispose()


def known_meta(data: dict[Any, Any]) -> dict[str, Any]:
    """The known keys of a metadata mapping, with bounded values; anything else is dropped."""
    out: dict[str, Any] = {}
    for key in KNOWN_KEYS:
        value = data.get(key)
        if isinstance(value, list):
            out[key] = [_bounded(v) for v in value if _is_scalar(v)][:MAX_META_ITEMS]
        elif _is_scalar(value) and key in data:
            out[key] = _bounded(value)
    return out


def _is_scalar(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | dt.date)


def _bounded(value: Any) -> Any:
    return value[:MAX_META_VALUE_CHARS] if isinstance(value, str) else value


def sidecar_meta(path: Path) -> dict[str, Any]:
    """The known keys of a PDF or HTML file's `<file>.meta.yaml`; {} when it has none."""
    side = path.with_name(path.name + SIDECAR)
    if not side.exists():
        return {}
    try:
        data = load_meta_yaml(side.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise LoadError(f"broken metadata in {side.name}: {_yaml_reason(error)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise LoadError(f"metadata in {side.name} is not a mapping of keys to values")
    return known_meta(data)


def parse_front_matter(text: str) -> tuple[dict[str, Any], int]:
    """YAML front matter between '---' lines at the top: (mapping, offset of the body)."""
    if not text.startswith("---\n"):
        return {}, 0
    end = text.find("\n---", 3)
    while end != -1 and text[end + 4 : end + 5] not in ("\n", ""):
        end = text.find("\n---", end + 4)
    if end == -1:
        raise LoadError("front matter starts with '---' but has no closing '---' line")
    try:
        data = load_meta_yaml(text[4:end])
    except yaml.YAMLError as error:
        raise LoadError(f"broken front matter: {_yaml_reason(error, first_line=2)}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise LoadError("front matter is not a mapping of keys to values")
    body_start = end + 4
    if text[body_start : body_start + 1] == "\n":
        body_start += 1
    return known_meta(data), body_start


def _yaml_reason(error: yaml.YAMLError, first_line: int = 1) -> str:
    """The parser's complaint, with the line number in the file."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    return f"{problem} (line {mark.line + first_line})" if mark is not None else str(problem)


def normalise_meta(meta: dict[str, Any], *, default_title: str) -> dict[str, Any]:
    """Front matter -> flat metadata that Chroma can store (strings only)."""
    out: dict[str, Any] = {}
    for key in META_KEYS:
        value = meta.get(key)
        if isinstance(value, dt.date | dt.datetime):
            value = value.isoformat()[:10]
        out[key] = "" if value is None else str(value).strip()
    out["title"] = out["title"] or default_title
    out["jurisdiction"] = jurisdictions.normalise(out["jurisdiction"])
    tags = meta.get("tags") or []
    out["tags"] = ", ".join(str(t) for t in tags) if isinstance(tags, list) else str(tags)
    urls = meta.get("urls") or []
    out["urls"] = " ".join(str(u) for u in urls) if isinstance(urls, list) else str(urls)
    return out


@dataclass(frozen=True)
class Section:
    headings: tuple[str, ...]
    start: int
    end: int


def sections(text: str, body_start: int) -> list[Section]:
    """The body cut at Markdown headings, each with its heading path."""
    marks = [m for m in _HEADING.finditer(text) if m.start() >= body_start]
    out: list[Section] = []
    path: list[tuple[int, str]] = []
    cursor = body_start
    heads: tuple[str, ...] = ()
    for mark in marks:
        if mark.start() > cursor:
            out.append(Section(heads, cursor, mark.start()))
        text_of = mark.group(2)
        level, name = len(mark.group(1)), (text_of.rstrip(" \t#") or text_of[0]).strip()
        path = [(lvl, n) for lvl, n in path if lvl < level] + [(level, name)]
        heads = tuple(n for _, n in path)
        cursor = mark.end()
    if cursor < len(text):
        out.append(Section(heads, cursor, len(text)))
    return out


_splitter = RecursiveCharacterTextSplitter(
    chunk_size=CHUNK_SIZE,
    chunk_overlap=CHUNK_OVERLAP,
    separators=["\n\n", "\n", "。", ". ", "; ", ", ", " ", ""],
    keep_separator="end",
    add_start_index=True,
)


def question_records(doc: SourceText) -> list[Document]:
    """One record per question or alias of an article: found by retrieval, never quoted. A
    match lifts the article's passages (see bot/rag/retriever.py)."""
    return [
        Document(
            page_content=question,
            metadata={
                **doc.meta,
                "source": doc.source,
                "record": QUESTION_RECORD,
                "headings": "",
                "start": 0,
                "end": 0,
                "header_len": 0,
                "chunk": -1 - n,
                "verbatim_file": doc.verbatim_file,
            },
        )
        for n, question in enumerate(doc.questions)
    ]


def chunk(doc: SourceText) -> list[Document]:
    """Heading-aware, size-bounded chunks; page_content is a context line plus the verbatim text."""
    chunks: list[Document] = []
    title = doc.meta["title"]
    for section in sections(doc.text, doc.body_start):
        if section.headings and section.headings[-1].strip().lower() in SKIPPED_SECTIONS:
            continue
        raw = doc.text[section.start : section.end]
        for piece in _splitter.create_documents([raw]):
            body = piece.page_content
            offset = section.start + int(piece.metadata["start_index"])
            stripped = body.strip()
            if len(stripped) < 20:
                continue
            lead = body.find(stripped)
            start = offset + lead
            end = start + len(stripped)
            assert doc.text[start:end] == stripped
            heading = " > ".join(h for h in section.headings if h != title)
            context = f"{title} — {heading}" if heading else title
            header = context + "\n\n"
            chunks.append(
                Document(
                    page_content=header + stripped,
                    metadata={
                        **doc.meta,
                        "source": doc.source,
                        "headings": heading,
                        "start": start,
                        "end": end,
                        "header_len": len(header),
                        "chunk": len(chunks),
                        "verbatim_file": doc.verbatim_file,
                    },
                )
            )
    return chunks
