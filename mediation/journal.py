"""What the bank writes down about itself: the case audit trail and the access log."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class CaseEventKind(enum.StrEnum):
    CREATED = "created"
    CLAIMED = "claimed"
    RELEASED = "released"
    ASSIGNED = "assigned"
    OVERRIDDEN = "overridden"  # an assignment over quota, with the coordinator's reason
    STARTED = "started"
    FOLLOW_UP = "follow_up"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    SAFETY_CLEARED = "safety_cleared"
    POSTED = "posted"
    PURGED = "purged"  # the family's identifying data was erased after the retention time
    MEETING_BOOKED = "meeting_booked"
    MEETING_MOVED = "meeting_moved"
    MEETING_CANCELLED = "meeting_cancelled"
    MEETING_RECORDED = "meeting_recorded"


@dataclass(frozen=True)
class CaseEvent:
    case_id: int
    kind: CaseEventKind
    actor_id: int | None
    at: datetime
    detail: dict[str, Any] = field(default_factory=dict)


class AccessPurpose(enum.StrEnum):
    SEAT_HOLDER = "seat_holder"
    COORDINATION = "coordination"


@dataclass(frozen=True)
class AccessEntry:
    """One view of a family's details: who, when, which case, why."""

    case_id: int
    viewer_id: int
    at: datetime
    purpose: AccessPurpose


@dataclass(frozen=True)
class MediatorEvent:
    mediator_id: int
    actor_id: int | None
    at: datetime
    change: dict[str, Any]
