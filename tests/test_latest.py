"""What changed lately: dated developments read from knowledge files, and `python bot.py latest`."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from bot import cli
from bot.knowledge.latest import DATED_LINE, PUBLISHED, developments
from tests.helpers import FIXTURE_KNOWLEDGE, article

TODAY = dt.date(2026, 7, 1)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """The fixture articles (four dated Markdown files and one undated text file)."""
    target = tmp_path / "knowledge"
    shutil.copytree(FIXTURE_KNOWLEDGE, target)
    return target


def test_newest_first_with_date_jurisdiction_link_and_undated_files_left_out(folder: Path) -> None:
    found = developments(folder, today=TODAY)

    assert [(d.date, d.jurisdiction, d.source) for d in found] == [
        ("2025-03-18", "US", "knowledge/us-thaler.md"),
        ("2024-07-12", "EU", "knowledge/eu-ai-act.md"),
        ("2023-11-27", "CN", "knowledge/cn-li-v-liu.md"),
        ("1988-11-15", "UK", "knowledge/uk-cdpa.md"),
    ]  # us-docket.txt has no date
    first = found[0]
    assert first.title == "Thaler v. Perlmutter: no copyright without a human author"
    assert first.url == "https://example.org/us/thaler" and first.kind == "case"
    assert first.event == PUBLISHED and first.summary.endswith(".") and "\n" not in first.summary


def test_summary_is_the_first_sentence_of_in_short(tmp_path: Path) -> None:
    body = "Some preface.\n\n## In short\n**Yes:** the court held for the artist. Then more.\n\n## Sources\n- a\n"
    article(tmp_path / "k", "a.md", title="A case", published="2025-01-02", body=body)

    (only,) = developments(tmp_path / "k", today=TODAY)

    assert only.summary == "Yes: the court held for the artist."


def test_dated_timeline_lines_count_and_future_or_impossible_dates_do_not(tmp_path: Path) -> None:
    body = (
        "## In short\nA pending case.\n\n## Timeline\n"
        "- 21 January 2025: the suit is filed.\n"
        "- **9 March 2026**: oral hearing.\n"
        "* 2026-04-02 — written submissions.\n"
        "- 31 February 2026: a date that does not exist.\n"
        "- 12 June 2027: decision expected.\n\n"
        "## Sources\n- 1 May 2026: a press release listed as a source\n"
    )
    article(
        tmp_path / "k", "suit.md", title="Rights holders v. a music AI", published="2025-01-21", body=body
    )

    found = developments(tmp_path / "k", today=TODAY)

    assert [(d.date, d.summary, d.event) for d in found] == [
        ("2026-04-02", "written submissions.", DATED_LINE),
        ("2026-03-09", "oral hearing.", DATED_LINE),
        ("2025-01-21", "the suit is filed.", DATED_LINE),  # stands for the article's own date
    ]
    assert found[0].headline == "Rights holders v. a music AI — written submissions."
    assert developments(tmp_path / "k", today=dt.date(2027, 6, 12))[0].date == "2027-06-12"  # once it is here


def test_overviews_are_not_developments_and_unreadable_files_do_not_stop_the_rest(tmp_path: Path) -> None:
    folder = tmp_path / "k"
    article(folder, "overview.md", title="Everything compared", published="2026-06-30", kind="overview")
    article(folder, "ruling.md", title="A ruling", published="2025-05-01")
    (folder / "broken.md").write_text("---\ntitle: [unclosed\n---\nbody text here\n", encoding="utf-8")
    (folder / "scan.pdf").write_bytes(b"not really a PDF")  # its sidecar is read, never the PDF
    (folder / "scan.pdf.meta.yaml").write_text(
        "title: A scanned order\nurl: https://example.org/scan\npublished: 2025-06-01\njurisdiction: uk\n",
        encoding="utf-8",
    )

    found = developments(folder, today=TODAY)

    assert [(d.date, d.jurisdiction, d.title) for d in found] == [
        ("2025-06-01", "UK", "A scanned order"),
        ("2025-05-01", "US", "A ruling"),
    ]


def test_jurisdiction_and_topic_filters(folder: Path) -> None:
    def sources(**filters: str) -> list[str]:
        return [d.source.removeprefix("knowledge/") for d in developments(folder, today=TODAY, **filters)]

    assert sources(jurisdiction="us") == ["us-thaler.md"]
    assert sources(jurisdiction=" Eu ") == ["eu-ai-act.md"]
    assert sources(jurisdiction="FR") == []
    assert sources(topic="authorship") == ["us-thaler.md", "cn-li-v-liu.md", "uk-cdpa.md"]  # tags
    assert sources(topic="Labels") == ["eu-ai-act.md"]  # tag "labelling": plural and prefix forgiven
    assert sources(topic="stable-diffusion") == ["cn-li-v-liu.md"]  # title
    assert sources(topic="CASES") == ["us-thaler.md", "cn-li-v-liu.md"]  # kind
    assert sources(topic="authorship images") == ["cn-li-v-liu.md"]  # every word must match
    assert sources(topic="authorship", jurisdiction="uk") == ["uk-cdpa.md"]
    assert sources(topic="patents") == []


def run_cli(args: list[str], folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.chdir(tmp_path)  # no .env from the repository
    monkeypatch.setenv("KNOWLEDGE_DIR", str(folder))
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    return cli.main(args)


def test_cli_json_is_a_list_newest_first(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["latest", "--json"], folder, tmp_path, monkeypatch) == 0
    items = json.loads(capsys.readouterr().out)
    assert [(i["date"], i["jurisdiction"]) for i in items] == [
        ("2025-03-18", "US"),
        ("2024-07-12", "EU"),
        ("2023-11-27", "CN"),
        ("1988-11-15", "UK"),
    ]
    assert set(items[0]) == {"date", "jurisdiction", "title", "url", "source", "kind", "summary", "event"}

    filtered = ["latest", "--json", "--jurisdiction", "cn", "--topic", "images"]
    assert run_cli(filtered, folder, tmp_path, monkeypatch) == 0
    assert [i["source"] for i in json.loads(capsys.readouterr().out)] == ["knowledge/cn-li-v-liu.md"]
    assert not (tmp_path / "data").exists()  # no index was needed, nor made


def test_cli_text_is_one_line_each_and_says_when_nothing_matches(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["latest", "--limit", "2"], folder, tmp_path, monkeypatch) == 0
    assert capsys.readouterr().out.splitlines() == [
        "2025-03-18  US  Thaler v. Perlmutter: no copyright without a human author  <https://example.org/us/thaler>",
        "2024-07-12  EU  EU AI Act: labels for AI-generated content  <https://example.org/eu/ai-act>",
    ]
    assert run_cli(["latest", "--topic", "patents"], folder, tmp_path, monkeypatch) == 0
    assert capsys.readouterr().out == "Nothing dated matches that in the knowledge folder.\n"


def test_every_latest_option_has_help() -> None:
    parser = cli._parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    latest = sub.choices["latest"]
    options = [a for a in latest._actions if a.dest != "help"]
    assert {a.dest for a in options} == {"jurisdiction", "topic", "limit", "json"}
    assert all(a.help for a in options)
