"""The weekly report's email: for its manager only, internal, with a dashboard link that signs
them in and a link to the week on the dashboard; which way each figure went."""

from __future__ import annotations

from datetime import date

from keepword_events import Role, WeeklyReportDue, new_envelope
from keepword_events.examples import every_event
from keepword_notifier.dispatcher import Dispatcher
from keepword_notifier.recipients import notices_for
from keepword_notifier.report_notices import weekly_report_for
from keepword_platform.company import CompanyConfig
from keepword_platform.dashboard_links import read_dashboard
from keepword_platform.settings import KeepwordSettings

SECRET = "a-test-link-secret-of-thirty-two-bytes!"
REPORT = next(e for e in every_event() if isinstance(e, WeeklyReportDue))


def _dispatcher(company: CompanyConfig) -> Dispatcher:
    settings = KeepwordSettings(
        link_secret=SECRET, env="test", insights_public_url="https://insights.brightline.example/"
    )
    return Dispatcher(company=lambda: company, settings=settings)


def test_the_report_goes_to_its_manager_as_an_internal_email(company: CompanyConfig) -> None:
    notice = weekly_report_for(REPORT, company, _dispatcher(company))

    assert notice.recipient == str(REPORT.manager.email)
    assert notice.recipient_role is Role.MANAGEMENT
    assert notice.internal
    assert notice.thread_id == REPORT.thread_id


def test_the_dashboard_link_signs_the_manager_in(company: CompanyConfig) -> None:
    notice = weekly_report_for(REPORT, company, _dispatcher(company))

    url = notice.context["dashboard_url"]
    prefix = "https://insights.brightline.example/dashboard/sign-in/"
    assert url.startswith(prefix)
    claim = read_dashboard(SECRET, url.removeprefix(prefix), max_age_seconds=3600)
    assert claim.manager == str(REPORT.manager.email).lower()
    # The week as the company's calendar has it: Monday 26 October to Sunday 1 November.
    assert notice.context["week_url"] == (
        "https://insights.brightline.example/dashboard?from=2026-10-26&to=2026-11-01"
    )


def test_each_figure_says_which_way_it_went(company: CompanyConfig) -> None:
    notice = weekly_report_for(REPORT, company, _dispatcher(company))
    rows = {r["name"]: r for r in notice.context["rows"]}

    assert rows["Promises kept"]["direction"] == "better"  # 12, up from 9
    assert rows["Promises broken"]["direction"] == "better"  # 1, down from 2
    assert rows["Refunds"]["direction"] == "worse"  # 1, up from 0
    assert rows["First replies"]["direction"] == ""  # neither good nor bad
    assert rows["First reply, median"]["direction"] == ""  # none the week before


def test_without_report_links_the_report_calls_for_no_email(company: CompanyConfig) -> None:
    envelope = new_envelope(REPORT, source="/tests")

    assert notices_for(envelope, company, now=REPORT.week_ends_at, links=lambda *a: "") == []
    [notice] = notices_for(
        envelope, company, now=REPORT.week_ends_at, links=lambda *a: "",
        reports=_dispatcher(company),
    )  # fmt: skip
    assert notice.template == "weekly_report_manager"
    assert date(2026, 10, 26) <= notice.context["last_day"].date() <= date(2026, 11, 1)
