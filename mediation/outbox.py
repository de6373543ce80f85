"""The outbox: every message Sopu sends on its own, once, with a final status.

A job never talks to Teams. It writes outbox messages whose key (kind, recipient,
subject, period) is unique, so a job that runs twice, a restart in the middle of a run
or a second replica adds nothing new. A sender drains the outbox and records what became
of each message: sent, blocked by the user, failed after N tries, or *uncertain* when a
failure left it unknown whether Teams posted it (such a message is never re-sent on its
own; a coordinator may send it again knowingly).
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol


class MessageKind(enum.StrEnum):
    TERM_START = "term_start"
    MID_TERM = "mid_term"
    ESCALATION = "escalation"
    MEETING_REMINDER = "meeting_reminder"
    RECORD_PROMPT = "record_prompt"
    FOLLOW_UP = "follow_up"
    MEDIATOR_FEEDBACK = "mediator_feedback"
    CLIENT_LINK = "client_link"
    JOINT_MEETING = "joint_meeting"
    CONTACT_REQUEST = "contact_request"  # a family's new request, to the coordinators
    REQUEST_ESCALATION = "request_escalation"  # a family still waiting for a call
    REQUEST_TAKEN_OVER = "request_taken_over"  # to the coordinator whose request was taken over
    # What a change to a case tells Teams, written with the change (mediation/notices.py).
    CASE_POST = "case_post"  # the case's anonymous card, a new thread in the bank channel
    CARD_UPDATE = "card_update"  # the channel card re-rendered as the case now stands
    PAIR_COMPLETE = "pair_complete"
    SEAT_RELEASED = "seat_released"
    MEETING_CHANGED = "meeting_changed"
    # A note about a family centre's common time (mediation/services/common_time.py).
    COMMON_TIME = "common_time"
    # A note about a consultation request (mediation/services/consultations.py).
    CONSULTATION = "consultation"
    # Walk-in shifts and phone hours (mediation/services/walk_in.py).
    SHIFT_REMINDER = "shift_reminder"  # to the worker, the day before their shift
    SHIFT = "shift"  # a swap offered, answered or withdrawn; a shift re-assigned
    VISIT_REFERRAL = "visit_referral"  # a walk-in visit referred to mediation, to coordinators
    # To a parent by e-mail (mediation/family_mail.py): the recipient is their address.
    FAMILY_MAIL = "family_mail"

    @property
    def to_family(self) -> bool:
        """An e-mail to a parent, not a message in Teams."""
        return self is MessageKind.FAMILY_MAIL

    @property
    def to_channel(self) -> bool:
        """Posted in the bank channel, not in a person's personal chat."""
        return self in (MessageKind.CASE_POST, MessageKind.CARD_UPDATE)


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"  # waiting to be sent (again, after a refusal, at ``next_try_at``)
    SENDING = "sending"  # a sender took it and is posting it now
    SENT = "sent"
    BLOCKED = "blocked"  # the user blocked or uninstalled the bot: never retried
    FAILED = "failed"  # refused every time, N tries
    UNCERTAIN = "uncertain"  # Teams may have posted it: not re-sent, to never post twice
    NO_CHAT = "no_chat"  # the person never opened a personal chat with Sopu
    NO_ADDRESS = "no_address"  # a parent without an e-mail address
    NOT_ACTIVE = "not_active"  # the person left the registry or is not active: nothing sent

    @property
    def final(self) -> bool:
        return self not in (OutboxStatus.PENDING, OutboxStatus.SENDING)

    @property
    def trouble(self) -> bool:
        """A final status a coordinator should look at."""
        return self.final and self is not OutboxStatus.SENT


@dataclass(frozen=True, order=True)
class OutboxKey:
    """What makes a message unique: at most one such message is ever sent.

    ``recipient`` is the person's Entra object id; ``subject`` what it is about ("case:12",
    "meeting:5", "term:spring"); ``period`` which occurrence ("2026-spring", "day7").
    """

    kind: MessageKind
    recipient: str
    subject: str
    period: str

    def __post_init__(self) -> None:
        if not self.recipient or not self.subject or not self.period:
            raise ValueError(f"an outbox key needs every part: {self}")


@dataclass(frozen=True)
class NewMessage:
    """A message a job wants sent; ``payload`` is what the card is built from (no family data)."""

    key: OutboxKey
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    key: OutboxKey
    payload: Mapping[str, Any]
    status: OutboxStatus
    attempts: int
    created_at: datetime
    next_try_at: datetime
    sent_at: datetime | None = None
    error: str = ""


@dataclass(frozen=True)
class RetryPolicy:
    """How the sender treats a refusal: exponential back-off with jitter, N tries at most."""

    max_tries: int = 6
    base: timedelta = timedelta(seconds=1)
    cap: timedelta = timedelta(minutes=5)

    def delay(self, attempt: int, jitter: float, retry_after: float | None = None) -> timedelta:
        """The wait before try ``attempt + 1``; ``jitter`` in [0, 1) spreads the herd.

        Full jitter on the exponential step, never shorter than the server's Retry-After.
        """
        step = min(self.cap, self.base * (2 ** max(0, attempt - 1)))
        wait = step * (0.5 + jitter / 2)
        if retry_after is not None:
            wait = max(wait, timedelta(seconds=retry_after))
        return wait


class OutboxWriter(Protocol):
    """The outbox inside a unit of work: messages join the transaction of the change."""

    async def add(self, messages: Sequence[NewMessage], now: datetime) -> int:
        """Insert the messages whose key is new; returns how many were new."""
        ...


class Outbox(Protocol):
    """Where messages wait; every method is its own transaction."""

    async def add(self, messages: Sequence[NewMessage], now: datetime) -> int:
        """Insert the messages whose key is new; returns how many were new."""
        ...

    async def claim(
        self,
        now: datetime,
        limit: int,
        skip_recipients: Collection[str] = (),
        skip_channel_subjects: Collection[str] = (),
    ) -> list[OutboxMessage]:
        """Take up to ``limit`` due pending messages for sending (no one else gets them),
        none for ``skip_recipients`` and no channel message (``to_channel``) about
        ``skip_channel_subjects``; of each recipient's, and of each subject's channel
        messages, only the oldest."""
        ...

    async def finish(
        self,
        message_id: int,
        status: OutboxStatus,
        now: datetime,
        error: str = "",
        covers: tuple[str, int] | None = None,
    ) -> None:
        """Record a final status (sent, blocked, failed, uncertain, no chat).

        ``covers`` (a subject, a case version): the message sent showed a case's card as
        of that version, and the same card's updates still waiting for a change up to it
        end too, as shown by this one.
        """
        ...

    async def retry_at(self, message_id: int, when: datetime, error: str) -> None:
        """Give a refused message back, to be tried again at ``when``."""
        ...

    async def release(self, message_ids: Sequence[int]) -> None:
        """Give back claimed messages whose posting never started (a sender stopping)."""
        ...

    async def posting(self, message_id: int, now: datetime) -> bool:
        """Mark a claimed message as going out now; False if it is no longer this sender's."""
        ...

    async def renew(self, message_ids: Sequence[int], now: datetime) -> None:
        """A live sender still holds these claimed messages."""
        ...

    async def abandon_in_flight(self, claimed_before: datetime) -> tuple[int, int]:
        """Messages a dead sender claimed: unposted ones back to pending, the rest uncertain
        (a case's channel card is posted or updated again)."""
        ...
