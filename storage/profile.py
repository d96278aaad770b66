"""A profile: the directory holding one device's database, config and token."""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from protocol import InvalidInput, parse_status

HOME_ENV = "PIPETRACK_HOME"
DB_NAME = "pipetrack.db"
CONFIG_NAME = "config.toml"
TOKEN_NAME = "token"

DEFAULT_THRESHOLDS: dict[str, int] = {"Cold": 60, "Active": 30, "Hot": 14}
#: The most days a ``[stagnation]`` threshold may be: 100 years (a larger one would put
#: its cutoff before the first day a date can hold).
THRESHOLD_MAX = 36_500


def default_home() -> Path:
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("pipetrack", appauthor=False))


@dataclass
class Config:
    """What ``config.toml`` holds (an unknown table or setting is refused when it is
    read; ``login`` keeps the file as written all the same)."""

    thresholds: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    server: str | None = None
    keys: dict[str, str] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


#: The tables of ``config.toml`` and the settings each takes (None: its own check reads
#: them: ``[stagnation]`` here, ``[keys]`` by the TUI, which says at start when a binding
#: id is unknown). ``server`` is what ``pipetrack login`` writes.
TABLES: dict[str, tuple[str, ...] | None] = {"sync": ("server",), "stagnation": None, "keys": None}


def _check_known(raw: dict[str, Any]) -> None:
    """InvalidInput for a table or a setting ``config.toml`` does not take (a misspelled
    ``[stagantion]`` was ignored without a word, its thresholds never applied), naming
    the known ones."""
    known = " and ".join(", ".join(f"[{t}]" for t in TABLES).rsplit(", ", 1))
    for key, value in raw.items():
        if key in TABLES:
            continue
        if isinstance(value, dict):
            close = _close(key, TABLES)
            maybe = f" (did you mean [{close}]?)" if close else ""
            raise InvalidInput(
                "config", f"unknown table [{key}]{maybe}: the known ones are {known}"
            )
        home = next((t for t, keys in TABLES.items() if keys and key in keys), None)
        maybe = f" (it belongs in [{home}])" if home else ""
        raise InvalidInput(
            "config",
            f"unknown setting {key!r} outside any table{maybe}: the known tables are {known}",
        )
    for table, keys in TABLES.items():
        section = raw.get(table)
        if keys is None or not isinstance(section, dict):
            continue
        for key in section:
            if key not in keys:
                close = _close(key, keys)
                maybe = f" (did you mean {close}?)" if close else ""
                raise InvalidInput(
                    "config",
                    f"[{table}] {key!r} is not a setting{maybe}: [{table}] takes {', '.join(keys)}",
                )


def _close(word: str, known: Any) -> str | None:
    """The known word ``word`` is most likely a slip of (case aside), if any."""
    by_lower = {k.lower(): k for k in known}
    found = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[found[0]] if found else None


def _parse_thresholds(section: Any) -> dict[str, int]:
    thresholds = dict(DEFAULT_THRESHOLDS)
    if section is None:
        return thresholds
    if not isinstance(section, dict):
        raise InvalidInput("stagnation", "[stagnation] must be a table of status = days")
    keys: dict[str, str] = {}  # status -> the key that set it
    for key, days in section.items():
        try:
            status = parse_status(key)
        except InvalidInput:  # say where, and the status meant
            close = _close(str(key), DEFAULT_THRESHOLDS)
            maybe = f" (did you mean {close}?)" if close else ""
            raise InvalidInput(
                "stagnation",
                f"[stagnation] {key!r} is not a status{maybe}: it takes"
                f" {', '.join(DEFAULT_THRESHOLDS)} = days",
            ) from None
        if status is None:
            raise InvalidInput("stagnation", f"[stagnation] {key!r} is not a status")
        if status.value in keys:  # Cold and COLD: TOML keeps both, one would silently win
            raise InvalidInput(
                "stagnation", f"[stagnation] {keys[status.value]} and {key} name the same status"
            )
        keys[status.value] = key
        if status.value not in DEFAULT_THRESHOLDS:
            raise InvalidInput(
                "stagnation",
                f"[stagnation] {key} = {days!r}: Passed, Closed and no status never"
                " stagnate; only Cold, Active and Hot take a number of days",
            )
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            raise InvalidInput(
                "stagnation", f"[stagnation] {key} = {days!r}: days must be a whole number >= 1"
            )
        if days > THRESHOLD_MAX:
            raise InvalidInput(
                "stagnation",
                f"[stagnation] {key} = {days!r}: days must be at most {THRESHOLD_MAX:,}"
                " (100 years)",
            )
        thresholds[status.value] = days
    return thresholds


