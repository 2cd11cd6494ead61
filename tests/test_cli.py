"""The command line, run as a user runs it: `python bot.py ...` in a subprocess, from a folder
outside the repository (whose `.env` it would otherwise read) and without the developer's settings."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.helpers import ROOT, Site, run_bot

pytestmark = pytest.mark.slow


def run(args: list[str], kb: Path, data: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return run_bot(args, cwd=kb.parent, settings={"KNOWLEDGE_DIR": str(kb), "DATA_DIR": str(data), **env})


def test_ask_builds_the_index_then_answers_in_json(kb: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    done = run(["ask", "--json", "Can an AI-generated image be protected by copyright in China?"], kb, data)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1  # exactly one JSON object on stdout; progress went to stderr
    result = json.loads(lines[0])
    assert set(result) >= {"question", "status", "answer", "mode", "citations", "latency_ms"}
    assert result["status"] == "answered" and result["mode"] == "extractive"
    assert result["citations"][0]["source"] == "knowledge/cn-li-v-liu.md"
    assert "Indexing [" in done.stderr

    again = run(["reindex", "--json"], kb, data)
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert set(report) >= {"added", "updated", "skipped", "deleted", "failed", "chunks", "seconds"}
    assert (report["added"], report["updated"], report["deleted"]) == (0, 0, 0)
    assert report["skipped"] == report["chunks"] > 0

    text = run(["ask", "Who is the author of a computer-generated work in the UK?"], kb, data)
    assert text.returncode == 0
    assert "[1]" in text.stdout and "Sources:" in text.stdout and "not legal advice" in text.stdout
    assert "https://example.org/uk/cdpa" in text.stdout


def test_bad_input_gets_a_message_not_a_traceback(kb: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    empty = run(["ask", "   "], kb, data)
    assert empty.returncode != 0
    assert "question is empty" in empty.stderr and "Traceback" not in empty.stderr
    bad_setting = run(["ask", "hello"], kb, data, EMBEDDING_BACKEND="nonsense")
    assert bad_setting.returncode == 2
    assert "EMBEDDING_BACKEND" in bad_setting.stderr and "Traceback" not in bad_setting.stderr
    no_token = run(["run"], kb, data)
    assert no_token.returncode != 0
    assert "DISCORD_TOKEN" in no_token.stderr and "Traceback" not in no_token.stderr
    assert len(no_token.stderr.strip().splitlines()) == 1


def test_eval_writes_results_and_prints_metrics(kb: Path, tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        "\n".join(
            json.dumps(row)
            for row in [
                {
                    "id": "a",
                    "question": "Who owns an AI image in China?",
                    "expect": "answer",
                    "sources": ["knowledge/cn-li-v-liu.md"],
                    "kind": "factual",
                },
                {
                    "id": "b",
                    "question": "How do I bake bread?",
                    "expect": "decline",
                    "sources": [],
                    "kind": "out_of_scope",
                },
            ]
        )
    )
    out = tmp_path / "results.jsonl"
    done = run(["eval", str(questions), "--out", str(out), "--json"], kb, tmp_path / "data")
    assert done.returncode == 0, done.stderr
    metrics = json.loads(done.stdout.strip().splitlines()[-1])["overall"]
    assert metrics["hit@1"] == 1.0 and metrics["decline_accuracy"] == 1.0
    assert metrics["citation_validity"] == 1.0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["a", "b"]
    assert rows[1]["status"] == "out_of_scope"


def test_add_fetches_a_page_then_indexes_it(kb: Path, tmp_path: Path) -> None:
    site = Site()
    try:
        url = site.page(
            "/ruling.html",
            "<html><head><title>Freedonia court on AI songs</title></head><body><p>The Freedonia "
            "Court of Appeal held in 2026 that a song written entirely by an AI model has no author "
            "and so no copyright.</p></body></html>",
        )
        refused = run(["add", url, "--json"], kb, tmp_path / "data")
        assert refused.returncode == 1 and "private" in refused.stderr and "Traceback" not in refused.stderr
        done = run(["add", url, "--allow-private", "--jurisdiction", "US", "--json"], kb, tmp_path / "data")
    finally:
        site.close()
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["url"] == url and result["index"]["added"] > 0
    saved = (kb / result["file"]).read_text(encoding="utf-8")
    assert "title: Freedonia court on AI songs" in saved and "no author" in saved


def test_a_copied_env_example_gives_plain_messages_and_no_voice_warnings(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text(encoding="utf-8"), encoding="utf-8")

    def newcomer(*args: str) -> subprocess.CompletedProcess[str]:
        return run_bot(list(args), cwd=tmp_path, timeout=120)

    listed = newcomer("commands")
    assert listed.returncode == 0, listed.stderr
    assert {c["name"] for c in json.loads(listed.stdout)} >= {"ask", "reindex"}
    assert listed.stderr == ""  # no "PyNaCl/davey is not installed, voice will NOT be supported"

    started = newcomer("run")
    assert started.returncode == 2
    assert started.stderr.strip().splitlines() == [
        "error: DISCORD_TOKEN is still the example value from .env.example: put your bot's token "
        "there (see docs/discord.md)"
    ]
