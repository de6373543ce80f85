"""SOPU_CALENDAR and the GRAPH_* settings: defaults, and every problem named."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from bot.settings import GRAPH_DEFAULT_URL, Settings, SettingsError

GRAPH = {
    "SOPU_CALENDAR": "graph",
    "GRAPH_TENANT_ID": "72f988bf-0000-4000-8000-000000000001",
    "GRAPH_CLIENT_ID": "00000000-0000-4000-8000-000000000002",
    "GRAPH_CLIENT_SECRET": "s3cret-value",
}


def settings(**env: str) -> Settings:
    return Settings.from_env(env, dotenv=None)


def test_the_local_calendar_is_the_default() -> None:
    c = settings().calendar
    assert c.mode == "local" and c.base_url == GRAPH_DEFAULT_URL
    assert c.follow_up_weeks == 13
    assert (c.working_hours.start, c.working_hours.end) == (time(8), time(17))


def test_graph_mode_with_a_secret_or_a_certificate(tmp_path: Path) -> None:
    c = settings(**GRAPH).calendar
    assert c.mode == "graph" and c.client_secret == "s3cret-value"
    assert "s3cret" not in repr(settings(**GRAPH))
    cert = tmp_path / "sopu.pem"
    cert.write_text("-----BEGIN PRIVATE KEY-----\n")
    no_secret = {k: v for k, v in GRAPH.items() if k != "GRAPH_CLIENT_SECRET"}
    assert settings(**no_secret, GRAPH_CERTIFICATE_PATH=str(cert)).calendar.certificate_path
    with pytest.raises(SettingsError, match="GRAPH_CERTIFICATE_PATH"):
        settings(**no_secret, GRAPH_CERTIFICATE_PATH=str(tmp_path / "missing.pem"))


@pytest.mark.parametrize("missing", ["GRAPH_TENANT_ID", "GRAPH_CLIENT_ID", "GRAPH_CLIENT_SECRET"])
def test_graph_mode_without_credentials_names_what_is_missing(missing: str) -> None:
    env = {k: v for k, v in GRAPH.items() if k != missing}
    with pytest.raises(SettingsError, match=missing):
        settings(**env)


def test_production_refuses_graph_mode_without_credentials() -> None:
    settings_ok = Settings(env="production")
    import dataclasses

    from bot.settings import CalendarSettings

    broken = dataclasses.replace(settings_ok, calendar=CalendarSettings(mode="graph"))
    with pytest.raises(SettingsError, match="production mode with SOPU_CALENDAR=graph needs"):
        broken.validate()


def test_bad_values_are_named() -> None:
    with pytest.raises(SettingsError, match="SOPU_CALENDAR"):
        settings(SOPU_CALENDAR="outlook")
    with pytest.raises(SettingsError, match="GRAPH_BASE_URL"):
        settings(GRAPH_BASE_URL="http://graph.example.com/v1.0")
    with pytest.raises(SettingsError, match="SOPU_WORKING_HOURS"):
        settings(SOPU_WORKING_HOURS="17:00-08:00")
    with pytest.raises(SettingsError, match="SOPU_WORKING_HOURS"):
        settings(SOPU_WORKING_HOURS="nine to five")
    with pytest.raises(SettingsError, match="SOPU_FOLLOW_UP_WEEKS"):
        settings(SOPU_FOLLOW_UP_WEEKS="0")


def test_national_clouds_and_local_fakes() -> None:
    china = settings(GRAPH_BASE_URL="https://microsoftgraph.chinacloudapi.cn/v1.0/")
    assert china.calendar.base_url == "https://microsoftgraph.chinacloudapi.cn/v1.0"
    assert settings(GRAPH_BASE_URL="http://127.0.0.1:8123/v1.0").calendar.base_url.startswith(
        "http://127.0.0.1"
    )
    hours = settings(SOPU_WORKING_HOURS="09.30-16:00").calendar.working_hours
    assert (hours.start, hours.end, hours.zone) == (time(9, 30), time(16), "Europe/Helsinki")


async def test_graph_mode_with_a_managed_identity_needs_no_secret() -> None:
    from azure.identity.aio import ManagedIdentityCredential

    from graph.msgraph import credential_from

    system = settings(SOPU_CALENDAR="graph", GRAPH_MANAGED_IDENTITY="on").calendar
    assert system.managed_identity and not system.client_secret
    user_assigned = settings(
        SOPU_CALENDAR="graph",
        GRAPH_MANAGED_IDENTITY="on",
        GRAPH_CLIENT_ID="00000000-0000-4000-8000-000000000002",
    ).calendar
    for calendar in (system, user_assigned):
        credential = credential_from(calendar)
        assert isinstance(credential, ManagedIdentityCredential)
        await credential.close()
    with pytest.raises(SettingsError, match="GRAPH_MANAGED_IDENTITY must be on or off"):
        settings(SOPU_CALENDAR="graph", GRAPH_MANAGED_IDENTITY="maybe")
