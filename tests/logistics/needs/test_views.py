"""The needs screens as structures and the coordination use them: declaring, changing and
deciding needs, the register with its filters and units, and its exports."""

import csv
import datetime
import io
import re

import openpyxl
import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext

from inventory.models import Commune, Role
from inventory.states import OrgKind
from logistics.models import Need, NeedLine
from logistics.needs.lifecycle import NeedStatus
from tests.builders import accepted_need, make_need, make_organisation, make_user

pytestmark = pytest.mark.django_db

LIST = reverse("logistics:need_list")
NEW = reverse("logistics:need_create")
CSV = reverse("logistics:need_export_csv")
XLSX = reverse("logistics:need_export_xlsx")


def detail_url(need) -> str:
    return reverse("logistics:need_detail", args=[need.pk])


def edit_url(need) -> str:
    return reverse("logistics:need_edit", args=[need.pk])


def form_data(*rows: dict, intent: str = "draft", **overrides) -> dict:
    """A filled form: the need's fields, then rows of lines (three by default, as shown)."""
    data = {
        "token": "t-1",
        "rows": str(max(3, len(rows))),
        "purpose": "public_access",
        "public": "seniors",
        "mode": "gift",
        "loan_weeks": "",
        "urgency": "normal",
        "justification": "Atelier numérique du mardi",
        "intent": intent,
    }
    for index, row in enumerate(rows):
        data |= {f"lines-{index}-{name}": value for name, value in row.items()}
    return data | overrides


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def parse_csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content if response.streaming else [response.content])
    return list(csv.reader(io.StringIO(text.decode("utf-8-sig")), delimiter=";"))


def parse_xlsx(response) -> list[tuple]:
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    return list(workbook.active.iter_rows(values_only=True))


@pytest.fixture(autouse=True)
def english(settings):
    # Messages are checked in the source language (the catalogue has them in French).
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def other_structure(db):
    return make_organisation(
        kind=OrgKind.STRUCTURE,
        name="Centre social Boulogne",
        structure_type="CCAS",
        commune=Commune.objects.get(insee_code="92012"),
    )


@pytest.fixture
def other_structure_staff(other_structure):
    return make_user(organisation=other_structure, username="boulogne")


@pytest.fixture
def roomy(settings):
    # The cap of open needs per structure is the services' concern, not these screens'.
    settings.REEMPLOI_NEEDS_OPEN_CAP = 100


# Declaring a need


def test_a_structure_saves_a_draft_and_a_blank_row_is_ignored(
    login, structure_staff, structure_org
):
    response = login(structure_staff).post(
        NEW,
        form_data(
            {"category": "", "quantity": ""},
            {"category": "laptop", "quantity": "4", "min_ram_gb": "8", "os_family": "windows"},
            {"category": "tablet", "quantity": "2", "min_screen_inches": "10,1"},
        ),
    )
    need = Need.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(need)
    assert need.structure == structure_org and need.status == NeedStatus.DRAFT
    lines = list(need.lines.order_by("id").values_list("category_id", "quantity", "min_ram_gb"))
    assert lines == [("laptop", 4, 8), ("tablet", 2, None)]
    assert need.created_by == structure_staff


def test_a_structure_submits_a_need_to_the_coordination_at_once(login, structure_staff):
    login(structure_staff).post(
        NEW, form_data({"category": "smartphone", "quantity": "5"}, intent="submit")
    )
    need = Need.objects.get()
    assert need.status == NeedStatus.SUBMITTED and need.submitted_at is not None


def test_a_loan_keeps_its_length_in_weeks(login, structure_staff):
    login(structure_staff).post(
        NEW, form_data({"category": "laptop", "quantity": "1"}, mode="loan", loan_weeks="12")
    )
    assert Need.objects.get().loan_weeks == 12


