"""Each server's own sources: stored under knowledge/servers/<guild id>/, indexed apart from the
shared base, and searched only beside the base for questions asked in that server."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest

from bot.build import Parts, build
from bot.config import Settings
from bot.core.errors import SourceError
from bot.discordbot.client import AnswerBot
from bot.discordbot.cogs.admin import AdminCog
from bot.discordbot.errors import UserFacingError
from bot.discordbot.rendering import answer_text, citation_entry
from bot.index import store
from bot.index.embeddings import CountingEmbeddings, LocalEmbeddings
from bot.index.indexer import Indexer
from bot.knowledge import library, loader
from bot.knowledge.scopes import BASE, Scope, scope_of
from bot.rag.retriever import HybridRetriever
from tests.discord_fakes import final_edit, invoke, make_bot, make_interaction
from tests.helpers import ROOT, without_settings

ALPHA, BETA = 111111111111111111, 222222222222222222

ALPHA_NOTE = """---
title: "Alpha guild's note on the Quillfeather licence"
url: https://example.org/alpha/quillfeather
published: 2026-03-01
jurisdiction: US
kind: overview
---
# Quillfeather licence

The Quillfeather licence lets members of our server reuse each other's AI-assisted sketches
for non-commercial fan projects, provided the original artist is credited.
"""

BETA_NOTE = """---
title: "Beta guild's note on the Marrowby agreement"
url: https://example.org/beta/marrowby
published: 2026-04-01
jurisdiction: UK
kind: overview
---
# Marrowby agreement

