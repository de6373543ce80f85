"""Walk-in shifts and phone hours in personal chat: the rota, one shift with its visits, the
figures, and the intake form a referral to mediation opens.

Every card is built from a view made for one person (mediation/walk_in_views.py); a card
shows what its view holds and offers the buttons the view allows. A visit carries no family
identity, so no card asks for one.
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
    execute,
    facts,
    heading,
    notices,
    plain,
    refill,
    show_card,
    text,
    toggle,
)
from cards.calendar import cap, when_label
from cards.i18n import Lang, t, tn
from cards.intake import intake_form
from mediation.walk_in import (
    MAX_MINUTES,
    MIN_MINUTES,
    VISIT_MINUTES,
    Referral,
    ShiftKind,
    VisitKind,
    WalkInFigures,
)
from mediation.walk_in_views import ShiftLine, ShiftsView, ShiftView, SwapLine

# -- names of codes ---------------------------------------------------------------------------


def kind_label(lang: Lang, kind: ShiftKind | str) -> str:
    """'walk_in' -> 'walk-in shift', 'phone' -> 'phone hour'."""
    return t(lang, f"shift.kind.{ShiftKind(kind).value}")


def visit_kind_label(lang: Lang, kind: VisitKind | str) -> str:
    return t(lang, f"visit.kind.{VisitKind(kind).value}")


def referral_label(lang: Lang, referral: Referral | str) -> str:
    return t(lang, f"visit.referral.{Referral(referral).value}")


def shift_when(lang: Lang, line: ShiftLine, zone: str) -> str:
    """'walk-in shift Thu 2026-03-05 8:00–12:00'."""
    return t(
        lang,
        "shift.when",
        kind=kind_label(lang, line.kind),
        when=when_label(lang, line.starts_at, line.ends_at, zone),
    )


def _worker(lang: Lang, line: ShiftLine) -> str:
    return plain(line.worker.name) if line.worker is not None else t(lang, "shift.nobody")


# -- the rota ---------------------------------------------------------------------------------


def _offer_text(lang: Lang, swap: SwapLine, zone: str, *, to_me: bool) -> str:
    key = "shift.offer.to_me" if to_me else "shift.offer.mine"
    line = t(
        lang,
        key,
        name=plain(swap.offerer.name if to_me else swap.colleague.name),
        shift=shift_when(lang, swap.shift, zone),
    )
    if swap.in_return is not None:
        line += " " + t(lang, "shift.offer.in_return", shift=shift_when(lang, swap.in_return, zone))
    return line


def _offers(view: ShiftsView, lang: Lang, zone: str) -> list[Element]:
    shown: list[Element] = []
    for swap in view.offers_to_me:
        answer = [
            execute(t(lang, "shift.accept"), verbs.SHIFT_ACCEPT, {"swap_id": swap.id}),
            execute(t(lang, "shift.decline"), verbs.SHIFT_DECLINE, {"swap_id": swap.id}),
        ]
        offer = _offer_text(lang, swap, zone, to_me=True)
        shown.append(
            container([text(offer, weight="Bolder"), action_set(answer)], style="emphasis")
        )
    for swap in view.my_offers:
        withdraw = execute(t(lang, "shift.withdraw"), verbs.SHIFT_WITHDRAW, {"swap_id": swap.id})
        shown.append(
            container([text(_offer_text(lang, swap, zone, to_me=False)), action_set([withdraw])])
        )
    return shown


def _rota_lines(view: ShiftsView, kind: ShiftKind, lang: Lang, zone: str) -> list[Element]:
    lines = [s for s in view.shifts if s.kind is kind]
    shown: list[Element] = [
        text(t(lang, f"shift.section.{kind.value}"), weight="Bolder", separator=True)
    ]
    if not lines:
        shown.append(text(t(lang, "shift.none"), subtle=True))
    for line in lines:
        label = t(lang, "shift.line", when=when_label(lang, line.starts_at, line.ends_at, zone))
        items: list[Element] = [
            text(f"{label} — {_worker(lang, line)}", weight="Bolder" if line.mine else None)
        ]
        if line.mine or view.coordinator:
            items.append(
                action_set(
                    [execute(t(lang, "shift.open"), verbs.SHIFT_SHOW, {"shift_id": line.id})]
                )
            )
        shown.append(container(items))
    return shown


def shifts_card(
    view: ShiftsView,
    lang: Lang,
    zone: str,
    *,
    notice: str | None = None,
    refused: str | None = None,
) -> Card:
    """The walk-in shifts and phone hours of the coming weeks, with who staffs each; the
    viewer's own in bold, with the offers they are part of on top."""
    body: list[Element] = [
        *notices(notice, refused),
        heading(t(lang, "shift.rota.title")),
        text(t(lang, "shift.rota.intro"), subtle=True),
        *_offers(view, lang, zone),
        *_rota_lines(view, ShiftKind.WALK_IN, lang, zone),
        *_rota_lines(view, ShiftKind.PHONE, lang, zone),
    ]
    actions = [execute(t(lang, "shift.refresh"), verbs.SHIFTS_SHOW, {})]
    if view.coordinator:
        actions.append(execute(t(lang, "shift.figures.open"), verbs.SHIFTS_FIGURES, {}))
    return card(lang, body, actions)


