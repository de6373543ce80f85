"""The network's organisations in SQL: saved by name, matched as the registry writes them,
and made from the registry's employers by the migration."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from mediation.organisations import Organisation, OrganisationKind
from storage.db import alembic_config, create_engine, upgrade
from storage.uow import SqlUnitOfWork
from tests.integration.storage_seed import add_mediators
from tests.unit.factories import mediator


async def test_an_organisation_is_saved_found_by_its_name_and_updated(
    uow_factory: Callable[[], SqlUnitOfWork],
) -> None:
    uow = uow_factory()
    async with uow:
        added = await uow.organisations.save(
            Organisation("Keski-Uusimaan  hyvinvointialue", OrganisationKind.WELLBEING_COUNTY)
        )
        await uow.organisations.save(Organisation("Keravan seurakunta", OrganisationKind.PARISH))
        await uow.commit()
    assert added.id is not None and added.name == "Keski-Uusimaan hyvinvointialue"
    async with uow:
        found = await uow.organisations.by_name(" keski-uusimaan HYVINVOINTIALUE")
        assert found == added
        changed = Organisation(
            "Keski-Uusimaan hyvinvointialue",
            OrganisationKind.WELLBEING_COUNTY,
            date(2026, 1, 1),
            date(2027, 12, 31),
            1200,
        )
        assert (await uow.organisations.save(changed)).id == added.id
        await uow.commit()
    async with uow:
        listed = await uow.organisations.list()
        assert [o.name for o in listed] == ["Keravan seurakunta", "Keski-Uusimaan hyvinvointialue"]
        assert listed[1].agreement_end == date(2027, 12, 31) and listed[1].yearly_hours == 1200
        assert await uow.organisations.by_name("Tuusula") is None
        # Found by name with its dates and hours read back as they were saved.
        again = await uow.organisations.by_name("keski-uusimaan hyvinvointialue")
        assert again == dataclasses.replace(changed, id=added.id)


async def test_one_organisation_per_name_key(uow_factory: Callable[[], SqlUnitOfWork]) -> None:
    uow = uow_factory()
    async with uow:
        await uow.organisations.save(Organisation("Kerava"))
        await uow.commit()
    async with uow:
        with pytest.raises(IntegrityError):
            await uow.session.execute(
                text("INSERT INTO organisation (name, name_key) VALUES ('KERAVA', 'kerava')")
            )


async def test_qualifications_are_kept_per_person(
    uow_factory: Callable[[], SqlUnitOfWork],
) -> None:
    uow = uow_factory()
    aino, bertil = await add_mediators(uow, mediator("Aino Virtanen"), mediator("Bertil Lind"))
    assert aino.id is not None and bertil.id is not None
    async with uow:
        await uow.qualifications.set(aino.id, frozenset({"psychology", "family_work"}))
        await uow.commit()
    async with uow:
        assert await uow.qualifications.of([aino.id, bertil.id]) == {
            aino.id: {"psychology", "family_work"},
            bertil.id: frozenset(),
        }
        await uow.qualifications.set(aino.id, frozenset({"child_welfare"}))
        await uow.commit()
    async with uow:
        assert await uow.qualifications.of([aino.id]) == {aino.id: {"child_welfare"}}
        assert await uow.qualifications.of([]) == {}


def _to_0001(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "0001")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_the_migration_makes_an_organisation_of_each_employer(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_to_0001)
            for n, employer in enumerate(["Kerava", " kerava", "Tuusulan  kunta", "Kerava"]):
                await connection.execute(
                    text(
                        "INSERT INTO mediator (aad_object_id, name, email, employer, languages,"
                        " role, experienced_mark, active, created_at)"
                        " VALUES (:aad, :name, :email, :employer, 'fi', 'mediator', 0, 1,"
                        " '2026-01-02 09:00:00.000000')"
                    ),
                    {
                        "aad": f"00000000-0000-0000-0000-00000000000{n}",
                        "name": f"Mediator {n}",
                        "email": f"m{n}@example.org",
                        "employer": employer,
                    },
                )
        await upgrade(engine)
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT name, name_key, kind FROM organisation ORDER BY name_key")
            )
            assert [tuple(r) for r in rows] == [
                ("Kerava", "kerava", None),
                ("Tuusulan kunta", "tuusulan kunta", None),
            ]
    finally:
        await engine.dispose()
