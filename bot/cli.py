"""Command line: python bot.py ask|reindex|add|eval|latest|run|commands|sync."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from bot.config import Settings

log = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    from bot.build import offline_environment

    offline_environment()  # before anything can import sentence-transformers
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command != "run" or args.verbose:  # `run` logs at INFO, set up by the Discord runner
        logging.basicConfig(
            level=logging.DEBUG if args.verbose else logging.WARNING,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
    _quiet_libraries(args.verbose)
    try:
        settings = Settings()
    except ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0]).upper() if first.get("loc") else "a setting"
        print(f"error: {name} is not valid: {first['msg']}", file=sys.stderr)
        return 2
    from bot import logs

    logs.protect(settings)
    handler = {
        "ask": cmd_ask,
        "reindex": cmd_reindex,
        "add": cmd_add,
        "eval": cmd_eval,
        "latest": cmd_latest,
        "run": cmd_run,
        "commands": cmd_commands,
        "sync": cmd_sync,
    }[args.command]
    from bot.core.errors import BotError

    try:
        return int(handler(settings, args))
    except BotError as error:  # an engine or knowledge-folder error: its message says it all
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # a user sees one line; -v shows the traceback
        log.debug("Unexpected error", exc_info=True)
        print(f"error: unexpected {type(error).__name__}: {error}", file=sys.stderr)
        if not args.verbose:
            print("(run again with -v for the details)", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python bot.py", description="AI & copyright law assistant: answers with cited sources."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="answer a question with citations")
    ask.add_argument("question", help="the question, in quotes (any language)")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--jurisdiction", help="only sources from this jurisdiction (CN, US, EU, UK, ...)")
    reindex = sub.add_parser("reindex", help="bring the index in step with the knowledge folder")
    reindex.add_argument("--full", action="store_true", help="rebuild from scratch, then switch over")
    reindex.add_argument("--json", action="store_true", help="print one JSON summary object")
    reindex.add_argument(
        "--server", type=int, metavar="GUILD_ID", help="one server's own sources instead of the shared ones"
    )
    add = sub.add_parser("add", help="fetch a web page or PDF into the knowledge folder, then index it")
    add.add_argument("url", help="an http:// or https:// address")
    add.add_argument("--title", help="default: the page's <title>")
    add.add_argument("--publisher", help="default: the site's host name")
    add.add_argument("--published", help="publication date, YYYY-MM-DD (default: none)")
    add.add_argument("--jurisdiction", help="US, EU, UK, CN, ... (default: INTL)")
    add.add_argument(
        "--allow-private", action="store_true", help="also fetch from private and local addresses"
    )
    add.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate = sub.add_parser("eval", help="answer a question set (JSON lines) and score it")
    evaluate.add_argument(
        "file", type=Path, help='JSON lines, each with a "question"; gold fields ("expect", ...) to score'
    )
    evaluate.add_argument("--out", type=Path, help="write one result per line here")
    evaluate.add_argument("--json", action="store_true", help="print the metrics as JSON")
    evaluate.add_argument("--split", help='only the rows of this part of the set ("dev" or "holdout")')
    evaluate.add_argument(
        "--baselines",
        action="store_true",
        help="also run the textbook LangChain RAG, BM25 only and dense only, and print one table",
    )
    _latest_parser(sub)
    sub.add_parser("run", help="start the Discord bot")
    sub.add_parser("commands", help="print the slash commands that would be synced, as JSON")
    sub.add_parser("sync", help="sync the slash commands globally (needs DISCORD_TOKEN)")
    return parser


def _latest_parser(sub: Any) -> None:
    latest = sub.add_parser(
        "latest", help="the newest dated developments in the knowledge folder (no index needed)"
    )
    latest.add_argument("--jurisdiction", help="only this jurisdiction's code (US, EU, UK, CN, INTL, ...)")
    latest.add_argument("--topic", help="only articles whose title, tags or kind mention these words")
    latest.add_argument(
        "--limit", type=int, default=20, help="show at most this many, newest first (default 20; 0: all)"
    )
    latest.add_argument("--json", action="store_true", help="print one JSON list")


def _quiet_libraries(verbose: bool) -> None:
    for name in ("chromadb", "httpx", "sentence_transformers", "transformers", "langchain", "openai"):
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.ERROR)
    try:
        import transformers

        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()
    except ImportError:
        pass


class ProgressBar:
    """A one-line progress bar on stderr for reindexing."""

    def __init__(self, stream: TextIO = sys.stderr, heading: str = "") -> None:
        self.stream = stream
        self.heading = heading  # a line shown once, above the bar
        self.last = ""

    def __call__(self, progress: Any) -> None:
        if self.heading:
            self.stream.write(self.heading + "\n")
            self.heading = ""
        if progress.phase == "done":
            if self.last:
                self.stream.write("\n")
                self.stream.flush()
                self.last = ""
            return
        if progress.phase == "loading":
            line = "Reading the knowledge folder..."
        elif progress.phase == "switching":
            line = f"Switching to the new index ({progress.chunks_done} chunks)..."
        else:
            width = 30
            filled = width * progress.percent // 100
            line = (
                f"Indexing [{'#' * filled}{'.' * (width - filled)}] {progress.percent:3d}% "
                f"{progress.files_done}/{progress.files_total} files, {progress.chunks_done} chunks"
            )
        if line != self.last:
            self.stream.write("\r" + line.ljust(len(self.last)))
            self.stream.flush()
            self.last = line


def _parts(settings: Settings) -> Any:
    from bot.build import build

    return build(settings)


def _print_report(report: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
        return
    print(
        f"Indexed {report.files} files in {report.seconds:.1f} s: {report.added} chunks added, "
        f"{report.updated} updated, {report.skipped} unchanged, {report.deleted} removed; "
        f"{report.chunks} chunks in the index."
    )
    for failure in report.failed:
        print(f"  skipped {failure.source}: {failure.reason}")


def cmd_reindex(settings: Settings, args: argparse.Namespace) -> int:
    from bot.knowledge.scopes import Scope

    indexer = _parts(settings).indexer
    if args.server is not None:  # one server's own sources, under knowledge/servers/<id>/
        indexer = indexer.for_scope(Scope(args.server))
    report = indexer.reindex(full=args.full, progress=None if args.json else ProgressBar())
    _print_report(report, args.json)
    return 0


def cmd_add(settings: Settings, args: argparse.Namespace) -> int:
    parts = _parts(settings)
    path = parts.library.add_url(  # a SourceError is shown by main() like any other BotError
        args.url,
        title=args.title,
        publisher=args.publisher,
        published=args.published,
        jurisdiction=args.jurisdiction,
        allow_private=args.allow_private,
    )
    saved = parts.library.name_of(path)
    if not args.json:
        print(f"Saved {settings.knowledge_dir / saved}", file=sys.stderr)
    report = parts.indexer.reindex(progress=None if args.json else ProgressBar())
    if args.json:
        print(json.dumps({"file": saved, "url": args.url, "index": report.to_dict()}, ensure_ascii=False))
    else:
        _print_report(report, False)
    return 0


def _ready(settings: Settings, quiet: bool) -> Any:
    """The parts, with the index built first when there is none (so the quickstart is one command)."""
    parts = _parts(settings)
    bar = ProgressBar(heading="No index yet: building it from the knowledge folder (once).")
    report = parts.indexer.ensure_index(progress=bar)
    if report is not None and not quiet:
        _print_report(report, False)
    return parts


def cmd_ask(settings: Settings, args: argparse.Namespace) -> int:
    from bot.core.questions import check_question

    started = time.perf_counter()
    check_question(args.question, settings.max_question_chars)  # before loading anything heavy
    engine = _ready(settings, args.json).engine
    result = engine.answer(args.question, jurisdiction=args.jurisdiction)
    if args.json:
        data = result.to_dict()
        data["latency_ms"] = round((time.perf_counter() - started) * 1000)
        print(json.dumps(data, ensure_ascii=False))
        return 0
    print(render_text(result))
    return 0


def render_text(result: Any) -> str:
    """An answer for a terminal: text, numbered sources with jurisdiction and date, disclaimer."""
    from bot.core.types import by_source

    lines = [result.answer]
    if result.note:
        lines += ["", f"({result.note})"]
    if result.citations:
        lines += ["", "Sources:"]
        for numbers, c in by_source(result.citations):
            where = ", ".join(x for x in (c.jurisdiction, c.published, c.publisher) if x)
            lines.append(f"  {' '.join(f'[{n}]' for n in numbers)} {c.title} ({where})")
            if c.url:
                lines.append(f"      {c.url}")
    elif result.closest:
        lines += ["", "Closest sources I have:"]
        for c in result.closest:
            lines.append(f"  - {c.title} ({c.jurisdiction}, {c.published}) {c.url}")
    lines += ["", result.disclaimer]
    return "\n".join(lines)


def cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    from bot.eval import evaluate

    try:
        rows = evaluate.read_questions(args.file, args.split)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    parts = _ready(settings, True)
    engine = parts.engine
    if args.baselines:
        return _eval_baselines(parts, rows, args.json)
    if args.out:
        with args.out.open("w", encoding="utf-8") as out:
            results = evaluate.answer_all(engine, rows, out)
    else:
        results = evaluate.answer_all(engine, rows)
    if not any("expect" in row for row in rows):
        print(f"Answered {len(rows)} questions.")
        return 0
    report = evaluate.score(results, evaluate.QuoteChecker(settings.knowledge_dir))
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        print(evaluate.format_table(report))
    return 0


def _eval_baselines(parts: Any, rows: list[dict[str, Any]], as_json: bool) -> int:
    """Ours and the three baselines on the same index and questions: one table."""
    from bot.eval import baselines

    settings = parts.settings
    if not any("expect" in row for row in rows):
        print("error: --baselines needs questions with gold fields (expect, sources, kind)", file=sys.stderr)
        return 2
    systems = baselines.make_systems(settings, embeddings=parts.embeddings, client=parts.client)
    comparison = baselines.compare(systems, rows, knowledge_dir=settings.knowledge_dir)
    if as_json:
        print(json.dumps(comparison.to_dict(), ensure_ascii=False))
    else:
        print(baselines.format_comparison(comparison))
    return 0


def cmd_latest(settings: Settings, args: argparse.Namespace) -> int:
    from bot.knowledge.latest import developments

    found = developments(settings.knowledge_dir, jurisdiction=args.jurisdiction, topic=args.topic)
    if args.limit > 0:
        found = found[: args.limit]
    if args.json:
        print(json.dumps([d.to_dict() for d in found], ensure_ascii=False))
        return 0
    if not found:
        print("Nothing dated matches that in the knowledge folder.")
        return 0
    width = max(len(d.jurisdiction) for d in found)
    for d in found:
        link = f"  <{d.url}>" if d.url else ""
        print(f"{d.date}  {d.jurisdiction.ljust(width)}  {' '.join(d.headline.split())}{link}")
    return 0


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    runner = _discord_runner()
    if runner is None:
        return 2
    return int(runner.run(settings))


def cmd_commands(settings: Settings, args: argparse.Namespace) -> int:
    runner = _discord_runner()
    if runner is None:
        return 2
    print(json.dumps(runner.command_tree_json(settings), indent=2, ensure_ascii=False))
    return 0


def cmd_sync(settings: Settings, args: argparse.Namespace) -> int:
    runner = _discord_runner()
    if runner is None:
        return 2
    return int(runner.sync(settings))


def _discord_runner() -> Any:
    try:
        from bot.discordbot import runner
    except ImportError as error:
        print(f"error: the Discord bot is not available in this install ({error}).", file=sys.stderr)
        return None
    return runner
