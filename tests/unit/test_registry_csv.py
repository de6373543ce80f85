"""Parsing the registry spreadsheet: both separators, BOM, Finnish yes/no, line-numbered errors."""

from __future__ import annotations

import pytest

from mediation.model import Role
from mediation.registry import RegistryFileError, parse_registry

HEADER = "aad_object_id,name,email,employer,languages,experienced,role,active"
A = "11111111-1111-1111-1111-111111111111"
B = "22222222-2222-2222-2222-222222222222"


def test_comma_file() -> None:
    rows = parse_registry(
        f"{HEADER}\n{A},Anna Aalto,anna@example.org,Hyvinkää,fi sv,yes,coordinator,1\n"
        f"{B},Bo Berg,bo@example.org,Seurakunta,sv,no,mediator,true\n"
    )
    assert [r.name for r in rows] == ["Anna Aalto", "Bo Berg"]
    assert rows[0].languages == frozenset({"fi", "sv"}) and rows[0].role is Role.COORDINATOR
    assert rows[1].experienced is False and rows[1].active is True and rows[1].line == 3


def test_finnish_excel_file_with_bom_and_semicolons() -> None:
    text = (
        HEADER.replace(",", ";")
        + f"\r\n{A};Anna Äijälä;anna@example.org;Tuusula;fi;kyllä;mediator;ei\r\n"
    )
    rows = parse_registry(("\ufeff" + text).encode("utf-8"))
    assert rows[0].name == "Anna Äijälä" and rows[0].experienced and not rows[0].active


def test_bad_rows_are_all_reported_with_line_and_column() -> None:
    text = (
        f"{HEADER}\n{A},Anna,anna@example.org,X,fi,no,mediator,1\n"
        f"not-a-guid,Bo,bo@example,X,de,no,boss,1\n"
        f"{A},Anna again,a@example.org,X,fi,no,mediator,1\n"
        f"{B},Bea,bea@example.org,X,sv,maybe,mediator,1\n"
    )
    with pytest.raises(RegistryFileError) as exc:
        parse_registry(text)
    found = {(p.line, p.column) for p in exc.value.problems}
    assert found == {
        (3, "aad_object_id"),
        (3, "email"),
        (3, "languages"),
        (3, "role"),
        (4, "aad_object_id"),
        (5, "experienced"),
    }
    assert "line 3, column role" in str(exc.value)


@pytest.mark.parametrize(
    ("data", "column"),
    [
        (b"", "-"),
        ("name,email\nx,y\n", "aad_object_id"),
        (b"\xff\xfe not utf8", "-"),
        (f"{HEADER}\n{A},Anna,anna@example.org\n", "-"),
    ],
)
def test_broken_files(data: bytes | str, column: str) -> None:
    with pytest.raises(RegistryFileError) as exc:
        parse_registry(data)
    assert exc.value.problems[0].column == column
