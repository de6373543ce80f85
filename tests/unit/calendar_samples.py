"""One instance of each calendar error, for the catalog tests (every error said in words)."""

from __future__ import annotations

from mediation import calendar as cal
from mediation.errors import DomainError


def calendar_errors() -> list[DomainError]:
    return [
        cal.CalendarUnavailable("503 ServiceUnavailable"),
        cal.CalendarRefused("permission", "olli@example.org"),
        cal.SlotTaken(),
        cal.SlotInvalid("holiday"),
        cal.MeetingNotFound(12),
        cal.MeetingClosed("held"),
        cal.MeetingNotYet(),
        cal.MinutesOutOfRange(480),
        cal.MeetingsPairOnly(),
    ]
