"""Everything users read: answer text, sources embed, quotes, progress and summaries
(cutting text into messages is `splitting.py`).

Pure functions (apart from building `discord.Embed` objects), so they are cheap to test.
Discord's limits: 2,000 characters a message; an embed's title 256, description 4,096, 25
fields (name 256, value 1,024), footer 2,048, and 6,000 characters in all.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

import discord
from discord.utils import escape_markdown

from bot.core.types import Answer, Citation, IndexStats, Progress, ReindexReport, Status, by_source
from bot.discordbot.feedback import FeedbackCounts
from bot.discordbot.splitting import MESSAGE_LIMIT, split_message
from bot.knowledge.latest import Development
from bot.knowledge.library import SourceFile
from bot.knowledge.scopes import scope_of

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_COUNT_LIMIT = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
AUTHOR_LIMIT = 256
EMBED_TOTAL_LIMIT = 6000

ANSWER_COLOUR = discord.Colour.blurple()
DECLINE_COLOUR = discord.Colour.light_grey()
OK_COLOUR = discord.Colour.green()
WARN_COLOUR = discord.Colour.orange()

# -- neutralising --------------------------------------------------------------------------------

ZWSP = "\u200b"
_MASKED_LINK = re.compile(r"\[([^\[\]\n]*)\]\(\s*<?([^()\s<>]+)>?(?:\s+\"[^\"\n]*\")?\s*\)")
_MASS_MENTION = re.compile(r"@(everyone|here)\b", re.IGNORECASE)
_MENTION = re.compile(r"<(@[!&]?|#)(\d+)>")


def neutralise(text: str) -> str:
    """Text from a model, a file or a user, made safe to show: a masked link shows its address
    ("words (<url>)", no hidden target, no preview), and mention syntax (@everyone, @here,
    <@id>, <@&id>, <#id>) neither pings nor names anyone (a zero-width space breaks it)."""
    text = _MASKED_LINK.sub(lambda m: f"{m.group(1)} (<{m.group(2)}>)", text)
    text = _MASS_MENTION.sub(lambda m: f"@{ZWSP}{m.group(1)}", text)
    return _MENTION.sub(lambda m: f"<{m.group(1)}{ZWSP}{m.group(2)}>", text)


def truncate(text: str, limit: int, ellipsis: str = "…") -> str:
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(ellipsis))].rstrip() + ellipsis


def one_line(text: str) -> str:
    return " ".join(text.split())


# -- splitting -----------------------------------------------------------------------------------

# -- answers -------------------------------------------------------------------------------------

_NAKED_URL = re.compile(r"(?<![<(\w])https?://[^\s<>()]+[^\s<>().,;:!?'\"]")

DECLINE_HINTS = {
    Status.NO_ANSWER: "Try rephrasing, or name the country you're asking about.",
    Status.OUT_OF_SCOPE: "I answer questions about AI and copyright, IP and tech law.",
    Status.REFUSED: "",
}
DECLINE_DEFAULTS = {
    Status.NO_ANSWER: "I couldn't find an answer to that in my sources.",
    Status.OUT_OF_SCOPE: "That's outside what I can help with.",
    Status.REFUSED: "Sorry, I can't help with that.",
}


def quoted_question(question: str, limit: int = 300) -> str:
    """The question echoed above an answer, on one quoted line."""
    return "> " + truncate(neutralise(one_line(question)), limit)


def answer_text(answer: Answer, *, echo: str | None = None) -> str:
    """The message text of an answer: the answer with [n] markers, or a short friendly decline."""
    parts: list[str] = []
    if echo:
        parts.append(quoted_question(echo))
    if answer.status is Status.ANSWERED:
        parts.append(_NAKED_URL.sub(lambda m: f"<{m.group(0)}>", neutralise(answer.answer.strip())))
    else:
        parts.append(neutralise(answer.answer.strip()) or DECLINE_DEFAULTS[answer.status])
        hint = DECLINE_HINTS[answer.status]
        if hint and not answer.citations:  # a decline that cites where a matter stands needs none
            parts.append(f"-# {hint}")
    if answer.note:
        parts.append(f"-# {one_line(answer.note)}")
    return "\n\n".join(parts)


