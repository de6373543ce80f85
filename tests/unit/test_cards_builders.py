"""What each card offers in each state, and that the big ones fit in a Teams message."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from cards import (
    case_card,
    case_posted_card,
    details_card,
    error_card,
    help_card,
    intake_form,
    my_cases_card,
    notice_card,
    pair_complete_card,
    quota_card,
    read_card_snapshot,
    read_mediator_update,
    registry_card,
    seat_released_card,
    setup_done_card,
)
from cards import verbs as v
from cards.base import Card
from cards.commands import WORDS
from cards.gallery import (
    FAMILY,
    INTAKE,
    MEDIATORS,
    POLICY,
    ROSTER,
    TODAY,
    sample_case,
    summary,
)
from cards.i18n import LANGS, Lang, t, tn
from cards.intake import FIELDS
from mediation import errors
from mediation.model import (
    PREFERRED_TIMES,
    WEEKDAYS,
    AwayPeriod,
    CaseStatus,
    Mediator,
    Outcome,
    ReleaseReason,
)
from mediation.rules import CardSnapshot, QuotaUsage
from mediation.services import QuotaReport, UpdateMediator
from mediation.sharing import Roster
from mediation.views import CaseDetails
from tests.unit.cards_support import (
    MAX_BYTES,
    assert_well_formed,
    inputs,
    nodes,
    of_type,
    show_cards,
    size,
    texts,
    top_executes,
)
from tests.unit.factories import FORM

# -- the channel card ------------------------------------------------------------------------


def holder(n: int) -> str:
    """The Entra object id of the gallery's mediator ``n``."""
    return f"00000000-0000-4000-8000-{n:012d}"


def test_an_open_case_offers_claim_release_details_coordinator_and_refresh() -> None:
    card = case_card(summary(sample_case(3, (2,))), "en", mediators=ROSTER, viewer=holder(2))
    buttons = top_executes(card)
    assert list(buttons) == [v.CASE_CLAIM, v.CASE_RELEASE, v.CASE_DETAILS, v.CARD_REFRESH]
    assert all(b["data"]["case_id"] == 3 for b in buttons.values())
    # What the card shows rides on the buttons that change the case, for the stale check.
    shown = {"version": 0, "status": "open", "holders": [2, None]}
    assert buttons[v.CASE_CLAIM]["data"]["shown"] == buttons[v.CASE_RELEASE]["data"]["shown"]
    assert buttons[v.CASE_CLAIM]["data"]["shown"] == shown
    assert "shown" not in buttons[v.CASE_DETAILS]["data"]
    assert "shown" not in buttons[v.CARD_REFRESH]["data"]
    assert [a["title"] for a in card["actions"]][3] == "Coordinator"
    folded = show_cards(card)
    assert {"Cancel"} <= set(folded) and "Close" not in folded
    assert assign_button(card)["data"] == {"case_id": 3, "open": "assign"}


def test_an_open_case_with_no_holder_offers_no_release() -> None:
    buttons = top_executes(case_card(summary(sample_case(3)), "en"))
    assert v.CASE_RELEASE not in buttons and v.CASE_CLAIM in buttons


def test_only_a_seat_holders_answer_offers_release_my_seat() -> None:
    case = summary(sample_case(3, (2,)))
    for viewer in (None, holder(5), holder(1)):
        buttons = top_executes(case_card(case, "en", mediators=ROSTER, viewer=viewer))
        assert v.CASE_RELEASE not in buttons and v.CASE_CLAIM in buttons, viewer
    assert v.CASE_RELEASE in top_executes(case_card(case, "en", viewer=holder(2).upper()))


def test_a_paired_case_can_be_released_and_closed_but_not_claimed() -> None:
    card = case_card(summary(sample_case(4, (1, 2))), "fi", mediators=ROSTER, viewer=holder(1))
    assert list(top_executes(card)) == [v.CASE_RELEASE, v.CASE_DETAILS, v.CARD_REFRESH]
    assert {"Päätä", "Peru"} <= set(show_cards(card))
    assert assign_button(card)["title"] == "Osoita"


