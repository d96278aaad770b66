"""The connection pool of one API process and the session settings of its connections."""

from __future__ import annotations

import getpass
import re
import select
from urllib.parse import unquote

import psycopg
from psycopg import AsyncConnection
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import AsyncConnectionPool

from protocol import InvalidInput

from .settings import DATABASE_URL_ENV, Settings, quiet_pool_repeats


def session_options(settings: Settings) -> str:
    """libpq ``options`` applied to every pooled connection (not the LISTEN one)."""
    stmt = int(settings.statement_timeout_s * 1000)
    idle = int(settings.idle_in_transaction_timeout_s * 1000)
    return f"-c statement_timeout={stmt} -c idle_in_transaction_session_timeout={idle}"


async def check_connection(conn: AsyncConnection) -> None:
    """The pool's check at every checkout: a round trip (``check_connection``) only when
    the idle connection's socket has something to read — PostgreSQL's goodbye when it
    restarts, or end of file when it died — as nothing else arrives on an idle pooled
    connection (no LISTEN). Saves a round trip per checkout, two per request."""
    if conn.closed or select.select([conn.pgconn.socket], [], [], 0)[0]:
        await AsyncConnectionPool.check_connection(conn)


#: How long the pool tries to replace a lost connection (after 1 s, 2 s) before it lets
#: the next request that finds it empty try again at once. Its default, 5 min of
#: doubling delays, left the API answering 503 for up to 1.5 min after PostgreSQL came
#: back from an outage: its next try could be 128 s after the one before.
RECONNECT_S = 2.0


def make_pool(settings: Settings) -> AsyncConnectionPool:
    """An unopened pool; :func:`check_connection` runs on every checkout, so connections
    broken by a PostgreSQL restart are replaced transparently, and within seconds of its
    return after an outage (:data:`RECONNECT_S`)."""
    quiet_pool_repeats()
    return AsyncConnectionPool(
        settings.database_url,
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        timeout=settings.pool_timeout_s,
        kwargs={
            "autocommit": True,
            "options": session_options(settings),
            "application_name": "pipetrack-server",
        },
        check=check_connection,
        reconnect_timeout=RECONNECT_S,
        open=False,
        name="pipetrack",
    )


def redact(url: str) -> str:
    """The database URL or conninfo without its password, fit for a log line (also a
    malformed one: never an exception, never the password).

    A URL is split as libpq splits it (its user info runs to the first ``@`` before any
    ``/``; ``#`` and ``?`` are in the password, a URL has no fragment). Where an ``@``
    is left after that (a password holding an unencoded ``@`` or ``/``, which libpq
    reads as part of the host or the database), everything up to the last ``@`` is
    taken as the user info: whatever was meant, the password is in it."""
    if "://" in url:
        scheme, _, rest = url.partition("://")
        userinfo, at, after = _libpq_userinfo(rest)
        if "@" in after:
            userinfo, at, after = rest.rpartition("@")
        host, q, query = after.partition("?")
        if q and "password" in unquote(query).lower():  # pass%77ord is a password too
            query = "&".join(_masked(pair) for pair in query.split("&"))
        user = userinfo.split(":", 1)[0] if at else ""
        return f"{scheme}://{user}{'@' if user else ''}{host}{q}{query}"
    try:
        params = conninfo_to_dict(url)
    except Exception:  # where libpq's reading stops is unknown: nothing after a password
        return _scrub(re.sub(r"(?<![a-z])((?:ssl)?password)\s*=.*$", r"\1=***", url, flags=re.I))
    params.pop("password", None)
    return " ".join(f"{k}={'***' if k in SECRETS else v}" for k, v in params.items())


def _libpq_userinfo(rest: str) -> tuple[str, str, str]:
    """``(userinfo, "@", after)`` of a URL's part after ``scheme://`` as libpq reads it
    (the user info ends at the first ``@`` that comes before any ``/``), else
    ``("", "", rest)``."""
    end = re.search(r"[@/]", rest)
    if end is None or end.group() != "@":
        return "", "", rest
    return rest[: end.start()], "@", rest[end.end() :]


def misread_password(url: str) -> bool:
    """Whether libpq would read part of ``url``'s user info as its host or database: an
    ``@`` left before the query once libpq took the user info (a password, or a user
    name, holding an unencoded ``@`` or ``/``), or an ``@`` in a query libpq cannot read
    (one holding a ``?`` too: ``u:a@b?c@host``)."""
    if "://" not in url:
        return False
    _, _, after = _libpq_userinfo(url.partition("://")[2])
    if "@" in after.partition("?")[0]:
        return True
    if "@" not in after:
        return False
    try:
        conninfo_to_dict(url)
    except Exception:
        return True
    return False


