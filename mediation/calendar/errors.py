"""Why a meeting cannot be proposed, booked, moved or recorded."""

from __future__ import annotations

from mediation import errors


class CalendarUnavailable(errors.DomainError):
    """The calendar service did not answer in time (throttled, down); try again later."""

    key = "error.calendar_unavailable"

    def __init__(self, detail: str = "") -> None:
        super().__init__(f"the calendar service is not answering: {detail}".rstrip(": "))


class CalendarRefused(errors.DomainError):
    """The calendar service refused for good: a missing permission or an unknown mailbox."""

    key = "error.calendar_refused.request"

    def __init__(self, reason: str, mailbox: str = "") -> None:
        # reason: "permission", "mailbox" or "request"
        super().__init__(f"the calendar refused ({reason}) for {mailbox or '-'}", reason=reason)
        self.key = f"error.calendar_refused.{reason}"
        self.reason = reason
        self.mailbox = mailbox


class SlotTaken(errors.DomainError):
    key = "error.slot_taken"

    def __init__(self) -> None:
        super().__init__("that time is no longer free in both calendars")


class SlotInvalid(errors.DomainError):
    """A time that no proposal would have offered; ``why`` is one of the keys below."""

    key = "error.slot_invalid.past"
    WHY = ("past", "far", "grid", "holiday", "hours")

    def __init__(self, why: str) -> None:
        super().__init__(f"that time cannot be booked: {why}", why=why)
        self.key = f"error.slot_invalid.{why}"


class MeetingNotFound(errors.NotFound):
    key = "error.meeting_not_found"

    def __init__(self, meeting_id: object) -> None:
        super().__init__(f"meeting {meeting_id} does not exist", meeting_id=meeting_id)


class MeetingClosed(errors.DomainError):
    """A meeting already recorded or cancelled cannot be moved or cancelled."""

    key = "error.meeting_closed.cancelled"

    def __init__(self, status: str) -> None:
        super().__init__(f"the meeting is {status}", status=status)
        self.key = f"error.meeting_closed.{status}"


class MeetingNotYet(errors.DomainError):
    key = "error.meeting_not_yet"

    def __init__(self) -> None:
        super().__init__("a meeting can be recorded once it has started")


class MinutesOutOfRange(errors.DomainError):
    key = "error.minutes_range"

    def __init__(self, high: int) -> None:
        super().__init__(f"the duration must be 1 to {high} minutes", low=1, high=high)


class MeetingsPairOnly(errors.DomainError):
    key = "error.meetings_pair_only"

    def __init__(self) -> None:
        super().__init__("only the pair and the coordinators manage a case's meetings")
