"""A card click's activity id, recorded in the same transaction as the change it makes.

Teams redelivers an activity it is not sure arrived, with the same id. The id goes into
the transaction that commits the click's change, so both are committed together or not
at all: a crash between the two can neither lose the change nor drop its redelivery as
seen. A click that changes nothing (a refusal, a re-claim, a refresh) records nothing,
and its redelivery is simply answered again, as things then stand.

The turn hands its ``Delivery`` to each unit of work it opens (``SqlUnitOfWork``). The
first one it enters looks the id up and raises ``Duplicate`` if a delivery of the same
click has already made its change; the first one that commits writes the id with the
change. A turn whose every change is made in its one transaction, nothing sent or asked
of another system before the commit, needs no look-up (``Delivery.commit_stops_it``): the
commit's write of the id alone stops a redelivery that would change something again, and
one that would change nothing is answered as things then stand. The seat changes, the
busiest clicks, save that round trip to the database.

Two deliveries that run at once both get as far as the commit; the second collides on
the id's primary key, its transaction is rolled back, and it too ends in ``Duplicate``,
so nothing of it is sent either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage import direct
from storage.models import ProcessedActivityRow


@dataclass
class Delivery:
    """One delivery of an activity, while its turn runs."""

    key: str
    seen_at: datetime
    checked: bool = False  # its id was looked up, in the turn's first transaction
    recorded: bool = False  # its id is committed with the turn's first change
    duplicate: bool = False  # another delivery of the same activity made the change

    def commit_stops_it(self) -> Delivery:
        """This delivery is for a turn whose changes are all in its one transaction: its
        first unit of work does not look the id up (see the module's docstring)."""
        self.checked = True
        return self


class Duplicate(Exception):
    """Another delivery of this activity has already committed its change."""


# Whether an activity id is recorded; and the record of a delivery whose turn changed the bank.
SEEN = direct.Direct(
    select(ProcessedActivityRow.key).where(ProcessedActivityRow.key == bindparam("key"))
)
_RECORD = direct.Direct(
    insert(ProcessedActivityRow).values(key=bindparam("key"), seen_at=bindparam("seen_at"))
)


async def seen(session: AsyncSession, key: str) -> bool:
    """Whether a delivery with this id has committed its change."""
    return bool(await direct.rows(session, SEEN, {"key": key}))


async def check(session: AsyncSession, delivery: Delivery) -> None:
    """In the turn's first transaction: stop a redelivery whose change is already made."""
    if delivery.checked:
        return
    delivery.checked = True
    if await seen(session, delivery.key):
        delivery.duplicate = True
        raise Duplicate(delivery.key)


async def record(session: AsyncSession, delivery: Delivery) -> None:
    """Write the delivery's id into the transaction about to commit its change.

    A plain INSERT: a second delivery of the same activity collides on the key (on
    PostgreSQL it waits for the first to commit or roll back) and ends in ``Duplicate``.
    """
    try:
        await direct.execute(session, _RECORD, {"key": delivery.key, "seen_at": delivery.seen_at})
    except IntegrityError:
        delivery.duplicate = True
        raise Duplicate(delivery.key) from None
