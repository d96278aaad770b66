"""``import FILE.csv`` and ``export [FILE]``: targets as CSV, one format both ways.

Columns (header row, any order, any case): ``name`` (required), ``description``,
``markets`` (``a;b``), ``status``, ``uid``; separated by commas, or by semicolons or
tabs as spreadsheets in other locales save them. Export writes all five, so an exported file
imports back without duplicating anything. Import only parses: the store checks
every row and writes all or nothing; its "row N" becomes the file's line number here.

``export --excel`` also keeps Excel from running a cell as a formula (CSV injection:
a name ``=HYPERLINK(...)``): a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is written with a ``'`` before it, which Excel shows as text. Import
takes that ``'`` off again (only before one of those characters), so the file round-trips.
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
import sys
import tempfile
from collections.abc import Iterable
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from pipetrack.context import open_store
from protocol import InvalidInput, InvalidInputs
from storage import TargetQuery, TargetView
from storage.importer import Imported, UpdatedTarget
from syncd.progress import PROGRESS_S, Every

from .args import JsonFlag
from .output import emit_json, info, plural

COLUMNS = ("name", "description", "markets", "status", "uid")
MARKET_SEP = ";"
_STORE_ROW = re.compile(r"^row (\d+):\s*(.*)$", re.DOTALL)
_ON_ROW = re.compile(r"\bon row (\d+)\b")
#: The refused rows an import lists, one a line (the others are counted).
SHOWN_REFUSALS = 20
#: How a cell a spreadsheet would take for a formula starts (OWASP's "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: What ``export --excel`` puts before such a cell, and import takes off.
TEXT_MARK = "'"


def excel_cell(cell: str) -> str:
    """``cell`` as text for Excel: ``'=1+2`` for ``=1+2`` (never run as a formula)."""
    return TEXT_MARK + cell if cell.startswith(FORMULA_STARTS) else cell


def unmarked_cell(cell: str) -> str:
    """:func:`excel_cell` undone: the ``'`` before a formula's first character off."""
    if cell.startswith(TEXT_MARK) and cell[1:2] in FORMULA_STARTS:
        return cell[1:]
    return cell


def register(app: typer.Typer) -> None:
    app.command("import")(import_csv)
    app.command("export")(export_csv)


def _bad(source: str, reason: str, line: int | None = None) -> InvalidInput:
    where = f"{source}: line {line}" if line is not None else source
    return InvalidInput("csv", f"{where}: {reason}")


def refused(source: str, errors: list[InvalidInput]) -> InvalidInput:
    """The error to exit with for the file's bad rows (``errors``, located, in file
    order): one is itself; of several, the first :data:`SHOWN_REFUSALS` are told here,
    a line each on standard error, and the error counts them."""
    if len(errors) == 1:
        return errors[0]
    for err in errors[:SHOWN_REFUSALS]:
        info(f"pipetrack: {err}")
    shown = "above" if len(errors) <= SHOWN_REFUSALS else f"the first {SHOWN_REFUSALS} above"
    return _bad(source, f"{len(errors):,} rows refused ({shown}); nothing imported")


@dataclass(frozen=True)
class CsvRows:
    """Parsed rows for :meth:`Store.import_targets`, with the line each one starts on."""

    source: str
    rows: list[dict[str, str]]
    lines: list[int]
    #: Rows of a shape no import takes (too many fields...), located; not in ``rows``.
    misshapen: tuple[InvalidInput, ...] = ()

    def refused(self, err: InvalidInput | None) -> InvalidInput:
        """The store's refusal of the rows (:meth:`locate`), one or several, with the
        misshapen rows, in file order."""
        errors = [] if err is None else err.errors if isinstance(err, InvalidInputs) else [err]
        located = [*self.misshapen, *map(self.locate, errors)]
        return refused(self.source, sorted(located, key=_line_of))

    def locate(self, err: InvalidInput) -> InvalidInput:
        """The store's ``row N: reason`` as ``FILE: line L: reason`` (and "on row M" in
        the reason as "on line M'")."""
        match = _STORE_ROW.match(str(err))
        if match and 1 <= int(match[1]) <= len(self.lines):
            reason = _ON_ROW.sub(self._on_line, match[2])
            return _bad(self.source, reason, self.lines[int(match[1]) - 1])
        return _bad(self.source, str(err))

    def _on_line(self, match: re.Match[str]) -> str:
        number = int(match[1])
        if 1 <= number <= len(self.lines):
            return f"on line {self.lines[number - 1]}"
        return match[0]


