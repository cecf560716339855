"""No personal data in any report or export (GDPR, the domain brief): the demo's people —
users' names, e-mails and usernames, organisations' contacts, the names written on receipts
and on donations' attestations — are searched for in every output of the fund's reports:
the document, CSV, XLSX, PDF, the frozen report's stored files, the API and the dashboard."""

import datetime as dt
import io
import json
import zipfile

import pypdfium2 as pdfium
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from inventory.models import Donation, Organisation
from logistics.fund_reports import figures
from logistics.fund_reports.exports import report_csv, report_xlsx
from logistics.fund_reports.pdf import report_pdf
from logistics.fund_reports.selectors import report_build
from logistics.fund_reports.services import report_file, report_issue
from logistics.models import FundingProgramme, HandOver
from tests.builders import session_client

pytestmark = [pytest.mark.slow]
FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def personal_values() -> set[str]:
    """Every person's name, e-mail, phone and username the demo holds (3 characters or
    more: initials would match anything)."""
    values = set()
    for user in get_user_model().objects.all():
        values |= {user.first_name, user.last_name, user.email, user.username}
        values.add(user.get_full_name())
    for organisation in Organisation.objects.all():
        values |= {
            organisation.contact_name,
            organisation.contact_email,
            organisation.contact_phone,
        }
    for hand_over in HandOver.objects.all():
        values |= {hand_over.received_by_name, hand_over.signer_name}
    values |= set(Donation.objects.values_list("attested_by", flat=True))
    # Usernames that are ordinary words of the reports' vocabulary are not personal.
    return {value.strip() for value in values if value and len(value.strip()) >= 3} - {
        "fonds",
        "structure",
        "atelier",
        "coordination",
        "admin",
    }


def pdf_text(content: bytes) -> str:
    document = pdfium.PdfDocument(content)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def xlsx_text(content: bytes) -> str:
    # Every string of the workbook: shared strings and inline ones, in every part.
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return "\n".join(
            archive.read(name).decode("utf-8", "replace")
            for name in archive.namelist()
            if name.endswith(".xml")
        )


@pytest.mark.django_db(transaction=False)
@override_settings(PASSWORD_HASHERS=FAST_HASHER)
def test_no_export_names_a_person(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_logistics_demo", stdout=io.StringIO())
    people = personal_values()
    assert len(people) > 10  # the demo holds people: the search has something to find
    today = timezone.localdate()
    period = figures.Period(today - dt.timedelta(days=365), today)
    outputs: dict[str, str] = {}
    for programme in [None, *FundingProgramme.objects.all()]:
        scope = figures.Scope(programme=programme)
        document = report_build(period, scope)
        name = programme.name if programme else "network"
        outputs[f"{name} document"] = json.dumps(document, ensure_ascii=False)
        outputs[f"{name} csv"] = report_csv(document).decode("utf-8-sig")
        outputs[f"{name} xlsx"] = xlsx_text(report_xlsx(document))
        outputs[f"{name} pdf"] = pdf_text(report_pdf(document))
    coordinator = get_user_model().objects.get(username="coordination")
    report = report_issue(actor=coordinator, period=period, scope=figures.Scope())
    outputs["frozen figures"] = json.dumps(report.figures, ensure_ascii=False)
    outputs["frozen csv"] = report_file(report, "csv").decode("utf-8-sig")
    outputs["frozen xlsx"] = xlsx_text(report_file(report, "xlsx"))
    outputs["frozen pdf"] = pdf_text(report_file(report, "pdf"))
    for username in ("coordination", "fonds"):
        client = session_client(get_user_model().objects.get(username=username))
        for url in ("/fund/", f"/fund/reports/{report.pk}/", "/api/fund/reports/"):
            response = client.get(url)
            assert response.status_code == 200, url
            text = response.content.decode()
            if "<main" in text:  # a page: its content, not the signed-in user's own menu
                text = text[text.index("<main") : text.index("</main>")]
            outputs[f"{username} {url}"] = text
    found = {
        (where, value)
        for where, text in outputs.items()
        for value in people
        if value.lower() in text.lower()
    }
    assert not found