def test_mistakes_are_shown_on_their_fields_and_nothing_is_recorded(login, structure_staff):
    page = login(structure_staff).post(
        NEW,
        form_data(
            {"category": "", "quantity": ""},
            {"category": "laptop", "quantity": "abc"},
            purpose="",
            mode="loan",
            loan_weeks="",
        ),
    )
    assert page.status_code == 200
    assert not Need.objects.exists() and not NeedLine.objects.exists()
    assert 'id="error-summary"' in page.text
    # The service's second line is the form's second row (the blank first one was left out).
    assert 'href="#id_lines-1-quantity"' in page.text
    assert 'id="id_lines-1-quantity_error"' in page.text
    assert 'href="#id_purpose"' in page.text and 'href="#id_loan_weeks"' in page.text
    # What was typed is still there.
    assert re.search(r'name="lines-1-quantity" value="abc"', page.text)
    assert "Atelier numérique du mardi" in page.text


def test_a_need_without_any_line_says_so(login, structure_staff):
    page = login(structure_staff).post(NEW, form_data())
    assert not Need.objects.exists()
    assert 'id="lines-errors"' in page.text


def test_the_same_form_posted_twice_records_one_need(login, structure_staff):
    client = login(structure_staff)
    data = form_data({"category": "laptop", "quantity": "2"}, intent="submit")
    first = client.post(NEW, data)
    second = client.post(NEW, data)
    need = Need.objects.get()
    assert first["Location"] == second["Location"] == detail_url(need)
    assert need.lines.count() == 1
    assert "This need was already recorded." in messages_of(second)


def test_add_line_shows_one_more_row_and_records_nothing(login, structure_staff):
    page = login(structure_staff).post(
        NEW, form_data({"category": "laptop", "quantity": "7"}, add_line="1")
    )
    assert page.status_code == 200
    assert not Need.objects.exists()
    assert 'name="rows" value="4"' in page.text
    assert 'name="lines-3-category"' in page.text and 'name="lines-4-category"' not in page.text
    assert re.search(r'name="lines-0-quantity" value="7"', page.text)
    assert 'id="error-summary"' not in page.text


def test_the_coordination_declares_for_the_structure_it_chooses(login, coordinator, structure_org):
    client = login(coordinator)
    refused = client.post(NEW, form_data({"category": "laptop", "quantity": "1"}))
    assert not Need.objects.exists()
    assert 'href="#id_structure"' in refused.text
    client.post(
        NEW,
        form_data({"category": "laptop", "quantity": "1"}, structure=str(structure_org.pk)),
    )
    assert Need.objects.get().structure == structure_org


def test_a_reader_of_a_structure_reads_its_needs_but_declares_none(
    login, structure_org, structure_staff
):
    make_need(actor=structure_staff)
    reader = make_user(organisation=structure_org, role=Role.READER)
    client = login(reader)
    page = client.get(LIST)
    assert page.status_code == 200 and f'href="{NEW}"' not in page.text
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, form_data({"category": "laptop", "quantity": "1"})).status_code == 403
    assert Need.objects.count() == 1


# Who sees what


def test_a_structure_sees_only_its_own_needs(login, structure_staff, other_structure_staff, roomy):
    own = make_need(actor=structure_staff)
    other = make_need(actor=other_structure_staff)
    client = login(structure_staff)
    page = client.get(LIST)
    assert own.reference in page.text and other.reference not in page.text
    for url in (detail_url(other), edit_url(other)):
        assert client.get(url).status_code == 404
    assert client.post(detail_url(other), {"action": "cancel"}).status_code == 404
    assert Need.objects.get(pk=other.pk).status == NeedStatus.SUBMITTED
    assert client.get(detail_url(own)).status_code == 200