def _line_of(err: InvalidInput) -> int:
    match = re.match(r".*?: line (\d+): ", str(err))
    return int(match[1]) if match else 0


def _header(cells: list[str], source: str) -> list[str]:
    """The header's columns (lower case); errors show them as the file writes them. A
    column without a name (Excel saves the formatted empty columns after the table:
    ``name,status,,``) is left out; a value under it is refused in :func:`_row`."""
    written = [cell.strip() for cell in cells]
    columns = [cell.lower() for cell in written]
    if "name" not in columns:
        found = ", ".join(repr(cell) for cell in written if cell) or "nothing"
        raise _bad(source, f"no 'name' column in the header (found: {found})", 1)
    unknown = [
        cell for cell, column in zip(written, columns, strict=True) if column not in (*COLUMNS, "")
    ]
    if unknown:
        known = ", ".join(COLUMNS)
        raise _bad(source, f"unknown column {unknown[0]!r} in the header; known: {known}", 1)
    first: dict[str, str] = {}
    for cell, column in zip(written, columns, strict=True):
        if column and first.setdefault(column, cell) is not cell:
            spelled = "" if first[column] == cell else f" (as {first[column]!r} and {cell!r})"
            raise _bad(source, f"the header names the column {column!r} twice{spelled}", 1)
    return columns


def _row(columns: list[str], cells: list[str], source: str, line: int) -> dict[str, str]:
    extra = cells[len(columns) :]
    if any(cell.strip() for cell in extra):
        raise _bad(source, f"{len(cells)} fields, but the header names {len(columns)}", line)
    row: dict[str, str] = {}
    for number, (column, cell) in enumerate(zip(columns, cells, strict=False), start=1):
        if column:
            row[column] = cell
        elif cell.strip():
            reason = f"{cell.strip()!r} in column {number}, which the header does not name"
            raise _bad(source, reason, line)
    return row


def separator(text: str) -> str:
    """The separator the header line uses: a comma, or what a spreadsheet set up for
    another locale writes: ';' (Excel in much of Europe) or a tab. The one that makes
    a column of the header read ``name``; a comma when none does (its error says so)."""
    header = text.split("\n", 1)[0]
    for sep in (",", ";", "\t"):
        if any(cell.strip().strip('"').strip().lower() == "name" for cell in header.split(sep)):
            return sep
    return ","


def parse_csv(text: str, source: str) -> CsvRows:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator(text), strict=True)
    rows: list[dict[str, str]] = []
    lines: list[int] = []
    errors: list[InvalidInput] = []
    try:
        header = next(reader, None)
        if not header:
            raise _bad(source, "the file is empty; its first line must name the columns")
        columns = _header(header, source)
        for raw in reader:
            if not any(cell.strip() for cell in raw):
                continue  # a blank line, or Excel's ",,," (empty cells it kept formatted)
            # A spreadsheet saved on Windows ends the lines inside a cell with \r\n (a
            # description of several lines): the store takes \n alone.
            # (and a cell export --excel marked as text loses its mark)
            cells = [unmarked_cell(cell).replace("\r\n", "\n").replace("\r", "\n") for cell in raw]
            line = reader.line_num - sum(cell.count("\n") for cell in cells)
            try:
                rows.append(_row(columns, cells, source, line))
                lines.append(line)
            except InvalidInput as err:
                errors.append(err)  # told with the store's refusals of the other rows
    except csv.Error as err:
        raise _bad(source, str(err), reader.line_num) from None
    return CsvRows(source, rows, lines, tuple(errors))


#: The FILE that means standard input (import) or standard output (export), as for cat.
STDIO = "-"


_IN_EXCEL = "(in Excel: Save As, 'CSV UTF-8')"
_SAVE_AS_CSV = f"save it as CSV {_IN_EXCEL}"


_IN_LIBREOFFICE = "(in LibreOffice: File, Save a Copy, 'Text CSV', UTF-8)"


