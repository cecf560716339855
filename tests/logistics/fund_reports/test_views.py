"""The fund's screens: who reads them, the dashboard's figures as a person reads them (French
numbers, a dash for what does not apply, charts with their tables), its period errors, its
downloads and its cost; frozen reports issued, listed, compared and checked in public."""

import datetime as dt
import re

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from inventory.documents.content import verification_code_new
from inventory.models import Device
from logistics.fund_reports import figures, services
from logistics.fund_reports.forms import FiguresForm, quick_periods
from logistics.fund_reports.views import bar_chart, chart_size, display
from logistics.handovers.services import hand_over_create
from logistics.models import FundReport
from tests.builders import allocated, make_organisation, make_user
from tests.logistics.fund_reports.scenario import build_year
from tests.test_csp import assert_strict

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("logistics:fund_dashboard")
REPORTS = reverse("logistics:fund_report_list")
VERIFY = reverse("logistics:fund_report_verify")
YEAR_QUERY = "?start=2025-01-01&end=2025-12-31"
YEAR = figures.Period(dt.date(2025, 1, 1), dt.date(2025, 12, 31))


@pytest.fixture
def as_user(login):
    def client_for(user) -> Client:
        client = login(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return client_for


@pytest.fixture
def year(coordinator, workshop_org, fund_org):
    return build_year(coordinator=coordinator, workshop=workshop_org, fund=fund_org)


@pytest.fixture
def other_fund(coordinator):
    from logistics.funding.services import programme_create

    fund = make_organisation(kind="fund", name="Banque des Territoires")
    programme = programme_create(
        actor=coordinator,
        funder=fund,
        name="Programme Territoires",
        starts_on="2025-01-01",
        ends_on="2025-12-31",
    )
    return fund, programme


def issued(coordinator, *, programme=None) -> FundReport:
    return services.report_issue(
        actor=coordinator, period=YEAR, scope=figures.Scope(programme=programme)
    )


def visible_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# Pure: how figures read, charts' geometry, the form -----------------------------------------


def test_figures_read_in_french_and_none_is_not_applicable_never_zero():
    with translation.override("fr"):
        assert display(1234, "count") == {"text": "1\xa0234", "na": False}
        assert display(0.8333, "rate")["text"].startswith("83,3")
        assert display(10.0, "days")["text"] == "10,0"
        assert display(1143.0, "kg")["text"] == "1\xa0143"
        assert display(2.826, "kg")["text"] == "2,8"
        assert display(0, "count") == {"text": "0", "na": False}
        assert display(None, "count") == {"text": "—", "na": True}


def test_a_chart_draws_each_month_in_proportion_and_a_figure_that_does_not_apply_not_at_all():
    months = [
        {"key": "2025-01", "label": "January 2025", "handed_over": 4, "received": None},
        {"key": "2025-02", "label": "February 2025", "handed_over": 0, "received": None},
        {"key": "2025-03", "label": "March 2025", "handed_over": 2, "received": None},
    ]
    with translation.override("en"):
        chart = bar_chart(months, "handed_over")
    heights = [float(bar["height"]) for bar in chart["bars"]]
    assert heights[0] == 2 * heights[2] > 0 == heights[1]
    assert [bar["value"] for bar in chart["bars"]] == ["4", "0", "2"]
    assert chart["bars"][0]["year"] == "2025" and chart["bars"][1]["year"] == ""
    assert "6 over the period" in chart["summary"] and "January 2025" in chart["summary"]
    assert bar_chart(months, "received") is None


def test_a_year_fits_the_screen_and_a_longer_period_scrolls_in_its_region():
    assert chart_size(12) == ""
    assert chart_size(13) == "chart--m24"
    assert chart_size(60) == "chart--m60"


def test_the_quick_periods_are_this_year_last_year_and_twelve_months():
    quick = dict(quick_periods(dt.date(2026, 3, 15)))
    assert quick["this_year"] == figures.Period(dt.date(2026, 1, 1), dt.date(2026, 3, 15))
    assert quick["last_year"] == figures.Period(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert quick["last_12_months"] == figures.Period(dt.date(2025, 4, 1), dt.date(2026, 3, 15))


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": "2025-13-01"}, "start"),
        ({"start": "2025-02-30", "end": "2025-03-01"}, "start"),
        ({"start": "9999-12-31", "end": "9999-12-31"}, "start"),
        ({"start": "2025-06-01", "end": "2025-05-31"}, "end"),
        ({"start": "2015-01-01", "end": "2020-01-01"}, "end"),
        ({"start": "\x00"}, "start"),
    ],
)
def test_a_period_that_cannot_be_read_or_is_too_long_is_a_field_error(query, field):
    default = figures.Period(dt.date(2026, 1, 1), dt.date(2026, 3, 1))
    form = FiguresForm(query, default=default)
    assert form.period() is None
    assert field in form.errors


