"""Keep secrets out of the logs: URL passwords, secret query parameters and settings (X8)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

MASK = "***"

# Parameter and field names that hold secrets: any name containing one of the words, or
# with one of the parts between "-", "_" and "." (so "key" and "x-amz-key", not "keywords").
_SECRET_WORDS = (
    "token", "secret", "passw", "signature", "session", "sessid", "apikey", "api_key",
    "credential", "authorization", "cookie",
)  # fmt: skip
_SECRET_PARTS = frozenset({"key", "sig", "sid", "pwd", "pass", "auth"})
# Upper-case names are settings or environment variables: these words anywhere mark them.
_SETTING_WORDS = ("SECRET", "PASSWORD", "PASSWD", "TOKEN", "KEY", "CREDENTIAL")

_USERINFO = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://)[^\s/?#@'\"<>]+@")
# user:password@host without a scheme, as in a logged network location
_BARE_USERINFO = re.compile(r"(?<![\w.+-])[^\s/?#@'\"<>:]+:[^\s/?#@'\"<>]+@")
_STRING = r"""[bBrRuU]{0,2}(?:'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")"""
# A value in a Python repr: a string, strings pprint split over lines, a list, or a bare token.
_VALUE = rf"""(?:\((?:\s*{_STRING})+\s*\)|\[[^\]]*\]|{_STRING}|[^,}}\s]+)"""
# 'NAME': value, as in the "Overridden settings" line and other dict reprs
_ENTRY = re.compile(
    rf"""(?P<key>[bB]?(?P<quote>['"])(?P<name>[A-Za-z0-9_.-]+)(?P=quote)\s*:\s*){_VALUE}"""
)
# name=value, as in query strings, fragments and command lines; a ")" that closes the text
# around the value, as in "(referer: …?sid=1)", is left alone
_ASSIGN = re.compile(
    r"(?<![A-Za-z0-9_.-])(?P<name>[A-Za-z0-9_.-]+)="
    r"(?P<value>[^&;#\s'\"<>]*?)(?=\)*(?:[&;#\s'\"<>]|$))"
)
# header lines; a header value runs to the end of the line
_HEADER = re.compile(
    r"(?im)\b(?P<name>authorization|proxy-authorization|cookie|set-cookie)(?P<sep>\s*:\s*)"
    r"(?P<value>[^\r\n]+)"
)
_FIELD = re.compile(r"(?i)\b(?P<name>password|passwd|secret|token)(?P<sep>\s*:\s+)(?P<value>\S+)")


def secret_name(name: str) -> bool:
    """Whether a parameter, field or setting called ``name`` holds a secret."""
    if name.isupper() and any(word in name for word in _SETTING_WORDS):
        return True
    lowered = name.lower()
    if any(word in lowered for word in _SECRET_WORDS):
        return True
    return not _SECRET_PARTS.isdisjoint(re.split(r"[-_.]+", lowered))


def redact(text: str) -> str:
    """``text`` with URL user info, secret parameters, fields and settings replaced by ***."""
    text = _USERINFO.sub(rf"\1{MASK}@", text)
    text = _BARE_USERINFO.sub(f"{MASK}@", text)
    text = _ENTRY.sub(_masked_entry, text)
    text = _HEADER.sub(rf"\g<name>\g<sep>{MASK}", text)
    text = _FIELD.sub(rf"\g<name>\g<sep>{MASK}", text)
    return _ASSIGN.sub(_masked_assignment, text)


def _masked_entry(match: re.Match[str]) -> str:
    if not secret_name(match["name"]):
        return match[0]
    return f"{match['key']}'{MASK}'"


def _masked_assignment(match: re.Match[str]) -> str:
    if not match["value"] or not secret_name(match["name"]):
        return match[0]
    return f"{match['name']}={MASK}"


def redact_record(record: logging.LogRecord) -> None:
    """Redact a log record's message, traceback and stack text in place."""
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: logging reports it when the record is emitted
        return
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, ()
    if record.exc_info and not record.exc_text:
        # Formatters reuse a cached exc_text, so the traceback is rendered (and masked) once.
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


class _RedactingFactory:
    """A log record factory that redacts every record the wrapped factory makes."""

    def __init__(self, inner: Callable[..., logging.LogRecord]) -> None:
        self.inner = inner

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.inner(*args, **kwargs)
        redact_record(record)
        return record


def install_redaction() -> None:
    """Redact every log record of this process from now on, whatever handler emits it.

    It wraps the log record factory rather than filtering handlers because Scrapy replaces
    its root handler when a crawl starts (``Crawler._update_root_log_handler``, after the
    extensions are built), which would drop a filter added to the old one. Idempotent.
    """
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _RedactingFactory):
        logging.setLogRecordFactory(_RedactingFactory(factory))


class RedactLogsExtension:
    """Scrapy extension that turns redaction on before the "Overridden settings" line is logged.

    Scrapy builds the extensions in ``Crawler._apply_settings`` just before that line; records
    logged earlier (the spider's ``from_crawler``, code before the crawl) are covered only when
    ``install_redaction()`` was called first.
    """

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        install_redaction()
        return cls()