def test_a_running_case_keeps_only_the_coordinators_tools() -> None:
    card = case_card(summary(sample_case(5, (1, 2), started=True)), "en", mediators=ROSTER)
    assert list(top_executes(card)) == [v.CASE_DETAILS, v.CARD_REFRESH]
    assert {"Close", "Cancel"} <= set(show_cards(card))
    assert assign_button(card)["title"] == "Assign"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(
    "case",
    [sample_case(6, (1, 2), outcome=Outcome.AGREEMENT), sample_case(7, cancelled=True)],
    ids=["closed", "cancelled"],
)
def test_a_finished_case_offers_details_and_refresh_only(lang: Lang, case: Any) -> None:
    card = case_card(summary(case), lang, mediators=ROSTER)
    assert list(top_executes(card)) == [v.CASE_DETAILS, v.CARD_REFRESH]
    assert show_cards(card) == {} and inputs(card) == []


def test_a_closed_case_shows_its_outcome() -> None:
    card = case_card(summary(sample_case(6, (1, 2), outcome=Outcome.PARTIAL_AGREEMENT)), "sv")
    assert {"Avslutat", "Delvis avtal"} <= set(texts(card))


def assign_button(card: Card) -> dict[str, Any]:
    """The coordinator tools' "Assign" button: it asks for the assign list, fresh."""
    (found,) = [
        a
        for a in of_type(card, "Action.Execute")
        if a["verb"] == v.CARD_REFRESH and a["data"].get("open") == "assign"
    ]
    return found


def test_the_shared_card_holds_no_assign_list_only_the_button_that_asks_for_it() -> None:
    # Mediators' loads change with every other case: the shared card never shows them.
    card = case_card(summary(sample_case(4, (1, 2))), "en", mediators=ROSTER)
    assert not [n for n in nodes(card) if n.get("id") == "mediator_id"]
    assert "0/2 this term" not in str(card)
    assert assign_button(card)["title"] == "Assign"


def test_the_coordinator_forms_hold_the_inputs_the_router_reads() -> None:
    card = case_card(summary(sample_case(4, (1, 2))), "en", mediators=ROSTER)
    folded = show_cards(card)
    # The assign list as the answer to "Assign" shows it: open on top of the card.
    opened = case_card(summary(sample_case(4, (1, 2))), "en", mediators=ROSTER, assign_typed={})
    assign = {i["id"]: i for i in inputs(opened["body"][0])}
    assert list(assign) == ["mediator_id", "seat", "override_reason"]
    # Fewest packages this term first; of two as loaded, who has not met the holders first.
    assert [c["value"] for c in assign["mediator_id"]["choices"]] == ["3", "1", "5", "2"]
    assert [c["title"] for c in assign["mediator_id"]["choices"]] == [
        "Päivi Korhonen · 0/2 this term · worked together once",
        "Aino Virtanen · 1/2 this term · worked together once",
        "Sara Holm · 2/2 this term",
        "Bertil Lindqvist · 2/2 this term · worked together once",
    ]
    assert [c["value"] for c in assign["seat"]["choices"]] == ["1", "2"]
    assert assign["mediator_id"]["isRequired"] and not assign["seat"].get("isRequired")
    shown = {"version": 0, "status": "paired", "holders": [1, 2]}
    (submit,) = list(of_type(opened["body"][0], "Action.Execute"))
    assert submit["verb"] == v.CASE_ASSIGN and submit["data"] == {"case_id": 4, "shown": shown}
    outcome = inputs(folded["Close"])[0]
    assert outcome["id"] == "outcome" and [c["value"] for c in outcome["choices"]] == list(Outcome)
    assert top_executes(folded["Close"])[v.CASE_CLOSE]["data"] == {"case_id": 4, "shown": shown}
    assert [i["id"] for i in inputs(folded["Cancel"])] == ["reason"]
    assert top_executes(folded["Cancel"])[v.CASE_CANCEL]["data"] == {"case_id": 4, "shown": shown}


