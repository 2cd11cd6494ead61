"""Errors whose message is fit to show to a user as it is."""


class EngineError(Exception):
    """Base class: `str(error)` is a plain-words message for the user."""


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
