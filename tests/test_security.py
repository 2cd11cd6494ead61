"""Security findings, each reproduced by the attack that found it.

1. a private answer in a thread became another member's context;
2. a provider's error text (with an echoed key) reached users;
3. quadratic regexes on file and model text froze the event loop;
4. a YAML alias bomb in front matter blew up every chunk's metadata;
5. a small PDF sharing one large stream across pages took seconds per reindex;
6. masked links and mention syntax in answers, previews and echoes;
7. a large ASCII page without a charset was decoded as UTF-16.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest

from bot import logs
from bot.config import Settings
from bot.core.errors import SourceError, StoreUnavailable
from bot.core.types import AnswerDelta, Status, Turn
from bot.discordbot.client import AnswerBot
from bot.discordbot.cogs.ask import AskCog
from bot.discordbot.cogs.mention import MentionCog
from bot.discordbot.errors import UserFacingError, describe
from bot.discordbot.feedback import FeedbackStore
from bot.discordbot.rendering import answer_text
from bot.discordbot.splitting import split_message
from bot.index import store
from bot.index.embeddings import LocalEmbeddings
from bot.index.indexer import Indexer
from bot.knowledge import loader
from bot.knowledge.library import save_source
from bot.rag import answer as answering
from bot.rag.engine import Engine
from tests.discord_fakes import (
    BOT_ID,
    CHANNEL_ID,
    GUILD_ID,
    TYPICAL,
    USER_ID,
    FakeEngine,
    invoke,
    make_bot,
    make_interaction,
    make_member,
    make_settings,
    next_id,
    set_bot_user,
)
from tests.llm_server import LLMServer, Reply

THREAD_ID = 700000000000000077
UPLOAD_META: dict[str, Any] = {
    "title": "Upload",
    "url": "https://example.org/upload",
    "publisher": "Example",
    "published": "2024-05-31",
    "jurisdiction": "CN",
}
OTHER_USER_ID = 300000000000000099

# -- 1. private answers stay private -----------------------------------------------------------


def _sent() -> MagicMock:
    message = MagicMock(spec=discord.Message)
    message.id = next_id()
    message.edit = AsyncMock(return_value=message)
    return message


def _thread() -> MagicMock:
    thread = MagicMock(spec=discord.Thread)
    thread.id = THREAD_ID
    thread.parent_id = CHANNEL_ID
    thread.owner_id = BOT_ID
    thread.send = AsyncMock(side_effect=lambda *a, **k: _sent())
    return thread


def _thread_message(content: str, author_id: int, reference: Any = None) -> MagicMock:
    message = MagicMock(spec=discord.Message)
    message.id = next_id()
    message.content = content
    message.author = make_member(author_id)
    message.webhook_id = None
    message.mentions = []
    message.raw_role_mentions = []
    message.reference = reference
    guild = MagicMock(spec=discord.Guild)
    guild.id = GUILD_ID
    guild.self_role = None
    message.guild = guild
    message.channel = _thread()
    message.create_thread = AsyncMock()
    message.reply = AsyncMock(side_effect=lambda *a, **k: _sent())
    return message


SECRET_QUESTION = "My client Acme secretly trained on leaked scans: is that infringement in the US?"


@pytest.fixture
def thread_bot(tmp_path: Path) -> tuple[AnswerBot, FakeEngine]:
    engine = FakeEngine(deltas=["Yes [1]."])
    bot = make_bot(make_settings(tmp_path, mention_mode=True), engine=engine)
    set_bot_user(bot)
    return bot, engine


async def _private_ask_in_thread(bot: AnswerBot) -> None:
    interaction = make_interaction(bot, channel_id=THREAD_ID)
    await invoke(AskCog(bot), "ask", interaction, SECRET_QUESTION, private=True)


async def test_a_private_answer_in_a_thread_is_not_another_members_context(
    thread_bot: tuple[AnswerBot, FakeEngine],
) -> None:
    bot, engine = thread_bot
    await _private_ask_in_thread(bot)
    assert engine.calls[-1]["question"] == SECRET_QUESTION

    follow_up = _thread_message("and what about the UK?", OTHER_USER_ID)
    await MentionCog(bot).on_message(follow_up)

    history = engine.calls[-1]["history"]
    assert engine.calls[-1]["question"] == "and what about the UK?"
    assert all(SECRET_QUESTION not in t.question for t in history)
    assert all(TYPICAL.answer not in t.answer for t in history)
    assert bot.feedback.recent_turns(THREAD_ID) == [Turn("and what about the UK?", TYPICAL.answer)]


async def test_a_public_answer_in_the_thread_is_still_context(
    thread_bot: tuple[AnswerBot, FakeEngine],
) -> None:
    bot, engine = thread_bot
    interaction = make_interaction(bot, channel_id=THREAD_ID)
    await invoke(AskCog(bot), "ask", interaction, "Is an AI image protected in China?")
    await MentionCog(bot).on_message(_thread_message("and the US?", OTHER_USER_ID))
    assert engine.calls[-1]["history"] == [Turn("Is an AI image protected in China?", TYPICAL.answer)]


async def test_a_reply_referencing_a_private_answer_does_not_borrow_it(
    thread_bot: tuple[AnswerBot, FakeEngine],
) -> None:
    bot, engine = thread_bot
    answer_id = bot.feedback.record_answer(
        TYPICAL, user_id=USER_ID, guild_id=GUILD_ID, channel_id=THREAD_ID, private=True
    )
    message_id = next_id()
    bot.feedback.attach_messages(answer_id, [message_id])
    reference = discord.MessageReference(message_id=message_id, channel_id=THREAD_ID)
    await MentionCog(bot).on_message(_thread_message("what about Japan?", OTHER_USER_ID, reference))
    assert engine.calls[-1]["history"] == []


def test_a_database_from_before_the_private_flag_is_upgraded(tmp_path: Path) -> None:
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    old = sa.create_engine(url)
    with old.begin() as conn:  # the answers table as it was before answers had a visibility
        conn.execute(
            sa.text(
                "CREATE TABLE answers (id INTEGER PRIMARY KEY, created_at DATETIME, guild_id BIGINT, "
                "channel_id BIGINT, user_id BIGINT, question TEXT, answer TEXT, status VARCHAR(20), "
                "mode VARCHAR(20), citations JSON)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO answers VALUES (1, '2026-01-01 00:00:00', 1, :c, 2, 'old q', 'old a', "
                "'answered', 'llm', '[]')"
            ),
            {"c": THREAD_ID},
        )
    old.dispose()
    store = FeedbackStore(url)
    store.record_answer(TYPICAL, user_id=USER_ID, guild_id=GUILD_ID, channel_id=THREAD_ID, private=True)
    assert store.recent_turns(THREAD_ID) == [Turn("old q", "old a")]
    store.close()


async def test_a_private_answers_quotes_are_shown_to_its_asker_only(
    thread_bot: tuple[AnswerBot, FakeEngine],
) -> None:
    from bot.discordbot.views import GONE, show_quotes

    bot, _ = thread_bot
    answer_id = bot.feedback.record_answer(
        TYPICAL, user_id=USER_ID, guild_id=GUILD_ID, channel_id=THREAD_ID, private=True
    )
    stranger = make_interaction(bot, user=make_member(OTHER_USER_ID), channel_id=THREAD_ID)
    await show_quotes(stranger, answer_id)
    assert stranger.response.send_message.await_args.args[0] == GONE
    asker = make_interaction(bot, channel_id=THREAD_ID)
    await show_quotes(asker, answer_id)
    assert "Li v. Liu" in asker.response.send_message.await_args.args[0]


# -- 2. provider error text never reaches users ----------------------------------------------

KEY = "sk-proj-EchoedBackByTheServer0123456789"


class _EchoingUnauthorised:
    """An OpenAI-compatible server that refuses every key and echoes the Authorization header."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                echoed = self.headers.get("authorization", "")
                body = json.dumps(
                    {"error": {"message": f"Invalid API key: {echoed}", "type": "invalid_request_error"}}
                ).encode()
                self.send_response(401)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        host, port = self.httpd.server_address[:2]
        self.base_url = f"http://{host!s}:{port}/v1"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def unauthorised() -> Iterator[_EchoingUnauthorised]:
    server = _EchoingUnauthorised()
    yield server
    server.stop()


