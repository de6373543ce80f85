"""The verbs of Sopu's card buttons; the bot's router maps each one to one use case."""

from __future__ import annotations

CASE_CREATE = "case.create"
CASE_CLAIM = "case.claim"
CASE_RELEASE = "case.release"
CASE_DETAILS = "case.details"
CASE_ASSIGN = "case.assign"
CASE_CLOSE = "case.close"
CASE_CANCEL = "case.cancel"
CARD_REFRESH = "card.refresh"
CASE_CLEAR_SAFETY = "case.clear_safety"
MEDIATOR_UPDATE = "mediator.update"
MEETINGS_PROPOSE = "meetings.propose"
MEETINGS_BOOK = "meetings.book"
MEETING_MOVE = "meeting.move"
MEETING_CANCEL = "meeting.cancel"
MEETING_RECORD = "meeting.record"
MEETINGS_FEED_ROTATE = "meetings.feed_rotate"
REMINDERS_OPEN_CASES = "reminders.open_cases"
REMINDERS_RETRY = "reminders.retry"
JOINT_AGENDA = "joint.agenda"
FEEDBACK_MEETING = "feedback.meeting"
FEEDBACK_CASE = "feedback.case"
STATS_SHOW = "stats.show"
REQUEST_TAKE = "request.take"
REQUEST_TAKE_OVER = "request.take_over"  # from the coordinator who holds it
REQUEST_ATTEMPT = "request.attempt"
REQUEST_SUITABLE = "request.suitable"
REQUEST_NOT_SUITABLE = "request.not_suitable"
REQUEST_NO_ANSWER = "request.no_answer"
REQUEST_SAME_FAMILY = "request.same_family"  # the other parent of a family already in a case
REQUEST_INTAKE = "request.intake"  # the prefilled intake form of a suitable request, again
REQUEST_CREATE_CASE = "request.create_case"
REQUEST_SHOW = "request.show"
REQUEST_FIGURES = "request.figures"
STATS_WRITTEN = "stats.written"
BANK_OVERVIEW = "bank.overview"
TEMPLATES_SHOW = "templates.show"  # the messages to families, in one language
TEMPLATE_SAVE = "template.save"
TEMPLATE_RESET = "template.reset"
ORGANISATIONS_SHOW = "organisations.show"
ORGANISATION_UPDATE = "organisation.update"
# The family centre's common time (mediation/common_time.py), in personal chat only.
COMMON_TIME_NEW = "commontime.new"  # the convening form
COMMON_TIME_CONVENE = "commontime.convene"
COMMON_TIME_LIST = "commontime.list"  # the viewer's common times
COMMON_TIME_SHOW = "commontime.show"
COMMON_TIME_CONSENT = "commontime.consent"  # the family's consent, recorded afterwards
COMMON_TIME_APPROVE = "commontime.approve"  # a coordinator approves a consent exception
COMMON_TIME_INVITE = "commontime.invite"
COMMON_TIME_WITHDRAW = "commontime.withdraw"
COMMON_TIME_ACCEPT = "commontime.accept"
COMMON_TIME_DECLINE = "commontime.decline"
COMMON_TIME_TIMES = "commontime.times"  # free times with a room, for a meeting
COMMON_TIME_BOOK = "commontime.book"
COMMON_TIME_HELD = "commontime.held"  # the meeting was held; the responsible worker named
COMMON_TIME_PLAN = "commontime.plan"  # the joint plan recorded
COMMON_TIME_PLAN_SHOW = "commontime.plan_show"  # a journaled reading of the plan
COMMON_TIME_MARK = "commontime.mark"  # one of the plan's actions done or not
COMMON_TIME_CLOSE = "commontime.close"
COMMON_TIME_CANCEL = "commontime.cancel"
COMMON_TIME_FEEDBACK = "commontime.feedback"  # an attendee's feedback after the meeting
# Consultation requests to the expert team (mediation/consultation.py), in personal chat only.
CONSULT_NEW = "consult.new"  # the request form; {"urgent": true} the urgent route's
CONSULT_SEND = "consult.send"
CONSULT_LIST = "consult.list"  # the viewer's requests; a coordinator's queue and agendas
CONSULT_SHOW = "consult.show"
CONSULT_APPROVE = "consult.approve"  # a coordinator approves going without consent
CONSULT_PLACE = "consult.place"  # on a consultation day's agenda
CONSULT_ASK = "consult.ask"  # an expert asked for a speciality
CONSULT_ACCEPT = "consult.accept"
CONSULT_DECLINE = "consult.decline"
CONSULT_ANSWER = "consult.answer"  # the team's answer recorded
CONSULT_ANSWER_SHOW = "consult.answer_show"  # a journaled reading of the answer
CONSULT_WITHDRAW = "consult.withdraw"
CONSULT_FIGURES = "consult.figures"
# Walk-in shifts and phone hours (mediation/walk_in.py), in personal chat only.
SHIFTS_SHOW = "shifts.show"  # the rota of the coming weeks
SHIFTS_FIGURES = "shifts.figures"  # a year's visits and the rota's fairness (coordinators)
SHIFT_SHOW = "shift.show"  # one shift: its visits, handing it over, re-assigning it
SHIFT_OFFER = "shift.offer"  # the worker offers their shift to a colleague
SHIFT_ACCEPT = "shift.accept"
SHIFT_DECLINE = "shift.decline"
SHIFT_WITHDRAW = "shift.withdraw"  # the offer taken back
SHIFT_ASSIGN = "shift.assign"  # a coordinator re-assigns the shift
VISIT_RECORD = "visit.record"
VISIT_REMOVE = "visit.remove"  # a visit recorded by mistake

