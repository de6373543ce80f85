"""The family centre's common time in personal chat: convening one, the case, the list.

Every card here is built from a ``CommonTimeView``, which is made for one person with what
they may not see already left out (mediation/common_time_views.py); a card shows what its
view holds and decides only which buttons the viewer's part offers. Nothing here is posted
to a channel, and no family's name is asked for: the convener writes a municipality only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

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
from cards.calendar import cap, when_label
from cards.common_time_feedback import FamilyLinkShown, family_link_section
from cards.i18n import Lang, format_date, join_and, label, t
from mediation import errors
from mediation.case_types import Step
from mediation.common_time import (
    COMMON_TIME_KIND,
    COMPETENCES,
    FOLLOW_UP_KIND,
    MAX_RESPONSIBLE,
    TEXT_MAX,
    Answer,
    Place,
    Status,
)
from mediation.common_time_views import CommonTimeView, Part, TimeOption
from mediation.consent import JUSTIFICATION_MAX

MUNICIPALITY_MAX = 100
PLAN_ROWS = 6  # action rows on the plan form: action_1_... to action_6_...
LIST_SHOWN = 40
_ENDED = (Status.CLOSED, Status.CANCELLED)
# The consent form's toggle of each step; the convening form uses the same ids.
CONSENT_INPUTS = {Step.CONVENE: "consent_convene", Step.SHARE_PLAN: "consent_share_plan"}


# -- names of codes ---------------------------------------------------------------------------


def competence_label(lang: Lang, code: str) -> str:
    """A competence (a registry qualification) in words: 'speech_therapy' -> 'Speech therapy'."""
    return label(lang, "qualification", code)


def step_label(lang: Lang, step: Step | str) -> str:
    """A step that waits for the family's consent, in words."""
    return t(lang, f"commontime.step.{Step(step).value}")


def status_label(lang: Lang, status: Status | str) -> str:
    """A common time's status; the same words the refusals use for it."""
    return label(lang, "status", Status(status).value)


def kind_label(lang: Lang, kind: str) -> str:
    """'common_time' -> 'Common time meeting', 'follow_up' -> 'Follow-up meeting'."""
    return t(lang, f"commontime.kind.{kind}")


def _answer_label(lang: Lang, answer: Answer) -> str:
    return t(lang, f"commontime.answer.{answer.value}")


def _place_label(lang: Lang, place: str) -> str:
    return t(lang, f"commontime.place.{Place(place).value}")


def _ref(view: CommonTimeView) -> dict[str, Any]:
    return {"ct_id": view.id}


# -- convening ---------------------------------------------------------------------------------


def convene_form(
    lang: Lang, *, refused: str | None = None, typed: Mapping[str, Any] | None = None
) -> Card:
    """The convener opens a family's common time: where, which competences, the consent.

    ``competences`` is submitted comma-separated; the toggles as "true"/"false".
    """
    body: list[Element] = [
        *notices(None, refused),
        heading(t(lang, "commontime.new.title")),
        text(t(lang, "commontime.new.intro"), subtle=True),
        text_input(
            "municipality",
            t(lang, "field.municipality"),
            max_length=MUNICIPALITY_MAX,
            required_message=t(lang, "problem.required"),
        ),
        choice_set(
            "competences",
            t(lang, "field.competences"),
            [(c, competence_label(lang, c)) for c in COMPETENCES],
            multi=True,
            style="expanded",
            required_message=t(lang, "commontime.new.choose_competence"),
        ),
        text(t(lang, "commontime.consent.title"), weight="Bolder", separator=True),
        toggle(CONSENT_INPUTS[Step.CONVENE], t(lang, "commontime.consent.convene")),
        toggle(CONSENT_INPUTS[Step.SHARE_PLAN], t(lang, "commontime.consent.share_plan")),
        multiline(
            text_input(
                "justification",
                t(lang, "field.justification"),
                max_length=JUSTIFICATION_MAX,
            )
        ),
        text(t(lang, "commontime.new.justification_note"), subtle=True, size="Small"),
    ]
    if typed:
        refill(body, typed)
    actions = [
        execute(t(lang, "commontime.new.submit"), verbs.COMMON_TIME_CONVENE, {}, style="positive"),
        execute(t(lang, "commontime.list.open"), verbs.COMMON_TIME_LIST, {}),
    ]
    return card(lang, body, actions)


