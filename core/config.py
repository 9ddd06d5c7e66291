"""One place for configuration: environment variables with the prefix ``RTC_``
(or a ``.env`` file), read once and cached."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from graph.factory import open_store
from graph.model import DEFAULT_WEIGHTS
from graph.store import Store


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RTC_", env_file=".env", extra="ignore")

    store: str = Field(
        "embedded://./rtc-data",
        description="Store URL: embedded://PATH, neo4j://HOST:PORT[/DB], bolt://..., falkordb://HOST:PORT[/GRAPH]",
    )
    store_user: str = Field("neo4j", description="User for a Neo4j store")
    store_password: SecretStr = Field(SecretStr(""), description="Password for a Neo4j or FalkorDB store")
    batch_size: int = Field(5000, description="Rows per write batch on server backends")
    lock_wait: float = Field(
        600.0, gt=0, description="Seconds an import waits for another import into the same store before giving up"
    )
    max_errors: int = Field(1000, description="Errors listed per import report (the count is always exact)")
    weights: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_WEIGHTS), description="Weight of each action kind (JSON in RTC_WEIGHTS)"
    )
    min_pressure: float = Field(1.0, description="A pressure sink receives at least this much pressure")
    sink_ratio: float = Field(0.5, description="A pressure sink passes on less than this ratio")
    commission_share_flag: float = Field(0.7, description="Commission share above this is flagged")
    alerts_on_import: bool = Field(
        True, description="An import that promotes or transfers someone lists the alerts it raises"
    )
    scheme: str = Field(
        "default", description="Indicator scheme: default, six-plus-x, or a YAML file (docs/indicators.md)"
    )
    api_keys_file: str = Field("./rtc-keys.json", description="Hashed API keys (written by `rtc keys add`)")
    audit_log: str = Field("./rtc-imports.jsonl", description="Every import through the API: who, when, what, outcome")
    max_upload_bytes: int = Field(200 * 1024 * 1024, description="Largest import upload the API accepts")
    stream_above_mb: float = Field(
        256, description="`rtc load` into a server store streams a dataset folder larger than this (MB)"
    )
    views_dir: str = Field("./rtc-views", description="Where `rtc demo` writes its views (HTML)")
    public_docs: bool = Field(
        False,
        description="Serve /docs and /openapi.json without a key (by default the schema needs a reader key "
        "and /docs is off: only /health and /version are open)",
    )
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed by CORS (none by default)")
    access_log: bool = Field(
        False,
        description="`rtc serve` logs every request line. Off by default: the URLs name the persons "
        "and cases looked up, and stderr is rarely kept as carefully as the data",
    )
    session_hours: float = Field(8.0, gt=0, description="A browser login (the workbench) lasts this long")
    session_secret: SecretStr = Field(
        SecretStr(""),
        description="Signs browser sessions; empty: a random one per process (sessions end at a restart; "
        "set it when several workers serve one API)",
    )
    cookie_secure: bool = Field(
        True, description="Send the session cookie over HTTPS only (browsers treat http://localhost as secure)"
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()


def open_configured_store(url: str | None = None, settings: Settings | None = None, *, create: bool = True) -> Store:
    """Open ``url`` (default: the ``store`` setting) with the credentials, batch size and lock wait
    from ``settings`` (default: the environment's)."""
    settings = settings or get_settings()
    return open_store(
        url or settings.store,
        user=settings.store_user,
        password=settings.store_password.get_secret_value() or None,
        batch_size=settings.batch_size,
        lock_wait=settings.lock_wait,
        create=create,
    )
