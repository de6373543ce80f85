"""Consultation requests to the expert team in personal chat: the request forms, the request
as each person sees it, the lists and agendas, the year's figures.

Every card is built from a view made for one person with what they may not see already
left out (mediation/consultation_views.py); a card decides only which buttons the viewer's
part offers. No family's name is asked for anywhere: a request names its region only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from cards import verbs
from cards.base import (
    Card,
    Element,
    action_set,
    card,
    choice_set,
    container,
    date_input,
    execute,
    facts,
    heading,
    multiline,
    notices,
    plain,
    refill,
    show_card,
    text,
    text_input,
    toggle,
)
from cards.i18n import Lang, format_date, join_and, label, t
from mediation.consent import JUSTIFICATION_MAX
from mediation.consultation import (
    CATEGORIES,
    REGION_MAX,
    SPECIALITIES,
    TEXT_MAX,
    URGENT_CATEGORIES,
    Answer,
    AnswerKind,
    ConsentBasis,
    ConsultationFigures,
    Status,
)
from mediation.consultation_views import ConsultationList, ConsultationView, Part

# The times offered for a client meeting's start, every half hour of a working day.
MEETING_TIMES = tuple(f"{h:02d}:{m:02d}" for h in range(8, 18) for m in (0, 30))
LIST_SHOWN = 30
_ENDED = (Status.ANSWERED, Status.WITHDRAWN)


# -- names of codes ---------------------------------------------------------------------------


def category_label(lang: Lang, code: str) -> str:
    return t(lang, f"consult.category.{code}")


def speciality_label(lang: Lang, code: str) -> str:
    """An expert speciality (a registry qualification) in words."""
    return label(lang, "qualification", code)


def status_label(lang: Lang, status: Status | str) -> str:
    return t(lang, f"consult.status.{Status(status).value}")


def answer_kind_label(lang: Lang, kind: AnswerKind | str) -> str:
    return t(lang, f"consult.answer_kind.{AnswerKind(kind).value}")


def _ref(view: ConsultationView) -> dict[str, Any]:
    return {"c_id": view.id}


def _title(lang: Lang, view: ConsultationView) -> str:
    title = t(lang, "consult.title", code=view.code)
    return t(lang, "consult.urgent_title", title=title) if view.urgent else title


# -- the request form --------------------------------------------------------------------------


def request_form(
    lang: Lang,
    areas: Sequence[str],
    *,
    urgent: bool = False,
    refused: str | None = None,
    typed: Mapping[str, Any] | None = None,
) -> Card:
    """A professional's request: the region, the situation, the question, the consent.

    The urgent route asks only what the team needs at once: the optional parts are left out.
    ``categories`` is submitted comma-separated; the consent toggle as "true"/"false".
    """
    categories = URGENT_CATEGORIES if urgent else CATEGORIES
    body: list[Element] = [
        *notices(None, refused),
        heading(t(lang, "consult.form.urgent_title" if urgent else "consult.form.title")),
        text(
            t(lang, "consult.form.urgent_intro" if urgent else "consult.form.intro"),
            subtle=True,
        ),
        text(t(lang, "consult.form.no_names"), size="Small", color="Warning"),
        choice_set(
            "region",
            t(lang, "field.region"),
            [(a, plain(a)) for a in areas],
            placeholder=t(lang, "consult.choose"),
            required_message=t(lang, "problem.required"),
        ),
        choice_set(
            "categories",
            t(lang, "field.categories"),
            [(c, category_label(lang, c)) for c in categories],
            multi=True,
            style="expanded",
            required_message=t(lang, "problem.required"),
        ),
        multiline(
            text_input(
                "question",
                t(lang, "field.question"),
                max_length=TEXT_MAX,
                required_message=t(lang, "problem.required"),
            )
        ),
    ]
    if not urgent:
        body += [
            multiline(text_input("background", t(lang, "field.background"), max_length=TEXT_MAX)),
            text_input(
                "birth_years",
                t(lang, "field.birth_years"),
                max_length=60,
                placeholder=t(lang, "consult.form.birth_years_hint"),
            ),
        ]
    body += [
        text(t(lang, "consult.consent.title"), weight="Bolder", separator=True),
        toggle("consent", t(lang, "consult.consent.given")),
        date_input("consent_date", t(lang, "field.consent_date")),
        multiline(
            text_input(
                "justification", t(lang, "field.justification"), max_length=JUSTIFICATION_MAX
            )
        ),
        text(t(lang, "consult.form.justification_note"), subtle=True, size="Small"),
    ]
    if typed:
        refill(body, typed)
    send = execute(
        t(lang, "consult.form.send_urgent" if urgent else "consult.form.send"),
        verbs.CONSULT_SEND,
        {"urgent": urgent},
        style="destructive" if urgent else "positive",
    )
    return card(lang, body, [send, execute(t(lang, "consult.list.open"), verbs.CONSULT_LIST, {})])


# -- the request -------------------------------------------------------------------------------


def _header(view: ConsultationView, lang: Lang) -> list[Element]:
    shown = [
        (t(lang, "consult.field.status"), status_label(lang, view.status)),
        (t(lang, "field.region"), plain(view.region)),
        (
            t(lang, "field.categories"),
            ", ".join(category_label(lang, c) for c in view.categories) or "-",
        ),
        (t(lang, "consult.field.requester"), plain(view.requester.name)),
        (t(lang, "consult.field.sent"), format_date(lang, view.created_at.date())),
    ]
    if view.day is not None:
        shown.append((t(lang, "consult.field.day"), format_date(lang, view.day)))
    body: list[Element] = [heading(_title(lang, view))]
    if view.urgent:
        body.append(text(t(lang, "consult.urgent_note"), color="Attention", weight="Bolder"))
    return [*body, facts(shown)]


def _request_texts(view: ConsultationView, lang: Lang) -> list[Element]:
    if view.question is None:
        if view.has(Part.EXPERT):
            return [text(t(lang, "consult.request.not_shown"), subtle=True)]
        return []
    body: list[Element] = [
        text(t(lang, "field.question"), weight="Bolder", size="Small", separator=True),
        text(plain(view.question), spacing="None"),
    ]
    if view.background:
        body += [
            text(t(lang, "field.background"), weight="Bolder", size="Small"),
            text(plain(view.background), spacing="None"),
        ]
    if view.birth_years:
        years = ", ".join(str(y) for y in view.birth_years)
        body.append(facts([(t(lang, "field.birth_years"), years)]))
    return body


def _consent_section(view: ConsultationView, lang: Lang) -> list[Element]:
    if view.consent_basis is ConsentBasis.CONSENT and view.consent_given_on is not None:
        line = t(lang, "consult.consent.on", day=format_date(lang, view.consent_given_on))
    elif view.consent_basis is ConsentBasis.EXCEPTION and view.exception_approved_by:
        line = t(
            lang,
            "consult.consent.exception_approved",
            name=plain(view.exception_approved_by.name),
        )
    else:
        line = t(lang, "consult.consent.exception_waiting")
    body: list[Element] = [
        text(t(lang, "consult.consent.title"), weight="Bolder", separator=True),
        text(line, spacing="Small"),
    ]
    if view.justification is not None:
        body.append(text(plain(view.justification), size="Small", spacing="Small"))
    waiting = view.consent_basis is ConsentBasis.PENDING and view.status not in _ENDED
    # Whoever asked for the exception cannot approve it (ConsentException.approve).
    if waiting and view.has(Part.COORDINATOR) and view.requester.id != view.viewer.id:
        approve = execute(t(lang, "consult.consent.approve"), verbs.CONSULT_APPROVE, _ref(view))
        body.append(action_set([approve]))
    return body


def _agenda_section(view: ConsultationView, lang: Lang) -> list[Element]:
    """For a coordinator: the day's agenda to place the request on (or move it to)."""
    if not (view.has(Part.COORDINATOR) and view.status in (Status.WAITING, Status.ON_AGENDA)):
        return []
    if view.consent_basis is ConsentBasis.PENDING:
        return [text(t(lang, "consult.agenda.waits_for_consent"), color="Warning")]
    options = [
        (
            d.isoformat(),
            t(
                lang,
                "consult.agenda.day",
                day=format_date(lang, d),
                count=n,
                capacity=view.capacity,
            ),
        )
        for d, n in view.days
    ]
    key = "consult.agenda.move" if view.day is not None else "consult.agenda.place"
    return [
        text(t(lang, "consult.agenda.title"), weight="Bolder", separator=True),
        choice_set(
            "day",
            t(lang, "field.day"),
            options,
            value=view.day.isoformat() if view.day else None,
            placeholder=t(lang, "consult.choose"),
        ),
        action_set([execute(t(lang, key), verbs.CONSULT_PLACE, _ref(view))]),
    ]


