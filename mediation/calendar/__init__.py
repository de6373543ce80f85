"""Meetings in the mediators' calendars: proposing times, booking the package, keeping in sync.

The use cases here decide; the ``Calendar`` port (Microsoft Graph or Sopu's own local
calendar) only carries out. A booking is first saved with its case, then pushed to the
organising mediator's calendar with a stable transaction id, so a retry (ours, the SDK's or
a user's second click) never creates a second event. A push that did not get through stays
pending and is pushed again (``push_pending``).
"""

from mediation.calendar.booking import (
    BookMeeting,
    CancelMeeting,
    MoveMeeting,
    RetryMeeting,
    book_meeting,
    cancel_meeting,
    cancel_meetings_ahead,
    move_meeting,
    retry_meeting,
)
from mediation.calendar.errors import (
    CalendarRefused,
    CalendarUnavailable,
    MeetingClosed,
    MeetingNotFound,
    MeetingNotYet,
    MeetingsPairOnly,
    MinutesOutOfRange,
    SlotInvalid,
    SlotTaken,
)
from mediation.calendar.neutral import CaseToBook, cases_to_book
from mediation.calendar.policy import MeetingPolicy
from mediation.calendar.ports import (
    Calendar,
    CalendarDeps,
    CalendarSyncStore,
    ClosedDays,
    EventDraft,
    EventLink,
    EventLinks,
    EventSeen,
    EventWording,
    LinkState,
    LocalEvent,
    LocalEvents,
    MeetingChanged,
    MeetingFinder,
    MeetingNotifier,
    Subscription,
    SyncEventLinks,
    UnrecordedMeeting,
)
from mediation.calendar.proposing import ProposeTimes, propose_times
from mediation.calendar.recording import (
    RecordMeeting,
    meeting_view,
    meetings_to_record,
    record_meeting,
)
from mediation.calendar.rules import next_meeting, transaction_id
from mediation.calendar.sync import apply_calendar_change, push, push_pending
from mediation.calendar.views import MeetingResult, MeetingView, Proposal

__all__ = [
    "BookMeeting",
    "Calendar",
    "CalendarDeps",
    "CalendarRefused",
    "CalendarSyncStore",
    "CalendarUnavailable",
    "CancelMeeting",
    "CaseToBook",
    "ClosedDays",
    "EventDraft",
    "EventLink",
    "EventLinks",
    "EventSeen",
    "EventWording",
    "LinkState",
    "LocalEvent",
    "LocalEvents",
    "MeetingChanged",
    "MeetingClosed",
    "MeetingFinder",
    "MeetingNotFound",
    "MeetingNotYet",
    "MeetingNotifier",
    "MeetingPolicy",
    "MeetingResult",
    "MeetingView",
    "MeetingsPairOnly",
    "MinutesOutOfRange",
    "MoveMeeting",
    "Proposal",
    "ProposeTimes",
    "RecordMeeting",
    "RetryMeeting",
    "SlotInvalid",
    "SlotTaken",
    "Subscription",
    "SyncEventLinks",
    "UnrecordedMeeting",
    "apply_calendar_change",
    "book_meeting",
    "cancel_meeting",
    "cancel_meetings_ahead",
    "cases_to_book",
    "meeting_view",
    "meetings_to_record",
    "move_meeting",
    "next_meeting",
    "propose_times",
    "push",
    "push_pending",
    "record_meeting",
    "retry_meeting",
    "transaction_id",
]
