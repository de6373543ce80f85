"""The coordinators' bank overview card: who carries how much, and what needs re-assigning."""

from __future__ import annotations

import json

from cards import verbs
from cards.base import (
    Card,
    Element,
    card,
    execute,
    facts,
    fitted,
    heading,
    plain,
    show_card,
    text,
)
from cards.case import assign_form, assign_submit
from cards.i18n import Lang, format_date, label, t, term_label, tn
from cards.stats import decimal
from mediation.organisations import OrganisationHours
from mediation.overview import BankOverview
from mediation.sharing import Roster, assign_choices

# Serialized sizes, with room under Teams' 28 KB a message: the packages' list, and the card.
PACKAGES_BUDGET = 9_000
CARD_BUDGET = 26_000
# Teams shows a card's first buttons in a row and folds the rest; beyond this many the
# re-assign forms are left to the cases' own cards.
MAX_REASSIGN_FORMS = 5


def bank_overview_card(view: BankOverview, lang: Lang, mediators: Roster | None = None) -> Card:
    """Packages against quota, employers' hours against their commitment, mediators with no
    case this year, and running cases whose seat holder is away, each with a re-assign form
    that offers first the least loaded who have not worked with the holder who stays."""
    term = view.term
    # The least loaded first; a bank too large for one message shows as many as fit.
    packages = fitted(
        (
            [
                facts(
                    [
                        (
                            plain(m.name),
                            t(
                                lang,
                                "overview.package_line",
                                term_used=m.packages.get(term, 0),
                                term_quota=m.term_quota.get(term, 0),
                                year_used=m.year_packages,
                                year_quota=m.year_quota,
                            ),
                        )
                    ]
                )
            ]
            for m in sorted(view.mediators, key=lambda m: (m.year_packages, m.name.casefold()))
        ),
        lambda n: text(t(lang, "list.more", n=n), subtle=True),
        budget=PACKAGES_BUDGET,
    )
    body: list[Element] = [
        heading(t(lang, "overview.title", year=view.year)),
        text(t(lang, "overview.intro", term=term_label(lang, term, view.year)), subtle=True),
        heading(t(lang, "overview.packages"), separator=True),
        *_joined(packages),
        heading(t(lang, "overview.employers"), separator=True),
        facts((plain(o.name), _organisation_line(lang, o)) for o in view.organisations),
        heading(t(lang, "overview.without_case"), separator=True),
        text(
            ", ".join(map(plain, view.without_case))
            if view.without_case
            else t(lang, "overview.everyone")
        ),
        heading(t(lang, "overview.away"), separator=True),
    ]
    actions: list[Element] = []
    if not view.away_holders:
        body.append(text(t(lang, "overview.nobody_away")))
    for away in view.away_holders:
        line = t(
            lang,
            "overview.away_line",
            code=away.summary.code,
            seat=away.seat,
            name=plain(away.name),
            back=format_date(lang, away.back),
        )
        body.append(text(line))
    organisations = execute(t(lang, "organisations.open"), verbs.ORGANISATIONS_SHOW, {})
    size = len(json.dumps(body)) + len(json.dumps(organisations))
    for away in view.away_holders if mediators is not None and mediators.names else ():
        assert mediators is not None
        ordered = assign_choices(mediators, away.summary, seat=away.seat)
        form = show_card(
            t(lang, "overview.reassign", code=away.summary.code),
            assign_form(away.summary, lang, ordered, {"seat": str(away.seat)}),
            [assign_submit(away.summary, lang)],
        )
        # Each form lists the whole registry: those that do not fit in one message are
        # left to the case's own card, which has the same form.
        size += len(json.dumps(form))
        if size > CARD_BUDGET or len(actions) == MAX_REASSIGN_FORMS:
            body.append(text(t(lang, "overview.reassign_on_card"), subtle=True))
            break
        actions.append(form)
    actions.append(organisations)
    return card(lang, [b for b in body if b.get("facts") != []], actions)


def _joined(elements: list[Element]) -> list[Element]:
    """Consecutive one-fact sets as one set, as a list of facts reads best."""
    joined: list[Element] = []
    for element in elements:
        if joined and "facts" in element and "facts" in joined[-1]:
            joined[-1] = {**joined[-1], "facts": [*joined[-1]["facts"], *element["facts"]]}
        else:
            joined.append(element)
    return joined


def _organisation_line(lang: Lang, o: OrganisationHours) -> str:
    """Hours given against the agreed commitment (or the estimate per member), and packages."""
    key = "organisation.hours_agreed" if o.agreed else "organisation.hours_estimated"
    parts = [
        t(lang, key, hours=decimal(lang, o.hours), committed=o.committed),
        tn(lang, "organisation.packages", o.packages),
    ]
    if o.kind is not None:
        parts.insert(0, label(lang, "organisation_kind", o.kind.value))
    if not o.in_network:
        parts.append(t(lang, "organisation.out_of_network"))
    return " · ".join(parts)