def _answer_line(lang: Lang, answer: Answer) -> str:
    return t(lang, f"consult.reply.{answer.value}")


def _experts_section(view: ConsultationView, lang: Lang) -> list[Element]:
    coordinator = view.has(Part.COORDINATOR)
    if not (view.invitations or (coordinator and view.status is Status.ON_AGENDA)):
        return []
    body: list[Element] = [text(t(lang, "consult.experts.title"), weight="Bolder", separator=True)]
    for i in view.invitations:
        line = t(
            lang,
            "consult.experts.line",
            name=plain(i.person.name),
            speciality=speciality_label(lang, i.speciality),
            answer=_answer_line(lang, i.answer),
        )
        body.append(text(line, spacing="Small", subtle=i.answer is Answer.DECLINED))
    if coordinator and view.status is Status.ON_AGENDA:
        if not view.candidates:
            body.append(text(t(lang, "consult.experts.nobody"), color="Warning"))
        for speciality, people in view.candidates.items():
            name = speciality_label(lang, speciality)
            data = {**_ref(view), "speciality": speciality}
            body.append(
                container(
                    [
                        choice_set(
                            f"expert_{speciality}",
                            t(lang, "consult.experts.ask_for", speciality=name),
                            [(str(p.id), plain(p.name)) for p in people],
                            placeholder=t(lang, "consult.choose"),
                        ),
                        action_set(
                            [execute(t(lang, "consult.experts.ask"), verbs.CONSULT_ASK, data)]
                        ),
                    ]
                )
            )
    mine = view.my_invitation
    if view.status is Status.ON_AGENDA and mine is not None and mine.answer is Answer.PENDING:
        asked = t(
            lang,
            "consult.experts.you_are_asked",
            speciality=speciality_label(lang, mine.speciality),
        )
        body += [
            text(asked, weight="Bolder"),
            action_set(
                [
                    execute(
                        t(lang, "consult.experts.accept"),
                        verbs.CONSULT_ACCEPT,
                        _ref(view),
                        style="positive",
                    ),
                    execute(t(lang, "consult.experts.decline"), verbs.CONSULT_DECLINE, _ref(view)),
                ]
            ),
        ]
    return body