def test_an_echoed_key_in_a_provider_error_never_reaches_the_user(
    kb: Path,
    make_settings: Callable[..., Settings],
    local_embeddings: LocalEmbeddings,
    unauthorised: _EchoingUnauthorised,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = make_settings(
        embedding_backend="openai",
        openai_api_key=KEY,
        openai_base_url=unauthorised.base_url,
        openai_max_retries=0,
    )
    logs.protect(settings)  # as every entry point does (the command line, bot.build.build)
    indexer = Indexer(settings, embeddings=local_embeddings)  # an index that names the openai model
    indexer.reindex()
    engine = Engine(settings, client=indexer.client)  # asks the (refusing) server for embeddings

    with pytest.raises(Exception) as caught, caplog.at_level(logging.INFO):
        engine.answer("Is an AI-generated image protected by copyright in China?")
    with caplog.at_level(logging.INFO):
        shown, error_id = describe(caught.value)

    for leak in (KEY, "sk-proj", "Bearer", "AuthenticationError", "401", str(settings.data_dir)):
        assert leak not in shown
    assert "index is unavailable" not in shown and "could not be opened" not in shown
    assert error_id is not None and error_id in shown  # the details are in the log, under this id
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert error_id in logged
    assert KEY not in logged


def test_a_store_error_is_plain_words_without_its_details(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(openai_api_key=KEY)
    error = RuntimeError(f"sqlite disk I/O error at /srv/secret/path with {KEY}")
    with caplog.at_level(logging.WARNING):
        message = store.describe_store_error(settings, error)
    assert KEY not in message and "/srv/secret/path" not in message and str(settings.data_dir) not in message
    assert "index" in message


def test_every_message_shown_to_users_is_masked_like_the_logs(make_settings: Callable[..., Settings]) -> None:
    logs.protect(make_settings(openai_api_key=KEY))
    text, _ = describe(UserFacingError(f"this message quotes the key {KEY}"))
    assert KEY not in text
    text, _ = describe(StoreUnavailable(f"a store message quoting {KEY}"))
    assert KEY not in text


# -- 3. model output is capped and verified off the event loop --------------------------------

QUESTION = "Can an AI-generated image be protected by copyright in China?"


@pytest.fixture
def llm_engine(
    llm: LLMServer, make_settings: Callable[..., Settings], kb: Path, local_embeddings: LocalEmbeddings
) -> Engine:
    settings = make_settings(openai_base_url=llm.base_url, openai_api_key="sk-test-key", openai_max_retries=0)
    indexer = Indexer(settings, embeddings=local_embeddings)
    indexer.reindex()
    return Engine(settings, embeddings=local_embeddings, client=indexer.client)


def test_the_model_is_asked_for_at_most_openai_max_tokens(llm_engine: Engine, llm: LLMServer) -> None:
    llm_engine.answer(QUESTION)
    body = llm.requests[-1]
    assert body.get("max_completion_tokens", body.get("max_tokens")) == 1200


async def test_a_32k_reply_from_a_server_ignoring_max_tokens_is_cut_and_verified_off_the_loop(
    llm_engine: Engine, llm: LLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    sentence = "The Beijing Internet Court held that the image was a protected work [1]. "
    llm.script(Reply(sentence * (32_000 // len(sentence))))
    threads: list[threading.Thread] = []
    real_verify = answering.verify

    def spy(text: str, hits: Any) -> Any:
        threads.append(threading.current_thread())
        return real_verify(text, hits)

    monkeypatch.setattr(answering, "verify", spy)
    streamed, final = "", None
    async for item in llm_engine.astream(QUESTION):
        if isinstance(item, AnswerDelta):
            streamed += item.text
        else:
            final = item
    assert final is not None and final.status is Status.ANSWERED
    assert len(streamed) <= answering.MAX_REPLY_CHARS
    assert threads and threads[0] is not threading.main_thread()  # not on the event loop
    assert len(split_message(answer_text(final))) <= 5  # it was 17 messages


# -- 4. YAML in front matter and sidecars: known keys, no aliases, bounded values -------------

ALIAS_BOMB = """---
title: Billion laughs
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
tags: [*d, *d, *d, *d, *d, *d, *d, *d, *d]
---
# Billion laughs

The Beijing Internet Court held that an AI-generated image was a protected work in 2023.
"""


def _chunk_meta_size(doc: loader.SourceText) -> int:
    return max(len(json.dumps(c.metadata, default=str)) for c in loader.chunk(doc))


def test_an_alias_bomb_in_front_matter_is_refused_not_expanded(tmp_path: Path) -> None:
    kb = tmp_path / "knowledge"
    kb.mkdir()
    (kb / "bomb.md").write_text(ALIAS_BOMB)
    assert len(ALIAS_BOMB.encode()) < 600
    texts, failures = loader.load_all(kb)
    assert [f.source for f in failures] == ["knowledge/bomb.md"]
    assert "alias" in failures[0].reason
    assert texts == []


def test_an_alias_bomb_in_a_sidecar_is_refused(tmp_path: Path) -> None:
    kb = tmp_path / "knowledge"
    kb.mkdir()
    (kb / "page.html").write_text("<title>Page</title><p>The court held that the image was a work.</p>")
    (kb / "page.html.meta.yaml").write_text(ALIAS_BOMB.split("---")[1])
    _, failures = loader.load_all(kb)
    assert failures and "alias" in failures[0].reason


def test_an_upload_with_an_alias_bomb_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="alias"):
        save_source(tmp_path, "bomb.md", ALIAS_BOMB.encode(), **UPLOAD_META)
    assert list(tmp_path.iterdir()) == []


def test_unknown_front_matter_keys_are_dropped_and_known_values_bounded(tmp_path: Path) -> None:
    huge = "x" * 50_000
    text = (
        "---\n"
        f"title: {huge}\n"
        "unknown: [1, 2, 3]\n"
        "tags: [a, [nested, list], {k: v}, b]\n"
        "aliases: [Li v. Liu, the Beijing AI image case]\n"
        "questions: ['Is an AI image protected in China?']\n"
        "urls: [https://example.org/a]\n"
        "---\n# T\n\nThe Beijing Internet Court held that an AI-generated image was a protected work.\n"
    )
    meta, _ = loader.parse_front_matter(text)
    assert "unknown" not in meta
    assert meta["aliases"] == ["Li v. Liu", "the Beijing AI image case"]
    assert meta["questions"] == ["Is an AI image protected in China?"]
    assert meta["urls"] == ["https://example.org/a"]
    assert meta["tags"] == ["a", "b"]
    assert len(meta["title"]) <= loader.MAX_META_VALUE_CHARS
    kb = tmp_path / "knowledge"
    kb.mkdir()
    (kb / "big.md").write_text(text)
    doc = loader.load_file(kb, kb / "big.md")
    assert _chunk_meta_size(doc) < 10_000

    saved = save_source(tmp_path / "up", "kept.md", text.encode(), **UPLOAD_META)
    written, _ = loader.parse_front_matter(saved.read_text())
    assert "unknown" not in written and "unknown:" not in saved.read_text()
    assert written["aliases"] == ["Li v. Liu", "the Beijing AI image case"]


# -- 5. PDFs: shared streams read once; pages, text and time capped; unchanged files skipped ---


def pdf_file(
    pages: int = 8, stream_bytes: int = 200_000, *, shared: bool = True, word: str = "AI art"
) -> bytes:
    """A small PDF whose pages draw large, well-compressed content streams (one shared by all
    pages, or one each)."""
    op = f"BT /F1 12 Tf 72 720 Td ({word}) Tj ET\n".encode()
    packed = zlib.compress(op * max(1, stream_bytes // len(op)), 9)
    streams = 1 if shared else pages
    font = 3 + streams + pages
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids ["
        + b" ".join(f"{3 + streams + i} 0 R".encode() for i in range(pages))
        + f"] /Count {pages} >>".encode(),
    ]
    for _ in range(streams):
        objects.append(
            f"<< /Length {len(packed)} /Filter /FlateDecode >>\nstream\n".encode() + packed + b"\nendstream"
        )
    for i in range(pages):
        contents = 3 if shared else 3 + i
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {contents} 0 R "
            f"/Resources << /Font << /F1 {font} 0 R >> >> >>".encode()
        )
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{off:010d} 00000 n \n".encode() for off in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


@pytest.fixture
def extractions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts pypdf page extractions (one entry per page read)."""
    from pypdf import PageObject

    calls: list[int] = []
    real = PageObject.extract_text

    def counting(self: PageObject, *args: Any, **kwargs: Any) -> str:
        calls.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(PageObject, "extract_text", counting)
    return calls


def _pdf_kb(tmp_path: Path, data: bytes) -> Path:
    kb = tmp_path / "knowledge"
    kb.mkdir(exist_ok=True)
    (kb / "doc.pdf").write_bytes(data)
    return kb


def test_pages_sharing_one_stream_are_read_once(tmp_path: Path, extractions: list[int]) -> None:
    data = pdf_file(pages=8, stream_bytes=100_000)
    assert len(data) < 5_000
    kb = _pdf_kb(tmp_path, data)
    doc = loader.load_file(kb, kb / "doc.pdf")
    assert len(extractions) == 1
    assert doc.text.count("AI art") < 3_000  # one page's worth, not eight


def test_a_pdf_with_too_many_pages_is_refused_before_reading_them(
    tmp_path: Path, extractions: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loader, "MAX_PDF_PAGES", 4)
    kb = _pdf_kb(tmp_path, pdf_file(pages=8, stream_bytes=1_000, shared=False))
    with pytest.raises(loader.LoadError, match="8 pages; the limit is 4"):
        loader.load_file(kb, kb / "doc.pdf")
    assert extractions == []


def test_reading_stops_at_the_text_limit(
    tmp_path: Path, extractions: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loader, "MAX_TEXT_CHARS", 1_000)
    kb = _pdf_kb(tmp_path, pdf_file(pages=8, stream_bytes=4_000, shared=False))
    with pytest.raises(loader.LoadError, match="limit is 1000"):
        loader.load_file(kb, kb / "doc.pdf")
    assert len(extractions) < 8


def test_reading_stops_at_the_time_limit(
    tmp_path: Path, extractions: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    ticks = iter(range(10**6))
    monkeypatch.setattr(loader, "_clock", lambda: float(next(ticks)))  # one second a look
    monkeypatch.setattr(loader, "PDF_SECONDS", 5.0)
    kb = _pdf_kb(tmp_path, pdf_file(pages=8, stream_bytes=20_000, shared=False))
    with pytest.raises(loader.LoadError, match="longer than 5 s"):
        loader.load_file(kb, kb / "doc.pdf")
    assert len(extractions) < 8


def test_an_unchanged_pdf_is_not_read_again_on_reindex(
    tmp_path: Path,
    make_settings: Callable[..., Settings],
    local_embeddings: LocalEmbeddings,
    extractions: list[int],
) -> None:
    kb = _pdf_kb(tmp_path, pdf_file(pages=2, stream_bytes=2_000, shared=False))
    (kb / "other.pdf").write_bytes(pdf_file(pages=3, stream_bytes=2_000, word="x"))
    indexer = Indexer(make_settings(knowledge_dir=kb), embeddings=local_embeddings)
    indexer.reindex()
    first = len(extractions)
    assert first >= 2
    indexer.reindex()
    assert len(extractions) == first  # nothing read again
    (kb / "doc.pdf").write_bytes(pdf_file(pages=2, stream_bytes=2_000, shared=False, word="AI music"))
    report = indexer.reindex()
    assert len(extractions) > first and report.updated + report.added > 0


# -- 6. what the bot shows cannot hide a link or ping/name anyone -----------------------------

HOSTILE_ANSWER = (
    "Read [the full ruling](https://evil.example/x.exe) for details [1]. "
    "@everyone free Nitro: <https://evil.example/nitro> from <@123456789012345678>, "
    "<@!123456789012345678>, <@&223456789012345678> in <#323456789012345678> and @here [1]."
)
MENTION_SYNTAX = re.compile(r"@(everyone|here)|<@!?\d+>|<@&\d+>|<#\d+>")
MASKED_LINK = re.compile(r"\[[^\]]*\]\(")


def _assert_neutral(text: str) -> None:
    assert not MENTION_SYNTAX.search(text), text
    assert not MASKED_LINK.search(text), text


async def test_answers_previews_and_echoes_neither_mask_links_nor_mention(tmp_path: Path) -> None:
    from dataclasses import replace

    engine = FakeEngine(
        final=replace(TYPICAL, answer=HOSTILE_ANSWER),
        deltas=[HOSTILE_ANSWER[:70], HOSTILE_ANSWER[70:]],
    )
    bot = make_bot(make_settings(tmp_path), engine=engine)
    interaction = make_interaction(bot)
    question = "Is [my notes](https://evil.example/notes) right? @everyone <@123456789012345678>"
    await invoke(AskCog(bot), "ask", interaction, question)

    shown = [c.kwargs.get("content") or "" for c in interaction.edit_original_response.await_args_list]
    assert len(shown) >= 3  # two previews and the final answer
    for text in shown:
        _assert_neutral(text)
    final = shown[-1]
    assert "<https://evil.example/x.exe>" in final  # the address is shown, not hidden behind words
    assert "the full ruling" in final and "my notes" in final


def test_quotes_neither_mask_links_nor_mention() -> None:
    from dataclasses import replace

    from bot.discordbot.rendering import quotes_messages
    from tests.discord_fakes import LI_V_LIU

    for text in quotes_messages([replace(LI_V_LIU, quote=HOSTILE_ANSWER)]):
        _assert_neutral(text)


def test_a_process_that_loses_the_upgrade_race_still_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FeedbackStore(f"sqlite:///{tmp_path / 'shared.sqlite'}")  # the other process upgraded
    real = store._answer_columns
    looks = iter([set[str](), None])  # this one looked just before the other one altered the table

    def racing() -> set[str]:
        seen = next(looks)
        return real() if seen is None else seen

    monkeypatch.setattr(store, "_answer_columns", racing)
    store._upgrade()  # ALTER TABLE fails (the column exists); not an error
    store.close()