def _workbook(data: bytes) -> str | None:
    """What a file that is never CSV is, and how to make CSV of it, in words: a zip
    (.xlsx, .ods, or another archive), Excel's old binary format, a web page or XML
    (what some CRMs save as ".xls"); None otherwise."""
    if data.startswith(b"PK\x03\x04"):  # a zip: .ods says so in its first entry
        if b"application/vnd.oasis.opendocument.spreadsheet" in data[:200]:
            kind = "an OpenDocument spreadsheet (.ods), not CSV text"
            return f"{kind}; save it as CSV {_IN_LIBREOFFICE}"
        if b"[Content_Types].xml" in data[:4096] or b"xl/" in data[:4096]:
            return f"an Excel workbook (.xlsx), not CSV text; {_SAVE_AS_CSV}"
        return "a zip archive, not CSV text; unpack it, or save the sheet as CSV"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):  # OLE2: .xls
        return f"an Excel 97-2003 workbook (.xls), not CSV text; {_SAVE_AS_CSV}"
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<html", b"<!doctype html", b"<table")):
        return (
            "a web page (HTML, as some tools save '.xls' files), not CSV text; open it in"
            f" a spreadsheet and {_SAVE_AS_CSV}"
        )
    if head.startswith(b"<?xml"):
        return f"an XML file (an Excel 2003 XML sheet?), not CSV text; {_SAVE_AS_CSV}"
    return None


def read_csv(path: Path) -> CsvRows:
    """The file's rows; ``-`` reads standard input."""
    if str(path) == STDIO:
        source, data = "stdin", sys.stdin.buffer.read()
    else:
        source = str(path)
        try:
            data = path.read_bytes()
        except OSError as err:
            raise _bad(source, f"cannot read it: {err.strerror}") from None
    workbook = _workbook(data)
    if workbook:
        raise _bad(source, workbook)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        reason = (
            f"not UTF-8 text (byte 0x{data[err.start]:02x}); save the file as UTF-8 {_IN_EXCEL}"
        )
        raise _bad(source, reason, line) from None
    return parse_csv(text, source)


#: From this many rows an import says it started: 100,000 take ~20 s, in one transaction.
LARGE_IMPORT_ROWS = 5_000
#: A dry run lists at most this many targets it would update, and as many it would add.
PREVIEW_LINES = 50
#: An import names the targets it updated when there are at most this many.
NAMED_UPDATES = 10
#: How much of a description a preview shows.
DESCRIPTION_CHARS = 40

DryRunFlag = Annotated[
    bool,
    typer.Option(
        "--dry-run",
        help="Check the file as an import would (same errors, exit 2) and print what it"
        " would do: each target it would update, field by field (old → new), and each it"
        " would add; change nothing.",
    ),
]


