"""Core: no form of the settings shows the database password, and the app still connects with it."""

from __future__ import annotations

import logging
import pprint

import pytest

from bot.logs import install_redaction
from bot.settings import Settings
from bot.storage.database import Database

PASSWORD = "pg-pass-w0rd-for-tests"
URL = f"postgresql://webcare:{PASSWORD}@db.example.com:5432/webcare"


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("WEBCARE_DATABASE_URL", URL)
    return Settings(_env_file=None)  # type: ignore[call-arg]


def test_no_form_of_the_settings_shows_the_database_password(settings):
    shown = [repr(settings), str(settings), f"{settings}", f"{settings!r}", pprint.pformat(settings),
             str(settings.model_dump()), str(settings.model_dump(mode="json")), settings.model_dump_json()]
    for text in shown:
        assert PASSWORD not in text
        assert "postgresql://webcare:***@db.example.com:5432/webcare" in text


def test_the_app_still_connects_with_the_password(settings):
    assert settings.database_url == URL
    assert Database(settings.database_url).engine.url.password == PASSWORD


def test_a_password_in_a_log_line_is_masked(settings, caplog):
    install_redaction(settings.secret_values())
    logging.getLogger("tests").warning("could not reach %s", URL)
    assert PASSWORD not in caplog.text and "[redacted]" in caplog.text


def test_a_url_encoded_password_is_hidden_in_both_spellings(monkeypatch):
    monkeypatch.setenv("WEBCARE_DATABASE_URL", "postgresql://webcare:p%40ss%2Fw0rd-x@db/webcare")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert "p%40ss" not in repr(settings) and "p@ss" not in repr(settings)
    assert {"p@ss/w0rd-x", "p%40ss%2Fw0rd-x"} <= set(settings.secret_values())