# -- the case ----------------------------------------------------------------------------------


def _header(view: CommonTimeView, lang: Lang) -> list[Element]:
    asked = ", ".join(competence_label(lang, c) for c in view.competences)
    return [
        heading(t(lang, "commontime.title", code=view.code)),
        facts(
            [
                (t(lang, "commontime.field.status"), status_label(lang, view.status)),
                (t(lang, "field.municipality"), plain(view.municipality)),
                (t(lang, "field.competences"), asked or "-"),
                (t(lang, "commontime.field.convener"), plain(view.convener.name)),
            ]
        ),
    ]


def _exception_lines(view: CommonTimeView, lang: Lang) -> list[Element]:
    lines: list[Element] = []
    coordinator = view.has(Part.COORDINATOR)
    for e in view.exceptions:
        asked = t(
            lang,
            "commontime.exception.asked",
            step=step_label(lang, e.step),
            name=plain(e.asked_by.name),
            day=format_date(lang, e.asked_at.date()),
        )
        state = (
            t(lang, "commontime.exception.approved", name=plain(e.approved_by.name))
            if e.approved_by is not None
            else t(lang, "commontime.exception.waiting")
        )
        items: list[Element] = [text(asked), text(state, subtle=True, spacing="None")]
        if e.justification is not None:
            items.append(text(plain(e.justification), size="Small", spacing="Small"))
        # Whoever asked for the exception cannot approve it (ConsentException.approve).
        if coordinator and e.approved_by is None and e.asked_by.id != view.viewer.id:
            data = {**_ref(view), "step": e.step.value}
            approve = t(lang, "commontime.exception.approve")
            items.append(action_set([execute(approve, verbs.COMMON_TIME_APPROVE, data)]))
        lines.append(container(items))
    return lines


def _consent_section(view: CommonTimeView, lang: Lang) -> list[Element]:
    given = [step_label(lang, s) for s in Step if s in view.consented]
    body: list[Element] = [
        text(t(lang, "commontime.consent.title"), weight="Bolder", separator=True),
        text(
            t(lang, "commontime.consent.given", steps=join_and(lang, given))
            if given
            else t(lang, "commontime.consent.none"),
            spacing="Small",
        ),
        *_exception_lines(view, lang),
    ]
    missing = [s for s in Step if s in view.needs_consent and s not in view.consented]
    if view.has(Part.CONVENER) and view.status not in _ENDED and missing:
        body.append(text(t(lang, "commontime.consent.record"), subtle=True, size="Small"))
        body += [
            toggle(CONSENT_INPUTS[s], t(lang, f"commontime.consent.{s.value}")) for s in missing
        ]
        save = t(lang, "commontime.consent.save")
        body.append(action_set([execute(save, verbs.COMMON_TIME_CONSENT, _ref(view))]))
    return body


def _may_convene(view: CommonTimeView) -> bool:
    """The family consented to convening, or a coordinator approved the exception."""
    if Step.CONVENE not in view.needs_consent or Step.CONVENE in view.consented:
        return True
    return any(e.step is Step.CONVENE and e.approved_by is not None for e in view.exceptions)


def _invite_lines(view: CommonTimeView, lang: Lang) -> list[Element]:
    """For the convener: a choice of who may be invited for each competence not covered."""
    if not _may_convene(view):
        return [text(t(lang, "commontime.team.waits_for_consent"), color="Warning")]
    lines: list[Element] = []
    for competence in view.uncovered:
        name = competence_label(lang, competence)
        people = view.candidates.get(competence, ())
        if not people:
            lines.append(text(t(lang, "commontime.team.nobody_free", competence=name)))
            continue
        # The bot reads the chosen person from ``person_<competence>`` first and falls back
        # to a plain ``person_id`` (see invited_person): each competence has its own list.
        data = {**_ref(view), "competence": competence}
        lines.append(
            container(
                [
                    choice_set(
                        f"person_{competence}",
                        t(lang, "commontime.team.invite_for", competence=name),
                        [(str(p.id), plain(p.name)) for p in people],
                        placeholder=t(lang, "commontime.team.choose"),
                    ),
                    action_set(
                        [execute(t(lang, "commontime.team.invite"), verbs.COMMON_TIME_INVITE, data)]
                    ),
                ]
            )
        )
    return lines