def test_the_seats_say_who_is_new_and_who_is_needed() -> None:
    card = case_card(summary(sample_case(3, (2,))), "en")
    shown = texts(card)
    assert "Bertil Lindqvist" in shown and " · new mediator" in shown
    assert "free" in shown and " · needs an experienced mediator" in shown


def test_a_notice_comes_first_and_an_error_in_the_attention_colour() -> None:
    s = summary(sample_case(3, (2,)))
    refused = case_card(s, "en", notice="You have 2 of 2 this spring.", notice_is_error=True)
    assert refused["body"][0]["text"] == "You have 2 of 2 this spring."
    assert refused["body"][0]["color"] == "Attention"
    done = case_card(s, "en", notice="You claimed seat 2.")
    assert (
        done["body"][0]["text"] == "You claimed seat 2." and done["body"][0]["color"] != "Attention"
    )
    assert "color" not in case_card(s, "en")["body"][0]


def long_mediators(n: int) -> list[Mediator]:
    return [
        Mediator(
            aad_object_id=f"00000000-0000-4000-8000-{i:012d}",
            name=f"Annikki-Marjatta Väisänen-Kärkkäinen {i}",
            email=f"m{i}@example.org",
            employer="Keski-Uudenmaan hyvinvointialue, perheoikeudelliset palvelut",
            languages=frozenset({"fi", "sv"}),
            experienced_mark=i % 2 == 0,
            completed_cases=i % 7,
            active=i % 9 != 0,
            away=(
                AwayPeriod(date(2026, 3, 1), date(2026, 3, 31)),
                AwayPeriod(date(2026, 6, 1), date(2026, 8, 15)),
            ),
            id=i,
        )
        for i in range(1, n + 1)
    ]


@pytest.mark.parametrize("lang", LANGS)
def test_the_channel_card_fits_with_sixty_mediators_to_assign(lang: Lang) -> None:
    people = tuple((m.id or 0, m.name) for m in long_mediators(60))
    # The longest titles: everyone has worked with both seat holders.
    pairs = {(h, i): 12 for h in (1, 2) for i, _ in people if i > h}
    roster = Roster(people, term_quota=2, term_packages={i: 10 for i, _ in people}, pairs=pairs)
    card = case_card(summary(sample_case(4, (1, 2))), lang, mediators=roster)
    assert_well_formed(card)
    assert size(card) < MAX_BYTES / 2
    # A refused assignment's answer has the form open on top, and not once more in the tools.
    typed = {"mediator_id": "7", "seat": "2"}
    refused = case_card(summary(sample_case(4, (1, 2))), lang, mediators=roster, assign_typed=typed)
    assert_well_formed(refused)
    assert size(refused) < MAX_BYTES / 2
    assert [n["id"] for n in nodes(refused) if n.get("id") == "mediator_id"] == ["mediator_id"]


# -- details -------------------------------------------------------------------------------


def test_the_details_card_releases_with_a_reason() -> None:
    card = details_card(
        CaseDetails(summary(sample_case(4, (1, 2))), FAMILY, "school", False, 5), "en"
    )
    releases = [a for a in card["actions"] if a["verb"] == v.CASE_RELEASE]
    seen = {"version": 0, "status": "paired", "holders": [1, 2]}
    assert [a["data"] for a in releases] == [
        {"case_id": 4, "reason": ReleaseReason.CONFLICT_OF_INTEREST.value, "shown": seen},
        {"case_id": 4, "reason": ReleaseReason.WITHDRAW.value, "shown": seen},
    ]
    shown = texts(card)
    assert "School" in shown and "5 meetings" in shown
    assert t("en", "details.safety_title") not in shown
    assert t("en", "details.logged") in shown


