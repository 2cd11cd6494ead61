"""Typed records passed between the stages of the answer engine.

These types are the contract between the engine and its callers (the command line and the
Discord layer); they carry no behaviour beyond serialisation, and `by_source`, the grouping both
callers use for their source lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any, Literal


class Status(str, Enum):
    """How the engine dealt with a question."""

    ANSWERED = "answered"
    NO_ANSWER = "no_answer"  # on topic, but the sources do not cover it
    OUT_OF_SCOPE = "out_of_scope"  # not about AI, copyright, IP or tech law
    REFUSED = "refused"  # e.g. asked to invent a citation or reveal the prompt


Mode = Literal["llm", "extractive"]

DISCLAIMER = (
    "This is general information from the cited sources, not legal advice; "
    "for your own situation, ask a qualified lawyer."
)


@dataclass(frozen=True)
class Citation:
    """One numbered source of an answer, with the exact text that supports the claim."""

    n: int
    title: str
    url: str
    publisher: str
    published: str  # ISO date of the source, "" when unknown
    jurisdiction: str  # CN, US, EU, ... or "" when unknown
    source: str  # path of the file under the knowledge folder, e.g. "knowledge/cn-li-v-liu-2023.md"
    quote: str  # verbatim text of the source file (whitespace aside)
    start: int = -1  # character offset of the quote in the source text
    end: int = -1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def by_source(citations: Sequence[Citation]) -> list[tuple[list[int], Citation]]:
    """Citations grouped by the file they quote, in the order of first citation: a source list
    names a file once, with every number that cites it ("[4] [5] Allen v. Perlmutter ...")."""
    groups: dict[str, tuple[list[int], Citation]] = {}
    for c in citations:
        groups.setdefault(c.source or f"#{c.n}", ([], c))[0].append(c.n)
    return list(groups.values())


@dataclass
class Answer:
    """What the engine says about one question."""

    question: str
    status: Status
    answer: str  # text with [n] markers for answered; a kind explanation otherwise
    mode: Mode
    citations: list[Citation] = field(default_factory=list)
    disclaimer: str = DISCLAIMER
    note: str = ""  # e.g. "The language model was unavailable; quoting the sources directly."
    closest: list[Citation] = field(default_factory=list)  # declines: nearest sources, if useful
    latency_ms: int = 0
    retrieved: list[str] = field(default_factory=list)  # sources in rank order (for evaluation)
    # The passages that went (or, in the extractive mode or a decline, would go) to the language
    # model: [{"source", "heading", "text"}], for evaluation.
    context: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of `ask --json`."""
        return {
            "question": self.question,
            "status": self.status.value,
            "answer": self.answer,
            "mode": self.mode,
            "citations": [c.to_dict() for c in self.citations],
            "disclaimer": self.disclaimer,
            "note": self.note,
            "closest": [c.to_dict() for c in self.closest],
            "latency_ms": self.latency_ms,
        }


@dataclass(frozen=True)
class AnswerDelta:
    """A piece of streamed answer text (unverified; the final Answer replaces it)."""

    text: str


@dataclass(frozen=True)
class Failure:
    """A knowledge file that could not be loaded, and why."""

    source: str
    reason: str


@dataclass(frozen=True)
class Progress:
    """Progress of a reindex, reported after each batch of files."""

    files_done: int
    files_total: int
    chunks_done: int
    phase: str = "indexing"  # "loading", "indexing", "switching", "done"

    @property
    def percent(self) -> int:
        if self.files_total <= 0:
            return 100
        return min(100, round(100 * self.files_done / self.files_total))


@dataclass
class ReindexReport:
    """Summary of one reindex. Counts are of chunks, except `files` and `failed`."""

    added: int = 0
    updated: int = 0
    skipped: int = 0
    deleted: int = 0
    failed: list[Failure] = field(default_factory=list)
    chunks: int = 0  # chunks in the index afterwards
    files: int = 0  # files indexed in this run
    seconds: float = 0.0
    full: bool = False
    embedding_model: str = ""
    embedding_calls: int = 0  # calls to the embedding model in this run

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of `reindex --json`."""
        return {
            "added": self.added,
            "updated": self.updated,
            "skipped": self.skipped,
            "deleted": self.deleted,
            "failed": [{"source": f.source, "reason": f.reason} for f in self.failed],
            "chunks": self.chunks,
            "files": self.files,
            "seconds": round(self.seconds, 3),
            "full": self.full,
            "embedding_model": self.embedding_model,
            "embedding_calls": self.embedding_calls,
        }


@dataclass(frozen=True)
class IndexStats:
    """What `/sources stats` shows."""

    documents: int
    chunks: int
    last_indexed: str  # ISO timestamp, "" if never
    embedding_model: str
    collection: str


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of a conversation, for follow-up questions."""

    question: str
    answer: str
