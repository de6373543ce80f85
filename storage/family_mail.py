"""The SQL side of the messages to families: the coordinators' templates, and the mailbox
that development mode delivers into instead of sending. One short transaction per method."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mediation.family_mail import FamilyMessage, Template
from mediation.ports import Clock
from storage.models_family_mail import DevMailRow, FamilyTemplateRow

# INSERT ... ON CONFLICT: the same words in both databases, a construct of each dialect's own.
_INSERTS: dict[str, Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


class SqlFamilyTemplates:
    """Implements :class:`mediation.family_mail.FamilyTemplates`."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def get(self, message: FamilyMessage, lang: str) -> Template | None:
        async with self._sessions() as session:
            row = await session.get(FamilyTemplateRow, (message.value, lang))
            return Template(row.subject, row.body) if row is not None else None

    async def save(
        self, message: FamilyMessage, lang: str, template: Template, by: int, now: datetime
    ) -> None:
        values = {
            "message": message.value,
            "lang": lang,
            "subject": template.subject,
            "body": template.body,
            "updated_at": now,
            "updated_by": by,
        }
        # One statement, so two coordinators saving the first wording at once both succeed
        # (the later one's wording stays) instead of one meeting the other's new row.
        async with self._sessions() as session, session.begin():
            insert = _INSERTS[session.get_bind().dialect.name]
            statement = insert(FamilyTemplateRow).values(**values)
            keys = ("message", "lang")
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=list(keys),
                    set_={k: statement.excluded[k] for k in values if k not in keys},
                )
            )

    async def reset(self, message: FamilyMessage, lang: str) -> None:
        async with self._sessions() as session:
            await session.execute(
                delete(FamilyTemplateRow).where(
                    FamilyTemplateRow.message == message.value, FamilyTemplateRow.lang == lang
                )
            )
            await session.commit()


@dataclass(frozen=True)
class DevMail:
    to: str
    subject: str
    body: str
    sent_at: datetime


class SqlDevMailbox:
    """Development mode's mail: kept in the database and shown on /dev/mailbox, never sent.

    Implements :class:`mediation.family_mail.MailSender`.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def send(self, to: str, subject: str, body: str, key: str) -> None:
        async with self._sessions() as session:
            if await session.scalar(select(DevMailRow.id).where(DevMailRow.key == key)):
                return  # delivered already (a retry after an unclear answer)
            session.add(
                DevMailRow(key=key, to=to, subject=subject, body=body, sent_at=self._clock.now())
            )
            try:
                await session.commit()
            except IntegrityError:
                return  # the same message at the same instant: one is kept

    async def recent(self, limit: int = 200) -> list[DevMail]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(DevMailRow).order_by(DevMailRow.id.desc()).limit(limit)
            )
            return [DevMail(r.to, r.subject, r.body, r.sent_at) for r in rows]
