"""Logging set-up that masks every configured secret and token-shaped string in every log record."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

REDACTED = "[redacted]"
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


def configure(level: str = "INFO", secrets: Iterable[str] = ()) -> None:
    """One-line log records on stderr, with secrets masked."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Teams sends fields botbuilder's models do not know (e.g. `trigger`); msrest warns on every click.
    logging.getLogger("msrest.serialization").setLevel(logging.ERROR)
    install_redaction(secrets)
