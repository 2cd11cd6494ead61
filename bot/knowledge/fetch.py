"""Sources from the web, stored: fetch a page or PDF (safely, see `safe_http`) and save it in the
knowledge folder.

`/sources add url:` and `python bot.py add URL` call `add_url`, which fetches the address, keeps
its readable text and writes it beside the other sources; indexing it is the caller's next step.
It knows nothing about Discord and is blocking (the Discord side runs it in a thread).
"""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.config import Settings
from bot.core.errors import SourceError
from bot.knowledge import loader
from bot.knowledge.library import (
    DEFAULT_KIND,
    check_binary,
    check_date,
    check_field,
    check_jurisdiction,
    check_name,
    check_url,
    dump_meta,
    write_new,
)
from bot.knowledge.safe_http import (
    DEFAULT_MAX_BYTES,
    DEFAULT_TIMEOUT_SECONDS,
    HTML_TYPES,
    PDF_TYPES,
    TEXT_TYPES,
    Network,
    decode,
    fetch_source,
    fit_title,
)
from bot.knowledge.scopes import BASE, Scope

log = logging.getLogger(__name__)

DEFAULT_JURISDICTION = "INTL"
_SLUG = re.compile(r"[^a-z0-9]+")


def add_url(
    knowledge_dir: Path,
    url: str,
    *,
    allow_private: bool = False,
    title: str | None = None,
    publisher: str | None = None,
    published: str | None = None,
    jurisdiction: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    network: Network | None = None,
    scope: Scope = BASE,
) -> Path:
    """Fetch `url` and store it in the knowledge folder; return the new file's path.

    A web page (HTML or plain text) becomes `<name>.md` holding its readable text under front
    matter (title, url, publisher, published, fetched, jurisdiction, kind, tags); a PDF is saved
    as it is with a `<name>.pdf.meta.yaml` beside it holding the same fields. The name comes from
    the address, so adding the same address twice is refused instead of storing a copy.
    """
    # Check what the admin typed before spending a network request on it.
    given = {
        "title": check_field("title", title) if title else None,
        "publisher": check_field("publisher", publisher) if publisher else None,
        "published": check_date(published) if published else "",
        "jurisdiction": check_jurisdiction(jurisdiction) if jurisdiction else DEFAULT_JURISDICTION,
    }
    fetched = fetch_source(
        url, allow_private=allow_private, max_bytes=max_bytes, timeout=timeout, network=network
    )
    final_url = check_url(fetched.final_url)
    host = (urlsplit(final_url).hostname or "").removeprefix("www.")

    pdf: bytes | None = None
    text = ""
    if fetched.content_type in PDF_TYPES or fetched.data.lstrip()[:5] == b"%PDF-":
        pdf, suffix, page_title = fetched.data, ".pdf", _pdf_title(fetched.data)
        check_binary(".pdf", pdf)
    elif fetched.content_type in HTML_TYPES:
        text, suffix, page_title = fetched.text, ".md", fetched.title
    elif fetched.content_type in TEXT_TYPES:
        text, suffix, page_title = decode(fetched.data, fetched.charset, html=False), ".md", ""
    else:
        kind = fetched.content_type or "an unknown type"
        raise SourceError(f"That address serves {kind}, not a web page, text or PDF.")
    if pdf is None:
        text = text.replace("\r\n", "\n").replace("\x00", "").strip()
        if not text:
            raise SourceError("The page has no readable text (it may need JavaScript to show any).")
        if len(text) > loader.MAX_TEXT_CHARS:
            raise SourceError(
                f"The page has {len(text):,} characters of text; the limit is {loader.MAX_TEXT_CHARS:,}."
            )

    meta: dict[str, Any] = {
        "title": given["title"] or fit_title(page_title) or _fallback_title(final_url),
        "url": final_url,
        "publisher": given["publisher"] or host,
        "published": given["published"],
        "fetched": fetched.fetched_at.date().isoformat(),
        "jurisdiction": given["jurisdiction"],
        "kind": DEFAULT_KIND,
        "tags": [],
    }
    name = check_name(file_name(final_url, suffix), for_new_file=True)
    folder = scope.folder(knowledge_dir).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    sidecar = folder / (name + loader.SIDECAR)
    if target.exists() or target.is_symlink() or sidecar.exists():
        raise SourceError(f"This address was already added as {name}; remove that source first.")

    if pdf is not None:
        write_new(target, pdf)
        try:
            write_new(sidecar, dump_meta(meta).encode("utf-8"))
        except BaseException:
            target.unlink(missing_ok=True)
            raise
    else:
        write_new(target, f"---\n{dump_meta(meta)}---\n{text}\n".encode())
    log.info("Added %s from %s", name, final_url)
    return target


def file_name(url: str, suffix: str) -> str:
    """A file name from an address: host and path as a slug, plus a short hash of the address."""
    parts = urlsplit(url)
    host = (parts.hostname or "page").removeprefix("www.")
    slug = _SLUG.sub("-", f"{host} {parts.path}".lower()).strip("-")[:80].strip("-") or "page"
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:8]
    return f"{slug}-{digest}{suffix}"


def settings_options(settings: Settings) -> dict[str, Any]:
    """`allow_private`, `max_bytes` and `timeout` for `add_url` from the settings."""
    return {
        "allow_private": settings.fetch_allow_private,
        "max_bytes": settings.fetch_max_bytes,
        "timeout": settings.fetch_timeout_seconds,
    }


def _pdf_title(data: bytes) -> str:
    """The title in a PDF's own metadata, "" when it has none or cannot be read."""
    import io

    from pypdf import PdfReader

    try:
        info = PdfReader(io.BytesIO(data)).metadata
        return fit_title(str(info.title)) if info is not None and info.title else ""
    except Exception as error:  # a broken PDF is the loader's to report; the title is optional
        log.debug("No title in the PDF: %s", error)
        return ""


def _fallback_title(url: str) -> str:
    parts = urlsplit(url)
    return fit_title(f"{parts.hostname or ''}{parts.path}".rstrip("/")) or "Untitled page"