def _answer_form(view: ConsultationView, lang: Lang) -> list[Element]:
    """For a coordinator: the team's answer. An urgent request may be answered at once."""
    if not view.has(Part.COORDINATOR) or view.consent_basis is ConsentBasis.PENDING:
        return []
    if not (view.status is Status.ON_AGENDA or (view.urgent and view.status is Status.WAITING)):
        return []
    accepted = [i.person for i in view.invitations if i.answer is Answer.ACCEPTED]
    body: list[Element] = [
        text(t(lang, "consult.answer.form_title"), weight="Bolder", separator=True),
        choice_set(
            "answer_kind",
            t(lang, "field.answer_kind"),
            [(k.value, answer_kind_label(lang, k)) for k in AnswerKind],
            placeholder=t(lang, "consult.choose"),
        ),
        multiline(text_input("answer", t(lang, "field.answer"), max_length=TEXT_MAX)),
        text(t(lang, "consult.answer.meeting_note"), subtle=True, size="Small"),
        date_input("meeting_day", t(lang, "field.meeting_day")),
        choice_set(
            "meeting_time",
            t(lang, "field.meeting_time"),
            [(m, m) for m in MEETING_TIMES],
            style="filtered",
            placeholder=t(lang, "consult.choose"),
        ),
        text_input("meeting_place", t(lang, "field.meeting_place"), max_length=REGION_MAX),
    ]
    if accepted:
        body.append(
            choice_set(
                "attendees",
                t(lang, "field.attendees"),
                [(str(p.id), plain(p.name)) for p in accepted],
                multi=True,
                placeholder=t(lang, "consult.choose"),
            )
        )
    save = execute(
        t(lang, "consult.answer.submit"), verbs.CONSULT_ANSWER, _ref(view), style="positive"
    )
    return [*body, action_set([save])]