class Profile:
    """Paths of a profile directory and its config file."""

    def __init__(self, home: Path | str | None = None) -> None:
        self.home = Path(home).expanduser() if home else default_home()

    @property
    def db_path(self) -> Path:
        return self.home / DB_NAME

    @property
    def config_path(self) -> Path:
        return self.home / CONFIG_NAME

    @property
    def token_path(self) -> Path:
        return self.home / TOKEN_NAME

    def exists(self) -> bool:
        """Whether the directory holds a profile (any of its files: a database, a config
        written first, a token)."""
        return any((self.home / name).exists() for name in (DB_NAME, CONFIG_NAME, TOKEN_NAME))

    def ensure(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self.home

    def read_raw(self) -> dict[str, Any]:
        """``config.toml`` as TOML, unchecked (missing = empty); InvalidInput when it is
        not TOML."""
        try:
            return tomllib.loads(self.config_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise InvalidInput("config", f"{self.config_path} is not valid TOML: {err}") from None

    def saved_server(self) -> str | None:
        """``[sync] server`` alone, whatever else the file holds (InvalidInput when it is
        not TOML)."""
        sync = self.read_raw().get("sync")
        server = sync.get("server") if isinstance(sync, dict) else None
        return server if isinstance(server, str) else None

    def load_config(self) -> Config:
        """Read ``config.toml`` (missing = defaults). InvalidInput names the file and the
        bad setting (a profile is a directory the user may never have looked in)."""
        raw = self.read_raw()
        sync = raw.get("sync", {})
        keys = raw.get("keys", {})
        if not isinstance(sync, dict) or not isinstance(keys, dict):
            raise InvalidInput("config", f"{self.config_path}: [sync] and [keys] must be tables")
        try:
            _check_known(raw)
            thresholds = _parse_thresholds(raw.get("stagnation"))
            server = sync.get("server")
            if server is not None and not isinstance(server, str):
                raise InvalidInput(
                    "config", f"[sync] server = {server!r}: give the server's URL in quotes"
                )
        except InvalidInput as err:
            raise InvalidInput(err.field, f"{self.config_path}: {err}") from None
        return Config(
            thresholds=thresholds,
            server=server,
            keys={str(k): str(v) for k, v in keys.items()},
            raw=raw,
        )

    def save_server(self, url: str) -> None:
        """Record the sync server's URL in ``config.toml``, keeping everything else as it
        is (a mistake elsewhere in the file, such as a bad threshold, does not stop it):
        the ``server = ...`` line of ``[sync]`` alone is written, the user's comments,
        order and spacing kept (:func:`with_server`)."""
        self.ensure()
        self.read_raw()  # InvalidInput when it is not TOML
        try:
            text = self.config_path.read_bytes().decode("utf-8")  # its line ends as they are
        except FileNotFoundError:
            text = ""
        _write_private(self.config_path, with_server(text, url))

    def read_token(self) -> str | None:
        try:
            return self.token_path.read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def save_token(self, token: str) -> None:
        self.ensure()
        _write_private(self.token_path, token + "\n")


def with_server(text: str, url: str) -> str:
    """``config.toml``'s ``text`` with ``[sync] server`` set to ``url`` by tomlkit, which
    keeps the rest as written: comments, order, spacing, an inline ``sync = {...}`` or
    dotted ``sync.server`` layout. A ``sync`` that is not a table is replaced by one; a
    file written with Windows line ends keeps them on the lines added."""
    import tomlkit  # only login writes the file; every command reads it
    from tomlkit.items import InlineTable, Table

    doc = tomlkit.parse(text)
    sync = doc.get("sync")
    if isinstance(sync, Table | InlineTable):
        sync["server"] = url
    else:
        doc["sync"] = tomlkit.table()
        doc["sync"]["server"] = url
    edited = tomlkit.dumps(doc)
    if "\r\n" in text and not _BARE_LF.search(text):
        edited = _BARE_LF.sub("\r\n", edited)
    return edited


_BARE_LF = re.compile(r"(?<!\r)\n")


def _write_private(path: Path, text: str) -> None:
    """Write a file readable by its owner only, atomically."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