def test_a_date_left_empty_takes_the_default_period_and_five_years_less_a_day_is_allowed():
    default = figures.Period(dt.date(2026, 1, 1), dt.date(2026, 3, 1))
    form = FiguresForm({"start": "2025-07-01"}, default=default)
    assert form.period() == figures.Period(dt.date(2025, 7, 1), dt.date(2026, 3, 1))
    five = FiguresForm({"start": "2021-01-01", "end": "2025-12-31"}, default=default)
    assert five.period() is not None


# Who reads what --------------------------------------------------------------------------------


def fund_pages() -> list[str]:
    return [
        DASHBOARD,
        reverse("logistics:fund_export_csv"),
        REPORTS,
        reverse("logistics:programme_list"),
    ]


@pytest.mark.parametrize("persona", ["workshop_staff", "structure_staff", "donor_user"])
def test_workshops_structures_and_donors_get_the_403_page(request, as_user, persona, coordinator):
    report = issued(coordinator)
    client = as_user(request.getfixturevalue(persona))
    urls = fund_pages() + [
        reverse("logistics:fund_report_detail", args=[report.pk]),
        reverse("logistics:fund_report_csv", args=[report.pk]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "403.html" in [t.name for t in response.templates]
    assert client.post(reverse("logistics:fund_report_issue")).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for url in fund_pages():
        assert client.get(url)["Location"].startswith(reverse("login")), url


def test_the_fund_reader_home_is_its_dashboard(as_user, fund_reader):
    response = as_user(fund_reader).get(reverse("home"))
    assert response.status_code == 200
    assert "fund_reports/dashboard.html" in [t.name for t in response.templates]
    menu = re.search(r'<ul id="site-menu">(.*?)</ul>', response.text, re.S)[1]
    assert f'href="{DASHBOARD}"' in menu
    assert f'href="{reverse("logistics:programme_list")}"' in menu
    assert f'href="{reverse("inventory:device_list")}"' not in menu


def test_the_coordination_menu_leads_to_the_fund_reports_and_the_programmes(as_user, coordinator):
    menu = re.search(
        r'<ul id="site-menu">(.*?)</ul>', as_user(coordinator).get(reverse("home")).text, re.S
    )[1]
    assert f'href="{DASHBOARD}"' in menu
    assert f'href="{reverse("logistics:programme_list")}"' in menu


def test_another_funders_programme_answers_404_everywhere(as_user, fund_reader, other_fund):
    _fund, programme = other_fund
    client = as_user(fund_reader)
    assert client.get(f"{DASHBOARD}?programme={programme.pk}").status_code == 404
    assert client.get(f"{DASHBOARD}?programme=abc").status_code == 404
    csv_url = reverse("logistics:fund_export_csv")
    assert client.get(f"{csv_url}?programme={programme.pk}").status_code == 404


# The dashboard --------------------------------------------------------------------------------


def test_the_dashboard_shows_the_years_key_figures(as_user, coordinator, year):
    response = as_user(coordinator).get(DASHBOARD + YEAR_QUERY)
    assert response.status_code == 200
    tiles = {str(tile["label"]): tile for tile in response.context["tiles"]}
    assert tiles["Devices received"]["value"]["text"] == "5"
    assert tiles["Devices handed over"]["detail"] == "3 gifts and 2 loans"
    assert tiles["Reuse rate"]["value"]["text"] == "83.3%"
    assert tiles["On loan at the period's end"]["detail"] == "of which 1 overdue"
    assert tiles["Structures equipped"]["detail"] == "out of 2 structures that asked"
    assert tiles["Wait, median (days)"]["value"]["text"] == "10.0"
    assert tiles["Wait, median (days)"]["detail"] == "90th percentile: 30.0"
    assert tiles["CO₂e avoided (kg)"]["value"]["text"] == "243"
    assert tiles["CO₂e avoided (kg)"]["detail"] == "1 device handed over is not estimated"
    text = visible_text(response.text)
    assert "from Jan. 1, 2025 to Dec. 31, 2025" in text
    assert "ADEME" in text  # the impact's source and its date
    assert "1 device handed over is not estimated" in text


def test_a_programme_scope_shows_a_dash_not_zero_for_the_network_only_figures(
    as_user, fund_reader, year
):
    response = as_user(fund_reader).get(f"{DASHBOARD}{YEAR_QUERY}&programme={year.a.pk}")
    assert response.status_code == 200
    tiles = {str(tile["label"]): tile for tile in response.context["tiles"]}
    assert tiles["Devices received"]["value"] == {"text": "—", "na": True}
    assert tiles["Devices handed over"]["value"]["text"] == "3"
    assert re.search(
        r'title="not applicable">—</span><span class="visually-hidden">', response.text
    )
    # Received and reconditioned do not apply to a programme: no chart for them.
    assert [c["chart"]["metric"] for c in response.context["charts"]] == [
        "handed_over",
        "units_asked",
    ]
    assert "The workshops' work is not attributed to a programme" in response.text


def test_each_monthly_chart_is_an_image_with_its_data_table(as_user, coordinator, year):
    response = as_user(coordinator).get(DASHBOARD + YEAR_QUERY)
    html = response.text
    charts = re.findall(r'<svg class="fund-chart__svg[^"]*"[^>]*role="img"[^>]*>', html)
    assert len(charts) == 4
    assert html.count('<details class="fund-chart__data">') == 4
    # The hand-overs' table: a row a month, the gifts and loans beside them.
    table = response.context["charts"][0]["table"]
    assert [c["name"] for c in table["columns"]] == ["handed_over", "gifts", "loans"]
    assert len(table["rows"]) == 12
    march = table["rows"][2]
    assert [cell["text"] for cell in march["cells"]] == ["2", "2", "0"]


def test_the_breakdown_by_commune_names_the_communes_in_a_scrolling_region(
    as_user, coordinator, year
):
    response = as_user(coordinator).get(f"{DASHBOARD}{YEAR_QUERY}&by=commune")
    assert response.context["dimension"] == "commune"
    labels = [row["label"] for row in response.context["breakdown"]["rows"]]
    assert labels == ["Antony", "Boulogne-Billancourt"]
    assert 'role="region" tabindex="0" aria-labelledby="breakdown-caption"' in response.text
    assert '<th scope="row">Antony</th>' in response.text
    # What does not apply to a commune is named, not shown as 0.
    assert "Devices received" in response.context["breakdown"]["omitted"]
    # The breakdown's links keep the period.
    link = next(d for d in response.context["dimensions"] if d["name"] == "purpose")
    assert "start=2025-01-01" in link["url"] and "by=purpose" in link["url"]


def test_an_unknown_breakdown_shows_the_default_one(as_user, coordinator, year):
    response = as_user(coordinator).get(f"{DASHBOARD}{YEAR_QUERY}&by=nope")
    assert response.status_code == 200
    assert response.context["dimension"] == "territory"


def test_workshops_and_programmes_against_their_targets(as_user, coordinator, year):
    response = as_user(coordinator).get(DASHBOARD + YEAR_QUERY)
    workshops = response.context["workshops"]["rows"]
    assert [row["label"] for row in workshops] == ["ECODAIR"]
    programmes = {row["name"]: row for row in response.context["programmes"]}
    assert programmes["Programme A"]["to_date"]["text"] == "3"
    assert programmes["Programme A"]["share"]["text"] == "30.0%"
    assert programmes["Programme B"]["share"]["na"]
    assert f'href="{reverse("logistics:programme_detail", args=[year.a.pk])}"' in response.text


def test_a_wrong_period_is_shown_on_its_field_and_no_figure_is_drawn(as_user, coordinator):
    response = as_user(coordinator).get(f"{DASHBOARD}?start=2025-13-01&end=2025-12-31")
    assert response.status_code == 400
    assert 'id="error-summary"' in response.text
    assert 'href="#id_start"' in response.text
    assert "tiles" not in response.context
    long = as_user(coordinator).get(f"{DASHBOARD}?start=2015-01-01&end=2025-12-31")
    assert long.status_code == 400
    assert "A period spans at most 5 years" in long.text


def test_empty_sections_say_so(as_user, coordinator):
    response = as_user(coordinator).get(DASHBOARD + YEAR_QUERY)
    assert response.status_code == 200
    text = visible_text(response.text)
    assert "Nothing to break down by EPT in this period" in text
    assert "No reconditioning ended or in progress in this period." in text
    assert "No programme runs in this period." in text


def test_the_fund_reader_issues_no_report_and_sees_no_button(as_user, fund_reader, year):
    response = as_user(fund_reader).get(DASHBOARD + YEAR_QUERY)
    assert reverse("logistics:fund_report_issue") not in response.text
    for link in response.context["downloads"]:
        assert "start=2025-01-01" in link["url"]


def test_the_dashboard_costs_the_same_queries_for_2_and_12_hand_overs(
    login, fund_reader, coordinator, structure_staff, workshop_org
):
    client = login(fund_reader)

    def add(count: int) -> None:
        gifts = allocated(
            coordinator=coordinator,
            structure_actor=structure_staff,
            workshop=workshop_org,
            count=count,
        )
        hand_over_create(
            actor=coordinator, allocation_ids=[a.pk for a in gifts], received_by_name="A"
        )

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(DASHBOARD).status_code == 200
        return len(captured)

    add(2)
    few = queries()
    add(10)
    assert queries() == few


def test_the_dashboard_pages_keep_the_strict_policy(as_user, coordinator, year):
    client = as_user(coordinator)
    report = issued(coordinator)
    for url in (
        DASHBOARD + YEAR_QUERY,
        REPORTS,
        reverse("logistics:fund_report_detail", args=[report.pk]),
        VERIFY,
        reverse("logistics:fund_report_verify_code", args=[report.verification_code]),
    ):
        assert_strict(client.get(url))


# Downloads ------------------------------------------------------------------------------------


def test_the_downloads_are_the_period_and_scope_shown(as_user, fund_reader, year):
    client = as_user(fund_reader)
    response = client.get(reverse("logistics:fund_export_csv") + YEAR_QUERY)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == (
        'attachment; filename="reemploi-fonds-2025-01-01-2025-12-31.csv"'
    )
    scoped = client.get(
        f"{reverse('logistics:fund_export_xlsx')}{YEAR_QUERY}&programme={year.a.pk}"
    )
    assert scoped.status_code == 200
    assert f"-{year.a.reference}.xlsx" in scoped["Content-Disposition"]
    pdf = client.get(reverse("logistics:fund_export_pdf") + YEAR_QUERY)
    assert pdf.content.startswith(b"%PDF")


def test_a_download_of_a_wrong_period_goes_back_to_the_dashboard(as_user, fund_reader):
    response = as_user(fund_reader).get(reverse("logistics:fund_export_csv") + "?end=2025-99-01")
    assert response.status_code == 302
    assert response["Location"].startswith(DASHBOARD + "?")


# Frozen reports -------------------------------------------------------------------------------


def test_the_coordination_issues_a_report_once_per_click(as_user, coordinator, year):
    client = as_user(coordinator)
    page = client.get(DASHBOARD + YEAR_QUERY)
    token = re.search(r'name="token" value="([0-9a-f]+)"', page.text)[1]
    data = {"start": "2025-01-01", "end": "2025-12-31", "token": token}
    first = client.post(reverse("logistics:fund_report_issue"), data)
    report = FundReport.objects.get()
    assert first["Location"] == reverse("logistics:fund_report_detail", args=[report.pk])
    assert (report.period_start, report.period_end, report.programme) == (
        dt.date(2025, 1, 1),
        dt.date(2025, 12, 31),
        None,
    )
    again = client.post(reverse("logistics:fund_report_issue"), data)
    assert again["Location"] == first["Location"]
    assert FundReport.objects.count() == 1


def test_a_programme_report_and_the_refusals_of_an_issue(
    as_user, coordinator, coordinator_org, fund_reader, year
):
    client = as_user(coordinator)
    url = reverse("logistics:fund_report_issue")
    data = {"start": "2025-01-01", "end": "2025-12-31", "programme": year.b.pk}
    client.post(url, data)
    assert FundReport.objects.get().programme == year.b
    wrong = client.post(url, {"start": "2025-12-31", "end": "2025-01-01"}, follow=True)
    assert "The report was not issued" in wrong.text
    assert FundReport.objects.count() == 1
    assert client.get(url).status_code == 405
    reader = make_user(organisation=coordinator_org, role="reader")
    assert as_user(reader).post(url, data).status_code == 403
    assert as_user(fund_reader).post(url, data).status_code == 403


def test_the_list_shows_the_network_and_own_programme_reports_only(
    as_user, coordinator, fund_reader, year, other_fund
):
    network = issued(coordinator)
    own = issued(coordinator, programme=year.a)
    others = issued(coordinator, programme=other_fund[1])
    response = as_user(fund_reader).get(REPORTS)
    shown = {report.pk for report in response.context["page"].object_list}
    assert shown == {network.pk, own.pk}
    assert as_user(coordinator).get(REPORTS).context["page"].count == 3
    detail = reverse("logistics:fund_report_detail", args=[others.pk])
    assert as_user(fund_reader).get(detail).status_code == 404


def test_the_list_says_when_no_report_was_issued(as_user, coordinator, fund_reader):
    assert "No report issued yet." in as_user(coordinator).get(REPORTS).text
    assert "The coordination issues the reports" in as_user(fund_reader).get(REPORTS).text


def test_the_report_list_costs_the_same_queries_for_1_and_5_reports(login, coordinator):
    client = login(coordinator)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(REPORTS).status_code == 200
        return len(captured)

    issued(coordinator)
    few = queries()
    for _ in range(4):
        issued(coordinator)
    assert queries() == few


def test_a_report_shows_its_code_fingerprints_files_and_no_change_yet(as_user, coordinator, year):
    report = issued(coordinator, programme=year.a)
    response = as_user(coordinator).get(reverse("logistics:fund_report_detail", args=[report.pk]))
    code = report.verification_code
    assert f"{code[:4]}-{code[4:8]}-{code[8:12]}-{code[12:]}" in response.text
    for digest in (report.figures_sha256, report.pdf_sha256, report.csv_sha256):
        assert digest in response.text
    assert reverse("logistics:fund_report_xlsx", args=[report.pk]) in response.text
    assert "No change: computed again today" in response.text
    stored = as_user(coordinator).get(reverse("logistics:fund_report_csv", args=[report.pk]))
    assert stored.content == services.report_file(report, "csv")
    assert (
        f'filename="{report.reference}-2025-01-01-2025-12-31.csv"'
        in (stored["Content-Disposition"])
    )


def test_a_correction_after_the_issue_is_listed_and_the_report_keeps_its_figures(
    as_user, coordinator, year
):
    report = issued(coordinator)
    frozen = report.figures["totals"]["received"]
    Device.objects.filter(pk=year.devices["d6"].pk).update(
        created_at=dt.datetime(2025, 5, 5, 12, tzinfo=dt.UTC)
    )
    response = as_user(coordinator).get(reverse("logistics:fund_report_detail", args=[report.pk]))
    changes = response.context["changes"]
    totals = next(c for c in changes if str(c["section"]) == "Totals")
    assert (totals["frozen"]["text"], totals["now"]["text"]) == ("5", "6")
    # The month's row is named as the report names it (issued in French: "mai 2025").
    assert any(str(c["section"]) == "Month" and "2025" in c["label"] for c in changes)
    report.refresh_from_db()
    assert report.figures["totals"]["received"] == frozen


def test_a_missing_file_is_said_and_never_drawn_again(as_user, coordinator, year):
    report = issued(coordinator)
    default_storage.delete(report.pdf_file)
    client = as_user(coordinator)
    detail = client.get(reverse("logistics:fund_report_detail", args=[report.pk]))
    assert "PDF: file missing" in detail.text
    assert reverse("logistics:fund_report_pdf", args=[report.pk]) not in detail.text
    missing = client.get(reverse("logistics:fund_report_pdf", args=[report.pk]))
    assert missing.status_code == 404
    assert "The report's PDF file is missing" in missing.text


def test_a_network_report_names_no_programme_even_in_its_changes(
    as_user, coordinator, fund_reader, year, other_fund
):
    from logistics.models import Allocation

    report = issued(coordinator)
    # A correction: one of the year's hand-overs moved to the other funder's programme.
    moved = Allocation.objects.filter(programme=year.a).first()
    Allocation.objects.filter(pk=moved.pk).update(programme=other_fund[1])
    url = reverse("logistics:fund_report_detail", args=[report.pk])
    seen_by_fund = as_user(fund_reader).get(url)
    assert other_fund[1].name not in seen_by_fund.text
    # Every fund reads the network's report: its programmes are one merged row for all.
    assert other_fund[1].name not in as_user(coordinator).get(url).text
    assert year.a.name not in seen_by_fund.text


# The public check -----------------------------------------------------------------------------


def test_anyone_checks_a_report_by_its_code_without_a_name(client, coordinator, year):
    coordinator.first_name, coordinator.last_name = "Claire", "Dubois"
    coordinator.save()
    report = issued(coordinator, programme=year.a)
    typed = report.verification_code.lower()
    typed = "-".join(typed[i : i + 4] for i in range(0, 16, 4))
    response = client.get(VERIFY, {"code": typed})
    url = reverse("logistics:fund_report_verify_code", args=[report.verification_code])
    assert response["Location"] == url
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "This report is genuine." in page.text
    for digest in (report.figures_sha256, report.pdf_sha256, report.xlsx_sha256):
        assert digest in page.text
    assert "Programme A" in page.text
    assert "Claire" not in page.text
    assert "Dubois" not in page.text


def test_a_wrong_code_says_so_clearly(client, coordinator, year):
    report = issued(coordinator)
    code = verification_code_new()
    assert code != report.verification_code
    unknown = client.get(
        reverse("logistics:fund_report_verify_code", args=[code]), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert unknown.status_code == 404
    assert "no report has this verification code" in unknown.text
    malformed = client.get(VERIFY, {"code": "ABC"}, HTTP_ACCEPT_LANGUAGE="en")
    assert malformed.status_code == 404
    assert "this is not a valid verification code" in malformed.text
