"""`sopu organisations`: the network's organisations kept from the command line."""

from __future__ import annotations

from pathlib import Path

from tests.integration.test_cli import Sopu, _registry_file, sopu

__all__ = ["sopu"]  # the fixture, shared with test_cli


def _rows(out: str) -> dict[str, list[str]]:
    _header, _rule, *rows = out.splitlines()
    return {row.split("  ")[0].strip(): row.split() for row in rows}


def test_the_import_makes_each_employer_an_organisation_once(sopu: Sopu, tmp_path: Path) -> None:
    assert "No organisations yet" in sopu("organisations", "list").out
    path = _registry_file(tmp_path)
    first = sopu("mediators", "import", str(path))
    assert first.code == 0 and "new organisations: " in first.out
    listed = sopu("organisations", "list")
    assert listed.code == 0 and len(_rows(listed.out)) >= 2
    again = sopu("mediators", "import", str(path))
    assert again.code == 0 and "new organisations" not in again.out
    assert sopu("organisations", "list").out == listed.out


def test_set_changes_only_what_it_is_given_and_says_what_is_refused(sopu: Sopu) -> None:
    done = sopu("organisations", "set", "Keravan seurakunta", "--kind", "parish", "--hours", "120")
    assert done.code == 0
    assert _rows(done.out)["Keravan seurakunta"][-5:] == ["parish", "-", "-", "120", "yes"]
    until = sopu("organisations", "set", "keravan  SEURAKUNTA", "--until", "2020-12-31")
    assert _rows(until.out)["Keravan seurakunta"][-5:] == ["parish", "-", "2020-12-31", "120", "no"]
    cleared = sopu(
        "organisations", "set", "Keravan seurakunta", "--until", "none", "--hours", "none"
    )
    assert _rows(cleared.out)["Keravan seurakunta"][-5:] == ["parish", "-", "-", "-", "yes"]
    bad = sopu(
        "organisations",
        "set",
        "Keravan seurakunta",
        "--from",
        "2027-01-01",
        "--until",
        "2026-01-01",
    )
    assert bad.code == 1 and "ends before it starts" in bad.err
    assert sopu("organisations", "set", "X", "--kind", "club").code == 2
    assert sopu("organisations", "set", "X", "--hours", "many").code == 2
    assert sopu("organisations", "set", "X", "--hours", "-5").code == 1
    assert len(_rows(sopu("organisations", "list").out)) == 1  # nothing of the refused was kept
