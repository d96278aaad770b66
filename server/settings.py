"""Runtime settings of one API process."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass

#: Environment variable naming the PostgreSQL URL (or libpq conninfo string).
DATABASE_URL_ENV = "PIPETRACK_DATABASE_URL"
#: Environment variable: the most pooled connections of one API process (``serve
#: --db-connections``, handed to each worker process this way).
POOL_MAX_ENV = "PIPETRACK_DB_CONNECTIONS"
POOL_MAX_DEFAULT = 10


@dataclass(frozen=True)
class Settings:
    database_url: str
    #: Longest a single SQL statement of a request may run.
    statement_timeout_s: float = 30.0
    #: A connection idle inside a transaction this long is ended by PostgreSQL, so a
    #: stuck request cannot hold row locks or the pull horizon.
    idle_in_transaction_timeout_s: float = 30.0
    pool_min_size: int = 1
    pool_max_size: int = POOL_MAX_DEFAULT
    #: How long a request waits for a pooled connection before answering 503.
    pool_timeout_s: float = 5.0

    @classmethod
    def from_env(cls) -> Settings:
        url = os.environ.get(DATABASE_URL_ENV)
        if not url:
            raise RuntimeError(f"{DATABASE_URL_ENV} is not set")
        return cls(
            database_url=url, pool_max_size=int(os.environ.get(POOL_MAX_ENV, POOL_MAX_DEFAULT))
        )


#: Every line of the server's log: ours and uvicorn's (its access lines included).
LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"


class OneLineFormatter(logging.Formatter):
    """:data:`LOG_FORMAT` with a message of several lines on one (psycopg_pool's warnings
    quote libpq's two-line reasons; their second line had no time or level, and journald
    or grep took it for a line of its own). A traceback keeps its lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        line = super().formatMessage(record)
        return " ".join(part.strip() for part in line.splitlines()) if "\n" in line else line


def setup_logging() -> None:
    """INFO logs on stderr, unless the process configured logging already."""
    if not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(OneLineFormatter(LOG_FORMAT))
        logging.basicConfig(level=logging.INFO, handlers=[handler])
    logging.getLogger("pgserver").setLevel(logging.WARNING)


def uvicorn_log_config(access_log: bool = True) -> dict:
    """uvicorn's logging in :data:`LOG_FORMAT`: its own format has no time, so an admin
    could not tell when a request or a worker's start happened. ``access_log=False``
    drops the line per request (a long-poll per device every ~25 s adds up)."""
    stderr = {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"()": OneLineFormatter, "fmt": LOG_FORMAT}},
        "handlers": {"stderr": stderr},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
            "uvicorn.access": {
                "handlers": ["stderr"],
                "level": "INFO" if access_log else "WARNING",
                "propagate": False,
            },
        },
    }


class Repeats(logging.Filter):
    """Lets each warning that repeats through once every ``every`` seconds, with how many
    it held back: during an outage the pool warns of every failed connect (one a second
    or so), which buried the rest of the log."""

    def __init__(self, every: float) -> None:
        super().__init__()
        self.every = every
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key, now = str(record.msg), time.monotonic()
        if key in self._last and now - self._last[key] < self.every:
            self._held[key] = self._held.get(key, 0) + 1
            return False
        self._last[key] = now
        if held := self._held.pop(key, 0):
            record.msg = f"{record.msg} ({held} more like it since the last)"
        return True


#: How often the pool's repeated warnings (failed connects) are logged.
POOL_WARNINGS_EVERY_S = 30.0


def quiet_pool_repeats() -> None:
    """The pool's warnings through :class:`Repeats` (once per process)."""
    pool = logging.getLogger("psycopg.pool")
    if not any(isinstance(f, Repeats) for f in pool.filters):
        pool.addFilter(Repeats(POOL_WARNINGS_EVERY_S))
