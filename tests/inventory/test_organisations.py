"""The coordination manages structures and their people: create and edit with identifier
checks, deactivate, invite by e-mail with a one-time link to choose a password, import from a
data·inclusion CSV (preview, all or nothing, re-import updates)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from inventory.errors import DomainError
from inventory.models import Membership, Organisation, Role
from inventory.organisations import services as orgs
from inventory.selectors import user_scope
from inventory.states import OrgKind
from tests.builders import PASSWORD, make_user, valid_siret

pytestmark = pytest.mark.django_db


def refused(call, code: str, status: int | None = None) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.code == code, caught.value
    if status is not None:
        assert caught.value.status == status
    return caught.value


def structure_fields(**overrides) -> dict:
    return {
        "name": "Centre social Le Phare",
        "siret": valid_siret(901),
        "structure_type": "CS",
        "commune": "92050",
        "address": "3 rue du Port",
        "contact_email": "accueil@lephare.example",
        "contact_phone": "01 47 00 00 00",
        "soliguide_id": "12345",
    } | overrides


# Structures


def test_the_coordination_adds_a_structure_in_its_territory(coordinator):
    structure = orgs.structure_create(actor=coordinator, **structure_fields())
    assert structure.kind == OrgKind.STRUCTURE and structure.commune.territory_id == "T4"
    assert structure.soliguide_id == "12345"
    record = structure.history.get()
    assert (record.history_user, record.history_change_reason) == (
        coordinator,
        "structure_create",
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"siret": "12345678901234"}, "siret"),
        ({"siret": "", "rna": "X123"}, "rna"),
        ({"siret": "", "rna": ""}, "siret"),
        ({"commune": "75056"}, "commune"),
        ({"structure_type": "CASINO"}, "structure_type"),
        ({"contact_email": "pas-une-adresse"}, "contact_email"),
        ({"contact_phone": "appelez-nous"}, "contact_phone"),
        ({"name": "  "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"address": ["liste"]}, "address"),
    ],
)
def test_a_bad_structure_is_refused_by_field(coordinator, overrides, field):
    error = refused(
        lambda: orgs.structure_create(actor=coordinator, **structure_fields(**overrides)),
        "invalid",
        400,
    )
    assert field in error.params["fields"], error.params
    assert not Organisation.objects.filter(kind=OrgKind.STRUCTURE).exists()


def test_an_identifier_or_a_name_used_twice_is_refused(coordinator):
    first = orgs.structure_create(actor=coordinator, **structure_fields())
    refused(
        lambda: orgs.structure_create(actor=coordinator, **structure_fields(name="Autre")),
        "duplicate",
    )
    refused(
        lambda: orgs.structure_create(
            actor=coordinator, **structure_fields(siret=valid_siret(902), name=first.name.upper())
        ),
        "duplicate",
    )


def test_only_the_coordination_manages_structures(structure_staff, workshop_staff, coordinator_org):
    reader = make_user(organisation=coordinator_org, role=Role.READER)
    for user in (structure_staff, workshop_staff, reader):
        refused(
            lambda user=user: orgs.structure_create(actor=user, **structure_fields()),
            "action_forbidden",
            403,
        )


def test_an_edit_on_a_stale_version_is_refused(coordinator):
    structure = orgs.structure_create(actor=coordinator, **structure_fields())
    version = orgs.structure_version(structure)
    orgs.structure_update(
        actor=coordinator, structure_id=structure.pk, version=version, address="4 rue du Port"
    )
    refused(
        lambda: orgs.structure_update(
            actor=coordinator, structure_id=structure.pk, version=version, address="5 rue"
        ),
        "stale",
        412,
    )
    structure.refresh_from_db()
    assert structure.address == "4 rue du Port"


def test_a_deactivated_structure_loses_its_access(coordinator, structure_org, structure_staff):
    orgs.structure_set_active(actor=coordinator, structure_id=structure_org.pk, active=False)
    fresh = get_user_model().objects.get(pk=structure_staff.pk)
    assert user_scope(fresh).kind is None
    orgs.structure_set_active(actor=coordinator, structure_id=structure_org.pk, active=True)
    assert user_scope(get_user_model().objects.get(pk=structure_staff.pk)).kind == OrgKind.STRUCTURE


# Invitations


def invitation_link() -> str:
    [message] = mail.outbox
    return re.search(r"https?://\S+/invitation/\S+/", message.body).group(0)


def test_an_invitation_mails_a_link_to_choose_a_password(
    coordinator, structure_org, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user = orgs.member_invite(
            actor=coordinator,
            organisation_id=structure_org.pk,
            email="Aminata.Diallo@Exemple.fr",
            first_name="Aminata",
            last_name="Diallo",
        )
    assert user.username == user.email == "aminata.diallo@exemple.fr"
    assert not user.has_usable_password()
    assert Membership.objects.get(user=user).organisation == structure_org
    [message] = mail.outbox
    assert message.to == ["aminata.diallo@exemple.fr"]
    assert structure_org.name in message.body
    path = invitation_link().split("://", 1)[1].split("/", 1)[1]
    client = Client()
    page = client.get(f"/{path}", follow=True)
    assert page.status_code == 200 and b'name="new_password1"' in page.content
    form_url = page.redirect_chain[-1][0] if page.redirect_chain else f"/{path}"
    done = client.post(
        form_url, {"new_password1": PASSWORD, "new_password2": PASSWORD}, follow=True
    )
    assert done.status_code == 200
    assert Client().login(username="aminata.diallo@exemple.fr", password=PASSWORD)
    # The link works once.
    again = Client().get(f"/{path}", follow=True)
    assert b'name="new_password1"' not in again.content


def test_an_address_already_used_is_refused(coordinator, structure_org, structure_staff):
    structure_staff.email = "deja@exemple.fr"
    structure_staff.save()
    refused(
        lambda: orgs.member_invite(
            actor=coordinator, organisation_id=structure_org.pk, email="DEJA@exemple.fr"
        ),
        "duplicate",
    )
    assert not mail.outbox


@pytest.mark.parametrize("email", ["", "pas une adresse", None, ["a@b.fr"]])
def test_an_invitation_needs_a_valid_address(coordinator, structure_org, email):
    refused(
        lambda: orgs.member_invite(
            actor=coordinator, organisation_id=structure_org.pk, email=email
        ),
        "invalid",
        400,
    )


def test_a_deactivated_person_can_no_longer_sign_in(coordinator, structure_staff):
    assert Client().login(username=structure_staff.username, password=PASSWORD)
    orgs.member_set_active(actor=coordinator, user_id=structure_staff.pk, active=False)
    assert not Client().login(username=structure_staff.username, password=PASSWORD)
    record = Membership.history.filter(user=structure_staff).latest("history_date")
    assert record.history_change_reason == "member_deactivate"
    refused(
        lambda: orgs.member_set_active(actor=coordinator, user_id=coordinator.pk, active=False),
        "self_deactivation",
    )


def test_a_reinvitation_is_for_people_without_a_password(coordinator, structure_staff):
    refused(
        lambda: orgs.member_reinvite(actor=coordinator, user_id=structure_staff.pk),
        "already_joined",
    )


# Import from data·inclusion


HEADER = (
    "id;source;siret;rna;nom;commune;code_insee;adresse;typologie;courriel;telephone;thematiques\n"
)


def sheet(*rows: str) -> bytes:
    return (HEADER + "".join(row + "\n" for row in rows)).encode()


def test_an_import_previews_then_creates_then_updates_by_identifier(coordinator):
    siret = valid_siret(950)
    content = sheet(
        f"abc;soliguide;{siret};;CCAS de Clichy;Clichy;92024;1 place;CCAS;"
        "ccas@clichy.example;0147000000;x",
        "d1;dora;;W923000123;Association Lien;Colombes;92025;2 rue;ASSO;;;",
        "z;autre;;W923000124;Club du coin;Colombes;92025;;FABLAB;;;",
    )
    preview = orgs.structures_import(actor=coordinator, content=content, dry_run=True)
    assert preview.errors == [] and preview.created == 3
    assert "thematiques" in preview.ignored_columns
    assert not Organisation.objects.filter(kind=OrgKind.STRUCTURE).exists()
    done = orgs.structures_import(actor=coordinator, content=content, dry_run=False)
    assert done.errors == [] and done.created == 3
    ccas = Organisation.objects.get(siret=siret)
    assert (ccas.soliguide_id, ccas.structure_type, ccas.commune_id) == ("abc", "CCAS", "92024")
    assert Organisation.objects.get(rna="W923000123").dora_id == "d1"
    assert Organisation.objects.get(rna="W923000124").structure_type == "AUTRE"
    again = orgs.structures_import(
        actor=coordinator,
        content=sheet(f"abc;soliguide;{siret};;CCAS de Clichy;Clichy;92024;9 place;CCAS;;;"),
        dry_run=False,
    )
    assert again.updated == 1 and again.created == 0
    assert Organisation.objects.get(siret=siret).address == "9 place"


def test_an_import_with_one_bad_row_writes_nothing(coordinator):
    content = sheet(
        f";;{valid_siret(960)};;Bonne structure;Clichy;92024;;CS;;;",
        ";;12345678901234;;SIRET faux;Clichy;92024;;CS;;;",
        f";;{valid_siret(961)};;Hors territoire;Paris;75056;;CS;;;",
        f";;{valid_siret(960)};;Doublon;Clichy;92024;;CS;;;",
    )
    result = orgs.structures_import(actor=coordinator, content=content, dry_run=False)
    assert {(row, column) for row, column, _ in result.errors} == {
        (3, "siret"),
        (4, "code_insee"),
        (5, "siret"),
    }
    assert not Organisation.objects.filter(kind=OrgKind.STRUCTURE).exists()


@pytest.mark.parametrize(
    "content",
    [b"", b"\xff\xfe\x00garbage", b"nom;ville\nX;Y\n", b"siret;nom\n"],
)
def test_a_file_that_is_no_structure_list_is_refused_whole(coordinator, content):
    result = orgs.structures_import(actor=coordinator, content=content, dry_run=False)
    assert result.errors
    assert not Organisation.objects.filter(kind=OrgKind.STRUCTURE).exists()


def test_only_the_coordination_imports(structure_staff):
    refused(
        lambda: orgs.structures_import(actor=structure_staff, content=sheet(), dry_run=True),
        "action_forbidden",
    )


def test_an_organisation_of_another_kind_is_not_a_structure_to_edit(coordinator, workshop_org):
    refused(
        lambda: orgs.structure_update(actor=coordinator, structure_id=workshop_org.pk, name="X"),
        "not_found",
        404,
    )


def test_two_rows_of_one_name_are_refused_at_the_preview(coordinator):
    content = sheet(
        f";;{valid_siret(970)};;Maison du lien;Clichy;92024;;CS;;;",
        f";;{valid_siret(971)};;MAISON DU LIEN;Clichy;92024;;CS;;;",
    )
    result = orgs.structures_import(actor=coordinator, content=content, dry_run=True)
    assert [(row, column) for row, column, _ in result.errors] == [(3, "nom")]


def test_a_commune_outside_the_territory_is_said_once(coordinator):
    error = refused(
        lambda: orgs.structure_create(actor=coordinator, **structure_fields(commune="75056")),
        "invalid",
    )
    assert len(error.params["fields"]["commune"]) == 1


def test_an_rna_used_elsewhere_is_a_duplicate_of_the_rna(coordinator):
    orgs.structure_create(
        actor=coordinator, **structure_fields(siret="", rna="W923000500", name="Asso A")
    )
    error = refused(
        lambda: orgs.structure_create(
            actor=coordinator, **structure_fields(rna="W923000500", name="Asso B")
        ),
        "duplicate",
    )
    assert "rna" in error.params["fields"]


@pytest.mark.parametrize(
    ("fields", "key"),
    [({"email": "a" * 140 + "@exemple.fr"}, "email"), ({"first_name": ["Ana"]}, "first_name")],
)
def test_an_invitation_refuses_what_an_account_cannot_hold(coordinator, structure_org, fields, key):
    error = refused(
        lambda: orgs.member_invite(
            actor=coordinator,
            organisation_id=structure_org.pk,
            **({"email": "ok@exemple.fr"} | fields),
        ),
        "invalid",
    )
    assert key in error.params["fields"]
