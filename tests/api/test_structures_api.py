"""The coordination's structures and their people on the API: list and read with an ETag, add
(retried safely), change under If-Match (428 without, 412 stale), deactivate, invite by e-mail
(once, whatever the retries), deactivate and re-invite people, import a data·inclusion file
(preview, all or nothing). Other roles get 403, the coordination's readers read only, and
hostile input is a 400, never a 500."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from inventory.models import Commune, Membership, Organisation, Role
from inventory.organisations import services as orgs
from inventory.selectors import user_scope
from inventory.states import OrgKind
from tests.builders import make_organisation, make_user, queries_of_get, token_client, valid_siret

pytestmark = pytest.mark.django_db

LIST = "/api/structures/"
IMPORT = "/api/structures/import/"


def one(structure) -> str:
    return f"/api/structures/{structure.pk}/"


def body(**overrides) -> dict:
    return {
        "name": "Centre social Le Phare",
        "siret": valid_siret(801),
        "structure_type": "CS",
        "commune": "92050",
        "address": "3 rue du Port",
        "contact_email": "accueil@lephare.example",
        "contact_phone": "01 47 00 00 00",
        "soliguide_id": "12345",
    } | overrides


@pytest.fixture
def coordination_reader(coordinator_org):
    return make_user(organisation=coordinator_org, role=Role.READER, username="lecteur")


# Reading


def test_the_list_gives_each_structure_with_its_place_people_and_version(
    coord, structure_org, structure_staff
):
    response = coord.get(LIST)
    assert response.status_code == 200
    [item] = response.json()["results"]
    assert item["id"] == structure_org.pk and item["member_count"] == 1
    assert item["commune"] == {
        "insee_code": "92002",
        "name": "Antony",
        "territory": "T2",
        "territory_name": "Vallée Sud Grand Paris",
    }
    assert item["version"] == orgs.structure_version(structure_org)
    assert item["is_active"] is True


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"territory": "T5"}, {"CCAS Clichy"}),
        ({"structure_type": "CCAS"}, {"CCAS Clichy"}),
        ({"is_active": "false"}, {"Médiathèque"}),
        ({"is_active": "true", "q": "antony"}, {"Centre social Antony"}),
        ({"q": ""}, {"Centre social Antony", "CCAS Clichy", "Médiathèque"}),
    ],
)
def test_the_list_filters(coord, structure_org, query, expected):
    make_organisation(
        kind=OrgKind.STRUCTURE,
        name="CCAS Clichy",
        structure_type="CCAS",
        commune=Commune.objects.get(insee_code="92024"),
    )
    make_organisation(kind=OrgKind.STRUCTURE, name="Médiathèque", is_active=False)
    response = coord.get(LIST, query)
    assert response.status_code == 200
    assert {item["name"] for item in response.json()["results"]} == expected


@pytest.mark.parametrize(
    "query",
    [
        {"structure_type": "CASINO"},
        {"structure_type": ""},
        {"is_active": "maybe"},
        {"territory": ""},
        {"q": "x" * 201},
        {"q": "lap\x00top"},
    ],
)
def test_a_wrong_filter_is_a_400(coord, query):
    response = coord.get(LIST, query)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_the_list_costs_the_same_queries_for_3_and_15_structures(coord):
    def queries_for(count: int) -> int:
        while Organisation.objects.filter(kind=OrgKind.STRUCTURE).count() < count:
            structure = make_organisation(kind=OrgKind.STRUCTURE)
            make_user(organisation=structure)
        return queries_of_get(coord, LIST)

    assert queries_for(3) == queries_for(15)


def test_one_structure_has_its_etag(coord, structure_org, workshop_org):
    response = coord.get(one(structure_org))
    assert response.status_code == 200
    assert response["ETag"] == f'"{response.json()["version"]}"'
    assert coord.get(one(workshop_org)).json()["code"] == "not_found"
    assert coord.get(one(workshop_org)).status_code == 404


# Adding and changing


def test_the_coordination_adds_a_structure_once_whatever_the_retries(coord):
    first = coord.post(LIST, body(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = coord.post(LIST, body(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert first.json()["commune"]["insee_code"] == "92050"
    assert first["ETag"] == f'"{first.json()["version"]}"'
    assert Organisation.objects.filter(kind=OrgKind.STRUCTURE).count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"siret": "12345678901234"}, "siret"),
        ({"siret": "", "rna": "X1"}, "rna"),
        ({"commune": "75056"}, "commune"),
        ({"structure_type": "CASINO"}, "structure_type"),
        ({"contact_email": "pas-une-adresse"}, "contact_email"),
        ({"contact_phone": "appelez"}, "contact_phone"),
    ],
)
def test_a_bad_structure_is_refused_naming_the_field(coord, overrides, field):
    response = coord.post(LIST, body(**overrides), format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not Organisation.objects.filter(kind=OrgKind.STRUCTURE).exists()


def test_a_name_used_twice_is_a_conflict(coord, structure_org):
    response = coord.post(LIST, body(name=structure_org.name.upper()), format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "duplicate" and "name" in response.json()["fields"]


def test_a_change_needs_the_etag_and_a_stale_one_is_refused(coord, coordinator, structure_org):
    url = one(structure_org)
    etag = coord.get(url)["ETag"]
    missing = coord.patch(url, {"address": "1 rue"}, format="json")
    assert missing.status_code == 428 and missing.json()["code"] == "precondition_required"
    done = coord.patch(url, {"address": "1 rue"}, format="json", HTTP_IF_MATCH=etag)
    assert done.status_code == 200 and done.json()["address"] == "1 rue"
    assert done["ETag"] != etag
    stale = coord.patch(url, {"address": "2 rue"}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412 and stale.json()["code"] == "stale"
    structure_org.refresh_from_db()
    assert structure_org.address == "1 rue"


def test_deactivating_a_structure_keeps_its_people_out(coord, structure_org, structure_staff):
    response = coord.post(f"{one(structure_org)}deactivate/")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert user_scope(get_user_model().objects.get(pk=structure_staff.pk)).kind is None
    again = coord.post(f"{one(structure_org)}activate/")
    assert again.json()["is_active"] is True


# People


def test_an_invitation_sends_one_email_and_the_person_is_pending(
    coord, structure_org, django_capture_on_commit_callbacks
):
    url = f"{one(structure_org)}members/"
    invitation = {"email": "Aminata.Diallo@Exemple.fr", "first_name": "Aminata", "role": "manager"}
    with django_capture_on_commit_callbacks(execute=True):
        first = coord.post(url, invitation, format="json", HTTP_IDEMPOTENCY_KEY="i-1")
        again = coord.post(url, invitation, format="json", HTTP_IDEMPOTENCY_KEY="i-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    person = first.json()
    assert person["email"] == "aminata.diallo@exemple.fr" and person["role"] == "manager"
    assert person["invitation_pending"] is True and person["structure"] == structure_org.pk
    [message] = mail.outbox
    assert message.to == ["aminata.diallo@exemple.fr"]
    assert get_user_model().objects.filter(email="aminata.diallo@exemple.fr").count() == 1
    people = coord.get(url).json()["results"]
    assert [p["email"] for p in people] == ["aminata.diallo@exemple.fr"]


def test_an_address_already_used_is_a_conflict(coord, structure_org, structure_staff):
    structure_staff.email = "deja@exemple.fr"
    structure_staff.save()
    response = coord.post(
        f"{one(structure_org)}members/", {"email": "DEJA@exemple.fr"}, format="json"
    )
    assert response.status_code == 409 and "email" in response.json()["fields"]
    assert not mail.outbox


def test_people_are_deactivated_reactivated_and_reinvited(
    coord, structure_org, structure_staff, coordinator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitee = orgs.member_invite(
            actor=coordinator, organisation_id=structure_org.pk, email="invitee@exemple.fr"
        )
    response = coord.post(f"/api/members/{invitee.pk}/reinvite/")
    assert response.status_code == 200 and len(mail.outbox) == 2
    joined = coord.post(f"/api/members/{structure_staff.pk}/reinvite/")
    assert joined.status_code == 409 and joined.json()["code"] == "already_joined"
    off = coord.post(f"/api/members/{structure_staff.pk}/deactivate/")
    assert off.status_code == 200 and off.json()["is_active"] is False
    structure_staff.refresh_from_db()
    assert not structure_staff.is_active
    on = coord.post(f"/api/members/{structure_staff.pk}/activate/")
    assert on.json()["is_active"] is True


def test_someone_who_is_no_structures_person_is_not_found(coord, workshop_staff, coordinator):
    for user in (workshop_staff, coordinator):
        response = coord.post(f"/api/members/{user.pk}/deactivate/")
        assert response.status_code == 404
    workshop_staff.refresh_from_db()
    assert workshop_staff.is_active


# Import from data·inclusion

HEADER = "id;source;siret;rna;nom;commune;code_insee;adresse;typologie;courriel;telephone\n"


def sheet(*rows: str) -> bytes:
    return (HEADER + "".join(row + "\n" for row in rows)).encode()


def upload(client, content: bytes, **fields):
    data = {"file": SimpleUploadedFile("structures.csv", content, "text/csv")} | fields
    return client.post(IMPORT, data, format="multipart")


def test_an_import_previews_then_writes(coord, structure_org):
    content = sheet(
        f"abc;soliguide;{valid_siret(950)};;CCAS de Clichy;Clichy;92024;1 place;CCAS;;;",
        f";;{structure_org.siret};;{structure_org.name};Antony;92002;9 rue;CS;;;",
    )
    preview = upload(coord, content, dry_run="true")
    assert preview.status_code == 200
    result = preview.json()
    assert (result["ok"], result["created"], result["updated"]) == (True, 1, 1)
    assert [row["action"] for row in result["rows"]] == ["create", "update"]
    assert not Organisation.objects.filter(name="CCAS de Clichy").exists()
    done = upload(coord, content)
    assert done.status_code == 201 and done.json()["dry_run"] is False
    assert Organisation.objects.get(name="CCAS de Clichy").soliguide_id == "abc"


def test_an_import_with_an_error_writes_nothing(coord):
    content = sheet(
        f";;{valid_siret(960)};;Bonne;Clichy;92024;;CS;;;",
        ";;12345678901234;;SIRET faux;Clichy;92024;;CS;;;",
    )
    preview = upload(coord, content, dry_run="true")
    assert preview.status_code == 200 and preview.json()["ok"] is False
    refused = upload(coord, content)
    assert refused.status_code == 400
    assert refused.json()["code"] == "import_invalid"
    assert [(e["row"], e["column"]) for e in refused.json()["errors"]] == [(3, "siret")]
    assert not Organisation.objects.filter(kind=OrgKind.STRUCTURE).exists()


def test_an_oversized_or_missing_file_is_refused(coord, settings):
    assert upload(coord, b"").status_code == 400
    assert coord.post(IMPORT, {}, format="multipart").status_code == 400
    assert coord.post(IMPORT, {"file": "x"}, format="json").status_code == 415
    settings.REEMPLOI_IMPORT_MAX_BYTES = 100
    response = upload(coord, sheet(*[f";;;;S {n};;92024;;CS;;;" for n in range(10)]))
    assert response.status_code == 413 and response.json()["code"] == "file_too_large"


# Who may


def every_call(structure, person) -> list[tuple[str, str, dict | None]]:
    return [
        ("get", LIST, None),
        ("post", LIST, body()),
        ("get", one(structure), None),
        ("patch", one(structure), {"address": "x"}),
        ("post", f"{one(structure)}deactivate/", None),
        ("post", f"{one(structure)}activate/", None),
        ("get", f"{one(structure)}members/", None),
        ("post", f"{one(structure)}members/", {"email": "new@exemple.fr"}),
        ("post", f"/api/members/{person.pk}/deactivate/", None),
        ("post", f"/api/members/{person.pk}/activate/", None),
        ("post", f"/api/members/{person.pk}/reinvite/", None),
    ]


@pytest.mark.parametrize("persona", ["structure_staff", "workshop_staff", "fund_reader"])
def test_other_organisations_get_403(request, persona, structure_org):
    person = make_user(organisation=structure_org)
    client = token_client(request.getfixturevalue(persona))
    for method, url, data in every_call(structure_org, person):
        response = getattr(client, method)(url, data, format="json")
        assert response.status_code == 403, (method, url)
    assert upload(client, sheet()).status_code == 403
    structure_org.refresh_from_db()
    assert structure_org.is_active and Organisation.objects.filter(kind="structure").count() == 1


def test_a_coordination_reader_reads_but_does_not_write(coordination_reader, structure_org):
    person = make_user(organisation=structure_org)
    client = token_client(coordination_reader)
    for method, url, data in every_call(structure_org, person):
        response = getattr(client, method)(url, data, format="json")
        assert response.status_code == (200 if method == "get" else 403), (method, url)
    assert upload(client, sheet()).status_code == 403
    assert not Membership.objects.filter(user__email="new@exemple.fr").exists()


# Hostile input


def send(client, method: str, url: str, data, **extra):
    # ASCII escapes: a lone surrogate travels as \ud800, as a client's JSON may send it.
    return getattr(client, method)(url, json.dumps(data), content_type="application/json", **extra)


@pytest.mark.parametrize(
    "hostile",
    [
        {"name": "x" * 100_000},
        {"name": "Centre\x00social"},
        {"address": "lap\ud800top"},
        {"commune": ["92050"]},
        {"siret": {"a": 1}},
        {"name": 42},
        {"contact_email": "a" * 300 + "@b.fr"},
        {"structure_type": ["CS"]},
        {"soliguide_id": "\x1b[31m"},
    ],
)
def test_hostile_input_is_a_400_never_a_500(coord, structure_org, hostile):
    created = send(coord, "post", LIST, body(**hostile))
    assert created.status_code == 400, created.content
    assert created.json()["code"] == "invalid"
    etag = coord.get(one(structure_org))["ETag"]
    changed = send(coord, "patch", one(structure_org), hostile, HTTP_IF_MATCH=etag)
    assert changed.status_code == 400, changed.content
    invite = {"email": next(iter(hostile.values())), "first_name": next(iter(hostile.values()))}
    invited = send(coord, "post", f"{one(structure_org)}members/", invite)
    assert invited.status_code == 400, invited.content
    assert Organisation.objects.filter(kind=OrgKind.STRUCTURE).count() == 1
    assert not mail.outbox


def test_an_address_longer_than_a_username_is_refused(coord, structure_org):
    email = "a" * 60 + "@" + "b" * 90 + ".fr"
    response = coord.post(f"{one(structure_org)}members/", {"email": email}, format="json")
    assert response.status_code == 400 and "email" in response.json()["fields"]