@pytest.mark.parametrize("persona", ["workshop_staff", "fund_reader"])
def test_workshops_and_the_fund_are_refused_every_needs_screen(
    request, login, persona, structure_staff
):
    need = make_need(actor=structure_staff)
    client = login(request.getfixturevalue(persona))
    for url in (LIST, NEW, CSV, XLSX, detail_url(need), edit_url(need)):
        assert client.get(url).status_code == 403, url
    assert client.post(detail_url(need), {"action": "cancel"}).status_code == 403
    assert Need.objects.get().status == NeedStatus.SUBMITTED


def test_anonymous_visitors_are_sent_to_log_in():
    response = Client().get(LIST)
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_menu_leads_structures_and_the_coordination_to_the_needs(
    login, structure_staff, coordinator, workshop_staff
):
    for user in (structure_staff, coordinator):
        assert f'href="{LIST}"' in login(user).get("/").text
    assert f'href="{LIST}"' not in login(workshop_staff).get("/").text


def test_the_structures_list_shows_each_need_with_its_status_and_lines(login, structure_staff):
    draft = make_need(
        actor=structure_staff,
        submit=False,
        lines=[{"category": "laptop", "quantity": 3}, {"category": "smartphone", "quantity": 1}],
    )
    page = login(structure_staff).get(LIST)
    assert draft.reference in page.text and detail_url(draft) in page.text
    assert "status--neutral" in page.text
    assert re.search(r"3 × [^,<]+, 1 × ", page.text)


def test_an_empty_list_tells_a_structure_how_to_declare(login, structure_staff):
    page = login(structure_staff).get(LIST)
    assert 'class="empty"' in page.text and f'href="{NEW}"' in page.text


# One need and its moves


def test_a_structure_submits_its_draft_from_its_page(login, structure_staff):
    need = make_need(actor=structure_staff, submit=False)
    client = login(structure_staff)
    page = client.get(detail_url(need))
    assert 'value="submit"' in page.text and edit_url(need) in page.text
    assert 'value="accept"' not in page.text
    response = client.post(detail_url(need), {"action": "submit", "version": need.version})
    assert response.status_code == 302
    assert Need.objects.get().status == NeedStatus.SUBMITTED


def test_the_coordinator_accepts_with_adjusted_quantities(login, coordinator, structure_staff):
    need = make_need(
        actor=structure_staff,
        lines=[{"category": "laptop", "quantity": 4}, {"category": "tablet", "quantity": 2}],
    )
    laptops, tablets = need.lines.order_by("id")
    client = login(coordinator)
    page = client.get(detail_url(need))
    # Each line offered with the units asked.
    assert re.search(rf'name="accept-{laptops.pk}"[^>]*value="4"', page.text)
    response = client.post(
        detail_url(need),
        {
            "action": "accept",
            "version": need.version,
            f"accept-{laptops.pk}": "3",
            f"accept-{tablets.pk}": "0",
        },
    )
    assert response.status_code == 302
    need.refresh_from_db()
    assert need.status == NeedStatus.ACCEPTED
    accepted = dict(need.lines.values_list("category_id", "quantity_accepted"))
    assert accepted == {"laptop": 3, "tablet": 0}
    assert any(need.reference in message and " 3 " in message for message in messages_of(response))


def test_accepting_more_than_asked_is_refused_and_keeps_the_quantities(
    login, coordinator, structure_staff
):
    need = make_need(actor=structure_staff, lines=[{"category": "laptop", "quantity": 2}])
    line = need.lines.get()
    page = login(coordinator).post(
        detail_url(need),
        {"action": "accept", "version": need.version, f"accept-{line.pk}": "9"},
    )
    assert page.status_code == 200
    assert Need.objects.get().status == NeedStatus.SUBMITTED
    assert re.search(rf'name="accept-{line.pk}"[^>]*value="9"', page.text)
    assert f'id="accept-{line.pk}-error"' in page.text
    assert any(message.startswith("Line 1 (") for message in messages_of(page))


