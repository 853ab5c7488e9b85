"""Server configuration, from environment variables prefixed ASSAY_ (or a .env file)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from assay.domain.errors import DomainError

DEFAULT_SECRET = "development-only-secret-change-me"


class InsecureSettings(DomainError):
    """The server would run outside development with a setting only fit for development."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASSAY_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str | None = None  # None: the embedded SQLite default
    secret_key: str = DEFAULT_SECRET  # keys the HMAC under which API tokens are stored
    host: str = "127.0.0.1"
    port: int = 8000
    login_token_hours: int = Field(default=12, ge=1, le=24 * 30)
    # Webhook URLs on private, loopback or link-local addresses are refused unless allowed here.
    allow_private_webhooks: bool = False
    # Requests per minute, per token and per client address.
    rate_limit_per_token: int = Field(default=1200, ge=1)
    rate_limit_per_address: int = Field(default=2400, ge=1)
    # Where the counts live: memory:// (each server process counts alone) or redis://host:port/db
    # (shared by every process); the prefix keeps deployments sharing one Redis apart.
    rate_limit_storage: str = Field(default="memory://", pattern=r"^(memory|redis|rediss)://")
    rate_limit_prefix: str = Field(default="assay", min_length=1, max_length=100)
    max_upload_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    bulk_rows_inline: int = Field(default=1000, ge=1)  # more rows than this run as a job
    background_workers: bool = True  # webhook dispatcher and job runner threads inside the server

    def check_safe(self) -> None:
        if self.environment != "development" and self.secret_key == DEFAULT_SECRET:
            raise InsecureSettings(
                f"ASSAY_SECRET_KEY is the development default; set a long random secret before running "
                f"with ASSAY_ENVIRONMENT={self.environment}"
            )
        if self.environment == "production" and self.allow_private_webhooks:
            raise InsecureSettings("ASSAY_ALLOW_PRIVATE_WEBHOOKS is for development only")
        if len(self.secret_key) < 16:
            raise InsecureSettings("ASSAY_SECRET_KEY must be at least 16 characters")

    @property
    def token_key(self) -> bytes:
        return self.secret_key.encode()
