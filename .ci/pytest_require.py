"""A pytest plugin for CI: records each test's markers in the junit xml and fails required skips.

With SOPU_REQUIRE_POSTGRES=1 a skipped test marked `postgres` fails instead, and likewise
SOPU_REQUIRE_BROWSER=1 for `browser`: CI must never pass by quietly not testing a database or
the browser. Loaded by .ci/run with `-p pytest_require`.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest

REQUIRED = {"postgres": "SOPU_REQUIRE_POSTGRES", "browser": "SOPU_REQUIRE_BROWSER"}
WATCHED = ("postgres", "browser", "slow")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = sorted({mark.name for mark in item.iter_markers()} & set(WATCHED))
        item.user_properties.append(("markers", ",".join(names)))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if not report.skipped or hasattr(report, "wasxfail"):
        return report
    for marker, variable in REQUIRED.items():
        if item.get_closest_marker(marker) and os.environ.get(variable) == "1":
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
            report.outcome = "failed"
            report.longrepr = f"{variable}=1 but this {marker} test was skipped: {reason}"
            break
    return report