def test_a_running_case_has_no_release_on_its_details() -> None:
    details = CaseDetails(summary(sample_case(5, (1, 2), started=True)), FAMILY, "school", True, 6)
    card = details_card(details, "fi")
    # No release any more; the meetings can still be booked from here.
    assert [a["verb"] for a in card["actions"]] == [v.MEETINGS_PROPOSE]
    assert "Avoin turvallisuushuoli" in texts(card)


# -- intake --------------------------------------------------------------------------------

INPUT_TYPES = {
    "area": "Input.ChoiceSet",
    "language": "Input.ChoiceSet",
    "interpreter": "Input.Toggle",
    "children": "Input.Text",
    "topics": "Input.ChoiceSet",
    "preferred_times": "Input.ChoiceSet",
    "excluded_days": "Input.ChoiceSet",
    "referral_source": "Input.ChoiceSet",
    "safety_concern": "Input.Toggle",
    **{f"parent{n}_{f}": "Input.Text" for n in (1, 2) for f in ("name", "phone", "email")},
}


@pytest.mark.parametrize("lang", LANGS)
def test_the_intake_form_has_the_inputs_the_domain_reads(lang: Lang) -> None:
    card = intake_form(lang)
    found = {i["id"]: i for i in inputs(card)}
    assert {k: i["type"] for k, i in found.items()} == INPUT_TYPES
    assert tuple(found) == FIELDS
    assert found["language"]["style"] == "compact"
    assert [c["value"] for c in found["language"]["choices"]] == ["fi", "sv", "other"]
    for toggle in ("interpreter", "safety_concern"):
        assert (found[toggle]["valueOn"], found[toggle]["valueOff"]) == ("true", "false")
    assert found["children"]["placeholder"] == "2017, 2020"
    assert found["topics"]["isMultiSelect"] and found["preferred_times"]["isMultiSelect"]
    assert [c["value"] for c in found["preferred_times"]["choices"]] == list(PREFERRED_TIMES)
    assert found["excluded_days"]["isMultiSelect"]
    assert [c["value"] for c in found["excluded_days"]["choices"]] == list(WEEKDAYS)
    assert found["parent1_phone"]["style"] == "tel" and found["parent2_email"]["style"] == "email"
    for required in ("area", "language", "children", "topics", "referral_source", "parent1_name"):
        assert found[required]["isRequired"] and found[required]["errorMessage"]
    assert top_executes(card) == {v.CASE_CREATE: card["actions"][0]}
    assert t(lang, "intake.privacy") in texts(card)


def test_the_intake_form_is_prefilled_with_what_was_sent() -> None:
    values = {**FORM, "interpreter": True, "topics": ["custody", "maintenance"]}
    found = {i["id"]: i for i in inputs(intake_form("sv", values))}
    assert found["interpreter"]["value"] == "true"
    assert found["safety_concern"]["value"] == "false"
    assert found["topics"]["value"] == "custody,maintenance"
    assert found["preferred_times"]["value"] == FORM["preferred_times"]
    for key in ("area", "children", "parent1_name", "parent1_phone", "parent2_phone"):
        assert found[key]["value"] == FORM[key]
    assert "value" not in found["parent2_email"]  # sent empty


def test_each_problem_is_shown_right_under_its_field() -> None:
    problems = {
        "children": "Birth years are four digits.",
        "parent2": "Give a phone number or an e-mail address.",
        "parent1_email": "This is not an e-mail address.",
        "surprise": "Something else.",
    }
    body = intake_form("en", FORM, problems)["body"]
    ids = [b.get("id") for b in body]

    def after(field: str) -> dict[str, Any]:
        return body[ids.index(field) + 1]

    assert after("children") == {
        "type": "TextBlock",
        "text": "Birth years are four digits.",
        "wrap": True,
        "color": "Attention",
        "spacing": "Small",
    }
    assert after("parent2_name")["text"] == problems["parent2"]
    assert after("parent1_email")["text"] == problems["parent1_email"]
    assert body[2]["text"] == "Something else." and body[2]["color"] == "Attention"
    assert sum(1 for b in body if b.get("color") == "Attention") == 4


