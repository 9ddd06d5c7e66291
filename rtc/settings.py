"""One place for configuration: environment variables with the prefix ``RTC_``
(or a ``.env`` file), read once and cached."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from graph.model import DEFAULT_WEIGHTS


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RTC_", env_file=".env", extra="ignore")

    store: str = Field("embedded://./rtc-data", description="Store URL: embedded://PATH")
    batch_size: int = Field(5000, description="Rows per write batch on server backends")
    max_errors: int = Field(1000, description="Errors listed per import report (the count is always exact)")
    weights: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_WEIGHTS), description="Weight of each action kind (JSON in RTC_WEIGHTS)"
    )
    min_pressure: float = Field(1.0, description="A pressure sink receives at least this much pressure")
    sink_ratio: float = Field(0.5, description="A pressure sink passes on less than this ratio")
    commission_share_flag: float = Field(0.7, description="Commission share above this is flagged")


@lru_cache
def get_settings() -> Settings:
    return Settings()
