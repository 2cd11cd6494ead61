"""The knowledge folder as a library of sources: list, add and remove files safely.

`KnowledgeFolder` is the folder as one object, built once (`bot.build.build`) and used by the
Discord admin commands (`/sources add|list|remove`) and the command line (`add`); it knows
nothing about Discord. Every name that comes from a user is checked before it touches
the file system, and nothing is ever written outside the knowledge folder.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import yaml

from bot import jurisdictions
from bot.core.errors import SourceError
from bot.knowledge.loader import (
    MAX_FILE_BYTES,
    SIDECAR,
    LoadError,
    iter_files,
    known_meta,
    load_meta_yaml,
    parse_front_matter,
)
from bot.knowledge.scopes import BASE, SERVERS_FOLDER, Scope

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

ALLOWED_SUFFIXES = (".md", ".txt", ".html", ".pdf")
TEXT_SUFFIXES = (".md", ".txt")
MAX_SOURCE_BYTES = MAX_FILE_BYTES
MAX_NAME_CHARS = 120
MAX_FIELD_CHARS = 300
DEFAULT_KIND = "news"

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class SourceFile:
    """One file of the knowledge folder, as `/sources list` shows it."""

    path: str  # relative to its scope's folder, with "/" separators
    title: str
    jurisdiction: str
    published: str  # ISO date, "" when unknown
    kind: str  # "case", "statute", "news", ... ; "" when unknown
    size: int = field(default=0, compare=False)  # bytes, with its sidecar
    scope: Scope = field(default=BASE, compare=False)  # the shared sources, or one server's own


class KnowledgeFolder:
    """One scope of the knowledge folder (the shared base by default, or one server's own
    sources): its sources listed, a file saved into it, an address fetched into it, a source
    removed. With settings, fetching follows their limits (FETCH_*), and a server's own sources
    theirs (SERVER_MAX_SOURCES, SERVER_MAX_BYTES)."""

    def __init__(self, path: Path, settings: Settings | None = None, scope: Scope = BASE) -> None:
        self.path = path
        self.scope = scope
        self._settings = settings

    @classmethod
    def from_settings(cls, settings: Settings) -> KnowledgeFolder:
        return cls(settings.knowledge_dir, settings)

    def for_scope(self, scope: Scope) -> KnowledgeFolder:
        """The same folder, another scope (a server's own sources, or the shared base)."""
        return KnowledgeFolder(self.path, self._settings, scope)

    def sources(self) -> list[SourceFile]:
        return list_sources(self.path, self.scope)

    def holds(self, name: str) -> bool:
        """Whether this scope has a file of that name (as `sources()` shows it), without reading
        every source's metadata to find out."""
        try:
            rel = check_name(name, for_new_file=False)
        except SourceError:
            return False
        path = self.scope.folder(self.path).joinpath(*PurePosixPath(rel).parts)
        return path.is_file() and self.scope.holds(self.path, path)

    def room(self, adding: int) -> None:
        """SourceError when adding `adding` bytes would pass a server's limits."""
        if self._settings is not None:
            check_room(
                self.path,
                self.scope,
                adding,
                max_sources=self._settings.server_max_sources,
                max_bytes=self._settings.server_max_bytes,
            )

    def save(
        self,
        filename: str,
        data: bytes,
        *,
        title: str,
        url: str,
        publisher: str,
        published: str,
        jurisdiction: str,
    ) -> Path:
        self.room(len(data))
        return save_source(
            self.path,
            filename,
            data,
            title=title,
            url=url,
            publisher=publisher,
            published=published,
            jurisdiction=jurisdiction,
            scope=self.scope,
        )

    def add_url(
        self,
        url: str,
        *,
        title: str | None = None,
        publisher: str | None = None,
        published: str | None = None,
        jurisdiction: str | None = None,
        allow_private: bool = False,
    ) -> Path:
        """Fetch a web page or PDF into the folder (see `bot.knowledge.fetch.add_url`);
        `allow_private` allows private and local addresses even where the settings do not."""
        from bot.knowledge import fetch  # it builds on this module's checks

        self.room(0)
        options = fetch.settings_options(self._settings) if self._settings is not None else {}
        options["allow_private"] = bool(options.get("allow_private")) or allow_private
        path = fetch.add_url(
            self.path,
            url,
            title=title,
            publisher=publisher,
            published=published,
            jurisdiction=jurisdiction,
            scope=self.scope,
            **options,
        )
        if self._settings is not None and not self.scope.is_base:  # its size is known only now
            used, limit = sum(s.size for s in self.sources()), self._settings.server_max_bytes
            if used > limit:
                self.remove(self.name_of(path))
                raise SourceError(
                    f"That page would bring this server's own sources to {_mb(used)}, over the "
                    f"{_mb(limit)} it may use. Remove a source with `/sources remove` first."
                )
        return path

    def remove(self, name: str) -> None:
        remove_source(self.path, name, self.scope)

    def name_of(self, path: Path) -> str:
        """A file's name as `sources()` shows it: relative to the scope's folder, "/" separators."""
        return path.relative_to(self.scope.folder(self.path).resolve()).as_posix()


def list_sources(knowledge_dir: Path, scope: Scope = BASE) -> list[SourceFile]:
    """Every file of one scope the indexer would read (the shared base by default), sorted by
    path, with its metadata."""
    out: list[SourceFile] = []
    folder = scope.folder(knowledge_dir)
    for path in iter_files(knowledge_dir, scope):
        rel = path.relative_to(folder).as_posix()
        sidecar = path.with_name(path.name + SIDECAR)
        meta = _read_meta(path)
        title = _text(meta.get("title")) or path.stem.replace("-", " ").replace("_", " ")
        out.append(
            SourceFile(
                path=rel,
                title=title,
                jurisdiction=jurisdictions.normalise(meta.get("jurisdiction")),
                published=_text(meta.get("published"))[:10],
                kind=_text(meta.get("kind")),
                size=path.stat().st_size + (sidecar.stat().st_size if sidecar.is_file() else 0),
                scope=scope,
            )
        )
    return out


def check_room(knowledge_dir: Path, scope: Scope, adding: int, *, max_sources: int, max_bytes: int) -> None:
    """SourceError when a server's own sources are at their limits (the shared base has none)."""
    if scope.is_base:
        return
    have = list_sources(knowledge_dir, scope)
    if len(have) >= max_sources:
        raise SourceError(
            f"This server already has {len(have)} sources of its own, the most it can have. "
            "Remove one with `/sources remove` first."
        )
    used = sum(s.size for s in have)
    if used + adding > max_bytes:
        raise SourceError(
            f"This server's own sources take {_mb(used)} of the {_mb(max_bytes)} it may use; "
            f"this one needs {_mb(adding)} more. Remove a source with `/sources remove` first."
        )


def save_source(
    knowledge_dir: Path,
    filename: str,
    data: bytes,
    *,
    title: str,
    url: str,
    publisher: str,
    published: str,
    jurisdiction: str,
    scope: Scope = BASE,
) -> Path:
    """Write an uploaded file into a scope's folder with its metadata; return its path.

    Markdown and text files get YAML front matter (merged over any they already have); HTML and
    PDF files get a sidecar `<file>.meta.yaml`. An existing file is never overwritten.
    """
    name = check_name(filename, for_new_file=True)
    suffix = Path(name).suffix.lower()
    if not data:
        raise SourceError("The file is empty.")
    if len(data) > MAX_SOURCE_BYTES:
        size, limit = _mb(len(data)), _mb(MAX_SOURCE_BYTES)
        if size == limit:  # "20.0 MB; the limit is 20.0 MB" would make no sense
            size, limit = f"{len(data):,} bytes", f"{MAX_SOURCE_BYTES:,} bytes"
        raise SourceError(f"The file is {size}; the limit is {limit}.")
    meta: dict[str, Any] = {
        "title": check_field("title", title),
        "url": check_url(url),
        "publisher": check_field("publisher", publisher),
        "published": check_date(published),
        "jurisdiction": check_jurisdiction(jurisdiction),
        "kind": DEFAULT_KIND,
        "tags": [],
    }

    folder = scope.folder(knowledge_dir).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    sidecar = folder / (name + SIDECAR)
    if target.parent != folder:  # check_name makes this impossible; belt and braces
        raise SourceError("That file name is not allowed.")
    if os.path.lexists(target) or (suffix not in TEXT_SUFFIXES and os.path.lexists(sidecar)):
        raise SourceError(f"A source named {name} already exists; remove it first.")

    if suffix in TEXT_SUFFIXES:
        write_new(target, _with_front_matter(data, meta))
    else:
        check_binary(suffix, data)
        write_new(target, data)
        try:
            write_new(sidecar, dump_meta(meta).encode("utf-8"))
        except BaseException:
            target.unlink(missing_ok=True)
            raise
    log.info("Saved source %s (%d bytes)", name, len(data))
    return target


def remove_source(knowledge_dir: Path, name: str, scope: Scope = BASE) -> None:
    """Delete one of a scope's files (and its sidecar); SourceError if it is missing, unsafe or
    another scope's."""
    rel = check_name(name, for_new_file=False)
    folder = scope.folder(knowledge_dir).resolve()
    target = folder.joinpath(*PurePosixPath(rel).parts)
    if not target.resolve().is_relative_to(folder) or target.is_symlink():
        raise SourceError("That file name is not allowed.")
    if scope.is_base and PurePosixPath(rel).parts[0] == SERVERS_FOLDER:
        raise SourceError("That file is one server's own source, not one of the shared sources.")
    if not target.is_file():
        raise SourceError(f"There is no source named {rel}.")
    target.unlink()
    sidecar = target.with_name(target.name + SIDECAR)
    if sidecar.is_file() and not sidecar.is_symlink():
        sidecar.unlink()
    log.info("Removed source %s", rel)


def check_name(name: str, *, for_new_file: bool) -> str:
    """A safe name below the knowledge folder, or SourceError.

    New files must be plain names (no folders). Existing files may be named by their relative
    path as `list_sources` shows it, but never with `..`, a leading `/` or a drive.
    """
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        raise SourceError("The file needs a name.")
    if len(name) > MAX_NAME_CHARS:
        raise SourceError(f"The file name is longer than {MAX_NAME_CHARS} characters.")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise SourceError("The file name contains control characters.")
    if "\\" in name or ":" in name:
        raise SourceError("The file name may not contain '\\' or ':'.")
    parts = name.split("/")
    if for_new_file and len(parts) > 1:
        raise SourceError("Give a plain file name, without folders.")
    if name.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise SourceError("The file name may not contain folder parts like '..' or '/'.")
    if any(p.startswith(".") for p in parts):
        raise SourceError("The file name may not start with a dot.")
    if name.endswith(SIDECAR):
        raise SourceError(f"Names ending in {SIDECAR} are reserved for metadata files.")
    suffix = PurePosixPath(name).suffix.lower()
    if for_new_file and suffix not in ALLOWED_SUFFIXES:
        allowed = ", ".join(ALLOWED_SUFFIXES)
        raise SourceError(f"Only {allowed} files can be added (got {suffix or 'no extension'}).")
    return name


# -- metadata ------------------------------------------------------------------------------------


def _read_meta(path: Path) -> dict[str, Any]:
    """Front matter or sidecar of a file; {} when it has none or it cannot be read."""
    try:
        if path.suffix.lower() in (".pdf", ".html", ".htm"):
            side = path.with_name(path.name + SIDECAR)
            if not side.is_file():
                return {}
            data = load_meta_yaml(side.read_text(encoding="utf-8"))
        else:
            head = path.read_bytes()[:65536].decode("utf-8-sig", errors="replace")
            data, _ = parse_front_matter(head.replace("\r\n", "\n"))
    except (OSError, yaml.YAMLError, LoadError) as error:
        log.debug("No metadata for %s: %s", path, error)
        return {}
    return known_meta(data) if isinstance(data, dict) else {}


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def check_field(field: str, value: str) -> str:
    """A required one-line field (title, publisher) on one line, or SourceError saying why not."""
    value = " ".join((value or "").split())
    if not value:
        raise SourceError(f"The {field} is required.")
    if len(value) > MAX_FIELD_CHARS:
        raise SourceError(f"The {field} is longer than {MAX_FIELD_CHARS} characters.")
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise SourceError(f"The {field} contains control characters.")
    return value


def check_url(url: str) -> str:
    """A full http(s) address, or SourceError."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in url):
        raise SourceError("The url must be a full http:// or https:// address.")
    if len(url) > 2000:
        raise SourceError("The url is longer than 2,000 characters.")
    return url


def check_date(published: str) -> str:
    """An ISO date (2024-05-31), or SourceError."""
    published = (published or "").strip()
    try:
        if not _ISO_DATE.fullmatch(published):
            raise ValueError
        dt.date.fromisoformat(published)
    except ValueError:
        raise SourceError("The date must be an ISO date like 2024-05-31.") from None
    return published


def check_jurisdiction(jurisdiction: str) -> str:
    """A jurisdiction code ("us" -> "US"), or SourceError."""
    code = jurisdictions.normalise(jurisdiction)
    if not jurisdictions.is_code(code):
        raise SourceError("The jurisdiction must be a short code like US, EU, UK or CN.")
    return code


def dump_meta(meta: dict[str, Any]) -> str:
    """Metadata as the YAML of front matter or a sidecar file, in the order given."""
    return yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, default_flow_style=False)


def _with_front_matter(data: bytes, meta: dict[str, Any]) -> bytes:
    """The text with our front matter on top, keeping the known keys of any it had (aliases,
    questions, tags…); unknown keys are dropped, YAML anchors and aliases refused."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SourceError(f"The file is not UTF-8 text (bad byte at {error.start}).") from None
    if "\x00" in text:
        raise SourceError("The file contains NUL bytes: it is not a text file.")
    text = text.replace("\r\n", "\n")
    try:
        existing, body_start = parse_front_matter(text)
    except LoadError as error:
        raise SourceError(f"The file's own front matter is broken: {error}") from None
    merged = {**existing, **meta}
    body = text[body_start:].lstrip("\n")
    if not body.strip():
        raise SourceError("The file has no text after its front matter.")
    return f"---\n{dump_meta(merged)}---\n{body}".encode()


def check_binary(suffix: str, data: bytes) -> None:
    """SourceError unless a PDF starts like one and HTML holds no NUL bytes."""
    if suffix == ".pdf" and data.lstrip()[:5] != b"%PDF-":
        raise SourceError("The file does not look like a PDF.")
    if suffix == ".html" and b"\x00" in data:
        raise SourceError("The file does not look like HTML (it contains NUL bytes).")


def write_new(target: Path, data: bytes) -> None:
    """Write atomically and never replace an existing file (or follow a symlink) at `target`."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, target)  # fails if anything, even a dangling symlink, has that name
        except FileExistsError:
            message = f"A source named {target.name} already exists; remove it first."
            raise SourceError(message) from None
    finally:
        os.unlink(tmp)


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"
