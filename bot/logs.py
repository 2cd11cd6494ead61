"""Secrets never reach a log line: configured keys and tokens are masked in every log record,
whichever library writes it (a model server that echoes the key in an error, say)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from bot.config import Settings

MASK = "[redacted]"
_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def protect(settings: Settings) -> None:
    """Mask the settings' secrets in all log records from now on (idempotent)."""
    values = [settings.discord_token, settings.openai_api_key, settings.chroma_auth_token]
    found = {v.get_secret_value() for v in values if v is not None}
    found = {s for s in found if len(s) >= 6}  # a very short value would mask ordinary words
    if not found:
        return
    global _installed
    with _lock:
        _secrets.update(found)
        if not _installed:
            _wrap_factory()
            _installed = True


def redact(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def _wrap_factory() -> None:
    make = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed log call: leave it to the handler to report
            return record
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            if redact(text) != text:
                record.exc_text = redact(text)
        return record

    logging.setLogRecordFactory(factory)
