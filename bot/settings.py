"""One frozen Settings object read from the environment and `.env`; secrets never print."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_serializer, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _env(name: str) -> AliasChoices:
    return AliasChoices(name, name.lower())


def _url_parts(url: str) -> tuple[str, list[str]]:
    """The URL with its password masked, and the password as written and decoded (none if there is none)."""
    try:
        parts = urlsplit(url)
        written = parts.password
    except ValueError:  # not a URL the app could connect with; shown whole, nothing in it to hide
        return url, []
    if not written:
        return url, []
    userinfo, _, host = parts.netloc.rpartition("@")
    masked = parts._replace(netloc=f"{userinfo.split(':', 1)[0]}:***@{host}").geturl()
    return masked, [p for p in {written, unquote(written)} if p]


class Settings(BaseSettings):
    """Process configuration (docs/contract.md §2); every integration is optional."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True, populate_by_name=True)

    host: str = Field("127.0.0.1", validation_alias=_env("HOST"))
    port: int = Field(3000, validation_alias=_env("PORT"))
    database_url: str = Field("sqlite:///webcare.db", validation_alias=_env("WEBCARE_DATABASE_URL"))
    config_path: Path | None = Field(None, validation_alias=_env("WEBCARE_CONFIG"))
    playbooks_dir: Path = Field(Path("playbooks"), validation_alias=_env("WEBCARE_PLAYBOOKS_DIR"))
    dev: bool = Field(False, validation_alias=_env("WEBCARE_DEV"))
    log_format: Literal["text", "json"] = Field("text", validation_alias=_env("WEBCARE_LOG_FORMAT"))
    ingest_secret: SecretStr | None = Field(None, validation_alias=_env("WEBCARE_INGEST_SECRET"))
    reply_webhook_url: str | None = Field(None, validation_alias=_env("WEBCARE_REPLY_WEBHOOK_URL"))
    reply_webhook_secret: SecretStr | None = Field(None, validation_alias=_env("WEBCARE_REPLY_WEBHOOK_SECRET"))
    mastodon_api_base_url: str | None = Field(None, validation_alias=_env("MASTODON_API_BASE_URL"))
    mastodon_access_token: SecretStr | None = Field(None, validation_alias=_env("MASTODON_ACCESS_TOKEN"))
    slack_bot_token: SecretStr | None = Field(None, validation_alias=_env("SLACK_BOT_TOKEN"))
    slack_signing_secret: SecretStr | None = Field(None, validation_alias=_env("SLACK_SIGNING_SECRET"))
    slack_app_token: SecretStr | None = Field(None, validation_alias=_env("SLACK_APP_TOKEN"))
    slack_triage_channel: str | None = Field(None, validation_alias=_env("SLACK_TRIAGE_CHANNEL"))
    slack_api_url: str = Field("https://slack.com/api/", validation_alias=_env("SLACK_API_URL"))
    microsoft_app_id: str | None = Field(None, validation_alias=_env("MICROSOFT_APP_ID"))
    microsoft_app_password: SecretStr | None = Field(None, validation_alias=_env("MICROSOFT_APP_PASSWORD"))
    microsoft_app_tenant_id: str | None = Field(None, validation_alias=_env("MICROSOFT_APP_TENANT_ID"))
    microsoft_app_type: str | None = Field(None, validation_alias=_env("MICROSOFT_APP_TYPE"))
    microsoft_login_url: str | None = Field(None, validation_alias=_env("MICROSOFT_LOGIN_URL"))
    microsoft_openid_metadata_url: str | None = Field(None, validation_alias=_env("MICROSOFT_OPENID_METADATA_URL"))
    teams_triage_channel: str | None = Field(None, validation_alias=_env("TEAMS_TRIAGE_CHANNEL"))
    teams_service_url: str | None = Field(None, validation_alias=_env("TEAMS_SERVICE_URL"))
    teams_tenant_id: str | None = Field(None, validation_alias=_env("TEAMS_TENANT_ID"))
    teams_team_id: str | None = Field(None, validation_alias=_env("TEAMS_TEAM_ID"))  # the team's Entra group id
    microsoft_graph_url: str = Field("https://graph.microsoft.com/v1.0/", validation_alias=_env("MICROSOFT_GRAPH_URL"))

    @field_validator("config_path", "reply_webhook_url", "slack_triage_channel", "mastodon_api_base_url",
                     "microsoft_app_id", "microsoft_app_tenant_id", "microsoft_app_type", "teams_triage_channel",
                     "teams_service_url", "teams_tenant_id", "microsoft_app_password", "slack_bot_token",
                     "slack_signing_secret", "slack_app_token", "ingest_secret", "reply_webhook_secret",
                     "mastodon_access_token", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_serializer("database_url")
    def _hide_password(self, url: str) -> str:
        return _url_parts(url)[0]

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            yield name, _url_parts(value)[0] if name == "database_url" else value

    @property
    def ingest_secrets(self) -> list[str]:
        """The accepted ingest secrets (several during a rotation)."""
        return self.ingest_secret.get_secret_value().split() if self.ingest_secret else []

    @property
    def slack_enabled(self) -> bool:
        """Slack is configured enough to post cards."""
        return self.slack_bot_token is not None

    @property
    def teams_enabled(self) -> bool:
        """Teams is configured: an app id with its password, or local development without auth."""
        return bool(self.microsoft_app_id or (self.dev and (self.teams_triage_channel or self.teams_service_url)))

    def teams_problem(self) -> str | None:
        """Why the Teams settings are half-configured (serve refuses to start then), or None."""
        if self.microsoft_app_id and self.microsoft_app_password is None:
            return "MICROSOFT_APP_ID is set but MICROSOFT_APP_PASSWORD is missing"
        if self.microsoft_app_password is not None and not self.microsoft_app_id:
            return "MICROSOFT_APP_PASSWORD is set but MICROSOFT_APP_ID is missing"
        teams_vars = {"TEAMS_TRIAGE_CHANNEL": self.teams_triage_channel, "TEAMS_SERVICE_URL": self.teams_service_url,
                      "TEAMS_TENANT_ID": self.teams_tenant_id}
        given = [name for name, value in teams_vars.items() if value]
        if given and not self.microsoft_app_id and not self.dev:
            return (f"{', '.join(given)} set but MICROSOFT_APP_ID is missing (set it and MICROSOFT_APP_PASSWORD, "
                    "or WEBCARE_DEV=1 to run Teams without authentication locally)")
        return None

    @property
    def resolved_config_path(self) -> Path | None:
        """The webcare.toml to load: the configured one, else ./webcare.toml when present."""
        if self.config_path is not None:
            return self.config_path
        default = Path("webcare.toml")
        return default if default.exists() else None

    def secret_values(self) -> list[str]:
        """Every secret value set, for log redaction."""
        secrets = [self.ingest_secret, self.reply_webhook_secret, self.mastodon_access_token,
                   self.slack_bot_token, self.slack_signing_secret, self.slack_app_token,
                   self.microsoft_app_password]
        values = [s.get_secret_value() for s in secrets if s is not None]
        values += [part.removeprefix("whsec_") for value in values for part in value.split()]  # the key itself
        values += _url_parts(self.database_url)[1]
        return [part for value in values for part in [value, *value.split()] if len(part) >= 6]