def _answer_section(view: ConsultationView, lang: Lang, zone: str) -> list[Element]:
    if not view.answered:
        return []
    body: list[Element] = [
        text(t(lang, "consult.answer.title"), weight="Bolder", separator=True),
    ]
    a = view.answer
    if a is None:
        if view.answer_kind is not None:
            body.append(text(answer_kind_label(lang, view.answer_kind), spacing="Small"))
        opener = view.parts & {Part.REQUESTER, Part.COORDINATOR} or any(
            i.person.id == view.viewer.id and i.answer is Answer.ACCEPTED for i in view.invitations
        )
        if opener:
            body += [
                text(t(lang, "consult.answer.reading_recorded"), subtle=True, size="Small"),
                action_set(
                    [
                        execute(
                            t(lang, "consult.answer.show"),
                            verbs.CONSULT_ANSWER_SHOW,
                            _ref(view),
                            style="positive",
                        )
                    ]
                ),
            ]
        return body
    shown = [
        (t(lang, "field.answer_kind"), answer_kind_label(lang, a.kind)),
        (t(lang, "consult.field.answered_by"), plain(a.by.name)),
        (t(lang, "consult.field.answered_on"), format_date(lang, a.at.date())),
    ]
    if a.meeting_at is not None:
        local = a.meeting_at.astimezone(ZoneInfo(zone))
        when = t(
            lang,
            "consult.answer.meeting_when",
            day=format_date(lang, local.date()),
            time=local.strftime("%H:%M"),
        )
        shown.append((t(lang, "consult.field.meeting"), when))
        if a.meeting_place:
            shown.append((t(lang, "field.meeting_place"), plain(a.meeting_place)))
        names = join_and(lang, [plain(p.name) for p in a.attendees])
        shown.append((t(lang, "field.attendees"), names or "-"))
    return [*body, text(plain(a.text), spacing="Small"), facts(shown)]


def _card_actions(view: ConsultationView, lang: Lang) -> list[Element]:
    actions = [
        execute(t(lang, "consult.refresh"), verbs.CONSULT_SHOW, _ref(view)),
        execute(t(lang, "consult.list.open"), verbs.CONSULT_LIST, {}),
    ]
    if view.has(Part.REQUESTER) and view.status in (Status.WAITING, Status.ON_AGENDA):
        actions.append(
            show_card(
                t(lang, "consult.withdraw"),
                [text(t(lang, "consult.withdraw.confirm_text"))],
                [
                    execute(
                        t(lang, "consult.withdraw.confirm"),
                        verbs.CONSULT_WITHDRAW,
                        _ref(view),
                        style="destructive",
                    )
                ],
            )
        )
    return actions


def consultation_card(
    view: ConsultationView,
    lang: Lang,
    zone: str,
    *,
    notice: str | None = None,
    refused: str | None = None,
    typed: Mapping[str, Any] | None = None,
) -> Card:
    """The request as the viewer may see it, with what their part lets them do now.

    ``zone`` is the IANA name of the bank's time zone. ``notice`` confirms the last change;
    ``refused`` says why it changed nothing, and ``typed`` puts back what was typed.
    """
    body: list[Element] = [
        *notices(notice, refused),
        *_header(view, lang),
        *_request_texts(view, lang),
        *_consent_section(view, lang),
        *_agenda_section(view, lang),
        *_experts_section(view, lang),
        *_answer_form(view, lang),
        *_answer_section(view, lang, zone),
    ]
    if typed:
        refill(body, typed)
    return card(lang, body, _card_actions(view, lang))


# -- the lists ---------------------------------------------------------------------------------


def _line(view: ConsultationView, lang: Lang) -> Element:
    line = t(
        lang,
        "consult.list.line",
        code=view.code,
        status=status_label(lang, view.status),
        region=plain(view.region),
        categories=", ".join(category_label(lang, c) for c in view.categories),
    )
    if view.urgent:
        line = t(lang, "consult.urgent_title", title=line)
    show = execute(t(lang, "consult.list.show"), verbs.CONSULT_SHOW, _ref(view))
    return container(
        [text(line, color="Attention" if view.urgent else None), action_set([show])],
        separator=True,
    )