VERBS: frozenset[str] = frozenset(
    {
        CASE_CREATE,
        CASE_CLAIM,
        CASE_RELEASE,
        CASE_DETAILS,
        CASE_ASSIGN,
        CASE_CLOSE,
        CASE_CANCEL,
        CARD_REFRESH,
        CASE_CLEAR_SAFETY,
        MEDIATOR_UPDATE,
        MEETINGS_PROPOSE,
        MEETINGS_BOOK,
        MEETING_MOVE,
        MEETING_CANCEL,
        MEETING_RECORD,
        MEETINGS_FEED_ROTATE,
        REMINDERS_OPEN_CASES,
        REMINDERS_RETRY,
        JOINT_AGENDA,
        FEEDBACK_MEETING,
        FEEDBACK_CASE,
        STATS_SHOW,
        REQUEST_TAKE,
        REQUEST_TAKE_OVER,
        REQUEST_ATTEMPT,
        REQUEST_SUITABLE,
        REQUEST_NOT_SUITABLE,
        REQUEST_NO_ANSWER,
        REQUEST_SAME_FAMILY,
        REQUEST_INTAKE,
        REQUEST_CREATE_CASE,
        REQUEST_SHOW,
        REQUEST_FIGURES,
        STATS_WRITTEN,
        BANK_OVERVIEW,
        TEMPLATES_SHOW,
        TEMPLATE_SAVE,
        TEMPLATE_RESET,
        ORGANISATIONS_SHOW,
        ORGANISATION_UPDATE,
        COMMON_TIME_NEW,
        COMMON_TIME_CONVENE,
        COMMON_TIME_LIST,
        COMMON_TIME_SHOW,
        COMMON_TIME_CONSENT,
        COMMON_TIME_APPROVE,
        COMMON_TIME_INVITE,
        COMMON_TIME_WITHDRAW,
        COMMON_TIME_ACCEPT,
        COMMON_TIME_DECLINE,
        COMMON_TIME_TIMES,
        COMMON_TIME_BOOK,
        COMMON_TIME_HELD,
        COMMON_TIME_PLAN,
        COMMON_TIME_PLAN_SHOW,
        COMMON_TIME_MARK,
        COMMON_TIME_CLOSE,
        COMMON_TIME_CANCEL,
        COMMON_TIME_FEEDBACK,
        CONSULT_NEW,
        CONSULT_SEND,
        CONSULT_LIST,
        CONSULT_SHOW,
        CONSULT_APPROVE,
        CONSULT_PLACE,
        CONSULT_ASK,
        CONSULT_ACCEPT,
        CONSULT_DECLINE,
        CONSULT_ANSWER,
        CONSULT_ANSWER_SHOW,
        CONSULT_WITHDRAW,
        CONSULT_FIGURES,
        SHIFTS_SHOW,
        SHIFTS_FIGURES,
        SHIFT_SHOW,
        SHIFT_OFFER,
        SHIFT_ACCEPT,
        SHIFT_DECLINE,
        SHIFT_WITHDRAW,
        SHIFT_ASSIGN,
        VISIT_RECORD,
        VISIT_REMOVE,
    }
)
