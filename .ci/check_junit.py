"""Fail CI when the PostgreSQL or browser tests were skipped or did not run.

Reads the junit xml that pytest wrote (with the `markers` property that .ci/pytest_require.py
records) and counts, for each of `postgres` and `browser`, the tests that ran and were skipped.
Usage: python .ci/check_junit.py build/junit.xml
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

GROUPS = ("postgres", "browser")
ROOT = Path(__file__).resolve().parent.parent


def groups_of(case: ET.Element) -> set[str]:
    markers: set[str] = set()
    for prop in case.iter("property"):
        if prop.get("name") == "markers":
            markers |= set(filter(None, (prop.get("value") or "").split(",")))
    where = f"{case.get('classname', '')}.{case.get('name', '')}"
    if where.startswith("tests.browser.") or "[postgres" in where or "_postgres" in where:
        markers |= {group for group in GROUPS if group in where}
    return markers & set(GROUPS)


def declared(group: str) -> bool:
    """Whether any test module asks for the marker (then 0 tests run is a failure)."""
    pattern = re.compile(rf"mark\.{group}\b")
    for path in (ROOT / "tests").rglob("*.py"):
        if "node_modules" in path.parts:
            continue
        if pattern.search(path.read_text(encoding="utf-8", errors="replace")):
            return True
    return False


def main(path: str) -> int:
    junit = Path(path)
    if not junit.is_file():
        print(f"check_junit: {junit} was not written: pytest did not run", file=sys.stderr)
        return 1
    cases = list(ET.parse(junit).getroot().iter("testcase"))
    if not cases:
        print("check_junit: pytest ran no test at all", file=sys.stderr)
        return 1
    failed = False
    for group in GROUPS:
        ran = skipped = 0
        for case in cases:
            if group not in groups_of(case):
                continue
            if case.find("skipped") is not None:
                skipped += 1
                print(
                    f"check_junit: skipped {group} test {case.get('classname')}::"
                    f"{case.get('name')}",
                    file=sys.stderr,
                )
            else:
                ran += 1
        print(f"check_junit: {group} tests ran: {ran}, skipped: {skipped}")
        if skipped:
            failed = True
        if ran == 0:
            if declared(group):
                print(f"check_junit: tests are marked {group} but none ran", file=sys.stderr)
                failed = True
            else:
                print(f"check_junit: warning: there are no {group} tests yet", file=sys.stderr)
    print(f"check_junit: {len(cases)} test cases in {junit}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build/junit.xml"))
