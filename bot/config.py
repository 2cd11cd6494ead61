"""Settings from the environment and `.env`, built once in `main()` and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting of the bot. `.env.example` documents each one."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    # Discord
    discord_token: SecretStr | None = None
    dev_guild_id: int | None = None
    admin_role_id: int | None = None
    owner_ids: list[int] = Field(default_factory=list)
    allowed_channel_ids: list[int] = Field(default_factory=list)
    mention_mode: bool = False  # needs the privileged message-content intent
    user_cooldown_seconds: float = 10.0
    guild_concurrency: int = 3
    max_question_chars: int = 1000
    # The shared sources (the knowledge folder) are changed from the command line, by OWNER_IDS,
    # and by the admins of these servers; every other server's admins manage their own only.
    shared_admin_guild_ids: list[int] = Field(default_factory=list)
    server_max_sources: int = Field(default=50, gt=0)  # a server's own sources, at most
    server_max_bytes: int = Field(default=50 * 1024 * 1024, gt=0)  # their total size, at most

    # Scale-out: shards (discord.py's auto-sharded client) and scheduled reindexing
    shard_count: int | None = None  # total shards across all processes; unset = one unsharded process
    shard_ids: list[int] = Field(default_factory=list)  # the shards this process runs; empty = all
    reindex_every: float | None = None  # seconds between scheduled reindexes; "6h", "30m", "1d" accepted
    # With DATABASE_URL: a reindex whose process died frees the lease after this long (renewed
    # between batches, so it must exceed the time one batch of files takes to embed)
    reindex_lease_seconds: float = Field(default=600.0, gt=0)

    # Fetching sources from the web (/sources add url:, python bot.py add URL)
    fetch_allow_private: bool = False  # also private/loopback/link-local addresses (trusted setups only)
    fetch_max_bytes: int = 10 * 1024 * 1024
    fetch_timeout_seconds: float = 20.0  # the whole fetch; connecting is also capped at 10 s

    # Language model (any OpenAI-compatible server)
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    openai_timeout_seconds: float = 30.0
    openai_max_retries: int = 2
    openai_max_tokens: int = Field(default=1200, gt=0)  # per answer; the answer is also cut at 8,000 chars

    # Embeddings
    embedding_backend: Literal["local", "openai"] = "local"
    openai_embedding_model: str = "text-embedding-3-small"

    # Storage
    knowledge_dir: Path = Path("knowledge")
    data_dir: Path = Path("data")
    chroma_host: str | None = None
    chroma_port: int = 8000
    chroma_ssl: bool = False
    chroma_auth_token: SecretStr | None = None
    collection_prefix: str = "kb"
    # SQLAlchemy URL of the feedback and answer log; SQLite under DATA_DIR when unset
    database_url: str | None = None

    @field_validator("openai_base_url", "chroma_host", "database_url", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("reindex_every", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        """'6h', '30m', '1d', '90s' or a number of seconds."""
        if not isinstance(value, str):
            return value
        text = value.strip().lower()
        if not text:
            return None
        units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
        if text[-1] in units:
            return float(text[:-1]) * units[text[-1]]
        return float(text)

    @field_validator("reindex_every")
    @classmethod
    def _at_least_a_minute(cls, value: float | None) -> float | None:
        if value is not None and value < 60:
            raise ValueError("must be at least 60 seconds (for example 30m or 6h)")
        return value

    @property
    def llm_configured(self) -> bool:
        """An LLM is used when a key or an OpenAI-compatible server address is set."""
        return self.openai_api_key is not None or self.openai_base_url is not None

    @property
    def embedding_model_id(self) -> str:
        """Names the embedding model that builds and reads the index."""
        if self.embedding_backend == "openai":
            return f"openai:{self.openai_embedding_model}"
        return "local:all-MiniLM-L6-v2"