#: libpq settings whose values are secrets: never in a log line or an error.
SECRETS = ("password", "sslpassword")


def _masked(pair: str) -> str:
    """A URL query's ``key=value``, its value ``***`` when the key names a secret."""
    key, eq, _ = pair.partition("=")
    return f"{key}=***" if eq and unquote(key).strip().lower() in SECRETS else pair


def secrets_of(url: str | None) -> list[str]:
    """The secret values in ``url`` (its password, sslpassword), as libpq reads them, and
    a URL's password as running to its last ``@`` with its pieces around an ``@`` or a
    ``/`` (libpq reads those as the host or database, and an error may quote them), and
    the words after an unreadable key/value string's ``password=``: to take out of a
    message that might quote them, longest first."""
    if not url:
        return []
    found = []
    if "://" in url:  # the user info up to the last @: whatever libpq made of it
        userinfo, at, _ = url.partition("://")[2].rpartition("@")
        password = userinfo.partition(":")[2] if at else ""
        found += [password, unquote(password)] if password else []
        found += [piece for piece in re.split(r"[@/]", password) if len(piece) >= 3]
        for pair in url.partition("?")[2].split("&"):  # as written, libpq or not
            key, eq, value = pair.partition("=")
            if eq and value and unquote(key).strip().lower() in SECRETS:
                found += [value, unquote(value)]
    try:
        params = conninfo_to_dict(url)
    except Exception:
        params = {}
        found += _after_password(url)  # where libpq would end the password is unknown
    found += [str(params[key]) for key in SECRETS if params.get(key)]
    return sorted({s for s in found if s}, key=len, reverse=True)  # longest first


def hide_secrets(text: str, url: str | None) -> str:
    """``text`` (libpq's own words) with each secret of ``url`` that stands as a word of
    its own replaced by ``***``. Only as a word: a password "t" or "database" replaced
    inside every word garbled the line ("pipe***rack", "the *** URL") and told it."""
    for secret in secrets_of(url):
        text = re.sub(rf"(?<!\w){re.escape(secret)}(?!\w)", "***", text)
    return text


def _after_password(conninfo: str) -> list[str]:
    """The words after a key/value conninfo's ``password=`` that libpq could not read
    (``password="top secret"``: ``"top``, ``secret"``): where the password ends is
    unknown, so each of them may be a piece of it."""
    if "://" in conninfo:
        return []
    found = re.search(r"(?<![a-z])(?:ssl)?password\s*=(.*)$", conninfo, re.I | re.S)
    words = re.split(r"\s+", found.group(1)) if found else []
    return [word for word in words if len(word) >= 3]


def _scrub(text: str) -> str:
    """A string libpq cannot read, without what could be a password: ``user:pw@``,
    ``password=...`` and ``sslpassword=...`` (their values ``***``)."""
    text = re.sub(
        r"(?<![a-z])((?:ssl)?password)\s*=\s*('(?:[^'\\]|\\.)*(?:'|$)|\S+)",
        r"\1=***",
        text,
        flags=re.I,
    )
    head, at, tail = text.rpartition("@")
    if at:
        scheme, sep, userinfo = head.rpartition("://")
        text = f"{scheme}{sep}{userinfo.split(':', 1)[0]}@{tail}"
    return text


def check_database_url(url: str) -> None:
    """InvalidInput (exit 2: systemd does not restart on it) when ``url`` is no
    PostgreSQL URL or libpq conninfo libpq can use, in one line without its password;
    before anything starts. (libpq checks some values only when it connects: those
    come back as an ``invalid ...`` OperationalError, see :func:`is_bad_setting`.)"""
    where = repr(redact(url))
    if "://" in url:
        scheme = url.split("://", 1)[0].lower()
        if scheme not in ("postgresql", "postgres"):
            raise InvalidInput("database_url", f"cannot use {where}: not a postgresql:// URL")
        if misread_password(url):
            raise InvalidInput(
                "database_url",
                f"cannot use {where}: its password (or user name) holds an '@' or a '/',"
                " which libpq reads as part of the host or database: percent-encode them"
                " (@ as %40, / as %2F)",
            )
    try:
        params = conninfo_to_dict(url)
    except Exception as err:
        said = str(err).strip().splitlines()[0] if str(err).strip() else ""
        if not said or said.startswith("missing") or url in said:
            said = "not a postgresql:// URL (nor libpq key=value settings)"
        said = hide_secrets(said, url)  # libpq quotes what it could not read
        raise InvalidInput("database_url", f"cannot use {where}: {_scrub(said)}") from None
    timeout = params.get("connect_timeout")
    if timeout is not None:
        try:
            int(float(timeout))  # as psycopg reads it (libpq then wants an integer)
        except ValueError:
            raise InvalidInput(
                "database_url",
                f"cannot use {where}: connect_timeout {timeout!r} is not a number of seconds",
            ) from None
    for port in str(params.get("port") or "").split(","):
        if port.strip() and not (port.strip().isdigit() and 0 < int(port) < 65536):
            raise InvalidInput(
                "database_url", f"cannot use {where}: port {port.strip()!r} is not a port number"
            )


