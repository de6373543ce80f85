"""The slot benchmark still runs, and the fast and naive scans agree on the times."""

from __future__ import annotations

import pytest

from bench import slots


@pytest.mark.slow
def test_the_slot_benchmark_runs_in_its_tiny_mode() -> None:
    report = slots.run(slots.Options.tiny())
    assert report.same and report.candidates > 0 and report.shown == 6
    text = slots.render(report)
    assert "find_slots" in text and "minute-by-minute" in text and "ratio" in text