def citation_entry(citation: Citation, numbers: Sequence[int] = ()) -> str:
    """One numbered source: title, then publisher · date · jurisdiction, then <url>. `numbers`:
    every [n] that cites this file, when there are several."""
    title = neutralise(escape_markdown(truncate(one_line(citation.title) or citation.source, 200)))
    marks = " ".join(f"[{n}]" for n in (numbers or [citation.n]))
    lines = [f"**{marks}** {title}"]
    details = [neutralise(escape_markdown(one_line(citation.publisher))), citation.published]
    details.append(citation.jurisdiction)
    if not scope_of(citation.source).is_base:  # not one of the sources the bot ships with
        details.append("added by this server's admins")
    meta = " · ".join(d for d in details if d)
    if meta:
        lines.append(truncate(meta, 300))
    if citation.url:
        lines.append(f"<{citation.url}>")
    return "\n".join(lines)


def sources_embed(
    citations: Sequence[Citation],
    *,
    title: str = "Sources",
    disclaimer: str,
    colour: discord.Colour,
) -> discord.Embed:
    """The numbered sources of an answer, with the not-legal-advice footer."""
    entries = [citation_entry(c, numbers) for numbers, c in by_source(citations)]
    description = _fit_entries(entries, DESCRIPTION_LIMIT, separator="\n\n")
    embed = discord.Embed(title=title, description=description, colour=colour)
    embed.set_footer(text=disclaimer)
    return clamp_embed(embed)


def answer_embed(answer: Answer) -> discord.Embed | None:
    """Sources for an answer; for a decline, the closest sources if the engine found any."""
    if answer.status is Status.ANSWERED and answer.citations:
        return sources_embed(answer.citations, disclaimer=answer.disclaimer, colour=ANSWER_COLOUR)
    if answer.status is Status.NO_ANSWER and answer.closest:
        return sources_embed(
            answer.closest,
            title="Closest sources I have",
            disclaimer=answer.disclaimer,
            colour=DECLINE_COLOUR,
        )
    if answer.status is Status.ANSWERED:
        embed = discord.Embed(colour=ANSWER_COLOUR)
        embed.set_footer(text=answer.disclaimer)
        return embed
    return None


def quotes_messages(citations: Sequence[Citation], limit: int = MESSAGE_LIMIT) -> list[str]:
    """The exact passages behind each [n], as quoted blocks, split into messages."""
    if not citations:
        return ["This answer has no quoted sources."]
    blocks = []
    for c in citations:
        title = escape_markdown(truncate(one_line(c.title) or c.source, 150))
        lines = neutralise(c.quote.strip()).split("\n")
        quote = "\n".join(f"> {line}" if line.strip() else ">" for line in lines)
        blocks.append(f"**[{c.n}] {title}**\n{quote}")
    return split_message("\n\n".join(blocks), limit)


def stream_preview(text: str, *, echo: str | None = None, limit: int = MESSAGE_LIMIT) -> str:
    """What the message shows while the answer streams in (unverified text, with a cursor)."""
    head = quoted_question(echo) + "\n\n" if echo else ""
    body = neutralise(text.strip()) + " ▌"
    preview = head + body
    if len(preview) > limit:
        preview = preview[: limit - 2].rstrip() + " …"
    return preview


THINKING = "-# Looking through my sources…"


# -- admin -----------------------------------------------------------------------------------

_PHASES = {
    "loading": "Reading the knowledge folder",
    "indexing": "Embedding and indexing",
    "switching": "Switching to the new index",
    "done": "Finishing",
}


def progress_text(progress: Progress, *, full: bool) -> str:
    """One live progress line: phase, bar, percent, files and chunks."""
    label = "Full reindex" if full else "Reindex"
    phase = _PHASES.get(progress.phase, progress.phase.capitalize())
    filled = progress.percent // 10
    bar = "█" * filled + "░" * (10 - filled)
    files = (
        f"{progress.files_done}/{progress.files_total} files" if progress.files_total else "counting files"
    )
    return f"**{label}**: {phase}…\n`{bar}` {progress.percent}% · {files} · {progress.chunks_done:,} chunks"