def test_declining_without_a_reason_is_refused_with_a_message(login, coordinator, structure_staff):
    need = make_need(actor=structure_staff)
    page = login(coordinator).post(
        detail_url(need), {"action": "decline", "version": need.version, "reason": "  "}
    )
    assert page.status_code == 200
    assert Need.objects.get().status == NeedStatus.SUBMITTED
    assert "Tell the structure why its need is declined." in messages_of(page)
    assert 'id="decline-reason-error"' in page.text


def test_a_declined_need_shows_the_structure_why(login, coordinator, structure_staff):
    need = make_need(actor=structure_staff)
    login(coordinator).post(
        detail_url(need),
        {"action": "decline", "version": need.version, "reason": "Pas de tablettes ce mois-ci"},
    )
    assert Need.objects.get().status == NeedStatus.DECLINED
    page = login(structure_staff).get(detail_url(need))
    assert "Pas de tablettes ce mois-ci" in page.text
    assert 'value="cancel"' not in page.text and 'value="submit"' not in page.text


def test_the_structure_cancels_its_need_with_a_reason(login, structure_staff):
    need = make_need(actor=structure_staff)
    response = login(structure_staff).post(
        detail_url(need),
        {"action": "cancel", "version": need.version, "reason": "Matériel reçu d'ailleurs"},
    )
    assert response.status_code == 302
    need.refresh_from_db()
    assert (need.status, need.reason) == (NeedStatus.CANCELLED, "Matériel reçu d'ailleurs")
    history = login(structure_staff).get(detail_url(need)).text
    assert escape("Matériel reçu d'ailleurs") in history


def test_a_second_click_on_a_move_already_done_changes_nothing(login, coordinator, structure_staff):
    need = make_need(actor=structure_staff)
    client = login(coordinator)
    data = {"action": "accept", "version": need.version}
    client.post(detail_url(need), data)
    again = client.post(detail_url(need), data)
    assert again.status_code == 302
    assert Need.history.filter(history_change_reason="need_accept").count() == 1
    assert any("nothing changed" in message for message in messages_of(again))


def test_the_history_says_who_did_what(login, coordinator, structure_staff):
    need = accepted_need(structure_actor=structure_staff, coordinator=coordinator)
    page = login(structure_staff).get(detail_url(need))
    timeline = re.search(r'<ol class="timeline">(.*?)</ol>', page.text, re.S)[1]
    entries = re.findall(r'class="timeline__entry">(.*?)</li>', timeline, re.S)
    # Newest first: the coordination's decision, then the structure's declaration.
    assert len(entries) == 2
    assert re.search(r"\bcoord\b", entries[0]) and re.search(r"\bstructure\b", entries[1])


# Changing a need


def test_a_structure_changes_its_submitted_need_and_its_lines(login, structure_staff):
    need = make_need(actor=structure_staff)
    client = login(structure_staff)
    form = client.get(edit_url(need))
    assert re.search(r'name="lines-0-quantity" value="2"', form.text)
    token = re.search(r'name="token" value="([^"]+)"', form.text)[1]
    response = client.post(
        edit_url(need),
        form_data(
            {"category": "desktop", "quantity": "1"},
            token=token,
            version=str(need.version),
            urgency="high",
        ),
    )
    assert response.status_code == 302
    need.refresh_from_db()
    assert need.urgency == "high" and need.status == NeedStatus.SUBMITTED
    assert list(need.lines.values_list("category_id", "quantity")) == [("desktop", 1)]


def test_a_change_made_on_a_stale_page_is_refused_and_kept(login, structure_staff):
    need = make_need(actor=structure_staff)
    page = login(structure_staff).post(
        edit_url(need),
        form_data({"category": "desktop", "quantity": "1"}, version=str(need.version - 1)),
    )
    assert page.status_code == 200
    assert 'id="error-summary"' in page.text
    assert re.search(r'name="lines-0-category"[^>]*>.*?value="desktop" selected', page.text, re.S)
    assert Need.objects.get().lines.get().category_id == "laptop"