def _team_section(view: CommonTimeView, lang: Lang) -> list[Element]:
    convening = view.status is Status.CONVENING
    managing = convening and view.has(Part.CONVENER)
    body: list[Element] = [text(t(lang, "commontime.team.title"), weight="Bolder", separator=True)]
    if not view.invitations:
        body.append(text(t(lang, "commontime.team.none"), subtle=True, spacing="Small"))
    for i in view.invitations:
        line = t(
            lang,
            "commontime.team.line",
            name=plain(i.person.name),
            competence=competence_label(lang, i.competence),
            answer=_answer_label(lang, i.answer),
        )
        gone = i.answer in (Answer.DECLINED, Answer.WITHDRAWN)
        items: list[Element] = [text(line, spacing="Small", subtle=gone)]
        if managing and i.answer is Answer.PENDING:
            data = {**_ref(view), "person_id": i.person.id}
            withdraw = t(lang, "commontime.team.withdraw")
            items.append(action_set([execute(withdraw, verbs.COMMON_TIME_WITHDRAW, data)]))
        body.append(container(items))
    if managing:
        body += _invite_lines(view, lang)
    mine = view.my_invitation
    if convening and mine is not None and mine.answer is Answer.PENDING:
        body.append(
            text(
                t(
                    lang,
                    "commontime.team.you_are_invited",
                    competence=competence_label(lang, mine.competence),
                ),
                weight="Bolder",
            )
        )
        body.append(
            action_set(
                [
                    execute(
                        t(lang, "commontime.team.accept"),
                        verbs.COMMON_TIME_ACCEPT,
                        _ref(view),
                        style="positive",
                    ),
                    execute(
                        t(lang, "commontime.team.decline"), verbs.COMMON_TIME_DECLINE, _ref(view)
                    ),
                ]
            )
        )
    return body


def _ready_to_book(view: CommonTimeView) -> bool:
    """Every competence covered, and everyone still invited has accepted."""
    if view.uncovered:
        return False
    return not any(i.answer is Answer.PENDING for i in view.invitations)


def _meeting_line(view: CommonTimeView, lang: Lang, zone: str, n: int) -> Element:
    m = view.meetings[n]
    line = t(
        lang,
        "commontime.meeting.line",
        kind=cap(kind_label(lang, m.kind)),
        when=when_label(lang, m.starts_at, m.ends_at, zone),
        room=plain(m.room),
    )
    if m.cancelled:
        line = t(lang, "commontime.meeting.cancelled", line=line)
    elif m.held:
        line = t(lang, "commontime.meeting.held", line=line)
    elif not m.in_calendar:
        line = t(lang, "commontime.meeting.on_its_way", line=line)
    return text(line, spacing="Small", subtle=m.cancelled)


def _times(
    view: CommonTimeView, lang: Lang, zone: str, times: Sequence[TimeOption], kind: str | None
) -> list[Element]:
    if not times:
        if kind is None:
            return []
        return [
            text(t(lang, "commontime.times.none", kind=kind_label(lang, kind)), color="Warning")
        ]
    kind = kind or COMMON_TIME_KIND
    body: list[Element] = [text(t(lang, "commontime.times.intro", kind=kind_label(lang, kind)))]
    for option in times:
        title = t(
            lang,
            "commontime.times.option",
            when=when_label(lang, option.starts_at, option.ends_at, zone),
            room=plain(option.room),
        )
        if option.preferred:
            title = t(lang, "commontime.times.preferred", time=title)
        data = {
            **_ref(view),
            "kind": kind,
            "start": option.starts_at.isoformat(),
            "room": option.room,
        }
        body.append(action_set([execute(title, verbs.COMMON_TIME_BOOK, data)]))
    return body


