"""Hostile files in the knowledge folder: a 50 MB PDF, a flood of tags, markup nested 100,000 deep
or left unterminated, binary and unsupported files. Each is refused with a reason or read without
harm, and the rest of the folder is indexed and answers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bot.core.types import Status
from bot.knowledge import loader
from bot.rag.engine import Engine
from tests.hostile import RURITANIA, Indexed, nested_html


def test_a_hostile_knowledge_folder_is_indexed_around_its_bad_files(hostile_index: Indexed) -> None:
    failed = {f.source: f.reason for f in hostile_index.report.failed}
    assert failed == {
        "knowledge/huge.pdf": "file is 50 MB; the limit is 20 MB",
        "knowledge/many-tags.html": (
            "the HTML has about 600,002 tags; the limit is 500,000 "
            "(save the page's text as .txt or .md instead)"
        ),
        "knowledge/garbage.txt": "contains NUL bytes: not a text file",
        "knowledge/tool.exe": "unsupported file type .exe; use .md, .txt, .html or .pdf",
    }
    assert hostile_index.pdfs_parsed == []  # the 50 MB PDF was refused by its size, never opened
    assert hostile_index.report.files == 8  # the five fixture files, the injected one and both HTML pages


def test_the_deeply_nested_page_is_indexed_and_answers(hostile_engine: Engine) -> None:
    result = hostile_engine.answer("Is a sculpture designed by AI protected by copyright in Ruritania?")
    assert result.status is Status.ANSWERED
    assert [c.source for c in result.citations][:1] == ["knowledge/deep.html"]
    assert RURITANIA in result.citations[0].quote


def test_100000_nested_divs_are_read_without_recursion(tmp_path: Path) -> None:
    kb = tmp_path / "knowledge"
    kb.mkdir()
    (kb / "deep.html").write_text(nested_html(100_000, RURITANIA), encoding="utf-8")
    depth = 0
    frame = sys._getframe()
    while frame.f_back is not None:
        depth, frame = depth + 1, frame.f_back
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + 60)  # reading must not recurse, however deep the markup
    try:
        doc = loader.load_file(kb, kb / "deep.html")
    finally:
        sys.setrecursionlimit(limit)
    assert doc.meta["title"] == "Ruritania tribunal on AI sculpture"
    assert doc.text == f"# Ruritania tribunal on AI sculpture\n\n{RURITANIA}"  # the title heads the text
    assert len(loader.chunk(doc)) == 1


@pytest.mark.parametrize(
    ("markup", "reason"),
    [
        ("<b>" * 500_001, "the HTML has about 500,003 tags; the limit is 500,000"),
        ("<![" * 10, "not readable HTML"),
    ],
    ids=["too-many-tags", "broken-declaration"],
)
def test_hostile_markup_is_refused_with_a_reason(tmp_path: Path, markup: str, reason: str) -> None:
    kb = tmp_path / "knowledge"
    kb.mkdir()
    (kb / "page.html").write_text("<p>Some text about AI and copyright.</p>" + markup, encoding="utf-8")
    texts, failures = loader.load_all(kb)
    assert texts == [] and [f.source for f in failures] == ["knowledge/page.html"]
    assert failures[0].reason.startswith(reason)


def test_unterminated_markup_at_the_end_keeps_the_text_before_it(tmp_path: Path) -> None:
    kb = tmp_path / "knowledge"
    kb.mkdir()
    for name, tail in {"tag": "<a " * 20_000, "comment": "<!--x>" * 20_000, "end": "</" * 20_000}.items():
        (kb / f"{name}.html").write_text(f"<p>{RURITANIA}</p>{tail}", encoding="utf-8")
        doc = loader.load_file(kb, kb / f"{name}.html")
        assert doc.text == RURITANIA, name