def test_a_decided_need_can_no_longer_be_changed(login, coordinator, structure_staff):
    need = accepted_need(structure_actor=structure_staff, coordinator=coordinator)
    client = login(structure_staff)
    assert edit_url(need) not in client.get(detail_url(need)).text
    response = client.get(edit_url(need))
    assert response.status_code == 302 and response["Location"] == detail_url(need)


# The register


@pytest.fixture
def register(structure_staff, other_structure_staff, coordinator, roomy):
    """Needs of two structures in two territories, one of them old and accepted."""
    antony_laptops = make_need(
        actor=structure_staff, lines=[{"category": "laptop", "quantity": 4}], public="seniors"
    )
    antony_draft = make_need(
        actor=structure_staff, submit=False, lines=[{"category": "tablet", "quantity": 1}]
    )
    boulogne = accepted_need(
        structure_actor=other_structure_staff,
        coordinator=coordinator,
        lines=[{"category": "laptop", "quantity": 5}, {"category": "smartphone", "quantity": 3}],
        purpose="lent_to_people",
    )
    Need.objects.filter(pk=boulogne.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=40)
    )
    return {"laptops": antony_laptops, "draft": antony_draft, "boulogne": boulogne}


def references(page, register) -> set[str]:
    return {name for name, need in register.items() if need.reference in page.text}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, {"laptops", "draft", "boulogne"}),
        ({"status": "draft"}, {"draft"}),
        ({"territory": "T3"}, {"boulogne"}),
        ({"commune": "92002"}, {"laptops", "draft"}),
        ({"structure_type": "CCAS"}, {"boulogne"}),
        ({"category": "laptop"}, {"laptops", "boulogne"}),
        ({"public": "seniors"}, {"laptops"}),
        ({"purpose": "lent_to_people"}, {"boulogne"}),
        ({"older_than_days": "30"}, {"boulogne"}),
    ],
)
def test_the_register_filters_narrow_the_list(login, coordinator, register, query, expected):
    page = login(coordinator).get(LIST, query)
    assert page.status_code == 200
    assert references(page, register) == expected


def test_the_register_shows_the_units_of_the_selection(login, coordinator, register):
    client = login(coordinator)
    everything = client.get(LIST).context["units"]
    # The draft's tablet is not asked yet.
    assert (everything.asked, everything.accepted, everything.served) == (12, 8, 0)
    laptops = client.get(LIST, {"category": "laptop"}).context["units"]
    assert (laptops.asked, laptops.accepted) == (9, 5)
    assert re.search(r"<dd>12</dd>", client.get(LIST).text)


def test_a_wrong_filter_is_shown_on_its_field_and_not_applied(login, coordinator, register):
    page = login(coordinator).get(LIST, {"older_than_days": "-3"})
    assert 'id="id_older_than_days_error"' in page.text
    assert references(page, register) == {"laptops", "draft", "boulogne"}
    assert login(coordinator).get(CSV, {"older_than_days": "-3"}).status_code == 302


def test_the_register_links_its_exports_to_the_same_selection(login, coordinator, register):
    page = login(coordinator).get(LIST, {"territory": "T3", "page": "1"})
    assert f"{CSV}?territory=T3" in page.text and f"{XLSX}?territory=T3" in page.text


def test_a_structure_is_not_offered_the_register_and_its_exports(login, structure_staff, register):
    page = login(structure_staff).get(LIST)
    assert CSV not in page.text and 'name="territory"' not in page.text
    assert login(structure_staff).get(CSV).status_code == 403


@pytest.fixture
def exported(coordinator, structure_staff, structure_org, register):
    """People's details everywhere they could leak from, and a name made to run as a formula."""
    structure_staff.email = "agent@structure.example"
    structure_staff.first_name, structure_staff.last_name = "Inès", "Agent"
    structure_staff.save()
    structure_org.contact_email = "contact@structure.example"
    structure_org.contact_phone = "01 02 03 04 05"
    structure_org.name = '=HYPERLINK("http://evil.example")'
    structure_org.save()
    return register


