"""Errors whose message is fit to show to a user as it is.

Every one is a `BotError`, so a front end (the command line, Discord) catches one family and
shows `str(error)`; anything else is a bug or an outage, logged with its traceback.
"""


class BotError(Exception):
    """Base class: `str(error)` is a plain-words message for the user."""


class EngineError(BotError):
    """Answering or indexing cannot go on; the message says why."""


class QuestionError(EngineError):
    """The question cannot be answered as asked (empty, too long)."""


class IndexNotReady(EngineError):
    """There is no index yet, or it was built with another embedding model."""


class StoreUnavailable(EngineError):
    """The vector store cannot be reached."""


class ReindexBusy(EngineError):
    """Another reindex is running."""


class StoreDamaged(EngineError):
    """A database behind the index is damaged; the message says the way out."""


class SourceError(BotError):
    """Bad input for the knowledge folder: a file, a name, an address or a field an admin gave,
    or a page that could not be fetched."""
