"""Logging: set-up that masks every secret, bounded excerpts, and one line when a dependency stops or comes back."""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Iterable

from pythonjsonlogger import json as jsonlogger

REDACTED = "[redacted]"
EXCERPT_LIMIT = 200
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JSON_FIELDS = ["asctime", "levelname", "name", "message"]
# Libraries whose DEBUG (or INFO) lines drown ours: markdown-it logs every parser rule it tries (thousands of lines
# per card), aiosqlite every statement, msrest a warning per Teams click for fields botbuilder does not model.
QUIET_LOGGERS = {"markdown_it": logging.INFO, "aiosqlite": logging.INFO, "asyncio": logging.INFO,
                 "urllib3": logging.INFO, "msal": logging.INFO, "msrest": logging.INFO,
                 "msrest.serialization": logging.ERROR}
# Token shapes that must never reach a log even when not configured here (e.g. echoed back by an API).
_TOKEN_PATTERN = re.compile(r"(xox[abposre]-[A-Za-z0-9-]{6,}|xapp-[A-Za-z0-9-]{6,}|whsec_[A-Za-z0-9+/=]{6,}"
                            r"|v1,[A-Za-z0-9+/]{20,}={0,2}|v0=[a-f0-9]{32,}|Bearer [A-Za-z0-9._~+/=-]{8,})")


class Redactor:
    """Masks known secrets and token shapes in text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Also mask these values from now on."""
        merged = set(self.secrets) | {s for s in secrets if s}
        self.secrets = sorted(merged, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return _TOKEN_PATTERN.sub(REDACTED, text)


REDACTOR = Redactor()


def excerpt(text: object, limit: int = EXCERPT_LIMIT) -> str:
    """Untrusted text for one log line: control and non-ASCII characters escaped, at most `limit` characters."""
    escaped = str(text)[: limit + 1].encode("unicode_escape").decode("ascii")
    return escaped if len(escaped) <= limit else escaped[: limit - 1] + "…"
_base_factory = logging.getLogRecordFactory()


def _redacting_factory(*args: object, **kwargs: object) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)  # type: ignore[arg-type]
    message = record.getMessage()
    record.msg, record.args = REDACTOR(message), None
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = REDACTOR(logging.Formatter().formatException(record.exc_info))
    return record


def install_redaction(secrets: Iterable[str]) -> None:
    """Mask these secrets in every record created from now on, whichever handler emits it."""
    REDACTOR.add(secrets)
    if logging.getLogRecordFactory() is not _redacting_factory:
        logging.setLogRecordFactory(_redacting_factory)


class JsonFormatter(jsonlogger.JsonFormatter):
    """One JSON object per record (time, level, logger, message, and the traceback if any), secrets masked."""

    def format(self, record: logging.LogRecord) -> str:
        return REDACTOR(super().format(record))  # the traceback and any extra field too, not only the message


def configure(level: str = "INFO", secrets: Iterable[str] = (), *, fmt: str = "text") -> None:
    """One-line log records on stderr (text or JSON), with secrets masked and chatty libraries kept quiet."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter(JSON_FIELDS, rename_fields={"asctime": "time", "levelname": "level",
                                                                   "name": "logger"})
                         if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for name, quiet in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(max(quiet, logging.getLogger().level))
    install_redaction(secrets)


def describe(exc: BaseException, limit: int = 200) -> str:
    """The exception's kind and the first line of its message, bounded: never a traceback."""
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Outage:
    """Tracks whether `what` (e.g. "database") is down for one loop; logs only the start and the end.

    `failed(exc)` returns how long the caller should wait before trying again (exponential, with jitter,
    capped); `recovered()` ends the outage. Between the two nothing is logged, however often it is called.
    """

    def __init__(self, what: str, logger: logging.Logger, *, first_delay: float = 0.5,
                 max_delay: float = 30.0) -> None:
        self._what, self._logger = what, logger
        self._first, self._max = first_delay, max_delay
        self._delay = first_delay
        self._since: float | None = None
        self._failures = 0

    def failed(self, exc: BaseException) -> float:
        """Note a failure (logging it only if it starts an outage); return the seconds to wait before retrying."""
        self._failures += 1
        if self._since is None:
            self._since = time.monotonic()
            self._delay = self._first
            self._logger.error("%s unavailable (%s); retrying with backoff, next line when it is back",
                               self._what, describe(exc))
        delay = self._delay * random.uniform(0.5, 1.0)
        self._delay = min(self._max, self._delay * 2)
        return delay

    def recovered(self) -> None:
        """Note a success; logs one line if it ends an outage."""
        if self._since is None:
            return
        lasted = time.monotonic() - self._since
        self._logger.warning("%s available again after %.1f s (%d failed attempts)", self._what, lasted,
                             self._failures)
        self._since, self._failures, self._delay = None, 0, self._first