def reindex_embed(report: ReindexReport) -> discord.Embed:
    """The summary of a finished reindex."""
    embed = discord.Embed(
        title=("Full reindex" if report.full else "Reindex") + " finished",
        description=(
            f"{report.files} files read · {report.chunks:,} chunks in the index · {report.seconds:.1f} s"
        ),
        colour=WARN_COLOUR if report.failed else OK_COLOUR,
    )
    for name, value in (
        ("Added", report.added),
        ("Updated", report.updated),
        ("Skipped", report.skipped),
        ("Deleted", report.deleted),
    ):
        embed.add_field(name=f"{name} chunks", value=f"{value:,}", inline=True)
    if report.failed:
        entries = [
            f"`{escape_markdown(f.source)}`: {truncate(one_line(f.reason), 200)}" for f in report.failed
        ]
        embed.add_field(
            name=f"Failed files ({len(report.failed)})",
            value=_fit_entries(entries, FIELD_VALUE_LIMIT, separator="\n"),
            inline=False,
        )
    else:
        embed.add_field(name="Failed files", value="none", inline=False)
    if report.embedding_model:
        embed.set_footer(text=f"Embedding model: {report.embedding_model}")
    return clamp_embed(embed)


def sources_summary(own: int, own_stats: IndexStats, shared: int, shared_stats: IndexStats) -> str:
    """ "This server's own: 2, last indexed …; shared: 110, last indexed …" for `/sources list`."""

    def last(stats: IndexStats) -> str:
        return discord_time(stats.last_indexed) or "never"

    return (
        f"This server's own: {own:,}, last indexed {last(own_stats)} · "
        f"shared: {shared:,}, last indexed {last(shared_stats)}"
    )


def stats_embed(
    stats: IndexStats,
    counts: FeedbackCounts,
    files: int,
    schedule: str | None = None,
    *,
    own: tuple[int, IndexStats] | None = None,
) -> discord.Embed:
    """What `/sources stats` shows: the shared sources, and with `own` (files, index stats) the
    server's own; `schedule` describes scheduled reindexing, if it is on."""
    embed = discord.Embed(title="Knowledge base", colour=ANSWER_COLOUR)
    if own is not None:
        own_files, own_stats = own
        last = discord_time(own_stats.last_indexed) or "never"
        embed.add_field(
            name="This server's own sources",
            value=f"{own_files:,} files · {own_stats.chunks:,} chunks · last indexed {last}",
            inline=False,
        )
    embed.add_field(name="Shared files" if own is not None else "Files in the folder", value=f"{files:,}")
    embed.add_field(name="Documents indexed", value=f"{stats.documents:,}")
    embed.add_field(name="Chunks", value=f"{stats.chunks:,}")
    embed.add_field(name="Last indexed", value=discord_time(stats.last_indexed) or "never")
    embed.add_field(name="Embedding model", value=f"`{stats.embedding_model}`")
    if schedule:
        embed.add_field(name="Scheduled reindex", value=schedule, inline=False)
    embed.add_field(
        name="Feedback",
        value=(
            f"👍 {counts.helpful:,} helpful · 👎 {counts.not_helpful:,} not helpful\n"
            f"Answers on record: {counts.answers:,}"
        ),
        inline=False,
    )
    if stats.collection:
        embed.set_footer(text=f"Collection: {stats.collection}")
    return clamp_embed(embed)


def discord_time(iso: str) -> str:
    """An ISO timestamp as Discord's localised time plus relative time; the text if unparsable."""
    if not iso:
        return ""
    try:
        when = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    unix = int(when.timestamp())
    return f"<t:{unix}:f> (<t:{unix}:R>)"


SOURCES_PER_PAGE = 10