# -- one shift --------------------------------------------------------------------------------


def _visit_lines(view: ShiftView, lang: Lang, zone: str) -> list[Element]:
    shown: list[Element] = [
        text(tn(lang, "visit.count", len(view.visits)), weight="Bolder", separator=True)
    ]
    for n, visit in enumerate(view.visits, start=1):
        parts = [
            visit_kind_label(lang, visit.kind),
            t(lang, "visit.minutes_short", minutes=visit.minutes),
            referral_label(lang, visit.referral),
        ]
        if visit.booked:
            parts.append(t(lang, "visit.booked_short"))
        items: list[Element] = [text(t(lang, "visit.line", n=n, what=" · ".join(parts)))]
        if view.may_record:
            data = {"shift_id": view.shift.id, "visit_id": visit.id}
            items.append(action_set([execute(t(lang, "visit.remove"), verbs.VISIT_REMOVE, data)]))
        shown.append(container(items))
    return shown


def _record_form(view: ShiftView, lang: Lang) -> list[Element]:
    return [
        text(t(lang, "visit.form.title"), weight="Bolder", separator=True),
        text(t(lang, "visit.form.no_identity"), subtle=True, size="Small", spacing="None"),
        choice_set(
            "kind",
            t(lang, "field.visit_kind"),
            [(k.value, visit_kind_label(lang, k)) for k in VisitKind],
            style="expanded",
            value=VisitKind.ADVICE.value,
        ),
        {
            "type": "Input.Number",
            "id": "minutes",
            "label": t(lang, "field.visit_minutes"),
            "min": MIN_MINUTES,
            "max": MAX_MINUTES,
            "value": VISIT_MINUTES,
        },
        choice_set(
            "referral",
            t(lang, "field.referral"),
            [(r.value, referral_label(lang, r)) for r in Referral],
            style="expanded",
            value=Referral.NO.value,
        ),
        toggle("booked", t(lang, "visit.form.booked")),
        action_set(
            [
                execute(
                    t(lang, "visit.form.submit"),
                    verbs.VISIT_RECORD,
                    {"shift_id": view.shift.id},
                    style="positive",
                )
            ]
        ),
    ]


def _hand_over(view: ShiftView, lang: Lang, zone: str) -> list[Element]:
    """The worker's own shift before it begins: offer it, or see the open offer."""
    swap = view.open_offer
    if swap is not None:
        line = _offer_text(lang, swap, zone, to_me=False)
        items: list[Element] = [text(line, separator=True)]
        if swap.offerer.id == view.viewer.id:
            withdraw = t(lang, "shift.withdraw")
            items.append(
                action_set([execute(withdraw, verbs.SHIFT_WITHDRAW, {"swap_id": swap.id})])
            )
        return items
    if not view.may_offer:
        return []
    if not view.colleagues:
        return [text(t(lang, "shift.offer.nobody"), subtle=True, separator=True)]
    form: list[Element] = [
        text(t(lang, "shift.offer.intro"), subtle=True),
        choice_set(
            "to_id",
            t(lang, "field.to_id"),
            [(str(p.id), plain(p.name)) for p in view.colleagues],
            required_message=t(lang, "problem.required"),
        ),
    ]
    if view.in_return:
        form.append(
            choice_set(
                "return_shift_id",
                t(lang, "field.return_shift_id"),
                [
                    (str(s.id), f"{shift_when(lang, s, zone)} — {_worker(lang, s)}")
                    for s in view.in_return
                ],
                placeholder=t(lang, "shift.offer.take_over"),
            )
        )
    submit = execute(t(lang, "shift.offer.submit"), verbs.SHIFT_OFFER, {"shift_id": view.shift.id})
    return [action_set([show_card(t(lang, "shift.offer.open"), form, [submit])])]


