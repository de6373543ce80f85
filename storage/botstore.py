"""What the Teams layer remembers: handled activities, conversation references, posts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import direct, redelivery
from storage.models import (
    BankChannelRow,
    CasePostRow,
    CaseRow,
    ConversationRefRow,
    MediatorRow,
    ProcessedActivityRow,
    UserLanguageRow,
)

_BANK_CHANNEL_ROW = 1

# INSERT ... ON CONFLICT is spelled the same way by both databases, but each dialect has
# its own construct for it.
_INSERTS: dict[str, Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _insert_for(dialect: str) -> Any:
    insert = _INSERTS.get(dialect)
    if insert is None:
        raise NotImplementedError(f"no upsert for {dialect}")
    return insert


# Every activity passes first_seen: its statement is built once per dialect.
_RECORD_ACTIVITY = {
    name: insert(ProcessedActivityRow)
    .values(key=bindparam("key"), seen_at=bindparam("seen_at"))
    .on_conflict_do_nothing(index_elements=["key"])
    for name, insert in _INSERTS.items()
}
# A chosen language goes out with the reference, so everything written to the person's
# personal chat follows it without a read of its own.
_USER_REFERENCE = direct.Direct(
    select(ConversationRefRow.reference, UserLanguageRow.lang)
    .outerjoin(UserLanguageRow, UserLanguageRow.aad_object_id == ConversationRefRow.aad_object_id)
    .where(ConversationRefRow.aad_object_id == bindparam("aad"))
)
_CHAT_OWNER = direct.Direct(
    select(ConversationRefRow.aad_object_id)
    .where(ConversationRefRow.conversation_id == bindparam("conversation_id"))
    .limit(1)
)
_USER_LANGUAGE = direct.Direct(
    select(UserLanguageRow.lang).where(UserLanguageRow.aad_object_id == bindparam("aad"))
)
_CASE_POST = direct.Direct(
    select(*cast(Table, CasePostRow.__table__).c).where(CasePostRow.case_id == bindparam("case_id"))
)

_CASE_VERSION = direct.Direct(select(CaseRow.version).where(CaseRow.id == bindparam("case_id")))


@dataclass(frozen=True)
class BankChannel:
    team_id: str
    channel_id: str
    service_url: str
    reference: dict[str, Any]
    set_by: int
    set_at: datetime


@dataclass(frozen=True)
class CasePost:
    case_id: int
    conversation_id: str
    activity_id: str
    reference: dict[str, Any]
    posted_at: datetime


class BotStore:
    """Each method is its own short transaction."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    def _insert(self, session: AsyncSession) -> Any:
        return _insert_for(session.get_bind().dialect.name)

    async def _upsert(self, model: Any, key: str, values: dict[str, Any]) -> None:
        async with self._sessions() as session, session.begin():
            statement = self._insert(session)(model).values(**values)
            updates = {k: statement.excluded[k] for k in values if k != key}
            await session.execute(
                statement.on_conflict_do_update(index_elements=[key], set_=updates)
            )

    async def first_seen(self, key: str, now: datetime) -> bool:
        """True the first time a key is recorded; False for a redelivery of it.

        Every activity passes here, so this is one prepared statement on a bare connection:
        the ORM session around the same INSERT cost as much again.
        """
        engine = self._sessions.kw["bind"]
        _insert_for(engine.dialect.name)  # refuses a database without an upsert
        statement = _RECORD_ACTIVITY[engine.dialect.name]
        async with engine.begin() as connection:
            result = await connection.execute(statement, {"key": key, "seen_at": now})
            return result.rowcount == 1

    async def seen(self, key: str) -> bool:
        """Whether an activity with this key has been recorded (storage/redelivery.py)."""
        async with self._sessions() as session:
            return await redelivery.seen(session, key)

    async def forget_seen_before(self, cutoff: datetime) -> int:
        """Drop keys older than the cutoff; returns how many were dropped."""
        async with self._sessions() as session, session.begin():
            result = cast(
                CursorResult[Any],
                await session.execute(
                    delete(ProcessedActivityRow).where(ProcessedActivityRow.seen_at < cutoff)
                ),
            )
            return result.rowcount

    async def save_user_reference(
        self, aad_object_id: str, reference: dict[str, Any], at: datetime | None = None
    ) -> None:
        """Remember a user's personal chat with the bot, for proactive messages."""
        at = at or datetime.now(UTC)
        await self._upsert(
            ConversationRefRow,
            "aad_object_id",
            {
                "aad_object_id": aad_object_id.lower(),
                "reference": json.dumps(reference),
                "updated_at": at,
                "conversation_id": _conversation_id(reference),
            },
        )

    async def personal_chat_owner(self, conversation_id: str) -> str | None:
        """Whose personal chat with Sopu this is (their AAD object id), if it is known."""
        row = await self._one(_CHAT_OWNER, {"conversation_id": conversation_id[:500]})
        return None if row is None else str(row.aad_object_id)

    async def forget_unregistered_chats(self, cutoff: datetime) -> int:
        """Drop the personal chats, last seen before the cutoff, of people not in the registry.

        Anyone in the tenant may open a chat with Sopu; only the registry's people are ever
        written to, so the others' references are kept no longer than it takes a
        coordinator to add a newcomer.
        """
        registered = select(MediatorRow.aad_object_id)
        async with self._sessions() as session, session.begin():
            result = cast(
                CursorResult[Any],
                await session.execute(
                    delete(ConversationRefRow).where(
                        ConversationRefRow.updated_at < cutoff,
                        ConversationRefRow.aad_object_id.not_in(registered),
                    )
                ),
            )
            return result.rowcount

    async def _one(self, statement: direct.Direct, params: dict[str, Any]) -> Any:
        # The reads on every card click and notification: no session, no transaction.
        return await direct.first(self._sessions.kw["bind"], statement, params)

    async def user_reference(self, aad_object_id: str) -> dict[str, Any] | None:
        """The person's personal chat; its locale is the language they chose, if they did."""
        row = await self._one(_USER_REFERENCE, {"aad": aad_object_id.lower()})
        if row is None:
            return None
        reference = _dict(row.reference)
        if row.lang:
            reference["locale"] = row.lang
        return reference

    async def chosen_language(self, aad_object_id: str) -> str | None:
        """The language the person chose with the ``language`` command, or None."""
        row = await self._one(_USER_LANGUAGE, {"aad": aad_object_id.lower()})
        return row.lang if row is not None else None

    async def choose_language(self, aad_object_id: str, lang: str, at: datetime) -> None:
        await self._upsert(
            UserLanguageRow,
            "aad_object_id",
            {"aad_object_id": aad_object_id.lower(), "lang": lang, "chosen_at": at},
        )

    async def set_bank_channel(
        self,
        team_id: str,
        channel_id: str,
        service_url: str,
        reference: dict[str, Any],
        set_by: int,
        at: datetime,
    ) -> None:
        await self._upsert(
            BankChannelRow,
            "id",
            {
                "id": _BANK_CHANNEL_ROW,
                "team_id": team_id,
                "channel_id": channel_id,
                "service_url": service_url,
                "reference": json.dumps(reference),
                "set_by": set_by,
                "set_at": at,
            },
        )

    async def bank_channel(self) -> BankChannel | None:
        async with self._sessions() as session:
            row = await session.get(BankChannelRow, _BANK_CHANNEL_ROW)
            if row is None:
                return None
            return BankChannel(
                row.team_id,
                row.channel_id,
                row.service_url,
                _dict(row.reference),
                row.set_by,
                row.set_at,
            )

    async def save_case_post(
        self,
        case_id: int,
        conversation_id: str,
        activity_id: str,
        reference: dict[str, Any],
        at: datetime,
    ) -> None:
        await self._upsert(
            CasePostRow,
            "case_id",
            {
                "case_id": case_id,
                "conversation_id": conversation_id,
                "activity_id": activity_id,
                "reference": json.dumps(reference),
                "posted_at": at,
            },
        )

    async def case_post(self, case_id: int) -> CasePost | None:
        row = await self._one(_CASE_POST, {"case_id": case_id})
        if row is None:
            return None
        return CasePost(
            row.case_id, row.conversation_id, row.activity_id, _dict(row.reference), row.posted_at
        )

    async def case_version(self, case_id: int) -> int | None:
        """The case's version now: whether a card just shown is still the newest."""
        row = await self._one(_CASE_VERSION, {"case_id": case_id})
        return int(row.version) if row is not None else None


def _dict(text: str) -> dict[str, Any]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("a stored reference is not a JSON object")
    return value


def _conversation_id(reference: dict[str, Any]) -> str | None:
    conversation = reference.get("conversation")
    found = conversation.get("id") if isinstance(conversation, dict) else None
    return found[:500] if isinstance(found, str) else None
