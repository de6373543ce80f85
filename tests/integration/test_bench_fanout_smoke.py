"""The fan-out benchmark still runs end to end: a few messages, its connector in a process."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import fanout


@pytest.mark.slow
async def test_the_fanout_benchmark_delivers_each_message_once(tmp_path: Path) -> None:
    result = await fanout.fan_out(120, 10.0, True, tmp_path)

    assert result["queued"] == 120
    assert (result["duplicates"], result["lost"]) == (0, 0)
    assert result["seconds"] > 0 and result["rate"] > 0