def _meeting_section(
    view: CommonTimeView, lang: Lang, zone: str, times: Sequence[TimeOption], kind: str | None
) -> list[Element]:
    shown = [_meeting_line(view, lang, zone, n) for n in range(len(view.meetings))]
    if view.has(Part.CONVENER) and view.status is Status.CONVENING and _ready_to_book(view):
        data = {**_ref(view), "kind": COMMON_TIME_KIND}
        find = t(lang, "commontime.meeting.find")
        shown.append(text(t(lang, "commontime.meeting.ready")))
        shown.append(action_set([execute(find, verbs.COMMON_TIME_TIMES, data, style="positive")]))
    shown += _times(view, lang, zone, times, kind)
    if not shown:
        return []
    return [text(t(lang, "commontime.meeting.title"), weight="Bolder", separator=True), *shown]


def _held_form(view: CommonTimeView, lang: Lang) -> list[Element]:
    """For the convener once booked: the meeting was held, and whom the family named."""
    body: list[Element] = [
        text(t(lang, "commontime.held.title"), weight="Bolder", separator=True),
    ]
    if not view.responsible_choices:
        return [*body, text(t(lang, "commontime.held.nobody"), color="Warning")]
    return [
        *body,
        choice_set(
            "responsible",
            t(lang, "field.responsible"),
            [(str(p.id), plain(p.name)) for p in view.responsible_choices],
            multi=True,
            style="filtered" if len(view.responsible_choices) > 15 else "compact",
            placeholder=t(lang, "commontime.team.choose"),
        ),
        text(t(lang, "commontime.held.at_most", count=MAX_RESPONSIBLE), subtle=True, size="Small"),
        action_set(
            [
                execute(
                    t(lang, "commontime.held.submit"),
                    verbs.COMMON_TIME_HELD,
                    _ref(view),
                    style="positive",
                )
            ]
        ),
    ]


def _action_row(lang: Lang, n: int) -> list[Element]:
    places = [(p.value, _place_label(lang, p.value)) for p in Place]
    return [
        text(t(lang, "commontime.plan.action_n", n=n), weight="Bolder", spacing="Medium"),
        choice_set(
            f"action_{n}_place",
            t(lang, "commontime.field.place"),
            places,
            placeholder=t(lang, "commontime.team.choose"),
        ),
        text_input(f"action_{n}_what", t(lang, "field.what"), max_length=TEXT_MAX),
        text_input(f"action_{n}_where", t(lang, "field.where"), max_length=TEXT_MAX),
    ]


def _plan_form(view: CommonTimeView, lang: Lang) -> list[Element]:
    """For the convener once held: the joint plan, in the order of its outline."""
    body: list[Element] = [
        text(t(lang, "commontime.plan.form_title"), weight="Bolder", separator=True),
        text(t(lang, "commontime.plan.form_intro"), subtle=True, size="Small"),
        facts(
            [
                (
                    t(lang, "field.responsible"),
                    join_and(lang, [plain(p.name) for p in view.responsible]) or "-",
                )
            ]
        ),
        multiline(text_input("matters", t(lang, "field.matters"), max_length=TEXT_MAX)),
    ]
    for n in range(1, PLAN_ROWS + 1):
        body += _action_row(lang, n)
    body += [
        multiline(text_input("follow_up_how", t(lang, "field.follow_up_how"), max_length=TEXT_MAX)),
        text_input(
            "family_reaches_worker",
            t(lang, "field.family_reaches_worker"),
            max_length=TEXT_MAX,
        ),
        date_input("next_contact", t(lang, "field.next_contact")),
    ]
    if view.plan_party_choices:
        body += [
            choice_set(
                "shared_with",
                t(lang, "field.shared_with"),
                [(str(p.id), plain(p.name)) for p in view.plan_party_choices],
                multi=True,
                style="filtered" if len(view.plan_party_choices) > 15 else "compact",
                placeholder=t(lang, "commontime.plan.share_nobody"),
            ),
            text(t(lang, "commontime.plan.share_note"), subtle=True, size="Small"),
        ]
    save = t(lang, "commontime.plan.submit")
    body.append(action_set([execute(save, verbs.COMMON_TIME_PLAN, _ref(view), style="positive")]))
    return body


def _action_state(lang: Lang, done: bool | None) -> str:
    key = "open" if done is None else "done" if done else "not_done"
    return t(lang, f"commontime.plan.{key}")