def page_count(total: int, per_page: int = SOURCES_PER_PAGE) -> int:
    return max(1, -(-total // per_page))


def sources_page_embed(
    sources: Sequence[SourceFile], page: int, per_page: int = SOURCES_PER_PAGE, *, summary: str = ""
) -> discord.Embed:
    """One page of `/sources list`; `summary` (counts and last reindex of each kind) heads it."""
    pages = page_count(len(sources), per_page)
    page = min(max(page, 0), pages - 1)
    shown = sources[page * per_page : (page + 1) * per_page]
    lines = []
    for s in shown:
        mine = "this server's own" if not s.scope.is_base else ""
        details = " · ".join(d for d in (mine, s.jurisdiction, s.published, s.kind) if d)
        title = escape_markdown(truncate(one_line(s.title), 120))
        lines.append(f"`{s.path}`\n{title}" + (f"\n-# {details}" if details else ""))
    own = sum(1 for s in sources if not s.scope.is_base)
    heading = f"{own} of this server's own, {len(sources) - own} shared" if own else f"{len(sources)}"
    embed = discord.Embed(
        title=f"Knowledge sources ({heading})",
        description=_fit_entries(
            [f"-# {summary}", *lines] if summary and lines else lines, DESCRIPTION_LIMIT, separator="\n\n"
        )
        or "The knowledge folder is empty. Add a file with `/sources add`.",
        colour=ANSWER_COLOUR,
    )
    embed.set_footer(text=f"Page {page + 1} of {pages}")
    return clamp_embed(embed)


def latest_entry(item: Development) -> str:
    """One line of `/latest`: date, jurisdiction, what happened, and the link."""
    headline = neutralise(escape_markdown(truncate(one_line(item.headline), 200)))
    link = f" <{item.url}>" if item.url else ""
    return f"`{item.date}` **{item.jurisdiction or '—'}** {headline}{link}"


def latest_page_embed(
    items: Sequence[Development], page: int, *, heading: str, per_page: int = SOURCES_PER_PAGE
) -> discord.Embed:
    """One page of `/latest`, newest first."""
    pages = page_count(len(items), per_page)
    page = min(max(page, 0), pages - 1)
    shown = items[page * per_page : (page + 1) * per_page]
    embed = discord.Embed(
        title=f"{heading} ({len(items)})",
        description=_fit_entries([latest_entry(d) for d in shown], DESCRIPTION_LIMIT, separator="\n"),
        colour=ANSWER_COLOUR,
    )
    embed.set_footer(text=f"Page {page + 1} of {pages}")
    return clamp_embed(embed)


# -- embed limits --------------------------------------------------------------------------------


def _fit_entries(entries: Sequence[str], limit: int, *, separator: str) -> str:
    """Whole entries that fit in `limit` characters, then "…and N more"."""
    reserve = len(separator) + len(f"…and {len(entries)} more")
    out: list[str] = []
    used = 0
    for i, entry in enumerate(entries):
        cost = len(entry) + (len(separator) if out else 0)
        room = limit if i == len(entries) - 1 else limit - reserve
        if used + cost > room:
            shown = i
            if not out:  # even the first entry is too long: show the start of it
                out.append(truncate(entry, max(1, limit - reserve)))
                shown += 1
            if len(entries) > shown:
                out.append(f"…and {len(entries) - shown} more")
            break
        out.append(entry)
        used += cost
    return separator.join(out)


def clamp_embed(embed: discord.Embed) -> discord.Embed:
    """Trim an embed to Discord's limits, shortening the description first."""
    if embed.title and len(embed.title) > TITLE_LIMIT:
        embed.title = truncate(embed.title, TITLE_LIMIT)
    if embed.description and len(embed.description) > DESCRIPTION_LIMIT:
        embed.description = truncate(embed.description, DESCRIPTION_LIMIT)
    while len(embed.fields) > FIELD_COUNT_LIMIT:
        embed.remove_field(len(embed.fields) - 1)
    for i, field in enumerate(embed.fields):
        name = truncate(field.name or "\u200b", FIELD_NAME_LIMIT)
        value = truncate(field.value or "\u200b", FIELD_VALUE_LIMIT)
        if name != field.name or value != field.value:
            embed.set_field_at(i, name=name, value=value, inline=bool(field.inline))
    if embed.footer.text and len(embed.footer.text) > FOOTER_LIMIT:
        footer = truncate(embed.footer.text, FOOTER_LIMIT)
        embed.set_footer(text=footer, icon_url=embed.footer.icon_url)
    if embed.author.name and len(embed.author.name) > AUTHOR_LIMIT:
        embed.set_author(
            name=truncate(embed.author.name, AUTHOR_LIMIT),
            url=embed.author.url,
            icon_url=embed.author.icon_url,
        )
    excess = len(embed) - EMBED_TOTAL_LIMIT
    if excess > 0 and embed.description:
        keep = max(0, len(embed.description) - excess)
        embed.description = truncate(embed.description, keep) if keep else None
    while len(embed) > EMBED_TOTAL_LIMIT and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    return embed
