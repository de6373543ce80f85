"""The claim benchmark still runs end to end: a few requests to each server, no timings."""

from __future__ import annotations

import pytest

from bench import claims


@pytest.mark.slow
async def test_the_claim_benchmark_runs_in_its_tiny_mode() -> None:
    options = claims.Options.tiny()
    report = await claims.run(options)

    assert not report.skipped
    measured = {(r.server, r.concurrency) for r in report.results}
    assert measured == {(s, c) for s in claims.SERVERS for c in options.concurrencies}
    for result in report.results:
        assert result.requests > 0, result.server
        assert result.errors == 0, (result.server, result.concurrency)
    assert len(report.checks) == 4 and not report.mismatches, report.checks
    assert report.checks[-1].startswith("card updates: ")
    text = claims.render(report)
    assert "Sopu claim clicks" in text and "stock echo bot" in text