def is_bad_setting(err: Exception) -> bool:
    """libpq's refusal of a setting of the URL, found when connecting (``invalid
    sslmode value``...): a bad option, not a database that is down."""
    first = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return re.search(r"(^|: )invalid ", first) is not None


def login_refused(url: str, err: Exception) -> str | None:
    """What to fix when PostgreSQL refused the URL's login: a wrong password, none given
    where one is needed, a user or a database that does not exist. Those are errors of
    the configuration like a bad URL (exit 2: systemd does not restart on it, trying
    again every 5 s could not help); None for anything else (a database that is down or
    starting: exit 1, tried again). One clause, never the password."""
    text = str(err)
    params = _params(url)
    user = str(params.get("user") or _os_user())
    where = f"the database URL (--database-url or {DATABASE_URL_ENV})"
    if found := re.search(r'password authentication failed for user "([^"]*)"', text):
        who = found.group(1)
        if params.get("password"):  # PostgreSQL says the same of a user it does not have
            return (
                f"wrong password for user {who!r}, or no such user: check the user name and"
                f" the password in {where}"
            )
        return (
            f"wrong password for user {who!r}: {where} gives none, so libpq took one from"
            " PGPASSWORD or ~/.pgpass: fix it there, or give the right one in the URL"
        )
    if "no password supplied" in text:
        return (
            f"user {user!r} needs a password and {where} gives none: add it to the URL"
            f" (postgresql://{user}:PASSWORD@HOST/DATABASE)"
        )
    if found := re.search(r'database "([^"]*)" does not exist', text):
        name = found.group(1)
        return (
            f"database {name!r} does not exist: create it (e.g. `createdb -O {user} {name}`)"
            f" or fix the database name in {where}"
        )
    if found := re.search(r'role "([^"]*)" does not exist', text):
        who = found.group(1)
        return (
            f"user {who!r} does not exist: create it (e.g. `createuser --pwprompt {who}`)"
            f" or fix the user name in {where}"
        )
    return None


def _params(url: str) -> dict:
    try:
        return conninfo_to_dict(url)
    except Exception:
        return {}


def _os_user() -> str:
    """libpq's default user name: the operating system's user."""
    try:
        return getpass.getuser()
    except Exception:
        return "USER"


class MissingRights(psycopg.errors.InsufficientPrivilege):
    """The role lacks a right the server uses (:func:`server.migrate.check_rights`); its
    message is the whole line, the GRANTs to run included."""


def refusal(url: str, err: Exception) -> str:
    """One line for the database refusing what pipetrack must do in it (a user without
    CREATE on schema public, PostgreSQL 15+'s default; a read-only database): who and
    where, PostgreSQL's reason, and what to do. No password."""
    reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    if isinstance(err, MissingRights):
        return reason
    user, dbname = _who(url)
    if isinstance(err, psycopg.errors.ReadOnlySqlTransaction):
        return (
            f"database {dbname!r} is read-only (a standby? or default_transaction_read_only"
            " is on): give the primary, or a database pipetrack may write to"
        )
    if "permission denied for schema" in reason:  # not "for table schema_migrations"
        return (
            f"user {user!r} may not create tables in database {dbname!r} ({reason}): grant it"
            " CREATE on schema public, or give the database's owner"
        )
    return (
        f"user {user!r} may not use pipetrack's tables in database {dbname!r} ({reason}):"
        " give the user that made them (the database's owner), or grant it their privileges"
    )


def _who(url: str) -> tuple[str, str]:
    """(user, database) as PostgreSQL names them, asked again; else as the URL says."""
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            return conn.info.user, conn.info.dbname
    except Exception:
        try:
            params = conninfo_to_dict(url)
        except Exception:
            params = {}
        return str(params.get("user", "?")), str(params.get("dbname", "?"))