def import_csv(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE.csv", help="UTF-8 CSV with a header; - for standard input."),
    ],
    dry_run: DryRunFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Add or update targets from a CSV file: all rows or none.

    A row updates the target of its uid, else of its name (any case, accents optional);
    other rows add targets. An empty cell keeps what the target has: blanking a cell in
    a spreadsheet clears nothing. To clear a status, write none in its cell (or run
    pipetrack set TARGET none); a description: pipetrack edit TARGET --description '';
    markets: pipetrack edit TARGET --clear-markets. Rows of empty cells are skipped.

    An older export imported back reverts what teammates changed since: run it with
    --dry-run first to see each change (Acme: status Hot → Passed) with nothing
    written. The import itself names the targets it updated (up to 10)."""
    parsed = read_csv(file)
    if len(parsed.rows) >= LARGE_IMPORT_ROWS:
        if dry_run:
            info(f"checking {len(parsed.rows):,} rows from {parsed.source} (dry run)…")
        else:
            info(f"importing {len(parsed.rows):,} rows from {parsed.source} (all or none)…")
    every = Every(PROGRESS_S)
    done_word = "checked" if dry_run else "written"

    def saved(done: int, total: int, what: str = "new targets") -> None:
        every(info, f"{done_word} {done:,} of {total:,} {what}…")

    with open_store(ctx, missing="scratch" if dry_run else "create") as store:
        if parsed.misshapen:  # nothing is imported: the other rows checked by a dry run
            try:
                store.import_targets(parsed.rows, None, dry_run=True)
            except InvalidInput as err:
                raise parsed.refused(err) from None
            raise parsed.refused(None)
        try:
            result = store.import_targets(parsed.rows, saved, dry_run=dry_run)
        except InvalidInput as err:
            raise parsed.refused(err) from None
        except KeyboardInterrupt:  # the progress lines said "written N": none is kept
            info("interrupted: nothing imported (an import is all or none)")
            raise typer.Exit(130) from None
    if dry_run:
        _preview(parsed, result, as_json)
        return
    created, updated = result
    counts = {"created": created, "updated": updated}
    if as_json:
        emit_json({**counts, "dry_run": False, **_changes_json(parsed, result)})
        return
    info(", ".join(f"{n:,} {what}" for what, n in counts.items()))
    if result.updated_targets:
        info(f"updated: {_named_updates(result.updated_targets)}")


def _named_updates(updated: list[UpdatedTarget]) -> str:
    """``Ørsted (status), Beta Labs (name → Beta)``: the first :data:`NAMED_UPDATES`
    targets an import updated, named as they were, with the fields it changed."""
    named = []
    for target in updated[:NAMED_UPDATES]:
        fields = [
            f"name → {new}" if field == "name" else field
            for field, (_, new) in target.changes.items()
        ]
        named.append(f"{target.name} ({', '.join(fields)})")
    more = len(updated) - NAMED_UPDATES
    return ", ".join(named) + (f" and {more:,} more" if more > 0 else "")


def _shown(field: str, value: Any) -> str:
    """A field's value as a preview line shows it: no status as none, no markets as
    (none), a description on one line (its other spaces kept: the change may be in them)
    and cut to :data:`DESCRIPTION_CHARS`."""
    if field == "status":
        return value or "none"
    if field == "markets":  # quoted: a market named "none" is not "no markets"
        return ", ".join(repr(m) for m in value) or "(none)"
    if field == "description":
        text = " ".join(line.strip() for line in value.splitlines())
        if len(text) > DESCRIPTION_CHARS:
            text = text[: DESCRIPTION_CHARS - 1].rstrip() + "…"
        return repr(text)
    return repr(value)


def _change_line(target: UpdatedTarget) -> str:
    fields = "; ".join(
        f"{field} {_shown(field, old)} → {_shown(field, new)}"
        for field, (old, new) in target.changes.items()
    )
    return f"  {target.name}: {fields}"


def _more(count: int, what: str) -> list[str]:
    more = count - PREVIEW_LINES
    return [f"  … and {more:,} more {what}"] if more > 0 else []


def _preview(parsed: CsvRows, result: Imported, as_json: bool) -> None:
    """What a dry run found: the changes on standard output (every one in JSON, the
    first :data:`PREVIEW_LINES` of each kind as text), the counts as a preview."""
    created, updated = result
    if as_json:
        changes = _changes_json(parsed, result)
        emit_json({"dry_run": True, "created": created, "updated": updated, **changes})
        return
    lines: list[str] = []
    if result.updated_targets:
        lines.append(f"would update {updated:,}:")
        lines += [_change_line(t) for t in result.updated_targets[:PREVIEW_LINES]]
        lines += _more(updated, "to update")
    if result.created_targets:
        lines.append(f"would create {created:,}:")
        lines += [f"  {t.name}" for t in result.created_targets[:PREVIEW_LINES]]
        lines += _more(created, "to create")
    for line in lines:
        typer.echo(line)
    info(f"would create {created:,}, update {updated:,}; nothing changed (dry run)")


def _changes_json(parsed: CsvRows, result: Imported) -> dict[str, Any]:
    """Every target an import updates (its line, uid, name before, each field old and
    new) and each it adds, for --json (a dry run's, and the import's own)."""
    return {
        "updates": [
            {
                "line": parsed.lines[t.row - 1],
                "uid": t.uid,
                "name": t.name,
                "changes": {
                    field: {"old": _json_value(old), "new": _json_value(new)}
                    for field, (old, new) in t.changes.items()
                },
            }
            for t in result.updated_targets
        ],
        "new": [
            {"line": parsed.lines[t.row - 1], "name": t.name, "uid": t.uid}
            for t in result.created_targets
        ],
    }


def _json_value(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def write_csv(
    out: TextIO, targets: Iterable[TargetView], delimiter: str = ",", excel: bool = False
) -> int:
    """The header and a row per target; how many targets. ``excel``: cells a spreadsheet
    would run as formulas are marked as text (:func:`excel_cell`)."""
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    for t in targets:
        row = (t.name, t.description, MARKET_SEP.join(t.markets), t.status or "", t.uid)
        writer.writerow(tuple(map(excel_cell, row)) if excel else row)
        count += 1
    return count


#: What Excel needs to read UTF-8 (accents) from a CSV file it opens.
BOM = "\ufeff"


def export_csv(
    ctx: typer.Context,
    file: Annotated[
        Path | None,
        typer.Argument(metavar="[FILE]", help="Where to write; standard output if none or -."),
    ] = None,
    excel: Annotated[
        bool,
        typer.Option(
            "--excel",
            help="Start with a byte-order mark, so Excel shows accents right; a cell"
            " starting with = + - @ gets a ' before it, so Excel never runs it as a formula"
            " (import takes it off).",
        ),
    ] = False,
    semicolons: Annotated[
        bool,
        typer.Option(
            "--semicolons",
            help="';' between columns, as Excel expects where a comma is the decimal sign.",
        ),
    ] = False,
) -> None:
    """Write every target as CSV (the columns import reads, uid included; import reads
    every form this writes)."""
    delimiter = ";" if semicolons else ","
    if file is not None and str(file) == STDIO:
        file = None
    if file is not None:
        _check_writable_place(file)
    with open_store(ctx) as store, closing(store.iter_targets(TargetQuery())) as targets:
        # a row at a time from one snapshot, ended before the store closes (even by a pipe)
        if file is None:
            sys.stdout.write(BOM if excel else "")
            write_csv(sys.stdout, targets, delimiter, excel)
            return
        count = _write_whole(file, "utf-8-sig" if excel else "utf-8", targets, delimiter, excel)
    info(f"exported {plural(count, 'target')} to {file}")


def _destination(file: Path) -> Path:
    """The file that ``file`` names: through a symlink, the file it points to (a link
    ``pipeline.csv -> share/real.csv`` exports into ``share/real.csv`` and stays a link,
    as ``>`` in a shell or ``cp`` would do; replacing the link would leave the shared file
    stale while the export looked done)."""
    return Path(os.path.realpath(file)) if file.is_symlink() else file


def _may_write(st: os.stat_result, path: Path) -> bool:
    """Whether the user may write the existing file ``path``. A file without write
    permission is refused as ``cp`` and a shell's ``>`` refuse it: someone made it
    read-only, so the export must not quietly replace it (a rename could). Root may
    write anything, so for root a file no one may write counts as read-only, as ``rm``
    and vim treat it ("write-protected")."""
    if os.geteuid() == 0:
        return bool(st.st_mode & 0o222)
    return os.access(path, os.W_OK)


def _check_writable_place(file: Path) -> None:
    """Refuse, before anything is read, a FILE that names a directory, a directory
    that is not there (a typo, most likely), or a file the user may not write."""
    real = _destination(file)
    if real.is_dir():
        raise InvalidInput("file", f"{file} is a directory; give the name of a file in it")
    if not real.parent.is_dir():
        raise InvalidInput("file", f"no directory {real.parent} to write {real.name} in")
    try:
        st = real.stat()
    except OSError:
        return  # a new file (or one the write will name in its error)
    if not _may_write(st, real):
        raise InvalidInput(
            "file",
            f"{file} is read-only: nothing exported; make it writable first"
            " (chmod u+w), or export to another file",
        )


def _write_whole(
    file: Path, encoding: str, targets: Iterable[TargetView], delimiter: str, excel: bool = False
) -> int:
    """Write the file ``file`` names (through a symlink) beside it and move it into
    place: a reader never sees half a file, a failure leaves ``file`` as it was and
    nothing beside it. An existing file keeps its permission bits (a 0600 export stays
    private) and, where the user may set them, its owner and group; a new one is made
    as any new file (0666 less the umask). Not a regular file (``/dev/stdout``, a
    pipe), or a file that may be written in a directory that takes no new file: written
    in place, as a shell's ``>`` would. Errors name ``file``."""
    try:
        st = os.stat(file)
    except OSError:
        st = None
    real = _destination(file)
    try:
        if st is not None and not stat.S_ISREG(st.st_mode):
            return _write_in_place(file, encoding, targets, delimiter, excel)
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".tmp", dir=real.parent)
        except PermissionError:
            if st is None:
                raise
            return _write_in_place(real, encoding, targets, delimiter, excel)
    except OSError as err:
        raise OSError(err.errno, err.strerror, str(file)) from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as out:
            _take_mode(out.fileno(), st)
            count = write_csv(out, targets, delimiter, excel)
        os.replace(tmp, real)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise OSError(err.errno, err.strerror, str(file)) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return count


def _take_mode(fd: int, st: os.stat_result | None) -> None:
    """The new file's mode: the replaced file's permission bits (and owner, group when
    allowed), or, for a new file, what ``open`` would give it (mkstemp makes 0600)."""
    if st is None:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        return
    with suppress(PermissionError):  # only root may give a file away
        os.fchown(fd, st.st_uid, st.st_gid)
    os.fchmod(fd, stat.S_IMODE(st.st_mode))


def _write_in_place(
    file: Path, encoding: str, targets: Iterable[TargetView], delimiter: str, excel: bool
) -> int:
    with file.open("w", encoding=encoding, newline="") as out:
        return write_csv(out, targets, delimiter, excel)