def _plan_section(view: CommonTimeView, lang: Lang) -> list[Element]:
    """The plan to the family's agreed parties; to others who may ask, the way to read it."""
    plan = view.plan
    party = view.parts & {Part.CONVENER, Part.RESPONSIBLE, Part.PLAN_PARTY}
    if plan is None:
        if not (view.has_plan and party):
            return []
        return [
            text(t(lang, "commontime.plan.title"), weight="Bolder", separator=True),
            text(t(lang, "commontime.plan.reading_recorded"), subtle=True, size="Small"),
            action_set(
                [execute(t(lang, "commontime.plan.show"), verbs.COMMON_TIME_PLAN_SHOW, _ref(view))]
            ),
        ]
    marking = view.has(Part.RESPONSIBLE) and view.status is Status.FOLLOW_UP
    body: list[Element] = [
        text(t(lang, "commontime.plan.title"), weight="Bolder", separator=True),
        text(t(lang, "field.matters"), weight="Bolder", size="Small"),
        text(plain(plan.matters), spacing="None"),
        text(t(lang, "commontime.plan.actions"), weight="Bolder", size="Small"),
    ]
    for a in view.actions:
        place = _place_label(lang, a.place)
        if a.where:
            place = t(lang, "commontime.plan.place_where", place=place, where=plain(a.where))
        line = t(lang, "commontime.plan.action", place=place, what=plain(a.what))
        items: list[Element] = [
            text(line, spacing="Small"),
            text(_action_state(lang, a.done), subtle=True, spacing="None"),
        ]
        if marking:
            ref = {**_ref(view), "index": a.index}
            items.append(
                action_set(
                    [
                        execute(
                            t(lang, "commontime.plan.mark_done"),
                            verbs.COMMON_TIME_MARK,
                            {**ref, "done": True},
                        ),
                        execute(
                            t(lang, "commontime.plan.mark_not_done"),
                            verbs.COMMON_TIME_MARK,
                            {**ref, "done": False},
                        ),
                    ]
                )
            )
        body.append(container(items))
    shared = [plain(p.name) for p in view.plan_shared_with]
    next_contact = view.next_contact or plan.next_contact
    body.append(
        facts(
            [
                (t(lang, "field.follow_up_how"), plain(plan.follow_up_how)),
                (
                    t(lang, "field.family_reaches_worker"),
                    plain(plan.family_reaches_worker),
                ),
                (
                    t(lang, "field.responsible"),
                    join_and(lang, [plain(p.name) for p in view.responsible]) or "-",
                ),
                (t(lang, "field.next_contact"), format_date(lang, next_contact)),
                (
                    t(lang, "field.shared_with"),
                    join_and(lang, shared) if shared else t(lang, "commontime.plan.share_nobody"),
                ),
            ]
        )
    )
    return body


def _follow_up_section(view: CommonTimeView, lang: Lang) -> list[Element]:
    if not (view.has(Part.RESPONSIBLE) and view.status is Status.FOLLOW_UP):
        return []
    body: list[Element] = [
        text(t(lang, "commontime.follow_up.title"), weight="Bolder", separator=True)
    ]
    if view.next_contact is not None:
        day = format_date(lang, view.next_contact)
        body.append(text(t(lang, "commontime.follow_up.next_contact", day=day), spacing="Small"))
    body.append(
        action_set(
            [
                execute(
                    t(lang, "commontime.follow_up.book"),
                    verbs.COMMON_TIME_TIMES,
                    {**_ref(view), "kind": FOLLOW_UP_KIND},
                ),
                execute(t(lang, "commontime.follow_up.close"), verbs.COMMON_TIME_CLOSE, _ref(view)),
            ]
        )
    )
    return body


def _card_actions(view: CommonTimeView, lang: Lang) -> list[Element]:
    actions = [
        execute(t(lang, "commontime.refresh"), verbs.COMMON_TIME_SHOW, _ref(view)),
        execute(t(lang, "commontime.list.open"), verbs.COMMON_TIME_LIST, {}),
    ]
    if view.has(Part.CONVENER) and view.status not in _ENDED:
        actions.append(
            show_card(
                t(lang, "commontime.cancel"),
                [text(t(lang, "commontime.cancel.confirm_text"))],
                [
                    execute(
                        t(lang, "commontime.cancel.confirm"),
                        verbs.COMMON_TIME_CANCEL,
                        _ref(view),
                        style="destructive",
                    )
                ],
            )
        )
    return actions


