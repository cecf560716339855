"""The coordination's structure screens: the list with its filters, adding and editing a
structure (a stale edit kept), deactivating it, inviting its people by e-mail (once, whatever
the clicks), and importing a data·inclusion file through a preview. Other organisations get
403, the coordination's readers read only, and an organisation of another kind is no
structure (404)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory.models import Commune, Membership, Organisation, Role
from inventory.organisations import services as orgs
from inventory.selectors import user_scope
from inventory.states import OrgKind
from inventory.web import structure_facts
from tests.builders import make_organisation, make_user, valid_siret

pytestmark = pytest.mark.django_db

LIST = reverse("inventory:structure_list")
NEW = reverse("inventory:structure_create")
IMPORT = reverse("inventory:structure_import")


def detail(structure) -> str:
    return reverse("inventory:structure_detail", args=[structure.pk])


def edit(structure) -> str:
    return reverse("inventory:structure_edit", args=[structure.pk])


def set_active(structure) -> str:
    return reverse("inventory:structure_set_active", args=[structure.pk])


def person_url(name: str, structure, user) -> str:
    return reverse(f"inventory:{name}", args=[structure.pk, user.pk])


def form_fields(**overrides) -> dict:
    return {
        "name": "Centre social Le Phare",
        "siret": valid_siret(701),
        "rna": "",
        "structure_type": "CS",
        "commune": "92050",
        "address": "3 rue du Port",
        "contact_name": "Inès Martin",
        "contact_email": "accueil@lephare.example",
        "contact_phone": "01 47 00 00 00",
        "soliguide_id": "12345",
        "dora_id": "",
    } | overrides


def hidden(page, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', page.text)[1]


@pytest.fixture(autouse=True)
def english(settings):
    # The pages in English, whatever the French catalogue holds yet.
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def coordination_reader(coordinator_org):
    return make_user(organisation=coordinator_org, role=Role.READER, username="lecteur")


@pytest.fixture
def pending_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path / "imports"


# The list


def test_the_list_shows_each_structure_with_its_place_and_people(
    login, coordinator, structure_org, structure_staff
):
    make_organisation(kind=OrgKind.STRUCTURE, name="Médiathèque Boulogne", is_active=False)
    page = login(coordinator).get(LIST)
    assert page.status_code == 200
    text = page.text
    assert "Centre social Antony" in text and "Médiathèque Boulogne" in text
    assert "Antony" in text and "Vallée Sud Grand Paris" in text
    assert structure_org.siret in text
    row = re.search(r"Centre social Antony.*?</tr>", text, re.S)[0]
    assert re.search(r'data-label="People">1</td>', row)
    assert 'aria-current="page">Structures<' in text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, {"Centre social Antony", "Médiathèque Boulogne", "CCAS Clichy"}),
        ({"territory": "T2"}, {"Centre social Antony"}),
        ({"structure_type": "CCAS"}, {"CCAS Clichy"}),
        ({"active": "no"}, {"Médiathèque Boulogne"}),
        ({"active": "yes", "q": "clichy"}, {"CCAS Clichy"}),
        ({"q": valid_siret(888)}, {"CCAS Clichy"}),
        ({"territory": "T9"}, {"Centre social Antony", "Médiathèque Boulogne", "CCAS Clichy"}),
    ],
)
def test_the_filters_narrow_the_list(login, coordinator, structure_org, query, expected):
    make_organisation(
        kind=OrgKind.STRUCTURE,
        name="Médiathèque Boulogne",
        commune=Commune.objects.get(insee_code="92012"),
        is_active=False,
    )
    make_organisation(
        kind=OrgKind.STRUCTURE,
        name="CCAS Clichy",
        structure_type="CCAS",
        siret=valid_siret(888),
        commune=Commune.objects.get(insee_code="92024"),
    )
    page = login(coordinator).get(LIST, query)
    assert page.status_code == 200
    names = set(
        re.findall(r'<th scope="row"[^>]*><a href="/structures/\d+/">([^<]+)</a>', page.text)
    )
    assert names == expected


def test_an_empty_list_says_what_to_do(login, coordinator):
    page = login(coordinator).get(LIST)
    assert "No structure yet." in page.text
    assert f'href="{IMPORT}"' in page.text
    filtered = login(coordinator).get(LIST, {"q": "nothing like it"})
    assert "No structure matches these filters." in filtered.text


def test_the_list_is_paged(login, coordinator):
    for number in range(55):
        make_organisation(kind=OrgKind.STRUCTURE, name=f"Structure {number:02d}")
    client = login(coordinator)
    first = client.get(LIST)
    assert first.text.count('<th scope="row"') == 50
    assert "55 structures" in first.text
    next_link = re.search(r'href="([^"]+)" rel="next"', first.text)[1].replace("&amp;", "&")
    second = client.get(LIST + next_link)
    assert second.text.count('<th scope="row"') == 5
    assert "Structure 54" in second.text


def test_the_list_costs_the_same_queries_for_3_and_15_structures(login, coordinator):
    def queries_for(count: int) -> int:
        while Organisation.objects.filter(kind=OrgKind.STRUCTURE).count() < count:
            structure = make_organisation(kind=OrgKind.STRUCTURE)
            make_user(organisation=structure)
        client = login(coordinator)
        with CaptureQueriesContext(connection) as queries:
            page = client.get(LIST)
        assert page.text.count('<th scope="row"') == count
        return len(queries)

    assert queries_for(3) == queries_for(15)


# Adding and editing


def test_the_coordination_adds_a_structure(login, coordinator):
    client = login(coordinator)
    form = client.get(NEW)
    assert form.status_code == 200
    assert '<optgroup label="Boucle Nord de Seine">' in form.text
    response = client.post(NEW, form_fields(token=hidden(form, "token")))
    structure = Organisation.objects.get(kind=OrgKind.STRUCTURE)
    assert response.status_code == 302 and response["Location"] == detail(structure)
    assert (structure.commune_id, structure.soliguide_id) == ("92050", "12345")
    assert structure.history.get().history_user == coordinator


def test_a_double_submitted_new_structure_form_adds_one(login, coordinator):
    client = login(coordinator)
    token = hidden(client.get(NEW), "token")
    first = client.post(NEW, form_fields(token=token))
    second = client.post(NEW, form_fields(token=token), follow=True)
    assert Organisation.objects.filter(kind=OrgKind.STRUCTURE).count() == 1
    assert second.redirect_chain[-1][0] == first["Location"]
    assert "This structure was already added." in second.text


def test_a_refused_structure_shows_why_and_keeps_what_was_typed(login, coordinator):
    page = login(coordinator).post(NEW, form_fields(siret="12345678901234", commune="92002"))
    assert page.status_code == 200
    assert 'id="error-summary"' in page.text
    assert 'href="#id_siret"' in page.text
    assert 'value="Centre social Le Phare"' in page.text
    assert '<option value="92002" selected>' in page.text
    assert not Organisation.objects.filter(kind=OrgKind.STRUCTURE).exists()


def test_the_coordination_edits_a_structure(login, coordinator, structure_org):
    client = login(coordinator)
    form = client.get(edit(structure_org))
    assert f'value="{structure_org.name}"' in form.text
    fields = form_fields(name=structure_org.name, siret=structure_org.siret)
    response = client.post(
        edit(structure_org), fields | {"address": "1 rue Neuve", "version": hidden(form, "version")}
    )
    assert response.status_code == 302
    structure_org.refresh_from_db()
    assert structure_org.address == "1 rue Neuve"


def test_a_stale_edit_is_refused_with_the_services_message_and_kept(
    login, coordinator, structure_org
):
    client = login(coordinator)
    version = hidden(client.get(edit(structure_org)), "version")
    orgs.structure_update(actor=coordinator, structure_id=structure_org.pk, address="Ailleurs")
    fields = form_fields(name=structure_org.name, siret=structure_org.siret)
    page = client.post(edit(structure_org), fields | {"address": "Ici", "version": version})
    assert page.status_code == 412
    assert "Someone else changed this structure in the meantime" in page.text
    assert 'value="Ici"' in page.text
    structure_org.refresh_from_db()
    assert structure_org.address == "Ailleurs"


def test_another_kind_of_organisation_is_no_structure(login, coordinator, workshop_org):
    client = login(coordinator)
    for url in (detail(workshop_org), edit(workshop_org)):
        assert client.get(url).status_code == 404
    assert client.post(set_active(workshop_org), {"active": "0"}).status_code == 404
    workshop_org.refresh_from_db()
    assert workshop_org.is_active


# A structure's page and its buttons


def test_the_page_shows_the_structure_and_its_people(
    login, coordinator, structure_org, structure_staff
):
    structure_staff.first_name, structure_staff.last_name = "Awa", "Traoré"
    structure_staff.email = "awa@antony.example"
    structure_staff.save()
    page = login(coordinator).get(detail(structure_org))
    assert page.status_code == 200
    assert "Awa Traoré" in page.text and "awa@antony.example" in page.text
    assert "Invitation pending" not in page.text
    assert "Deactivate: its 1 person can no longer sign in" in page.text
    assert 'name="email"' in page.text  # the invitation form


def test_facts_that_other_apps_add_are_shown(login, coordinator, structure_org):
    def needs(scope, structure):
        return [structure_facts.StructureFact("Needs", f"3 of {structure.name}", "/needs/")]

    structure_facts.register(needs)
    try:
        page = login(coordinator).get(detail(structure_org))
    finally:
        structure_facts.unregister(needs)
    assert f'<a href="/needs/">3 of {structure_org.name}</a>' in page.text


def test_deactivating_a_structure_signs_its_people_out(
    login, coordinator, structure_org, structure_staff
):
    client = login(coordinator)
    response = client.post(set_active(structure_org), {"active": "0"}, follow=True)
    assert "can no longer sign in" in response.text
    structure_org.refresh_from_db()
    assert not structure_org.is_active
    assert user_scope(get_user_model().objects.get(pk=structure_staff.pk)).kind is None
    assert "Reactivate: its active people can sign in again" in response.text
    assert "reactivate it to invite people" in response.text
    client.post(set_active(structure_org), {"active": "1"})
    structure_org.refresh_from_db()
    assert structure_org.is_active


def test_a_button_not_sent_whole_changes_nothing(login, coordinator, structure_org):
    response = login(coordinator).post(set_active(structure_org), {"active": "maybe"}, follow=True)
    assert response.status_code == 200 and "not sent whole" in response.text
    structure_org.refresh_from_db()
    assert structure_org.is_active


def invite(client, structure, token: str = "t-1", **overrides):  # noqa: S107 (a form token)
    fields = {
        "email": "Aminata.Diallo@Exemple.fr",
        "first_name": "Aminata",
        "last_name": "Diallo",
        "role": Role.MANAGER,
        "token": token,
    }
    return client.post(detail(structure), fields | overrides)


def test_an_invitation_sends_one_email_and_the_person_is_pending(
    login, coordinator, structure_org, django_capture_on_commit_callbacks
):
    client = login(coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(client, structure_org)
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == ["aminata.diallo@exemple.fr"]
    membership = Membership.objects.get(user__email="aminata.diallo@exemple.fr")
    assert (membership.organisation, membership.role) == (structure_org, Role.MANAGER)
    page = client.get(response["Location"])
    assert "Invitation sent to aminata.diallo@exemple.fr" in page.text
    assert "Invitation pending" in page.text
    assert "Resend the invitation" in page.text


def test_a_double_submitted_invitation_makes_one_account(
    login, coordinator, structure_org, django_capture_on_commit_callbacks
):
    client = login(coordinator)
    token = hidden(client.get(detail(structure_org)), "token")
    with django_capture_on_commit_callbacks(execute=True):
        first = invite(client, structure_org, token=token)
        second = invite(client, structure_org, token=token)
    assert first.status_code == second.status_code == 302
    assert get_user_model().objects.filter(email="aminata.diallo@exemple.fr").count() == 1
    assert len(mail.outbox) == 1
    assert "This invitation was already sent." in client.get(second["Location"]).text


def test_a_refused_invitation_shows_why_and_sends_nothing(
    login, coordinator, structure_org, structure_staff, django_capture_on_commit_callbacks
):
    structure_staff.email = "deja@exemple.fr"
    structure_staff.save()
    client = login(coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        taken = invite(client, structure_org, email="DEJA@exemple.fr")
        wrong = invite(client, structure_org, token="t-2", email="pas une adresse")
    for page in (taken, wrong):
        assert page.status_code == 200 and 'id="error-summary"' in page.text
        assert 'href="#id_email"' in page.text
    assert "Already used by another account." in taken.text
    assert not mail.outbox


def test_a_pending_person_gets_the_invitation_again(
    login, coordinator, structure_org, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user = orgs.member_invite(
            actor=coordinator, organisation_id=structure_org.pk, email="invitee@exemple.fr"
        )
    client = login(coordinator)
    response = client.post(person_url("member_reinvite", structure_org, user), follow=True)
    assert "A new invitation was sent to invitee@exemple.fr." in response.text
    assert len(mail.outbox) == 2 and mail.outbox[1].to == ["invitee@exemple.fr"]


def test_the_coordination_deactivates_and_reactivates_a_person(
    login, coordinator, structure_org, structure_staff
):
    client = login(coordinator)
    url = person_url("member_set_active", structure_org, structure_staff)
    page = client.post(url, {"active": "0"}, follow=True)
    assert "can no longer sign in." in page.text and "Deactivated" in page.text
    structure_staff.refresh_from_db()
    assert not structure_staff.is_active
    client.post(url, {"active": "1"})
    structure_staff.refresh_from_db()
    assert structure_staff.is_active


def test_a_person_of_another_structure_is_not_changed_from_this_page(
    login, coordinator, structure_org, structure_staff
):
    other = make_organisation(kind=OrgKind.STRUCTURE)
    client = login(coordinator)
    url = person_url("member_set_active", other, structure_staff)
    assert client.post(url, {"active": "0"}).status_code == 404
    assert client.post(person_url("member_reinvite", other, structure_staff)).status_code == 404
    structure_staff.refresh_from_db()
    assert structure_staff.is_active


# Import from data·inclusion

HEADER = "id;source;siret;rna;nom;commune;code_insee;adresse;typologie;courriel;telephone\n"


def sheet(*rows: str) -> bytes:
    return (HEADER + "".join(row + "\n" for row in rows)).encode()


def upload(client, content: bytes, name: str = "structures.csv"):
    return client.post(IMPORT, {"file": SimpleUploadedFile(name, content, "text/csv")})


def test_an_import_is_previewed_then_confirmed(login, coordinator, structure_org, pending_dir):
    content = sheet(
        f"abc;soliguide;{valid_siret(950)};;CCAS de Clichy;Clichy;92024;1 place;CCAS;;;",
        f";;{structure_org.siret};;{structure_org.name};Antony;92002;9 rue;CS;;;",
    )
    client = login(coordinator)
    assert client.get(IMPORT).status_code == 200
    preview = upload(client, content)
    assert preview.status_code == 200
    assert "CCAS de Clichy" in preview.text and "Clichy" in preview.text
    assert ">Add<" in preview.text and ">Update<" in preview.text
    assert "Import 2 structures" in preview.text
    assert not Organisation.objects.filter(name="CCAS de Clichy").exists()
    confirm = client.post(
        IMPORT,
        {
            "confirm": "1",
            "sha256": hidden(preview, "sha256"),
            "file_name": hidden(preview, "file_name"),
        },
        follow=True,
    )
    assert confirm.redirect_chain[-1][0] == LIST
    assert "2 structures imported from “structures.csv”: 1 added, 1 updated." in confirm.text
    assert Organisation.objects.get(name="CCAS de Clichy").soliguide_id == "abc"
    structure_org.refresh_from_db()
    assert structure_org.address == "9 rue"
    assert not list(pending_dir.iterdir())


def test_a_file_with_an_error_writes_nothing_and_shows_the_errors(login, coordinator, pending_dir):
    content = sheet(
        f";;{valid_siret(960)};;Bonne structure;Clichy;92024;;CS;;;",
        ";;12345678901234;;SIRET faux;Clichy;92024;;CS;;;",
        f";;{valid_siret(961)};;Hors territoire;Paris;75056;;CS;;;",
    )
    page = upload(login(coordinator), content)
    assert page.status_code == 400
    assert "errors: nothing will be imported" in page.text
    errors = re.search(r'<table class="device-table import-errors".*?</table>', page.text, re.S)[0]
    assert re.search(r">3</th>\s*<td[^>]*><div>siret</div></td>", errors)
    assert re.search(r">4</th>\s*<td[^>]*><div>code_insee</div></td>", errors)
    assert 'name="confirm"' not in page.text
    assert not Organisation.objects.filter(kind=OrgKind.STRUCTURE).exists()
    assert not pending_dir.exists() or not list(pending_dir.iterdir())


def test_a_file_that_is_no_structure_list_is_refused_whole(login, coordinator, pending_dir):
    page = upload(login(coordinator), b"nom;ville\nX;Y\n")
    assert page.status_code == 400 and "whole file" not in page.text
    assert "at least nom, and siret or rna" in page.text


def test_an_import_confirmed_without_its_file_asks_for_it_again(login, coordinator, pending_dir):
    response = login(coordinator).post(
        IMPORT, {"confirm": "1", "sha256": "0" * 64, "file_name": "x.csv"}, follow=True
    )
    assert "upload the file again" in response.text
    bad = login(coordinator).post(IMPORT, {"confirm": "1", "sha256": "../../etc/passwd"})
    assert bad.status_code == 302


def test_an_oversized_file_is_refused_before_it_is_read(login, coordinator, settings, pending_dir):
    settings.REEMPLOI_IMPORT_MAX_BYTES = 200
    page = upload(
        login(coordinator), sheet(*[f";;;;Structure {n};;92024;;CS;;;" for n in range(20)])
    )
    assert page.status_code == 413
    assert "larger than" in page.text


# Who may


@pytest.mark.parametrize("persona", ["structure_staff", "workshop_staff", "fund_reader"])
def test_other_organisations_get_403_everywhere(request, login, persona, structure_org):
    user = request.getfixturevalue(persona)
    client = login(user)
    for url in (LIST, NEW, IMPORT, detail(structure_org), edit(structure_org)):
        assert client.get(url).status_code == 403, url
    assert client.post(set_active(structure_org), {"active": "0"}).status_code == 403
    assert invite(client, structure_org).status_code == 403
    member = make_user(organisation=structure_org)
    url = person_url("member_set_active", structure_org, member)
    assert client.post(url, {"active": "0"}).status_code == 403
    structure_org.refresh_from_db()
    assert structure_org.is_active
    assert 'href="/structures/"' not in client.get("/").text


def test_a_coordination_reader_reads_but_does_not_write(
    login, coordination_reader, structure_org, structure_staff
):
    client = login(coordination_reader)
    listing = client.get(LIST)
    assert listing.status_code == 200 and f'href="{NEW}"' not in listing.text
    page = client.get(detail(structure_org))
    assert page.status_code == 200
    assert 'name="email"' not in page.text and "Deactivate" not in page.text
    for url in (NEW, IMPORT, edit(structure_org)):
        assert client.get(url).status_code == 403, url
    assert client.post(set_active(structure_org), {"active": "0"}).status_code == 403
    assert invite(client, structure_org).status_code == 403
    url = person_url("member_set_active", structure_org, structure_staff)
    assert client.post(url, {"active": "0"}).status_code == 403
    structure_org.refresh_from_db()
    assert structure_org.is_active
    assert not get_user_model().objects.filter(email="aminata.diallo@exemple.fr").exists()


# Hostile input


@pytest.mark.parametrize(
    "overrides",
    [
        {"name": "x" * 100_000},
        {"name": "Centre\x00social"},
        {"address": "lap\x1btop"},
        {"commune": "92\x1b050"},
        {"contact_email": "a" * 5000 + "@b.fr"},
        {"structure_type": "CASINO"},
        {"siret": "1" * 10_000},
    ],
)
def test_hostile_input_is_a_field_error_never_a_server_error(login, coordinator, overrides):
    client = login(coordinator)
    page = client.post(NEW, form_fields(**overrides))
    assert page.status_code == 200 and 'id="error-summary"' in page.text
    assert not Organisation.objects.filter(kind=OrgKind.STRUCTURE).exists()
    invitation = client.post(
        detail(make_organisation(kind=OrgKind.STRUCTURE)),
        {"email": overrides.get("name", "a@b.fr"), "first_name": "x" * 10_000, "token": "\x00"},
    )
    assert invitation.status_code == 200 and 'id="error-summary"' in invitation.text
    assert not Membership.objects.filter(organisation__kind=OrgKind.STRUCTURE).exists()


def test_a_list_of_values_where_one_is_expected_is_read_as_one(login, coordinator):
    # A form field posted twice: the last value is read, as a browser's form would have sent.
    client = login(coordinator)
    page = client.post(NEW, form_fields(commune=["75056", "92050"], structure_type=["X", "CS"]))
    assert page.status_code == 302
    assert Organisation.objects.get(kind=OrgKind.STRUCTURE).commune_id == "92050"
    assert client.get(LIST, {"q": "\x00", "territory": ["T2", "T3"]}).status_code < 500