# -- commands and small cards --------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_help_shows_a_coordinator_all_commands_and_a_mediator_theirs(lang: Lang) -> None:
    words = WORDS[lang]
    coordinator, mediator = texts(help_card(lang, True)), texts(help_card(lang, False))
    assert set(words) <= set(coordinator)
    assert {words[0], words[3], words[4]} <= set(mediator)
    assert not {words[1], words[2], words[5]} & set(mediator)


def test_error_and_notice_cards_are_one_sentence() -> None:
    assert error_card("en", "No.")["body"] == [
        {"type": "TextBlock", "text": "No.", "wrap": True, "color": "Attention"}
    ]
    assert notice_card("fi", "Selvä.")["body"] == [
        {"type": "TextBlock", "text": "Selvä.", "wrap": True}
    ]


def test_setup_names_the_channel_when_known() -> None:
    assert "Kanava Pankki on nyt sovittelijapankin kanava." in texts(
        setup_done_card("fi", "Pankki")
    )
    assert "This channel is now the mediator bank's channel." in texts(setup_done_card("en", None))


def test_the_pair_hears_who_they_are_paired_with() -> None:
    card = pair_complete_card(summary(sample_case(4, (1, 2))), "en")
    expected = "Your pair for case 2026-004 is complete: Aino Virtanen and Bertil Lindqvist."
    assert f"{expected} Open the details." in texts(card)
    assert top_executes(card)[v.CASE_DETAILS]["data"] == {"case_id": 4}


@pytest.mark.parametrize("reason", list(ReleaseReason))
@pytest.mark.parametrize("lang", LANGS)
def test_coordinators_hear_who_released_and_why(lang: Lang, reason: ReleaseReason) -> None:
    card = seat_released_card(summary(sample_case(3, (2,))), "Aino Virtanen", reason.value, lang)
    assert t(lang, f"released.{reason.value}", name="Aino Virtanen", code="2026-003") in texts(card)


def test_the_coordinator_hears_the_case_is_posted() -> None:
    card = case_posted_card(summary(sample_case(8)), "en")
    assert texts(card)[1].startswith("Case 2026-008 is registered. Its card goes to the bank")


def test_my_cases_lists_each_case_with_a_details_button() -> None:
    cases = [summary(sample_case(n, (1,))) for n in range(1, 4)]
    card = my_cases_card(cases, "en")
    buttons = [a for box in card["body"][1:] for a in box["items"][2]["actions"]]
    assert [b["data"] for b in buttons] == [{"case_id": n} for n in range(1, 4)]
    assert "**2026-001** · Open · Tuusula" in texts(card)


def test_a_long_case_list_is_cut_short_and_still_fits() -> None:
    cases = [summary(sample_case(n, (1, 2))) for n in range(1, 61)]
    card = my_cases_card(cases, "fi")
    assert_well_formed(card)
    assert texts(card)[-1] == "…ja 20 tapausta lisää."


# -- quota and registry --------------------------------------------------------------------


def quota_report(**kw: Any) -> QuotaReport:
    usage = QuotaUsage(POLICY.term_of(TODAY), 2, 2, 3, 4)
    return QuotaReport(MEDIATORS[4], usage, kw.get("waiting", 3), kw.get("experienced", False))


@pytest.mark.parametrize(
    ("lang", "usage", "waiting"),
    [
        ("en", "2 of 2 this spring, 3 of 4 this year", "3 families are waiting for a pair."),
        (
            "fi",
            "2/2 sovittelua tänä keväänä, 3/4 tänä vuonna",
            "3 perhettä odottaa sovittelijaparia.",
        ),
        ("sv", "2 av 2 medlingar i vår, 3 av 4 i år", "3 familjer väntar på ett medlarpar."),
    ],
)
def test_the_quota_card_gives_the_numbers(lang: Lang, usage: str, waiting: str) -> None:
    shown = texts(quota_card(quota_report(), lang))
    assert usage in shown and waiting in shown