Under the Marrowby agreement our writers keep the copyright in stories drafted with a chatbot
and grant the server a licence to publish them in its anthology.
"""


def add_server_source(kb: Path, guild_id: int, name: str, text: str) -> Path:
    folder = Scope(guild_id).folder(kb)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def sources_of(hits: list) -> set[str]:
    return {h.source for h in hits}


def test_the_base_leaves_out_server_folders_and_a_server_reads_only_its_own(kb: Path) -> None:
    add_server_source(kb, ALPHA, "quillfeather.md", ALPHA_NOTE)
    add_server_source(kb, BETA, "marrowby.md", BETA_NOTE)

    base = [p.name for p in loader.iter_files(kb)]
    alpha = [p.name for p in loader.iter_files(kb, Scope(ALPHA))]

    assert "quillfeather.md" not in base and "marrowby.md" not in base
    assert "cn-li-v-liu.md" in base
    assert alpha == ["quillfeather.md"]
    assert scope_of(loader.source_name(kb, kb / "servers" / str(ALPHA) / "quillfeather.md")) == Scope(ALPHA)
    assert scope_of(loader.source_name(kb, kb / "cn-li-v-liu.md")) == BASE


def test_a_server_sees_the_base_and_its_own_sources_never_another_servers(
    kb: Path, settings: Settings, embeddings: CountingEmbeddings
) -> None:
    add_server_source(kb, ALPHA, "quillfeather.md", ALPHA_NOTE)
    add_server_source(kb, BETA, "marrowby.md", BETA_NOTE)
    indexer = Indexer(settings, embeddings=embeddings)
    indexer.reindex()
    for guild in (ALPHA, BETA):
        report = indexer.for_scope(Scope(guild)).reindex()
        assert report.files == 1

    base = HybridRetriever(settings, indexer.client, embeddings.inner)

    def search(scopes: tuple[Scope, ...], query: str) -> set[str]:
        retriever = base.with_scope(scopes[1]) if len(scopes) > 1 else base
        return sources_of(retriever.search(query, k=10))

    quill = "Can I reuse sketches under the Quillfeather licence?"
    marrow = "Who keeps copyright under the Marrowby agreement?"
    alpha = search((BASE, Scope(ALPHA)), quill)
    assert "knowledge/servers/111111111111111111/quillfeather.md" in alpha
    assert not any("/servers/222222222222222222/" in s for s in search((BASE, Scope(ALPHA)), marrow))
    assert not any("/servers/" in s for s in search((BASE,), quill))  # in DMs: the base only
    assert any(
        s.endswith("cn-li-v-liu.md") for s in search((BASE, Scope(ALPHA)), "Li v. Liu Stable Diffusion")
    )


def test_a_servers_reindex_leaves_the_base_and_the_base_leaves_the_servers(
    kb: Path, settings: Settings, embeddings: CountingEmbeddings
) -> None:
    indexer = Indexer(settings, embeddings=embeddings)
    indexer.reindex()
    base_before = store.read_pointer(indexer.client, settings)
    add_server_source(kb, ALPHA, "quillfeather.md", ALPHA_NOTE)
    alpha = indexer.for_scope(Scope(ALPHA))
    alpha.reindex()

    assert store.read_pointer(indexer.client, settings) == base_before
    alpha_pointer = store.read_pointer(indexer.client, Scope(ALPHA).settings(settings))
    assert alpha_pointer is not None

    indexer.reindex(full=True)  # a full rebuild of the base clears its own unfinished collections only
    assert store.read_pointer(indexer.client, Scope(ALPHA).settings(settings)) == alpha_pointer
    assert alpha_pointer.active in store.collection_names(indexer.client)


def test_a_server_without_sources_of_its_own_is_answered_from_the_base(
    settings: Settings, embeddings: CountingEmbeddings
) -> None:
    indexer = Indexer(settings, embeddings=embeddings)
    indexer.reindex()
    retriever = HybridRetriever(settings, indexer.client, embeddings.inner, (BASE, Scope(ALPHA)))
    hits = retriever.search("Was the Stable Diffusion image protected in China?", k=5)
    assert hits and all("/servers/" not in h.source for h in hits)


def test_servers_share_the_loaded_base(settings: Settings, embeddings: CountingEmbeddings, kb: Path) -> None:
    add_server_source(kb, ALPHA, "quillfeather.md", ALPHA_NOTE)
    indexer = Indexer(settings, embeddings=embeddings)
    indexer.reindex()
    indexer.for_scope(Scope(ALPHA)).reindex()
    base = HybridRetriever(settings, indexer.client, embeddings.inner)
    alpha, beta = base.with_scope(Scope(ALPHA)), base.with_scope(Scope(BETA))

    assert beta.corpus() is base.corpus()  # no sources of its own: the very same corpus
    assert len(alpha.corpus().ids) > len(base.corpus().ids)
    assert set(base.corpus().ids) < set(alpha.corpus().ids)


def test_a_servers_files_are_listed_and_removed_only_within_its_scope(kb: Path) -> None:
    saved = library.save_source(
        kb, "zine.md", b"Our zine's rules on AI art.", title="Zine rules", url="https://example.org/zine",
        publisher="Alpha", published="2026-01-02", jurisdiction="US", scope=Scope(ALPHA),
    )  # fmt: skip
    assert saved == kb / "servers" / str(ALPHA) / "zine.md"
    assert [s.path for s in library.list_sources(kb, Scope(ALPHA))] == ["zine.md"]
    assert "zine.md" not in {s.path for s in library.list_sources(kb)}
    assert not library.list_sources(kb, Scope(BETA))

    with pytest.raises(library.SourceError, match="server's own source"):
        library.remove_source(kb, f"servers/{ALPHA}/zine.md")  # the base's remove cannot reach it
    with pytest.raises(library.SourceError, match="no source named"):
        library.remove_source(kb, "zine.md", Scope(BETA))  # nor another server's
    with pytest.raises(library.SourceError, match="no source named"):
        library.remove_source(kb, "cn-li-v-liu.md", Scope(ALPHA))  # a server's, the base's
    assert saved.exists() and (kb / "cn-li-v-liu.md").exists()

    library.remove_source(kb, "zine.md", Scope(ALPHA))
    assert not saved.exists()


def test_a_server_at_its_limits_is_told_so(kb: Path) -> None:
    add_server_source(kb, ALPHA, "quillfeather.md", ALPHA_NOTE)
    with pytest.raises(library.SourceError, match="already has 1 sources of its own"):
        library.check_room(kb, Scope(ALPHA), 10, max_sources=1, max_bytes=10**6)
    with pytest.raises(library.SourceError, match="Remove a source"):
        library.check_room(kb, Scope(ALPHA), 10**6, max_sources=5, max_bytes=10**6)
    library.check_room(kb, Scope(ALPHA), 10, max_sources=5, max_bytes=10**6)
    library.check_room(kb, BASE, 10**9, max_sources=1, max_bytes=1)  # the shared base has no limits


# -- through Discord: two servers' admins, a real engine and index ------------------------------


def upload(name: str, text: str) -> MagicMock:
    file = MagicMock(spec=discord.Attachment)
    file.filename, file.size = name, len(text.encode())
    file.read = AsyncMock(return_value=text.encode())
    return file


def served(settings: Settings, embeddings: LocalEmbeddings) -> tuple[Parts, AnswerBot, AdminCog]:
    """The parts as the bot builds them, the shared sources indexed, and a bot with its admin cog."""
    parts = build(settings, embeddings=embeddings)
    parts.indexer.reindex()
    bot = make_bot(settings, engine=parts.engine, indexer=parts.indexer)
    bot.index_runner.interval = 0.0
    return parts, bot, AdminCog(bot)


def note_meta(title: str) -> dict[str, str]:
    return {
        "title": title, "url": "https://example.org/note", "publisher": "Server admins",
        "date": "2026-05-01", "jurisdiction": "US",
    }  # fmt: skip


async def test_two_servers_each_see_their_own_additions_and_the_base_only(
    settings: Settings, local_embeddings: LocalEmbeddings
) -> None:
    parts, bot, cog = served(settings, local_embeddings)
    alpha = make_interaction(bot, guild_id=ALPHA, manage_guild=True)
    beta = make_interaction(bot, guild_id=BETA, manage_guild=True)

    await invoke(
        cog, "sources add", alpha, upload("quillfeather.md", ALPHA_NOTE), **note_meta("Quillfeather")
    )
    await invoke(cog, "sources add", beta, upload("marrowby.md", BETA_NOTE), **note_meta("Marrowby"))
    assert "to this server's own sources and updated the index" in final_edit(alpha)["content"]

    quill = "Can I reuse sketches under the Quillfeather licence?"
    marrow = "Who keeps copyright under the Marrowby agreement?"

    async def cited(question: str, guild: int | None) -> set[str]:
        answer = await parts.engine.aanswer(question, guild=guild)
        return {c.source.rsplit("/", 1)[-1] for c in answer.citations}

    assert "quillfeather.md" in await cited(quill, ALPHA)
    assert "marrowby.md" in await cited(marrow, BETA)
    assert not {"quillfeather.md", "marrowby.md"} & await cited(quill, BETA)  # never another server's
    assert not {"quillfeather.md", "marrowby.md"} & await cited(marrow, ALPHA)
    assert not {"quillfeather.md", "marrowby.md"} & await cited(quill, None)  # direct messages: the base
    assert "cn-li-v-liu.md" in await cited("Was the Stable Diffusion image protected in China?", ALPHA)

    shown = answer_text(await parts.engine.aanswer(quill, guild=ALPHA))
    assert shown  # the answer renders; its citation of the server's file says who added it
    entries = [citation_entry(c) for c in (await parts.engine.aanswer(quill, guild=ALPHA)).citations]
    assert any("added by this server's admins" in e for e in entries)


async def test_a_server_admin_cannot_remove_a_shared_source_or_another_servers(
    settings: Settings, local_embeddings: LocalEmbeddings
) -> None:
    parts, bot, cog = served(settings, local_embeddings)
    add_server_source(settings.knowledge_dir, BETA, "marrowby.md", BETA_NOTE)
    alpha = make_interaction(bot, guild_id=ALPHA, manage_guild=True)

    with pytest.raises(UserFacingError, match=r"one of the shared sources .* only the bot's operator"):
        await invoke(cog, "sources remove", alpha, "cn-li-v-liu.md")
    with pytest.raises(SourceError, match="no source named"):
        await invoke(
            cog, "sources remove", make_interaction(bot, guild_id=ALPHA, manage_guild=True), "marrowby.md"
        )
    with pytest.raises(SourceError):
        await invoke(
            cog, "sources remove", make_interaction(bot, guild_id=ALPHA, manage_guild=True),
            f"../{BETA}/marrowby.md",
        )  # fmt: skip
    with pytest.raises(UserFacingError, match="Only the bot's operator changes the shared sources"):
        await invoke(cog, "sources remove", make_interaction(bot, guild_id=ALPHA, manage_guild=True),
                     "cn-li-v-liu.md", shared=True)  # fmt: skip
    assert (settings.knowledge_dir / "cn-li-v-liu.md").exists()
    assert (Scope(BETA).folder(settings.knowledge_dir) / "marrowby.md").exists()
    assert parts.indexer.stats().documents > 0  # nothing was reindexed away


async def test_the_operator_changes_the_shared_sources(
    settings: Settings, local_embeddings: LocalEmbeddings
) -> None:
    settings = settings.model_copy(update={"shared_admin_guild_ids": [ALPHA]})
    parts, bot, cog = served(settings, local_embeddings)
    operator = make_interaction(bot, guild_id=ALPHA, manage_guild=True)

    await invoke(cog, "sources remove", operator, "uk-cdpa.md", shared=True)

    assert not (settings.knowledge_dir / "uk-cdpa.md").exists()
    assert (
        final_edit(operator)["content"]
        == "Removed `uk-cdpa.md` from the shared sources and updated the index."
    )
    answer = await parts.engine.aanswer("computer-generated works UK CDPA section 9(3)", guild=BETA)
    assert all(not c.source.endswith("uk-cdpa.md") for c in answer.citations)


async def test_a_server_at_its_limit_is_refused_before_anything_is_saved(
    settings: Settings, local_embeddings: LocalEmbeddings
) -> None:
    settings = settings.model_copy(update={"server_max_sources": 1})
    bot = make_bot(settings)
    cog = AdminCog(bot)
    add_server_source(settings.knowledge_dir, ALPHA, "quillfeather.md", ALPHA_NOTE)

    with pytest.raises(SourceError, match="already has 1 sources of its own"):
        await invoke(cog, "sources add", make_interaction(bot, guild_id=ALPHA, manage_guild=True),
                     upload("second.md", BETA_NOTE), **note_meta("Second"))  # fmt: skip
    assert [p.name for p in Scope(ALPHA).folder(settings.knowledge_dir).iterdir()] == ["quillfeather.md"]


# -- two processes sharing a Chroma server --------------------------------------------------------


@pytest.mark.slow
def test_another_process_sees_a_servers_sources_for_that_server_only(
    kb: Path, tmp_path: Path, chroma_server: tuple[str, int], local_embeddings: LocalEmbeddings
) -> None:
    host, port = chroma_server
    prefix = f"t{uuid.uuid4().hex[:10]}"
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, chroma_host=host, chroma_port=port, collection_prefix=prefix,
        knowledge_dir=kb, data_dir=tmp_path / "data-here",
    )  # fmt: skip
    add_server_source(kb, ALPHA, "quillfeather.md", ALPHA_NOTE)
    parts = build(settings, embeddings=local_embeddings)
    parts.indexer.reindex()
    parts.indexer.for_scope(Scope(ALPHA)).reindex()  # this process indexes server ALPHA's sources

    quill = "Can I reuse sketches under the Quillfeather licence?"
    requests = [{"op": "ask", "question": quill, "guild": guild} for guild in (ALPHA, BETA, None)]
    environ = without_settings(
        CHROMA_HOST=host, CHROMA_PORT=str(port), COLLECTION_PREFIX=prefix, KNOWLEDGE_DIR=str(kb),
        DATA_DIR=str(tmp_path / "data-there"), PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1",
    )  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "tests.engine_worker"],
        input="".join(json.dumps(r) + "\n" for r in requests),
        cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    ready, *answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert "ready" in ready
    mine, other, direct = ([s.rsplit("/", 1)[-1] for s in a["sources"]] for a in answers)
    assert "quillfeather.md" in mine
    assert "quillfeather.md" not in other and "quillfeather.md" not in direct


async def test_list_and_stats_show_the_servers_own_sources_apart_from_the_shared(
    settings: Settings, local_embeddings: LocalEmbeddings
) -> None:
    _, bot, cog = served(settings, local_embeddings)
    await invoke(cog, "sources add", make_interaction(bot, guild_id=ALPHA, manage_guild=True),
                 upload("quillfeather.md", ALPHA_NOTE), **note_meta("Quillfeather"))  # fmt: skip
    shared = len(library.list_sources(settings.knowledge_dir))

    listed = make_interaction(bot, guild_id=ALPHA, manage_guild=True)
    await invoke(cog, "sources list", listed)
    embed = listed.response.send_message.await_args.kwargs["embed"]
    assert embed.title == f"Knowledge sources (1 of this server's own, {shared} shared)"
    first = embed.description.split("\n\n")[1]
    assert first.startswith("`quillfeather.md`") and "this server's own" in first
    assert "This server's own: 1, last indexed <t:" in embed.description

    other = make_interaction(bot, guild_id=BETA, manage_guild=True)
    await invoke(cog, "sources list", other)
    assert other.response.send_message.await_args.kwargs["embed"].title == f"Knowledge sources ({shared})"

    stats = make_interaction(bot, guild_id=ALPHA, manage_guild=True)
    await invoke(cog, "sources stats", stats)
    fields = {f.name: f.value for f in final_or_sent_embed(stats).fields}
    assert str(fields["This server's own sources"]).startswith("1 files · ")
    assert fields["Shared files"] == f"{shared:,}"


def final_or_sent_embed(interaction: MagicMock) -> discord.Embed:
    """The embed a deferred command showed (an edit or a follow-up)."""
    for mock in (
        interaction.edit_original_response,
        interaction.followup.send,
        interaction.response.send_message,
    ):
        if mock.await_args is not None and mock.await_args.kwargs.get("embed") is not None:
            return mock.await_args.kwargs["embed"]
    raise AssertionError("no embed was shown")
