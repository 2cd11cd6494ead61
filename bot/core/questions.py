"""The question rule: what a question must be before anything works on it.

One rule for every front end. Discord checks it before acknowledging a command (so a refusal is
quick and private); the engine checks it again for every caller, with the same limit
(MAX_QUESTION_CHARS in the settings).
"""

from __future__ import annotations

import re

from bot.core.errors import QuestionError

_SPACE = re.compile(r"\s+")
_MASS_MENTION = re.compile(r"@(everyone|here)\b")


def tidy_question(question: str) -> str:
    """The question on one line (runs of white space collapsed) and with its mass mentions
    defused ("@everyone" -> "everyone"), as the engine reads and records it."""
    text = _SPACE.sub(" ", question or "").strip()
    return _MASS_MENTION.sub(r"\1", text)


def check_question(question: str, max_chars: int) -> str:
    """The tidied question, or QuestionError saying plainly what is wrong with it: empty, or
    longer than `max_chars` characters."""
    text = tidy_question(question)
    if not text:
        raise QuestionError(
            'The question is empty. Ask something like: "Who owns an AI-generated image in the US?"'
        )
    if len(text) > max_chars:
        raise QuestionError(
            f"Your question is {len(text):,} characters long; please keep it under "
            f"{max_chars:,} characters and ask about one thing at a time."
        )
    return text