def common_time_card(
    view: CommonTimeView,
    lang: Lang,
    zone: str,
    *,
    times: Sequence[TimeOption] = (),
    times_kind: str | None = None,
    notice: str | None = None,
    refused: str | None = None,
    typed: Mapping[str, Any] | None = None,
    family_link: FamilyLinkShown | None = None,
) -> Card:
    """The common time as the viewer may see it, with what their part lets them do now.

    ``zone`` is the IANA name of the bank's time zone (as in cards/calendar.py). ``times``
    are free times offered for a meeting of ``times_kind``; an empty ``times`` with a kind
    says none was found. ``notice`` confirms the last change; ``refused`` says why it changed
    nothing, and ``typed`` puts back what was typed on the refused form. ``family_link``
    is the family's feedback link the convener's view holds, as the bot shows it.
    """
    convener = view.has(Part.CONVENER)
    body: list[Element] = [
        *notices(notice, refused),
        *_header(view, lang),
        *_consent_section(view, lang),
        *_team_section(view, lang),
        *_meeting_section(view, lang, zone, times, times_kind),
    ]
    if convener and view.status is Status.BOOKED:
        body += _held_form(view, lang)
    if convener and view.status is Status.HELD:
        body += _plan_form(view, lang)
    body += _plan_section(view, lang)
    body += _follow_up_section(view, lang)
    if convener and family_link is not None:
        body += family_link_section(lang, family_link)
    if typed:
        refill(body, typed)
    return card(lang, body, _card_actions(view, lang))


def invited_person(data: Mapping[str, object]) -> tuple[str, int]:
    """The competence and the person an ``commontime.invite`` names.

    The person is read from ``person_<competence>`` (the card's list for that competence)
    first, then from a plain ``person_id``.
    """
    competence = str(data.get("competence") or "")
    if competence not in COMPETENCES:
        raise errors.InvalidInput("competence", "unknown choice")
    chosen = data.get(f"person_{competence}") or data.get("person_id")
    if isinstance(chosen, int) and not isinstance(chosen, bool):
        return competence, chosen
    value = str(chosen or "").strip()
    if not value:
        raise errors.InvalidInput("person_id", "required")
    if not (value.isascii() and value.isdigit() and len(value) <= 9):
        raise errors.InvalidInput("person_id", "unknown choice")
    return competence, int(value)


# -- the list ----------------------------------------------------------------------------------


def _parts_label(lang: Lang, parts: frozenset[Part]) -> str:
    return ", ".join(t(lang, f"commontime.part.{p.value}") for p in Part if p in parts)


def common_time_list_card(
    views: Sequence[CommonTimeView], lang: Lang, *, notice: str | None = None
) -> Card:
    """The viewer's common times, each with its status and their part, and a new one."""
    body: list[Element] = [*notices(notice, None), heading(t(lang, "commontime.list.title"))]
    if not views:
        body.append(text(t(lang, "commontime.list.none")))
    for view in views[:LIST_SHOWN]:
        line = t(
            lang,
            "commontime.list.line",
            code=view.code,
            status=status_label(lang, view.status),
            municipality=plain(view.municipality),
        )
        part = t(lang, "commontime.list.part", parts=_parts_label(lang, view.parts))
        show = execute(t(lang, "commontime.list.show"), verbs.COMMON_TIME_SHOW, _ref(view))
        body.append(
            container(
                [text(line), text(cap(part), subtle=True, spacing="None"), action_set([show])],
                separator=True,
            )
        )
    hidden = len(views) - LIST_SHOWN
    if hidden > 0:
        body.append(text(t(lang, "commontime.list.more", count=hidden), subtle=True))
    new = execute(t(lang, "commontime.list.new"), verbs.COMMON_TIME_NEW, {}, style="positive")
    return card(lang, body, [new])