def consultation_list_card(
    listing: ConsultationList, lang: Lang, *, notice: str | None = None
) -> Card:
    """For a coordinator the queue (urgent first) and the next days' agendas; for everyone
    their own requests and those asked of them; the new request buttons."""
    body: list[Element] = [*notices(notice, None), heading(t(lang, "consult.list.title"))]
    if listing.coordinator:
        body.append(text(t(lang, "consult.list.waiting"), weight="Bolder", separator=True))
        if not listing.waiting:
            body.append(text(t(lang, "consult.list.none_waiting"), subtle=True))
        body += [_line(v, lang) for v in listing.waiting[:LIST_SHOWN]]
        for agenda in listing.agendas:
            title = t(
                lang,
                "consult.list.agenda",
                day=format_date(lang, agenda.day),
                count=len(agenda.requests),
                capacity=listing.capacity,
            )
            body.append(text(title, weight="Bolder", separator=True))
            body += [_line(v, lang) for v in agenda.requests]
    body.append(text(t(lang, "consult.list.mine"), weight="Bolder", separator=True))
    if not listing.mine:
        body.append(text(t(lang, "consult.list.none"), subtle=True))
    body += [_line(v, lang) for v in listing.mine[:LIST_SHOWN]]
    actions = [
        execute(t(lang, "consult.list.new"), verbs.CONSULT_NEW, {"urgent": False}),
        execute(
            t(lang, "consult.list.new_urgent"),
            verbs.CONSULT_NEW,
            {"urgent": True},
            style="destructive",
        ),
    ]
    if listing.coordinator:
        actions.append(execute(t(lang, "consult.figures.open"), verbs.CONSULT_FIGURES, {}))
    return card(lang, body, actions)


# -- the figures -------------------------------------------------------------------------------


def _counts(lang: Lang, title: str, counts: Mapping[str, int], name: Any) -> list[Element]:
    pairs = [(name(k), str(v)) for k, v in counts.items()]
    return [
        text(title, weight="Bolder", separator=True),
        facts(pairs) if pairs else text("-", subtle=True),
    ]


def figures_card(figures: ConsultationFigures, lang: Lang) -> Card:
    """A year's consultation requests for the coordinators (their own view: exact counts)."""
    days = (
        t(lang, "consult.figures.days", days=f"{figures.days_to_answer:g}")
        if figures.days_to_answer is not None
        else "-"
    )
    body: list[Element] = [
        heading(t(lang, "consult.figures.title", year=figures.year)),
        facts(
            [
                (t(lang, "consult.figures.requests"), str(figures.requests)),
                (t(lang, "consult.figures.urgent"), str(figures.urgent)),
                (t(lang, "consult.figures.days_to_answer"), days),
            ]
        ),
        *_counts(
            lang,
            t(lang, "field.categories"),
            figures.by_category,
            lambda c: category_label(lang, c),
        ),
        *_counts(lang, t(lang, "field.region"), figures.by_region, plain),
        *_counts(
            lang,
            t(lang, "consult.figures.consent_basis"),
            figures.consent_basis,
            lambda b: t(lang, f"consult.basis.{b}"),
        ),
        *_counts(
            lang,
            t(lang, "consult.figures.answer_kinds"),
            figures.answer_kinds,
            lambda k: answer_kind_label(lang, k),
        ),
        *_counts(
            lang,
            t(lang, "consult.figures.specialities"),
            figures.specialities_used,
            lambda s: speciality_label(lang, s),
        ),
        text(t(lang, "consult.figures.exact"), size="Small", subtle=True, separator=True),
    ]
    year = figures.year
    actions = [
        execute(t(lang, "consult.figures.year", year=y), verbs.CONSULT_FIGURES, {"year": y})
        for y in (year - 1, year + 1)
    ]
    return card(
        lang, body, [*actions, execute(t(lang, "consult.list.open"), verbs.CONSULT_LIST, {})]
    )


def meeting_moment(day: date, clock: str, zone: str) -> datetime:
    """A client meeting's start from the form's day and time, in the bank's zone."""
    hours, minutes = (int(p) for p in clock.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=ZoneInfo(zone))


def asked_expert(data: Mapping[str, object]) -> tuple[str, str]:
    """The speciality and the chosen person's id as typed (``expert_<speciality>``)."""
    speciality = str(data.get("speciality") or "")
    if speciality not in SPECIALITIES:
        return speciality, ""
    chosen = data.get(f"expert_{speciality}") or data.get("person_id") or ""
    return speciality, str(chosen)
