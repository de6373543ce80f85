"""The common time in the coordinators' statistics through HTTP: a held common time counts
in its municipality and month, on the card and in the CSV; a mediator gets no figures."""

from __future__ import annotations

from cards.common_time_stats import month_label
from cards.i18n import error_text, t
from mediation import errors
from tests.e2e import test_common_time as flow
from tests.e2e.conftest import Bank, Unchanged, words

centre = flow.centre  # the family centre's running Sopu, with its team and rooms


async def test_a_held_common_time_counts_in_its_municipality(centre: Bank) -> None:
    bank = centre
    await flow.held_common_time(bank)
    month = bank.clock.now().month  # the meeting was held in the days just gone

    card = await bank.teams.ask("coord", "stats")
    lines = words(card).splitlines()
    assert t("en", "commontime.stats.title") in lines
    assert lines[lines.index(t("en", "commontime.stats.held")) + 1] == "1"
    in_month = t("en", "commontime.stats.month_count", month=month_label("en", month), count=1)
    by_month = t("en", "commontime.stats.by_month", total=1, months=in_month)
    assert lines[lines.index("Hyvinkää") + 1] == by_month
    assert lines[lines.index(t("en", "commontime.stats.plans")) + 1] == "0"

    # The download has the same count, masked as it leaves the coordinators' view.
    url = next(a["url"] for a in card["actions"] if a["type"] == "Action.OpenUrl")
    async with bank.teams.http.get(f"{bank.teams.base}{url[url.index('/stats/') :]}") as resp:
        assert resp.status == 200
        table = (await resp.read()).decode("utf-8-sig").splitlines()
    year = bank.clock.now().year
    period = t("en", "commontime.stats.month_year", month=month_label("en", month), year=year)
    assert f"{t('en', 'commontime.stats.by_place')};Hyvinkää;{period};< 5" in table

    # A mediator of the team, invited to it, sees no figures: typed or clicked.
    async with Unchanged(bank, replies=1):
        typed = await bank.teams.ask("olli", "stats")
    async with Unchanged(bank):
        clicked = await bank.teams.click("olli", "stats.show", {"year": year}, where="personal")
    not_allowed = errors.NotAllowed("viewing statistics", "only a coordinator may do this")
    refusal = error_text("en", not_allowed)
    for refused in (typed, clicked):
        assert t("en", "commontime.stats.title") not in words(refused)
        assert "Hyvinkää" not in words(refused)
        assert refusal in words(refused), words(refused)
