"""The claim benchmarks still run end to end: a few requests to each server, no timings."""

from __future__ import annotations

import dataclasses

import pytest

from bench import claims, claims_ab


@pytest.mark.slow
async def test_the_claim_benchmark_runs_in_its_tiny_mode() -> None:
    options = claims.Options.tiny()
    report = await claims.run(options)

    assert not report.skipped
    measured = {(r.server, r.concurrency) for r in report.results}
    served = [s for s in claims.SERVERS if s != "sopu-pg"]  # PostgreSQL only when asked
    assert measured == {(s, c) for s in served for c in options.concurrencies}
    for result in report.results:
        assert result.requests > 0, result.server
        assert result.errors == 0, (result.server, result.concurrency)
    assert len(report.checks) == 4 and not report.mismatches, report.checks
    assert report.checks[-1].startswith("card updates: ")
    text = claims.render(report)
    assert "Sopu claim clicks" in text and "stock echo bot" in text


@pytest.mark.slow
def test_the_claim_ab_benchmark_runs_in_its_tiny_mode() -> None:
    # The last commit against itself, HEAD's server with a setting of its own.
    options = dataclasses.replace(claims_ab.Options.tiny(), head_env=("SOPU_TURNS_AT_ONCE=1",))
    report = claims_ab.measure(options)

    assert [(p.round, p.side) for p in report.phases] == [(1, "BASE"), (1, "HEAD")]
    for phase in report.phases:
        assert phase.result.requests > 0, phase.side
    assert not any(report.errors(side) for side in claims_ab.SIDES)
    assert len(report.checks) == 3 and not report.mismatches, report.checks
    text = claims_ab.render(report)
    assert "median BASE" in text and "median HEAD" in text and "MISMATCH" not in text
    assert "HEAD's server only: SOPU_TURNS_AT_ONCE=1" in text
