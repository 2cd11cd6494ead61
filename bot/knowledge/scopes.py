"""Whose sources: the shared base the bot ships with, or one Discord server's own.

The knowledge folder holds both. Files directly in it (and in its subfolders) are the shared
base, which only the operator changes; `servers/<guild id>/` below it holds what one server's
admins added. Each scope is indexed into collections of its own (its own pointer, record
namespace and reindex lock), so a server's reindex never touches the base or another server,
and an existing deployment's folder simply is the base.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings

SERVERS_FOLDER = "servers"


@dataclass(frozen=True)
class Scope:
    """The shared base (`guild_id` None) or one server's own sources."""

    guild_id: int | None = None

    @property
    def is_base(self) -> bool:
        return self.guild_id is None

    def folder(self, knowledge_dir: Path) -> Path:
        """Where this scope's files live."""
        if self.guild_id is None:
            return knowledge_dir
        return knowledge_dir / SERVERS_FOLDER / str(self.guild_id)

    def settings(self, settings: Settings) -> Settings:
        """The settings with this scope's collection prefix. A server's prefix does not start with
        the base's prefix and an underscore, so the base's clean-up of unfinished rebuilds never
        takes a server's collections for its own."""
        if self.guild_id is None:
            return settings
        prefix = f"{settings.collection_prefix}-g{self.guild_id}"
        return settings.model_copy(update={"collection_prefix": prefix})

    def holds(self, knowledge_dir: Path, path: Path) -> bool:
        """Whether a file below the knowledge folder belongs to this scope."""
        rel = path.relative_to(knowledge_dir).parts
        if self.guild_id is None:
            return not rel or rel[0] != SERVERS_FOLDER
        return rel[:2] == (SERVERS_FOLDER, str(self.guild_id))


BASE = Scope()


def scope_of(source: str) -> Scope:
    """The scope of a `source` value ("knowledge/servers/123/page.md" is server 123's)."""
    parts = source.split("/")
    if len(parts) >= 4 and parts[1] == SERVERS_FOLDER and parts[2].isdigit():
        return Scope(int(parts[2]))
    return BASE
