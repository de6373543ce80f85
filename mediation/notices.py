"""What a change tells people, as outbox messages written in the change's own transaction.

A use case decides what happened (a pair is complete, a seat was released, a case changed)
as a ``Notification``; ``record`` turns each into the outbox messages that carry it to
Teams and adds them to the unit of work before it commits. So the message exists exactly
when the change does: a crash can lose neither without the other. The payloads hold ids
only, never a family's data: the cards are rendered from the database when they are sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from mediation.model import Mediator
from mediation.outbox import MessageKind, NewMessage, OutboxKey
from mediation.ports import CaseChanged, Notification, PairComplete, SeatReleased, UnitOfWork

# The recipient of what goes to the bank channel (a case's thread, its card).
BANK = "bank"


def case_subject(case_id: int) -> str:
    return f"case:{case_id}"


def case_posted(case_id: int, *, again: datetime | None = None) -> NewMessage:
    """The new case's anonymous card, to be posted as a thread of its own, once.

    ``again``: a coordinator's later try for a case whose first post never arrived.
    """
    period = "post" if again is None else f"again:{again.isoformat()}"
    key = OutboxKey(MessageKind.CASE_POST, BANK, case_subject(case_id), period)
    return NewMessage(key, {"case_id": case_id})


def card_changed(case_id: int, version: int | None, now: datetime) -> NewMessage:
    """The channel card to be shown as the case stands after its change to ``version``.

    A card rendered at that version or later shows this change too (``Outbox.finish``
    with ``covers``); a change without a known version is always sent itself.
    """
    key = OutboxKey(MessageKind.CARD_UPDATE, BANK, case_subject(case_id), _stamp(version, now))
    return NewMessage(key, {"case_id": case_id})


def version_of(period: str) -> int | None:
    """The case version a card update's key names, if it names one."""
    digits = period[1:] if period.startswith("v") else ""
    return int(digits) if digits.isdigit() else None


def meeting_changed(
    meeting_id: int, aad: str, stamp: str, payload: Mapping[str, object]
) -> NewMessage:
    """A pair member is told that a meeting of theirs changed in their calendar."""
    key = OutboxKey(MessageKind.MEETING_CHANGED, aad, f"meeting:{meeting_id}", stamp)
    return NewMessage(key, payload)


def _stamp(version: int | None, now: datetime) -> str:
    # A change's case version names it; a change that does not bring the case along is
    # named by its moment (two in the same microsecond are one card update anyway).
    return f"v{version}" if version is not None else f"at:{now.isoformat()}"


def released_told(note: SeatReleased) -> set[int]:
    """Who hears of a released seat: the coordinators, and the mediator a coordinator removed."""
    told = set(note.coordinator_ids)
    if note.reason == "coordinator":
        told.add(note.mediator_id)
    return told


def messages_for(
    note: Notification, people: Mapping[int, Mediator], now: datetime
) -> list[NewMessage]:
    """The outbox messages of one notification; people who left the registry hear nothing."""
    version = note.summary.version if note.summary is not None else None
    stamp = _stamp(version, now)
    if isinstance(note, CaseChanged):
        return [card_changed(note.case_id, version, now)]
    subject = case_subject(note.case_id)
    if isinstance(note, PairComplete):
        kind, targets = MessageKind.PAIR_COMPLETE, note.mediator_ids
        payload: dict[str, object] = {"case_id": note.case_id}
    else:
        kind, targets = MessageKind.SEAT_RELEASED, tuple(sorted(released_told(note)))
        payload = {"case_id": note.case_id, "mediator_id": note.mediator_id, "reason": note.reason}
    return [
        NewMessage(OutboxKey(kind, people[mid].aad_object_id, subject, stamp), payload)
        for mid in targets
        if mid in people and people[mid].active
    ]


def _needed(note: Notification) -> set[int]:
    if isinstance(note, PairComplete):
        return set(note.mediator_ids)
    if isinstance(note, SeatReleased):
        return released_told(note)
    return set()


async def record(uow: UnitOfWork, notes: Sequence[Notification], now: datetime) -> None:
    """Add the notifications' messages to the unit of work's transaction (before its commit)."""
    needed = set().union(*(_needed(n) for n in notes)) if notes else set()
    known: dict[int, Mediator] = {}
    for note in notes:
        if isinstance(note, PairComplete | SeatReleased) and note.people:
            known.update(note.people)
    missing = sorted(needed - known.keys())
    if missing:
        known.update(await uow.mediators.by_ids(missing))
    messages = [m for note in notes for m in messages_for(note, known, now)]
    if messages:
        await uow.outbox.add(messages, now)
