"""With an app id, Sopu takes only activities whose Bot Framework token it can verify."""

from __future__ import annotations

import dataclasses

from bot.settings import Settings
from tests.clock import FixedClock
from tests.e2e.conftest import running
from tests.fakes.connector import FakeConnector

APP_ID = "0b5f4a6e-0000-4000-8000-00000000a991"
TENANT_ID = "72f988bf-0000-4000-8000-000000000001"


async def test_activities_without_a_valid_token_get_401_and_change_nothing(
    connector: FakeConnector, clock: FixedClock, e2e_settings: Settings
) -> None:
    settings = dataclasses.replace(
        e2e_settings, bot_app_id=APP_ID, bot_app_password="secret", bot_tenant_id=TENANT_ID
    )
    async with running(settings, connector, clock) as bank:
        teams = bank.teams
        before = await bank.state()
        click = teams.click_activity("olli", "case.claim", {"case_id": 1})
        for header in (None, "Bearer not-a-token", "Basic b2xsaTpzZWNyZXQ=", "Bearer a.b.c"):
            headers = {"Authorization": header} if header else {}
            async with teams.http.post(
                f"{teams.base}/api/messages", json=click, headers=headers
            ) as response:
                assert response.status == 401, header
        assert await bank.state() == before
        assert connector.log == []
        # The refused activity's id was not taken: sent again with a token it still counts.
        # (Development mode shows the same: without an app id no token is needed.)
        async with running(e2e_settings, connector, clock, seed=False) as open_bank:
            assert await open_bank.sopu.store.first_seen(
                f"{click['conversation']['id']}|{click['id']}", clock.now()
            )
