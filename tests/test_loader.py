"""Loading and splitting knowledge files: every chunk can be traced back to its file."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from bot.core.text import sentences
from bot.knowledge import loader
from tests.helpers import minimal_pdf


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_markdown_front_matter_becomes_metadata(kb: Path) -> None:
    doc = loader.load_file(kb, kb / "cn-li-v-liu.md")
    assert doc.source == "knowledge/cn-li-v-liu.md"
    assert doc.meta["title"].startswith("Li v. Liu")
    assert doc.meta["published"] == "2023-11-27"
    assert doc.meta["jurisdiction"] == "CN"
    assert doc.meta["url"] == "https://example.org/cn/li-v-liu"
    assert doc.meta["tags"] == "authorship, images"
    assert doc.text[doc.body_start :].startswith("# Li v. Liu")


def test_every_chunk_is_verbatim_at_its_offsets(kb: Path) -> None:
    texts, failures = loader.load_all(kb)
    assert not failures
    chunks = [c for t in texts for c in loader.chunk(t)]
    assert chunks
    by_source = {t.source: t for t in texts}
    for c in chunks:
        body = c.page_content[c.metadata["header_len"] :]
        source = by_source[c.metadata["source"]]
        assert source.text[c.metadata["start"] : c.metadata["end"]] == body
        assert (kb / c.metadata["source"].split("/", 1)[1]).read_text(encoding="utf-8").find(body) >= 0


def test_chunks_carry_heading_path_and_skip_the_sources_list(kb: Path) -> None:
    doc = loader.load_file(kb, kb / "cn-li-v-liu.md")
    chunks = loader.chunk(doc)
    headings = [c.metadata["headings"] for c in chunks]
    assert "What the court decided" in headings
    assert not any("example.org" in c.page_content for c in chunks)
    decided = next(c for c in chunks if c.metadata["headings"] == "What the court decided")
    assert decided.page_content.startswith("Li v. Liu: Beijing Internet Court protects")


def test_long_sections_are_split_under_the_size_bound(tmp_path: Path) -> None:
    kb = tmp_path / "knowledge"
    paragraph = "The tribunal considered the training data in detail and explained its view. " * 12
    write(kb / "long.md", "# Long\n\n## Part\n\n" + "\n\n".join([paragraph] * 6))
    chunks = loader.chunk(loader.load_file(kb, kb / "long.md"))
    assert len(chunks) > 3
    assert all(len(c.page_content) - c.metadata["header_len"] <= loader.CHUNK_SIZE for c in chunks)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("broken.md", "---\ntitle: [unclosed\n---\nbody text here", "broken front matter"),
        ("unclosed.md", "---\ntitle: x\nno closing line\n", "no closing '---'"),
        ("list.md", "---\n- a\n- b\n---\nbody text here", "not a mapping"),
        ("empty.md", "", "no readable text"),
        ("only-meta.md", "---\ntitle: x\n---\n   \n", "no readable text"),
        ("notes.docx", "binary", "unsupported file type .docx"),
    ],
)
def test_bad_files_are_skipped_with_the_reason(tmp_path: Path, name: str, content: str, reason: str) -> None:
    kb = tmp_path / "knowledge"
    write(kb / "good.md", "# Good\n\nA perfectly good article about copyright and AI models.")
    write(kb / name, content)
    texts, failures = loader.load_all(kb)
    assert [t.source for t in texts] == ["knowledge/good.md"]
    assert len(failures) == 1
    assert failures[0].source == f"knowledge/{name}"
    assert reason in failures[0].reason


def test_broken_front_matter_names_the_line(tmp_path: Path) -> None:
    kb = tmp_path / "knowledge"
    write(kb / "x.md", "---\ntitle: ok\npublished: [2024\n---\nBody text of the article.")
    _, failures = loader.load_all(kb)
    assert "line" in failures[0].reason


def test_non_utf8_text_is_skipped(tmp_path: Path) -> None:
    kb = tmp_path / "knowledge"
    (kb).mkdir()
    (kb / "latin1.txt").write_bytes("Caf\xe9 au lait and copyright".encode("latin-1"))
    _, failures = loader.load_all(kb)
    assert failures[0].reason.startswith("not UTF-8 text")


def test_html_keeps_readable_text_only(tmp_path: Path) -> None:
    kb = tmp_path / "knowledge"
    write(
        kb / "page.html",
        "<html><head><title>Court page</title><style>p{color:red}</style>"
        "<script>var secret = 1;</script></head><body><nav>Home | About</nav>"
        "<h1>Ruling</h1><p>The court held that the picture was a protected work.</p></body></html>",
    )
    doc = loader.load_file(kb, kb / "page.html")
    assert doc.meta["title"] == "Court page"
    assert "The court held that the picture was a protected work." in doc.text
    assert "secret" not in doc.text and "color" not in doc.text and "Home | About" not in doc.text


def test_a_pages_headings_and_paragraphs_are_not_run_together(tmp_path: Path) -> None:
    """An answer quotes sentences: a heading run into the paragraph after it would be quoted as
    "Ruling of the tribunal The court held ...". Headings come out as Markdown headings, which are
    never quoted, and each paragraph, list item or line break ends where it ends on the page."""
    kb = tmp_path / "knowledge"
    write(
        kb / "page.html",
        "<html><head><title>Court page</title></head><body><h1>Ruling of the <em>Freedonia</em> tribunal</h1>"
        "<div><p>The court held that the picture was a protected work.</p>Appeal pending<br>"
        "<h2>What it means</h2><ul><li>Prompts alone were not enough for the court.</li></ul></div></body></html>",
    )
    text = loader.load_file(kb, kb / "page.html").text
    quotable = [s.text for s in sentences(text)]
    assert "The court held that the picture was a protected work." in quotable
    assert "Prompts alone were not enough for the court." in quotable
    assert "# Ruling of the Freedonia tribunal" in text.splitlines()
    assert "## What it means" in text.splitlines() and "Appeal pending" in text.splitlines()


def test_pdf_text_layer_and_sidecar_metadata(tmp_path: Path) -> None:
    kb = tmp_path / "knowledge"
    kb.mkdir()
    (kb / "ruling.pdf").write_bytes(minimal_pdf("The tribunal protected the AI assisted drawing."))
    write(kb / "ruling.pdf.meta.yaml", "title: A ruling\njurisdiction: us\npublished: 2024-01-02\n")
    texts, failures = loader.load_all(kb)
    assert not failures
    assert "The tribunal protected the AI assisted drawing." in texts[0].text
    assert texts[0].meta["title"] == "A ruling"
    assert texts[0].meta["jurisdiction"] == "US"


def test_pdf_that_is_not_a_pdf_is_skipped(tmp_path: Path) -> None:
    kb = tmp_path / "knowledge"
    kb.mkdir()
    (kb / "fake.pdf").write_bytes(b"%PDF-1.4\n" + zlib.compress(b"garbage") * 3)
    _, failures = loader.load_all(kb)
    assert failures and failures[0].source == "knowledge/fake.pdf"


def test_nested_folders_are_read_and_hidden_files_and_sidecars_skipped(tmp_path: Path) -> None:
    kb = tmp_path / "knowledge"
    write(kb / "us" / "cases" / "deep.md", "# Deep\n\nA nested article about authorship of AI images.")
    write(kb / ".drafts" / "secret.md", "# Draft\n\nNot ready for publication in any way.")
    write(kb / ".hidden.md", "# Hidden\n\nNot ready for publication in any way.")
    write(kb / "x.pdf.meta.yaml", "title: orphan sidecar")
    texts, failures = loader.load_all(kb)
    assert [t.source for t in texts] == ["knowledge/us/cases/deep.md"]
    assert not failures


def test_title_defaults_to_the_file_name(tmp_path: Path) -> None:
    kb = tmp_path / "knowledge"
    write(kb / "fair-use_notes.txt", "Some plain notes on fair use and training data.")
    doc = loader.load_file(kb, kb / "fair-use_notes.txt")
    assert doc.meta["title"] == "fair use notes"
