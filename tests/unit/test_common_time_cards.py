"""The common time's cards: snapshots (UPDATE_GOLDEN=1), the buttons each part gets, privacy."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from cards import verbs
from cards.base import card as wrap_card
from cards.common_time import (
    common_time_card,
    common_time_list_card,
    competence_label,
    convene_form,
    invited_person,
    kind_label,
    status_label,
    step_label,
)
from cards.common_time_feedback import team_feedback_card
from cards.common_time_stats import common_time_section
from cards.i18n import LANGS, Lang, catalog, error_text, t
from mediation import errors
from mediation.case_types import FAMILY_CENTRE_COMPETENCES, Step
from mediation.common_time import COMMON_TIME_KIND, FOLLOW_UP_KIND, Status
from mediation.common_time_views import Part
from tests.card_schema import assert_valid_card
from tests.unit import common_time_samples as s
from tests.unit.cards_support import assert_well_formed, executes, inputs, texts
from tests.unit.test_cards_plain import HOSTILE, HOSTILE_LINES, assert_plain

GOLDEN = Path(__file__).parent / "golden_common_time"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def samples(lang: Lang) -> dict[str, dict[str, Any]]:
    zone = s.ZONE
    return {
        "convene_form": convene_form(lang),
        "convene_form.refused": convene_form(
            lang,
            refused=error_text(lang, errors.InvalidInput("municipality", "required")),
            typed={"competences": "psychology,speech_therapy", "consent_convene": "true"},
        ),
        "convener.convening": common_time_card(
            s.convener_convening(),
            lang,
            zone,
            notice=t(lang, "commontime.note.declined", code="2026-T07", name="Sara Holm"),
        ),
        "invitee.pending": common_time_card(
            s.invitee_pending(),
            lang,
            zone,
            notice=t(
                lang,
                "commontime.note.invited",
                code="2026-T07",
                competence=competence_label(lang, "family_work"),
            ),
        ),
        "convener.times": common_time_card(
            s.convener_ready(), lang, zone, times=s.TIMES, times_kind=COMMON_TIME_KIND
        ),
        "convener.no_times": common_time_card(
            s.convener_ready(), lang, zone, times=(), times_kind=COMMON_TIME_KIND
        ),
        "convener.booked": common_time_card(s.convener_booked(), lang, zone),
        "convener.held": common_time_card(s.convener_held(), lang, zone),
        "responsible.follow_up": common_time_card(s.responsible_follow_up(), lang, zone),
        "coordinator.exception": common_time_card(s.coordinator_exception(), lang, zone),
        "convener.held.family_link": common_time_card(
            s.convener_held(), lang, zone, family_link=s.FAMILY_LINK
        ),
        "feedback.form": team_feedback_card(
            s.feedback_form(),
            lang,
            notice=t(lang, "commontime.note.feedback_asked", code="2026-T07"),
        ),
        "feedback.refused": team_feedback_card(
            s.feedback_form(),
            lang,
            refused=error_text(lang, errors.InvalidInput("comment", "too long")),
            typed={"useful": "4", "competences_present": "no", "comment": "Pitkä"},
        ),
        "feedback.given": team_feedback_card(
            s.feedback_given(), lang, notice=t(lang, "ctfeedback.saved")
        ),
        "list": common_time_list_card(s.list_views(), lang),
        "list.empty": common_time_list_card([], lang, notice=t(lang, "commontime.cancelled")),
        # The common time's part of the coordinators' statistics card, on a card of its own.
        "stats": wrap_card(lang, common_time_section(lang, 2026, s.year_figures())),
        "stats.empty": wrap_card(lang, common_time_section(lang, 2026, s.NO_FIGURES)),
    }


SAMPLES = {lang: samples(lang) for lang in LANGS}
CASES = [(lang, name) for lang in LANGS for name in SAMPLES[lang]]


@pytest.mark.parametrize(("lang", "name"), CASES)
def test_each_card_is_well_formed_and_matches_its_snapshot(lang: Lang, name: str) -> None:
    card = SAMPLES[lang][name]
    assert_well_formed(card)
    assert_valid_card(card)
    path = GOLDEN / f"{name}.{lang}.json"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(json.dumps(card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return
    assert path.exists(), f"no snapshot {path.name}: run the tests with UPDATE_GOLDEN=1"
    assert json.loads(path.read_text(encoding="utf-8")) == card


def test_no_snapshot_is_left_without_its_card() -> None:
    if UPDATE:
        return
    expected = {f"{name}.{lang}.json" for lang, name in CASES}
    assert {p.name for p in GOLDEN.glob("*.json")} == expected


def test_the_languages_differ() -> None:
    for name in SAMPLES["en"]:
        assert SAMPLES["fi"][name] != SAMPLES["sv"][name] != SAMPLES["en"][name], name


def by_verb(card: dict[str, Any], verb: str) -> list[dict[str, Any]]:
    return [a for a in executes(card) if a["verb"] == verb]


def input_ids(card: dict[str, Any]) -> set[str]:
    return {i["id"] for i in inputs(card)}


# -- the forms hold what the bot reads ----------------------------------------------------------


def test_the_convene_form_has_the_inputs_the_bot_reads() -> None:
    card = SAMPLES["en"]["convene_form"]
    assert input_ids(card) == {
        "municipality",
        "competences",
        "consent_convene",
        "consent_share_plan",
        "justification",
    }
    (competences,) = [i for i in inputs(card) if i["id"] == "competences"]
    assert competences["isMultiSelect"] is True
    assert [c["value"] for c in competences["choices"]] == list(FAMILY_CENTRE_COMPETENCES)
    assert by_verb(card, verbs.COMMON_TIME_CONVENE)[0]["data"] == {}


def test_a_refused_convene_form_says_why_on_top_and_keeps_what_was_typed() -> None:
    card = SAMPLES["en"]["convene_form.refused"]
    assert card["body"][0]["color"] == "Attention"
    values = {i["id"]: i.get("value") for i in inputs(card)}
    assert values["competences"] == "psychology,speech_therapy"
    assert values["consent_convene"] == "true"


def test_the_convener_replaces_a_decline_and_withdraws_a_pending_invitation() -> None:
    card = SAMPLES["en"]["convener.convening"]
    (invite,) = by_verb(card, verbs.COMMON_TIME_INVITE)
    assert invite["data"] == {"ct_id": 7, "competence": "speech_therapy"}
    (picker,) = [i for i in inputs(card) if i["id"] == "person_speech_therapy"]
    assert [c["value"] for c in picker["choices"]] == ["6", "10"]
    (withdraw,) = by_verb(card, verbs.COMMON_TIME_WITHDRAW)
    assert withdraw["data"] == {"ct_id": 7, "person_id": s.FAMILY_WORKER.id}
    nobody = t("en", "commontime.team.nobody_free", competence="Child welfare")
    assert nobody in texts(card)
    assert not by_verb(card, verbs.COMMON_TIME_TIMES), "a competence is still uncovered"
    assert not by_verb(card, verbs.COMMON_TIME_ACCEPT)
    consent = by_verb(card, verbs.COMMON_TIME_CONSENT)
    assert consent[0]["data"] == {"ct_id": 7} and input_ids(card) >= {"consent_share_plan"}
    assert "consent_convene" not in input_ids(card), "consented already"


def test_invitations_wait_for_the_familys_consent_or_an_approved_exception() -> None:
    waiting = replace(s.convener_convening(), consented=frozenset())
    card = common_time_card(waiting, "en", s.ZONE)
    assert not by_verb(card, verbs.COMMON_TIME_INVITE)
    assert t("en", "commontime.team.waits_for_consent") in texts(card)


def test_an_invitee_answers_while_the_team_is_convened() -> None:
    card = SAMPLES["en"]["invitee.pending"]
    answers = by_verb(card, verbs.COMMON_TIME_ACCEPT) + by_verb(card, verbs.COMMON_TIME_DECLINE)
    assert [a["data"] for a in answers] == [{"ct_id": 7}, {"ct_id": 7}]
    assert not by_verb(card, verbs.COMMON_TIME_INVITE) + by_verb(card, verbs.COMMON_TIME_CANCEL)
    booked = common_time_card(replace(s.invitee_pending(), status=Status.BOOKED), "en", s.ZONE)
    assert not by_verb(booked, verbs.COMMON_TIME_ACCEPT)


def test_times_are_offered_once_everyone_accepted_and_book_with_their_room() -> None:
    ready = common_time_card(s.convener_ready(), "en", s.ZONE)
    (find,) = by_verb(ready, verbs.COMMON_TIME_TIMES)
    assert find["data"] == {"ct_id": 7, "kind": "common_time"}
    books = by_verb(SAMPLES["en"]["convener.times"], verbs.COMMON_TIME_BOOK)
    assert [b["data"] for b in books] == [
        {
            "ct_id": 7,
            "kind": "common_time",
            "start": o.starts_at.isoformat(),
            "room": o.room,
        }
        for o in s.TIMES
    ]
    assert books[0]["title"].startswith("Tue 2026-03-17 13:00–14:30")  # local time
    none = t("en", "commontime.times.none", kind=kind_label("en", COMMON_TIME_KIND))
    assert none in texts(SAMPLES["en"]["convener.no_times"])


def test_once_booked_the_convener_records_it_held_with_at_most_two_responsible() -> None:
    card = SAMPLES["en"]["convener.booked"]
    (held,) = by_verb(card, verbs.COMMON_TIME_HELD)
    assert held["data"] == {"ct_id": 7}
    (responsible,) = [i for i in inputs(card) if i["id"] == "responsible"]
    assert responsible["isMultiSelect"] is True
    assert t("en", "commontime.held.at_most", count=2) in texts(card)
    assert any("on its way to the calendars" in x for x in texts(card))


def test_once_held_the_convener_writes_the_plan() -> None:
    card = SAMPLES["en"]["convener.held"]
    ids = input_ids(card)
    rows = {f"action_{n}_{f}" for n in range(1, 7) for f in ("place", "what", "where")}
    assert rows <= ids
    assert {"matters", "follow_up_how", "family_reaches_worker", "next_contact"} <= ids
    assert {"shared_with"} <= ids
    assert by_verb(card, verbs.COMMON_TIME_PLAN)[0]["data"] == {"ct_id": 7}
    typed = {"matters": "Aamut", "action_1_place": "home", "action_2_place": "moon"}
    refilled = common_time_card(s.convener_held(), "en", s.ZONE, refused="No.", typed=typed)
    values = {i["id"]: i.get("value") for i in inputs(refilled)}
    assert values["matters"] == "Aamut" and values["action_1_place"] == "home"
    assert values["action_2_place"] is None, "not one of the places"


def test_the_responsible_worker_follows_up_the_plan() -> None:
    card = SAMPLES["en"]["responsible.follow_up"]
    marks = [a["data"] for a in by_verb(card, verbs.COMMON_TIME_MARK)]
    assert marks == [
        {"ct_id": 7, "index": i, "done": done} for i in range(3) for done in (True, False)
    ]
    (book,) = by_verb(card, verbs.COMMON_TIME_TIMES)
    assert book["data"] == {"ct_id": 7, "kind": FOLLOW_UP_KIND}
    assert by_verb(card, verbs.COMMON_TIME_CLOSE)[0]["data"] == {"ct_id": 7}
    shown = json.dumps(card, ensure_ascii=False)
    assert s.MATTERS in shown and "14.4.2026" not in shown and "2026-04-14" in shown
    assert not by_verb(card, verbs.COMMON_TIME_CANCEL), "only the convener cancels"


def test_a_party_without_the_plan_in_the_view_gets_a_button_that_reads_it() -> None:
    convener = replace(
        s.responsible_follow_up(), viewer=s.CONVENER, parts=frozenset({Part.CONVENER}), plan=None
    )
    card = common_time_card(convener, "en", s.ZONE)
    assert by_verb(card, verbs.COMMON_TIME_PLAN_SHOW)[0]["data"] == {"ct_id": 7}
    assert t("en", "commontime.plan.reading_recorded") in texts(card)


def test_a_coordinator_approves_only_what_waits_and_what_they_did_not_ask() -> None:
    card = SAMPLES["en"]["coordinator.exception"]
    approvals = [a["data"] for a in by_verb(card, verbs.COMMON_TIME_APPROVE)]
    assert approvals == [{"ct_id": 7, "step": "share_plan"}]
    assert not by_verb(card, verbs.COMMON_TIME_PLAN_SHOW), "a coordinator is no plan party"
    asker = replace(s.coordinator_exception(), viewer=s.CONVENER)
    assert not by_verb(common_time_card(asker, "en", s.ZONE), verbs.COMMON_TIME_APPROVE)


def test_every_card_has_refresh_and_the_list_and_the_convener_may_cancel() -> None:
    for name, card in SAMPLES["en"].items():
        if name.startswith(("convene_form", "list", "stats", "feedback")):
            continue
        refresh, listing = card["actions"][:2]
        assert (refresh["verb"], refresh["data"]) == (verbs.COMMON_TIME_SHOW, {"ct_id": 7})
        assert (listing["verb"], listing["data"]) == (verbs.COMMON_TIME_LIST, {})
        cancel = by_verb(card, verbs.COMMON_TIME_CANCEL)
        assert bool(cancel) == name.startswith("convener"), name
    ended = replace(s.convener_convening(), status=Status.CLOSED)
    assert not by_verb(common_time_card(ended, "en", s.ZONE), verbs.COMMON_TIME_CANCEL)


def test_the_feedback_form_sends_what_the_bot_reads_and_an_answer_shows_no_form() -> None:
    form = SAMPLES["en"]["feedback.form"]
    assert input_ids(form) == {"useful", "competences_present", "comment"}
    assert [a["data"] for a in by_verb(form, verbs.COMMON_TIME_FEEDBACK)] == [{"ct_id": 7}]
    given = SAMPLES["en"]["feedback.given"]
    assert not inputs(given) and not executes(given)
    assert "Your comment: Puheterapeutti puuttui." in texts(given)


def test_the_familys_link_is_on_the_conveners_card_only_when_given() -> None:
    with_link = SAMPLES["en"]["convener.held.family_link"]
    assert s.FAMILY_LINK.url in texts(with_link)
    images = [n for n in with_link["body"] if n.get("type") == "Image"]
    assert [i["url"] for i in images] == [s.FAMILY_LINK.qr_png_data_uri]
    assert s.FAMILY_LINK.url not in texts(SAMPLES["en"]["convener.held"])


def test_the_list_shows_each_common_time_and_a_new_one() -> None:
    card = SAMPLES["en"]["list"]
    shows = [a["data"] for a in by_verb(card, verbs.COMMON_TIME_SHOW)]
    assert shows == [{"ct_id": 7}, {"ct_id": 8}, {"ct_id": 9}]
    assert by_verb(card, verbs.COMMON_TIME_NEW)[0]["data"] == {}
    assert "Your part: invited, the plan is shared with you" in texts(card)
    assert t("en", "commontime.list.none") in texts(SAMPLES["en"]["list.empty"])


def test_invite_reads_the_competences_own_list_first() -> None:
    data = {"ct_id": 7, "competence": "speech_therapy", "person_speech_therapy": "6"}
    assert invited_person(data) == ("speech_therapy", 6)
    assert invited_person({**data, "person_id": "9"}) == ("speech_therapy", 6)
    assert invited_person({"competence": "psychology", "person_id": "9"}) == ("psychology", 9)
    with pytest.raises(errors.InvalidInput):
        invited_person({"competence": "psychology"})
    with pytest.raises(errors.InvalidInput):
        invited_person({"competence": "astrology", "person_id": "9"})
    with pytest.raises(errors.InvalidInput):
        invited_person({"competence": "psychology", "person_id": "-1"})


# -- names and messages -------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_every_code_of_a_common_time_has_a_name(lang: Lang) -> None:
    assert all(competence_label(lang, c) for c in FAMILY_CENTRE_COMPETENCES)
    assert all(step_label(lang, step) for step in Step)
    assert all(status_label(lang, status) for status in Status)
    assert kind_label(lang, COMMON_TIME_KIND) and kind_label(lang, FOLLOW_UP_KIND)


NOTES = {
    "commontime.note.invited": {"code", "competence"},
    "commontime.note.accepted": {"code", "name"},
    "commontime.note.declined": {"code", "name"},
    "commontime.note.withdrawn": {"code"},
    "commontime.note.booked": {"code", "day", "time", "room"},
    "commontime.note.cancelled": {"code"},
    "commontime.note.responsible": {"code"},
    "commontime.note.plan_shared": {"code"},
    "commontime.note.follow_up_due": {"code", "day"},
    "commontime.note.exception_asked": {"code", "step"},
    "commontime.convened": {"code"},
    "commontime.invited_ok": {"name"},
    "commontime.answered_accepted": set(),
    "commontime.answered_declined": set(),
    "commontime.withdrawn_ok": {"name"},
    "commontime.booked_ok": {"day", "time", "room"},
    "commontime.held_ok": set(),
    "commontime.plan_saved": set(),
    "commontime.marked": set(),
    "commontime.closed": set(),
    "commontime.cancelled": set(),
    "commontime.consent_saved": set(),
    "commontime.approved": {"step"},
    "commontime.unchanged": set(),
    "commontime.not_found": set(),
}


@pytest.mark.parametrize("lang", LANGS)
def test_the_bots_messages_take_the_agreed_parameters(lang: Lang) -> None:
    for key, params in NOTES.items():
        filled = t(lang, key, **{p: f"<{p}>" for p in params})
        assert all(f"<{p}>" in filled for p in params), key
        assert "{" not in filled and key in catalog(lang)


# -- privacy and typed text ---------------------------------------------------------------------


def test_the_plan_never_reaches_a_view_without_it() -> None:
    coordinator = replace(
        s.responsible_follow_up(),
        viewer=s.COORDINATOR,
        parts=frozenset({Part.COORDINATOR}),
        plan=None,
        actions=(),
        plan_shared_with=(),
        next_contact=None,
    )
    secrets = [s.MATTERS, s.PLAN.follow_up_how, s.PLAN.family_reaches_worker]
    secrets += [a.what for a in s.PLAN.actions] + ["Perheneuvola, Kerava"]
    for lang in LANGS:
        shown = json.dumps(common_time_card(coordinator, lang, s.ZONE), ensure_ascii=False)
        assert [x for x in secrets if x in shown] == []
        assert t(lang, "commontime.plan.show") not in shown


def test_a_justification_is_shown_only_when_the_view_holds_it() -> None:
    card = SAMPLES["fi"]["coordinator.exception"]
    assert s.JUSTIFICATION in texts(card)
    hidden = replace(
        s.coordinator_exception(),
        exceptions=tuple(
            replace(e, justification=None) for e in s.coordinator_exception().exceptions
        ),
    )
    for lang in LANGS:
        shown = json.dumps(common_time_card(hidden, lang, s.ZONE), ensure_ascii=False)
        assert "Lapsen etu" not in shown


@pytest.mark.parametrize("lang", LANGS)
def test_what_people_typed_is_shown_as_plain_text(lang: Lang) -> None:
    def hostile(n: int) -> str:
        return f"{HOSTILE} {n}"

    def renamed(view: Any) -> Any:
        return replace(
            view,
            municipality=HOSTILE,
            convener=replace(view.convener, name=hostile(1)),
            invitations=tuple(
                replace(i, person=replace(i.person, name=hostile(i.person.id)))
                for i in view.invitations
            ),
            meetings=tuple(replace(m, room=HOSTILE) for m in view.meetings),
            exceptions=tuple(
                replace(e, asked_by=replace(e.asked_by, name=hostile(2)), justification=HOSTILE)
                for e in view.exceptions
            ),
            candidates={
                c: tuple(replace(p, name=hostile(p.id)) for p in people)
                for c, people in view.candidates.items()
            },
            responsible_choices=tuple(
                replace(p, name=hostile(p.id)) for p in view.responsible_choices
            ),
            plan_party_choices=tuple(
                replace(p, name=hostile(p.id)) for p in view.plan_party_choices
            ),
        )

    plan = replace(
        s.PLAN,
        matters=HOSTILE + "\n" + HOSTILE_LINES,
        follow_up_how=HOSTILE,
        family_reaches_worker=HOSTILE_LINES,
    )
    follow_up = replace(
        renamed(s.responsible_follow_up()),
        plan=plan,
        actions=tuple(replace(a, what=HOSTILE, where=HOSTILE_LINES) for a in s.ACTIONS),
        plan_shared_with=(replace(s.TEACHER, name=hostile(9)),),
    )
    views = [
        renamed(s.convener_convening()),
        renamed(s.invitee_pending()),
        renamed(s.convener_booked()),
        renamed(s.convener_held()),
        renamed(s.coordinator_exception()),
        follow_up,
    ]
    times = [replace(o, room=HOSTILE) for o in s.TIMES]
    cards = [common_time_card(v, lang, s.ZONE, times=times) for v in views]
    cards.append(common_time_list_card(views, lang))
    for card in cards:
        assert_plain(card)
        assert "Open the secure case file" in json.dumps(card, ensure_ascii=False)


def test_the_feedback_on_common_times_withholds_averages_of_fewer_than_five() -> None:
    from cards.common_time_stats import common_time_section
    from mediation.common_time_feedback import CommonTimeFeedbackFigures

    def words_of(elements: object) -> str:
        return json.dumps(elements, ensure_ascii=False)

    few = CommonTimeFeedbackFigures(3, 4.3, 2, 6, 4.5, 3.8)
    section = words_of(common_time_section("en", 2026, s.year_figures(), few))
    assert t("en", "commontime.stats.feedback") in section
    assert "4.3" not in section and "withheld (3 answers" in section
    assert t("en", "commontime.stats.average", value="4.5") in section
    assert t("en", "commontime.stats.average", value="3.8") in section
    none = CommonTimeFeedbackFigures(0, None, 0, 0, None, None)
    assert t("en", "commontime.stats.feedback") not in words_of(
        common_time_section("en", 2026, s.year_figures(), none)
    )
