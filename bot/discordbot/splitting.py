"""Cutting text into Discord messages (2,000 characters each) without breaking its Markdown.

Pure functions, no Discord objects.
"""

from __future__ import annotations

import re

from bot.core.text import SENTENCE_CUT

MESSAGE_LIMIT = 2000

_FENCE = re.compile(r"```.*?(?:```|\Z)", re.S)
_INLINE_CODE = re.compile(r"`[^`\n]+`")
# No "[" in a link text and no "(" in its address: each scan stops where the next could start
_MD_LINK = re.compile(r"\[[^\[\]\n]*\]\([^()\s]*\)")
_ANGLE_URL = re.compile(r"<https?://[^<>\s]+>")
_BARE_URL = re.compile(r"https?://[^\s<>]+")
_MARKER = re.compile(r"\[\d+(?:\s*[,\u2013-]\s*\d+)*\]")
_PROTECTED = (_FENCE, _INLINE_CODE, _MD_LINK, _ANGLE_URL, _BARE_URL, _MARKER)

_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_LINE = re.compile(r"\n")
_SPACE = re.compile(r"\s+")


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Cut text into messages of at most `limit` characters.

    Cuts on paragraph, then line, then sentence, then word boundaries, and never inside a link,
    a citation marker like [3], inline code or a code fence (a fence too long for one message is
    closed and reopened so that every message stays valid Markdown).
    """
    text = text.strip()
    if text.count("```") % 2:
        text += "\n```"  # close an unterminated fence so that it can be protected
    text = _reflow_long_fences(text, limit)
    chunks: list[str] = []
    while text:
        if len(text) <= limit:
            chunks.append(text)
            break
        cut = _find_cut(text, limit)
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return chunks


def _protected_spans(text: str) -> list[tuple[int, int]]:
    """Spans no cut may fall inside. Code fences are found first and blanked out, so that the
    other patterns (inline code above all) cannot pair a fence's backticks with another's."""
    fences = [m.span() for m in _FENCE.finditer(text)]
    masked = list(text)
    for start, end in fences:
        masked[start:end] = " " * (end - start)
    rest = "".join(masked)
    spans = fences + [
        m.span() for pattern in _PROTECTED if pattern is not _FENCE for m in pattern.finditer(rest)
    ]
    return sorted(s for s in spans if s[1] - s[0] > 1)


def _find_cut(text: str, limit: int) -> int:
    # Protected spans are looked for near the cut only, and marked once: scanning the whole rest
    # of a long answer for every message, and every span for every position, was quadratic.
    spans = [s for s in _protected_spans(text[: 2 * limit + 1]) if s[0] < limit]
    inside = bytearray(limit + 1)
    for start, end in spans:
        lo, hi = start + 1, min(end, limit + 1)
        if lo < hi:
            inside[lo:hi] = bytes([1]) * (hi - lo)
    first_text = len(text) - len(text.lstrip())  # a cut must leave some text before it

    def allowed(pos: int) -> bool:
        return first_text < pos <= limit and not inside[pos]

    window = text[: limit + 1]
    best_any = 0
    levels = (
        [m.start() for m in _PARAGRAPH.finditer(window)],
        [m.start() for m in _LINE.finditer(window)],
        [m.end() for m in SENTENCE_CUT.finditer(window)],  # the sentence rule, loosened for cuts
        [m.start() for m in _SPACE.finditer(window)],
    )
    for level, positions in enumerate(levels):
        good = [p for p in positions if allowed(p)]
        if not good:
            continue
        best = max(good)
        best_any = max(best_any, best)
        if best >= limit // 2 or level == len(levels) - 1:
            return best
    if best_any:
        return best_any
    # No boundary at all: cut at the limit, or before a protected span that straddles it.
    for start, end in spans:
        if start < limit < end and start > 0:
            return start
    return limit


def _reflow_long_fences(text: str, limit: int) -> str:
    def reflow(match: re.Match[str]) -> str:
        block = match.group(0)
        if len(block) <= limit:
            return block
        head, newline, rest = block.partition("\n")
        if not newline:
            return block
        opener = head if len(head) <= 40 else "```"
        inner = rest[:-3] if rest.endswith("```") else rest
        budget = limit - len(opener) - len("\n\n```")
        if budget < 10:
            return block
        pieces: list[str] = []
        current = ""
        for line in inner.rstrip("\n").split("\n"):
            while len(line) > budget:
                if current:
                    pieces.append(current)
                    current = ""
                pieces.append(line[:budget])
                line = line[budget:]
            candidate = f"{current}\n{line}" if current else line
            if current and len(candidate) > budget:
                pieces.append(current)
                current = line
            else:
                current = candidate
        pieces.append(current)
        return "\n".join(f"{opener}\n{piece}\n```" for piece in pieces)

    return _FENCE.sub(reflow, text)