def _reassign(view: ShiftView, lang: Lang) -> list[Element]:
    if not view.assignable:
        return []
    form: list[Element] = [
        text(t(lang, "shift.assign.intro"), subtle=True),
        choice_set(
            "worker_id",
            t(lang, "field.worker_id"),
            [(str(p.id), plain(p.name)) for p in view.assignable],
            required_message=t(lang, "problem.required"),
        ),
    ]
    submit = execute(
        t(lang, "shift.assign.submit"), verbs.SHIFT_ASSIGN, {"shift_id": view.shift.id}
    )
    return [action_set([show_card(t(lang, "shift.assign.open"), form, [submit])])]


def shift_card(
    view: ShiftView,
    lang: Lang,
    zone: str,
    *,
    notice: str | None = None,
    refused: str | None = None,
    typed: Mapping[str, Any] | None = None,
) -> Card:
    """One shift: who staffs it, its visits and the record form (for its worker, from its
    start until a few days after), handing it over, and a coordinator's re-assignment."""
    line = view.shift
    body: list[Element] = [
        *notices(notice, refused),
        heading(cap(shift_when(lang, line, zone))),
        facts([(t(lang, "field.worker_id"), _worker(lang, line))]),
    ]
    if line.kind is ShiftKind.WALK_IN:
        body += _visit_lines(view, lang, zone)
    if view.may_record:
        body += _record_form(view, lang)
    elif line.kind is ShiftKind.WALK_IN and line.mine:
        body.append(text(t(lang, "visit.form.closed"), subtle=True, size="Small"))
    body += _hand_over(view, lang, zone)
    body += _reassign(view, lang)
    if typed:
        refill(body, typed)
    return card(lang, body, [execute(t(lang, "shift.rota.open"), verbs.SHIFTS_SHOW, {})])


# -- figures ----------------------------------------------------------------------------------


def _per_shift(lang: Lang, f: WalkInFigures, count: int) -> str:
    average = f.per_shift(count)
    if average is None:
        return str(count)
    shown = str(average) if lang == "en" else str(average).replace(".", ",")
    return t(lang, "shift.figures.count_per_shift", count=count, per_shift=shown)


def figures_card(f: WalkInFigures, lang: Lang, year: int) -> Card:
    """A year's walk-in service: visits per shift by kind, the share handled without a
    booking, referrals on, and the rota's fairness (shifts per person)."""
    share = f.share_without_booking
    main = [
        (t(lang, "shift.figures.shifts"), str(f.shifts)),
        (t(lang, "shift.figures.visits"), _per_shift(lang, f, f.visits)),
        *((visit_kind_label(lang, k), _per_shift(lang, f, f.by_kind.get(k, 0))) for k in VisitKind),
        (
            t(lang, "shift.figures.without_booking"),
            t(lang, "shift.figures.percent", value=share) if share is not None else "-",
        ),
        *(
            (referral_label(lang, r), str(f.referrals.get(r, 0)))
            for r in (Referral.MEDIATION, Referral.ELSEWHERE)
        ),
        (t(lang, "shift.figures.minutes"), str(f.minutes)),
    ]
    body: list[Element] = [
        heading(t(lang, "shift.figures.title", year=year)),
        facts(main),
        text(t(lang, "shift.figures.rota"), weight="Bolder", separator=True),
        text(t(lang, "shift.figures.rota_note"), subtle=True, size="Small", spacing="None"),
    ]
    if f.per_worker:
        body.append(
            facts(
                (plain(name), t(lang, "shift.figures.per_worker", walk_in=w, phone=p))
                for name, w, p in f.per_worker
            )
        )
    else:
        body.append(text(t(lang, "shift.none"), subtle=True))
    actions = [
        execute(t(lang, "shift.figures.previous"), verbs.SHIFTS_FIGURES, {"year": year - 1}),
        execute(t(lang, "shift.rota.open"), verbs.SHIFTS_SHOW, {}),
    ]
    return card(lang, body, actions)


# -- a referral to mediation ------------------------------------------------------------------


def referral_intake(lang: Lang, notice: str, areas: Sequence[str]) -> Card:
    """The bank's intake form for a family referred from a walk-in visit: its referral is
    the walk-in, the rest the coordinator fills in with the family."""
    form = intake_form(lang, {"referral_source": "walk_in"}, areas=areas)
    form["body"].insert(0, text(notice, weight="Bolder", color="Good"))
    return form