def test_the_quota_card_lets_a_mediator_mark_themselves_away() -> None:
    card = quota_card(quota_report(), "en")
    assert "Away: 2026-03-01–2026-03-15" in texts(card)
    form = show_cards(card)["Mark myself away"]
    assert [i["id"] for i in inputs(form)] == ["away_start", "away_end", "clear_away"]
    assert top_executes(form)[v.MEDIATOR_UPDATE]["data"] == {"mediator_id": 5}


def test_the_registry_lists_everyone_with_what_coordinators_need() -> None:
    card = registry_card(MEDIATORS, "en", POLICY, TODAY)
    lines = [b["text"] for b in card["body"][2:]]
    assert [line.split("**")[1] for line in lines] == sorted(m.name for m in MEDIATORS)
    assert (
        lines[0]
        == "**Aino Virtanen** · Tuusulan kunta · Finnish, Swedish · experienced (completed: 6)"
    )
    assert "not active" in lines[2] and "coordinator" in lines[3]
    assert "away 2026-03-01–2026-03-15" in lines[4]
    assert texts(card)[1] == "5 mediators · 3 experienced · 1 away today · 1 not active"


def test_the_registry_edit_form_holds_the_fields_update_mediator_takes() -> None:
    form = show_cards(registry_card(MEDIATORS, "sv", POLICY, TODAY))["Redigera en medlare"]
    assert [i["id"] for i in inputs(form)] == [
        "mediator_id",
        "experienced",
        "active",
        "languages",
        "away_start",
        "away_end",
        "clear_away",
    ]
    assert top_executes(form)[v.MEDIATOR_UPDATE]["verb"] == v.MEDIATOR_UPDATE


@pytest.mark.parametrize("lang", LANGS)
def test_a_registry_of_sixty_fits_in_one_message_with_everyone_named(lang: Lang) -> None:
    people = long_mediators(60)
    card = registry_card(people, lang, POLICY, TODAY)
    assert_well_formed(card)
    assert len(card["body"]) == 60 + 2
    shown = [b["text"] for b in card["body"][2:]]
    assert all(any(f"**{m.name}**" in line for line in shown) for m in people)


@pytest.mark.parametrize("lang", LANGS)
def test_a_huge_registry_still_fits_and_says_who_was_left_out(lang: Lang) -> None:
    people = long_mediators(150)
    card = registry_card(people, lang, POLICY, TODAY)
    assert_well_formed(card)
    left_out = 150 - (len(card["body"]) - 3)
    assert card["body"][-1]["text"] == tn(lang, "registry.not_shown", left_out)
    edit = inputs(card)[0]
    assert edit["id"] == "mediator_id" and len(edit["choices"]) == 150


def test_a_registry_of_the_usual_size_shows_employers_and_languages() -> None:
    people = [
        replace(m, name=f"Mediator {m.id}", employer="Keravan kaupunki", away=())
        for m in long_mediators(60)
    ]
    card = registry_card(people, "fi", POLICY, TODAY)
    assert all("Keravan kaupunki · suomi, ruotsi" in b["text"] for b in card["body"][2:])
    big = registry_card(long_mediators(60), "fi", POLICY, TODAY)
    assert not any("Keski-Uudenmaan" in b["text"] for b in big["body"][2:])


def test_an_edit_reads_into_update_mediator() -> None:
    data = {
        "mediator_id": "5",
        "experienced": "true",
        "languages": "fi,sv",
        "away_start": "2026-04-01",
        "away_end": "2026-04-10",
        "clear_away": "false",
    }
    update = read_mediator_update(data)
    assert update == {
        "mediator_id": 5,
        "experienced": True,
        "active": None,
        "languages": frozenset({"fi", "sv"}),
        "add_away": AwayPeriod(date(2026, 4, 1), date(2026, 4, 10)),
        "clear_away": False,
    }
    assert UpdateMediator(actor="aad", **update).mediator_id == 5


