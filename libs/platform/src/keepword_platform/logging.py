"""structlog, configured once per process: JSON lines when not on a terminal.

The standard library's loggers (uvicorn, aiokafka, FastStream, asyncpg) go through the same
renderer, so a service writes one format. Context bound with `bind_event` (event_id, thread_id,
correlation_id) rides along on every line logged while an event is handled.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import Literal

import structlog
from pydantic_core import to_json

_configured = False


class _Stderr:
    """Whatever `sys.stderr` is at the moment of writing (test runners swap it per call)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _json(event_dict: object, **_: object) -> str:
    # pydantic-core's Rust encoder: several times cheaper than json.dumps per line, which
    # matters at one line per accepted message (measured on intake's single-POST benchmark).
    return to_json(event_dict, fallback=str).decode()


def configure_logging(
    service: str, level: str = "INFO", fmt: Literal["auto", "json", "console"] = "auto"
) -> None:
    """Set up structlog and the standard library's logging for `service`; idempotent."""
    global _configured
    if _configured:
        return
    _configured = True
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(serializer=_json)
        if use_json
        else structlog.dev.ConsoleRenderer()
    )
    finish: list[structlog.typing.Processor] = (
        [structlog.processors.format_exc_info, renderer] if use_json else [renderer]
    )
    timestamp = structlog.processors.TimeStamper(fmt="iso", utc=True)

    # A processor, not a context variable: tasks uvicorn starts per connection do not see
    # context bound in the lifespan task.
    def add_service(
        _logger: object, _method: str, event_dict: structlog.typing.EventDict
    ) -> structlog.typing.EventDict:
        event_dict.setdefault("service", service)
        return event_dict

    # Our own log calls: structlog's native path, filtered by level before any processing and
    # written straight to stderr (the standard library's machinery costs more per line).
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            add_service,
            structlog.processors.add_log_level,
            timestamp,
            structlog.processors.StackInfoRenderer(),
            *finish,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.WriteLoggerFactory(file=_Stderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )
    # Libraries' standard-library loggers (uvicorn, aiokafka, FastStream) in the same format.
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.contextvars.merge_contextvars,
            add_service,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            timestamp,
        ],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *finish],
    )
    handler = logging.StreamHandler(_Stderr())
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiosmtpd's "mail.log" tells of every connection and command at INFO.
    for noisy in ("aiokafka", "uvicorn.access", "mail.log"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    withhold_arguments("mail.log", "mail.debug")


class _Withheld:
    def __repr__(self) -> str:
        return "<withheld>"

    __str__ = __repr__


_WITHHELD = _Withheld()


class _WithoutArguments(logging.Filter):
    """Keeps a record's wording, not what was filled into it, nor an exception's text.

    For libraries that log personal data in their arguments (aiosmtpd: the peer's address and
    every MAIL FROM and RCPT TO): "%r >> %r" becomes "<withheld> >> <withheld>".
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            blanks: Mapping[str, object] | tuple[object, ...] = (
                dict.fromkeys(record.args, _WITHHELD)
                if isinstance(record.args, Mapping)
                else (_WITHHELD,) * len(record.args)
            )
            try:
                record.msg = str(record.msg) % blanks
            except (TypeError, ValueError):  # a numeric placeholder: the bare wording
                record.msg = str(record.msg)
            record.args = ()
        if record.exc_info and record.exc_info[0] is not None:
            record.msg = f"{record.msg} ({record.exc_info[0].__name__})"
            record.exc_info = None
            record.exc_text = None
        return True


_WITHOUT_ARGUMENTS = _WithoutArguments()


def withhold_arguments(*loggers: str) -> None:
    """Let the records of these loggers keep their wording but nothing filled into it."""
    for name in loggers:
        logging.getLogger(name).addFilter(_WITHOUT_ARGUMENTS)  # once: the same object


def bind_event(*, event_id: str, thread_id: str, correlation_id: str) -> None:
    """Attach an event's ids to every log line until `unbind_event`."""
    structlog.contextvars.bind_contextvars(
        event_id=event_id, thread_id=thread_id, correlation_id=correlation_id
    )


def unbind_event() -> None:
    """Forget the ids bound by `bind_event`."""
    structlog.contextvars.unbind_contextvars("event_id", "thread_id", "correlation_id")
