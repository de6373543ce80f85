"""The family's consent to a case's steps, and the approved exception when it cannot be had.

What needs consent is the case type's declaration (``ConsentRule``); this module decides
whether a step may go ahead with what has been recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mediation import errors
from mediation.case_types import ConsentRule, Step
from mediation.intake import has_control_characters, holds_identity_code
from mediation.model import Mediator

JUSTIFICATION_MAX = 2000


@dataclass(frozen=True)
class Consent:
    """The family's consent as a professional recorded it: to which steps, by whom, when."""

    steps: frozenset[Step]
    recorded_by: int
    at: datetime


@dataclass(frozen=True)
class ConsentException:
    """A step taken without consent: a written justification, approved by a coordinator."""

    step: Step
    justification: str
    asked_by: int
    asked_at: datetime
    approved_by: int | None = None
    approved_at: datetime | None = None

    def __post_init__(self) -> None:
        text = self.justification.strip()
        if not text:
            raise errors.InvalidInput("justification", "required")
        if len(text) > JUSTIFICATION_MAX:
            raise errors.InvalidInput("justification", "too long", max=JUSTIFICATION_MAX)
        if has_control_characters(text.replace("\r\n", "\n").replace("\n", " ")):
            raise errors.InvalidInput("justification", "a character that cannot be saved")
        if holds_identity_code(text):
            raise errors.InvalidInput("justification", "identity codes are not stored")

    @property
    def approved(self) -> bool:
        return self.approved_by is not None

    def approve(self, approver: Mediator, now: datetime) -> ConsentException:
        """A coordinator's approval; the one who asked for the exception cannot give it."""
        if not approver.is_coordinator:
            raise errors.NotAllowed("approving an exception", "only a coordinator may do this")
        if approver.id is None or approver.id == self.asked_by:
            raise errors.NotAllowed("approving an exception", "someone else must approve it")
        return ConsentException(
            self.step, self.justification, self.asked_by, self.asked_at, approver.id, now
        )


def check_consent(
    rule: ConsentRule,
    code: str,
    step: Step,
    consents: tuple[Consent, ...],
    exceptions: tuple[ConsentException, ...] = (),
) -> None:
    """A step the case type makes wait for consent goes ahead only with the family's consent
    to it, or with an exception a coordinator has approved."""
    if not rule.needs(step) or any(step in c.steps for c in consents):
        return
    asked = [e for e in exceptions if e.step is step]
    if rule.exception_allowed and any(e.approved for e in asked):
        return
    if rule.exception_allowed and asked:
        raise errors.ConsentExceptionPending(code, step.value)
    raise errors.ConsentMissing(code, step.value)
