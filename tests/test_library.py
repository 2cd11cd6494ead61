"""The knowledge library: what `/sources add|list|remove` do to the knowledge folder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.knowledge.library import (
    MAX_SOURCE_BYTES,
    SourceError,
    SourceFile,
    list_sources,
    remove_source,
    save_source,
)
from bot.knowledge.loader import load_file, parse_front_matter

META: dict[str, Any] = {
    "title": "Court rules on AI art",
    "url": "https://example.org/news/ai-art",
    "publisher": "Example News",
    "published": "2025-03-07",
    "jurisdiction": "cn",
}


def _front_matter(path: Path) -> dict[str, object]:
    meta, _ = parse_front_matter(path.read_text(encoding="utf-8"))
    return meta


def test_markdown_upload_gets_front_matter_and_is_loadable(tmp_path: Path) -> None:
    path = save_source(tmp_path, "ai-art.md", b"# AI art\n\nThe court held that ...\n", **META)

    assert path == (tmp_path / "ai-art.md").resolve()
    meta = _front_matter(path)
    assert meta == {
        "title": "Court rules on AI art",
        "url": "https://example.org/news/ai-art",
        "publisher": "Example News",
        "published": "2025-03-07",
        "jurisdiction": "CN",
        "kind": "news",
        "tags": [],
    }
    assert path.read_text(encoding="utf-8").endswith("# AI art\n\nThe court held that ...\n")
    loaded = load_file(tmp_path, path)  # the indexer's loader reads it back
    assert loaded.meta["title"] == "Court rules on AI art"
    assert loaded.meta["published"] == "2025-03-07"


def test_existing_front_matter_keeps_extra_keys_and_ours_win(tmp_path: Path) -> None:
    upload = b"---\ntitle: Old title\ntags: [training]\nstatus_as_of: 2025-01-01\n---\nBody text here.\n"
    path = save_source(tmp_path, "note.txt", upload, **META)

    meta = _front_matter(path)
    assert meta["title"] == "Court rules on AI art"
    assert meta["tags"] == []
    assert str(meta["status_as_of"]) == "2025-01-01"
    assert path.read_text(encoding="utf-8").count("---\n") == 2


def test_pdf_and_html_get_a_sidecar(tmp_path: Path) -> None:
    pdf = save_source(tmp_path, "ruling.pdf", b"%PDF-1.7\n...", **META)
    html = save_source(tmp_path, "page.html", b"<html><title>x</title><p>Hi</p></html>", **META)

    for path in (pdf, html):
        sidecar = path.with_name(path.name + ".meta.yaml")
        meta = yaml.safe_load(sidecar.read_text(encoding="utf-8"))
        assert meta["publisher"] == "Example News"
        assert meta["kind"] == "news"
    assert pdf.read_bytes() == b"%PDF-1.7\n..."  # binary files are stored untouched


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../evil.md", "plain file name"),
        ("sub/evil.md", "plain file name"),
        ("/etc/passwd.md", "plain file name"),
        ("..\\evil.md", "'\\'"),
        ("C:evil.md", "':'"),
        ("bad\nname.md", "control characters"),
        ("tab\tname.md", "control characters"),
        (".hidden.md", "dot"),
        ("script.py", "Only .md, .txt, .html, .pdf"),
        ("noext", "no extension"),
        ("x.pdf.meta.yaml", "reserved"),
        ("", "needs a name"),
    ],
)
def test_unsafe_or_unsupported_names_are_refused(tmp_path: Path, name: str, message: str) -> None:
    with pytest.raises(SourceError) as caught:
        save_source(tmp_path / "kb", name, b"text", **META)
    assert message in str(caught.value)
    assert list(tmp_path.rglob("*")) == []  # nothing written, not even the folder


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("published", "7 March 2025", "ISO date"),
        ("published", "2025-02-30", "ISO date"),
        ("url", "javascript:alert(1)", "http"),
        ("url", "example.org", "http"),
        ("title", "   ", "title is required"),
        ("jurisdiction", "United States of America", "short code"),
    ],
)
def test_bad_metadata_is_refused_with_a_reason(tmp_path: Path, field: str, value: str, message: str) -> None:
    with pytest.raises(SourceError) as caught:
        save_source(tmp_path, "ok.md", b"text", **{**META, field: value})
    assert message in str(caught.value)
    assert not (tmp_path / "ok.md").exists()


def test_bad_content_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="empty"):
        save_source(tmp_path, "a.md", b"", **META)
    with pytest.raises(SourceError, match="UTF-8"):
        save_source(tmp_path, "b.md", b"\xff\xfe\x00bad", **META)
    with pytest.raises(SourceError, match="PDF"):
        save_source(tmp_path, "c.pdf", b"<html>not a pdf</html>", **META)
    with pytest.raises(SourceError, match="limit"):
        save_source(tmp_path, "d.txt", b"x" * (MAX_SOURCE_BYTES + 1), **META)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    save_source(tmp_path, "same.md", b"first", **META)
    with pytest.raises(SourceError, match="already exists"):
        save_source(tmp_path, "same.md", b"second", **META)
    assert (tmp_path / "same.md").read_text(encoding="utf-8").endswith("first")


def test_a_symlink_is_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.md"
    kb = tmp_path / "kb"
    kb.mkdir()
    os.symlink(outside, kb / "link.md")  # dangling: writing through it would create `outside`
    with pytest.raises(SourceError, match="already exists"):
        save_source(kb, "link.md", b"text", **META)
    assert not outside.exists()
    with pytest.raises(SourceError, match="not allowed"):
        remove_source(kb, "link.md")


def test_no_partial_files_are_left_behind(tmp_path: Path) -> None:
    save_source(tmp_path, "one.md", b"text", **META)
    with pytest.raises(SourceError):
        save_source(tmp_path, "one.md", b"text", **META)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.md"]


def test_list_shows_metadata_and_skips_sidecars_hidden_files_and_readme(tmp_path: Path) -> None:
    save_source(tmp_path, "b.pdf", b"%PDF-1.4", **META)
    save_source(tmp_path, "a.md", b"text", **{**META, "title": "Alpha", "jurisdiction": "US"})
    (tmp_path / ".hidden.md").write_text("x", encoding="utf-8")
    (tmp_path / "README.md").write_text("x", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "plain-note.txt").write_text("no front matter", encoding="utf-8")
    (tmp_path / "broken.md").write_text("---\ntitle: [unclosed\n---\nx", encoding="utf-8")

    assert list_sources(tmp_path) == [
        SourceFile("a.md", "Alpha", "US", "2025-03-07", "news"),
        SourceFile("b.pdf", "Court rules on AI art", "CN", "2025-03-07", "news"),
        SourceFile("broken.md", "broken", "", "", ""),
        SourceFile("sub/plain-note.txt", "plain note", "", "", ""),
    ]


def test_list_of_a_missing_folder_is_empty(tmp_path: Path) -> None:
    assert list_sources(tmp_path / "nope") == []


def test_remove_deletes_the_file_and_its_sidecar(tmp_path: Path) -> None:
    save_source(tmp_path, "r.pdf", b"%PDF-1.4", **META)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.md").write_text("x", encoding="utf-8")

    remove_source(tmp_path, "r.pdf")
    remove_source(tmp_path, "sub/x.md")

    assert sorted(p.name for p in tmp_path.rglob("*")) == ["sub"]


@pytest.mark.parametrize("name", ["missing.md", "../outside.md", "sub/../../outside.md", ""])
def test_remove_refuses_missing_or_unsafe_names(tmp_path: Path, name: str) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    (tmp_path / "outside.md").write_text("keep me", encoding="utf-8")
    with pytest.raises(SourceError):
        remove_source(kb, name)
    assert (tmp_path / "outside.md").exists()