def test_an_empty_edit_changes_nothing() -> None:
    assert read_mediator_update({"mediator_id": 3, "clear_away": "false"}) == {
        "mediator_id": 3,
        "experienced": None,
        "active": None,
        "languages": None,
        "add_away": None,
        "clear_away": False,
    }


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({}, "choose a mediator"),
        ({"mediator_id": "x"}, "choose a mediator"),
        ({"mediator_id": "1", "away_start": "2026-04-01"}, "give both the first and the last day"),
        ({"mediator_id": "1", "away_start": "1.4.2026", "away_end": "2026-04-02"}, "not a date"),
        (
            {"mediator_id": "1", "away_start": "2026-04-09", "away_end": "2026-04-02"},
            "the period ends before it starts",
        ),
        ({"mediator_id": "1", "active": "maybe"}, "not a yes/no value"),
    ],
)
def test_a_bad_edit_is_refused_with_a_translated_problem(
    data: dict[str, object], problem: str
) -> None:
    with pytest.raises(errors.InvalidInput) as exc:
        read_mediator_update(data)
    assert exc.value.params["problem"] == problem


def test_the_sample_intake_is_the_one_the_cards_show() -> None:
    assert INTAKE.area in texts(case_card(summary(sample_case(1)), "en"))


# -- what a case card showed ----------------------------------------------------------------


def test_a_case_cards_snapshot_reads_back_as_it_was_drawn() -> None:
    drawn = summary(sample_case(4, (1, 2)))
    release = top_executes(case_card(drawn, "en", viewer=holder(1)))[v.CASE_RELEASE]
    shown = read_card_snapshot(release["data"])
    assert shown == CardSnapshot(drawn.version, CaseStatus.PAIRED, (1, 2))
    # A button without it (drawn before buttons carried one, or made by hand) is out of date.
    assert read_card_snapshot({"case_id": 4}) == CardSnapshot.missing()


@pytest.mark.parametrize(
    "shown",
    [
        "open",
        [],
        {},
        {"version": 1, "status": "open"},
        {"version": 1, "status": "open", "holders": []},
        {"version": 1, "status": "opened", "holders": [None, None]},
        {"version": "1", "status": "open", "holders": [None, None]},
        {"version": True, "status": "open", "holders": [None, None]},
        {"version": -1, "status": "open", "holders": [None, None]},
        {"version": 10**30, "status": "open", "holders": [None, None]},
        {"version": 1, "status": "open", "holders": [1.5, None]},
        {"version": 1, "status": "open", "holders": ["2", None]},
        {"version": 1, "status": "open", "holders": [None] * 11},
        {"version": 1, "status": ["open"], "holders": [None, None]},
    ],
)
def test_a_malformed_snapshot_is_refused_as_input(shown: object) -> None:
    with pytest.raises(errors.InvalidInput) as refused:
        read_card_snapshot({"case_id": 4, "shown": shown})
    assert refused.value.params["field"] == "shown"


def test_refill_puts_back_only_what_each_input_can_hold() -> None:
    from cards.base import choice_set, refill, text_input

    body = [
        choice_set("held", "Held", [("yes", "Yes"), ("no", "No")]),
        {"type": "Input.Number", "id": "minutes", "min": 1, "max": 480, "value": 60},
        text_input("note", "Note", max_length=10),
        {"type": "Input.Toggle", "id": "flag", "title": "Flag"},
    ]
    refill(body, {"held": "yes", "minutes": "90", "note": "short", "flag": "true"})
    assert [e.get("value") for e in body] == ["yes", 90, "short", "true"]
    refill(body, {"held": "maybe", "minutes": "nan", "note": "x" * 11, "flag": "yes"})
    assert [e.get("value") for e in body] == ["yes", 90, "short", "true"]  # unchanged
    refill(body, {"minutes": 10**30, "held": ["yes"]})
    assert body[1]["value"] == 90 and body[0]["value"] == "yes"
