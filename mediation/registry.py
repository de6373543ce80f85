"""Reading the mediator registry from the coordinators' spreadsheet (CSV).

The file is UTF-8 (a BOM is fine), separated by ``,`` or ``;`` (Finnish Excel writes
``;``). A file with any bad row is refused whole, each problem with its line and column.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from mediation import errors
from mediation.case_types import QUALIFICATIONS
from mediation.model import LANGUAGES, Role

COLUMNS = (
    "aad_object_id",
    "name",
    "email",
    "employer",
    "languages",
    "experienced",
    "role",
    "active",
)
# Optional: a file without it leaves everyone's qualifications as they are.
QUALIFICATIONS_COLUMN = "qualifications"
_TRUE = {"yes", "true", "1", "kyllä", "kylla", "ja"}
_FALSE = {"no", "false", "0", "ei", "nej"}
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_ROWS = 10_000


@dataclass(frozen=True)
class RegistryRow:
    line: int
    aad_object_id: str
    name: str
    email: str
    employer: str
    languages: frozenset[str]
    experienced: bool
    role: Role
    active: bool
    qualifications: frozenset[str] | None = None  # None: the file has no such column


@dataclass(frozen=True)
class RowProblem:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"


class RegistryFileError(errors.DomainError):
    key = "error.registry_file"

    def __init__(self, problems: list[RowProblem]) -> None:
        text = "; ".join(str(p) for p in problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        super().__init__(f"the registry file was not imported: {text}{more}", count=len(problems))
        self.problems = problems


def _flag(value: str) -> bool:
    low = value.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError("use yes/no, true/false, 1/0 or kyllä/ei")


def _parse_row(line: int, row: dict[str, str], problems: list[RowProblem]) -> RegistryRow | None:
    before = len(problems)

    def bad(column: str, message: str) -> None:
        problems.append(RowProblem(line, column, message))

    aad = row["aad_object_id"].strip().lower()
    if not _GUID.match(aad):
        bad("aad_object_id", "not an Entra object id (a GUID)")
    name = row["name"].strip()
    if not name:
        bad("name", "empty")
    elif len(name) > 200:
        bad("name", "longer than 200 characters")
    email = row["email"].strip()
    if not _EMAIL.match(email):
        bad("email", "not an e-mail address")
    employer = row["employer"].strip()
    if not employer:
        bad("employer", "empty")
    langs = frozenset(row["languages"].replace(",", " ").lower().split())
    if not langs:
        bad("languages", "empty")
    elif not langs <= set(LANGUAGES) - {"other"}:
        bad("languages", "use fi and/or sv, separated by spaces")
    flags: dict[str, bool] = {}
    for column in ("experienced", "active"):
        try:
            flags[column] = _flag(row[column])
        except ValueError as exc:
            bad(column, str(exc))
    role_text = row["role"].strip().lower()
    try:
        role = Role(role_text)
    except ValueError:
        bad("role", "use mediator, coordinator or booker")
        role = Role.MEDIATOR
    qualifications = None
    if QUALIFICATIONS_COLUMN in row:
        qualifications = frozenset(row[QUALIFICATIONS_COLUMN].replace(",", " ").lower().split())
        if not qualifications <= set(QUALIFICATIONS):
            bad(QUALIFICATIONS_COLUMN, "use the qualification codes, separated by spaces")
    if len(problems) > before:
        return None
    return RegistryRow(
        line,
        aad,
        name,
        email,
        employer,
        langs,
        flags["experienced"],
        role,
        flags["active"],
        qualifications,
    )


def parse_registry(data: bytes | str) -> list[RegistryRow]:
    """Parse a whole registry file, or raise RegistryFileError naming every bad cell."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise RegistryFileError([RowProblem(1, "-", f"not UTF-8 ({exc.reason})")]) from exc
    else:
        text = data.removeprefix("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise RegistryFileError([RowProblem(1, "-", "the file is empty")]) from None
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise RegistryFileError(
            [RowProblem(1, c, "column missing from the header") for c in missing]
        )
    problems: list[RowProblem] = []
    rows: list[RegistryRow] = []
    seen: dict[str, int] = {}
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                problems.append(
                    RowProblem(line, "-", f"{len(cells)} cells where the header has {len(header)}")
                )
                continue
            parsed = _parse_row(line, dict(zip(header, cells, strict=True)), problems)
            if parsed is None:
                continue
            if parsed.aad_object_id in seen:
                problems.append(
                    RowProblem(
                        line, "aad_object_id", f"same person as line {seen[parsed.aad_object_id]}"
                    )
                )
                continue
            seen[parsed.aad_object_id] = line
            rows.append(parsed)
            if len(rows) > MAX_ROWS:
                raise RegistryFileError([RowProblem(line, "-", f"more than {MAX_ROWS} rows")])
    except csv.Error as exc:
        problems.append(RowProblem(reader.line_num, "-", f"not valid CSV ({exc})"))
    if problems:
        raise RegistryFileError(problems)
    return rows