def test_the_csv_export_has_one_row_per_line_and_no_personal_data(login, coordinator, exported):
    response = login(coordinator).get(CSV)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = parse_csv(response)
    header, body = rows[0], rows[1:]
    assert len(body) == 4  # 1 + 1 + 2 lines
    by_reference = {}
    for row in body:
        by_reference.setdefault(row[0], []).append(row)
    boulogne = by_reference[exported["boulogne"].reference]
    quantities = header.index(gettext("Quantity accepted"))
    assert sorted(row[quantities] for row in boulogne) == ["3", "5"]
    assert {row[header.index(gettext("Territory (EPT)"))] for row in boulogne} == {
        "Grand Paris Seine Ouest"
    }
    text = response.content.decode("utf-8-sig")
    assert "@" not in text and "01 02 03" not in text and "Inès" not in text
    # The structure's name is text, never a formula.
    assert by_reference[exported["laptops"].reference][0][1].startswith("'=")


def test_the_csv_export_follows_the_filters(login, coordinator, register):
    rows = parse_csv(login(coordinator).get(CSV, {"status": "draft"}))
    assert [row[0] for row in rows[1:]] == [register["draft"].reference]


def test_the_xlsx_export_opens_with_the_same_rows_and_no_personal_data(
    login, coordinator, exported
):
    response = login(coordinator).get(XLSX, {"commune": "92002"})
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.xlsx"')
    rows = parse_xlsx(response)
    header, body = rows[0], rows[1:]
    assert sorted(row[0] for row in body) == sorted(
        [exported["laptops"].reference, exported["draft"].reference]
    )
    asked = header.index(gettext("Quantity asked"))
    assert sorted(row[asked] for row in body) == [1, 4]
    assert isinstance(body[0][header.index(gettext("Declared on"))], datetime.datetime)
    cells = [str(value) for row in rows for value in row if value is not None]
    assert not any("@" in value or "Inès" in value for value in cells)
    # Kept as the text typed, not stored as a formula.
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert {cell.data_type for cell in workbook.active["B"][1:]} == {"s"}


# Costs


def test_the_list_costs_the_same_queries_for_3_and_15_needs(
    login, coordinator, structure_staff, roomy
):
    def queries_for(user, count: int) -> int:
        for _ in range(count - Need.objects.count()):
            make_need(
                actor=structure_staff,
                lines=[
                    {"category": "laptop", "quantity": 1},
                    {"category": "tablet", "quantity": 1},
                ],
            )
        client = login(user)
        with CaptureQueriesContext(connection) as queries:
            page = client.get(LIST)
        assert page.text.count("BES-") >= count
        return len(queries)

    assert queries_for(coordinator, 3) == queries_for(coordinator, 15)
    Need.objects.all().delete()
    assert queries_for(structure_staff, 3) == queries_for(structure_staff, 15)


def test_enter_in_a_field_saves_a_draft_rather_than_adding_a_line_or_submitting(
    login, structure_staff
):
    # A browser's Enter presses the form's first submit button.
    page = login(structure_staff).get(NEW).text
    form = page[page.index('<form method="post"') :]
    first = re.search(r"<button[^>]*type=\"submit\"[^>]*>", form).group(0)
    assert 'name="intent"' in first and 'value="draft"' in first


def test_a_structures_page_counts_its_needs_and_links_to_them(
    login, coordinator, structure_staff, structure_org, other_structure_staff
):
    make_need(actor=structure_staff)
    make_need(actor=other_structure_staff)
    page = login(coordinator).get(reverse("inventory:structure_detail", args=[structure_org.pk]))
    link = f"{LIST}?structure={structure_org.pk}"
    assert link in page.text and "1 open out of 1 need" in page.text
    listed = login(coordinator).get(link)
    assert len(listed.context["page"].object_list) == 1
