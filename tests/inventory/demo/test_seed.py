"""The demo data: every status present, a valid network, authored history, nothing written twice."""

import io
import random
from dataclasses import astuple
from datetime import datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from inventory.codes import is_valid_imei, is_valid_rna, is_valid_siret
from inventory.demo import seed as demo
from inventory.models import Device, LabelCode, Membership, Organisation, Role
from inventory.permissions import REGISTERING_KINDS
from inventory.states import MOVES, OrgKind, Status
from tests.builders import assert_counts_match

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]
HISTORY_MODELS = (Device.history.model, Organisation.history.model, Membership.history.model)


def seed(*args) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    models = (get_user_model(), Organisation, Membership, Device, LabelCode, *HISTORY_MODELS)
    return {model.__name__: model.objects.count() for model in models}


@pytest.fixture(scope="class")
def seeded(django_db_setup, django_db_blocker):
    # Seeding takes seconds: once per class, in a transaction rolled back after its tests.
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=FAST_HASHER),
        transaction.atomic(),
    ):
        yield seed()
        transaction.set_rollback(True)


@pytest.mark.usefixtures("db")
class TestSeededNetwork:
    pytestmark = pytest.mark.slow  # the seed itself takes some twenty seconds

    def test_every_status_has_devices_but_reserved(self, seeded):
        # A reservation is an allocation's: the logistics demo makes them (a matching run).
        present = set(Device.objects.values_list("status", flat=True))
        assert present == set(Status.values) - {Status.RESERVED}
        assert Device.objects.count() == demo.DEFAULT_DEVICES

    def test_the_device_counters_match_the_devices(self, seeded):
        # The seed moves devices through the services only: their counters follow.
        assert_counts_match()

    def test_about_forty_structures_cover_the_four_territories(self, seeded):
        structures = Organisation.objects.filter(kind=OrgKind.STRUCTURE).select_related("commune")
        assert 35 <= structures.count() <= 45
        territories = {s.commune.territory_id for s in structures}
        assert territories == {"T2", "T3", "T4", "T5"}
        assert len({s.structure_type for s in structures}) >= 8

    def test_every_structure_has_a_valid_identifier(self, seeded):
        for structure in Organisation.objects.filter(kind=OrgKind.STRUCTURE):
            structure.full_clean()
            assert is_valid_siret(structure.siret) or is_valid_rna(structure.rna), structure

    def test_kinds_of_the_network_are_all_there(self, seeded):
        kinds = dict(
            (kind, Organisation.objects.filter(kind=kind).count()) for kind in OrgKind.values
        )
        assert kinds[OrgKind.COORDINATOR] == 1
        assert kinds[OrgKind.WORKSHOP] >= 1
        assert kinds[OrgKind.FUND] == 1
        assert 2 <= kinds[OrgKind.DONOR] <= 3
        assert Organisation.objects.filter(name="ECODAIR", kind=OrgKind.WORKSHOP).exists()

    def test_phones_carry_valid_imeis(self, seeded):
        phones = Device.objects.filter(category__has_imei=True)
        assert phones.exists()
        for phone in phones:
            assert is_valid_imei(phone.imei1)
            assert phone.imei2 == "" or is_valid_imei(phone.imei2)

    def test_every_history_row_names_its_author(self, seeded):
        for model in HISTORY_MODELS:
            assert model.objects.exists()
            assert not model.objects.filter(history_user__isnull=True).exists(), model

    def test_each_move_was_made_by_an_organisation_allowed_to_make_it(self, seeded):
        rows = Device.history.model.objects.select_related("history_user__membership__organisation")
        for row in rows:
            kind = row.history_user.membership.organisation.kind
            if row.history_change_reason == "register":
                assert kind in REGISTERING_KINDS
            else:
                assert kind in MOVES[row.history_change_reason].actors, row

    def test_device_stories_run_forward_over_about_eight_months(self, seeded):
        now = timezone.now()
        for device in Device.objects.all():
            dates = list(
                device.history.order_by("history_id").values_list("history_date", flat=True)
            )
            assert dates == sorted(dates) and len(set(dates)) == len(dates)
            assert device.created_at == dates[0] and device.updated_at == dates[-1]
            assert now - timedelta(days=demo.HISTORY_DAYS + 5) < dates[0]
            assert dates[-1] < now
        first = Device.history.model.objects.earliest("history_date").history_date
        assert first < now - timedelta(days=200)

    def test_a_second_run_writes_nothing(self, seeded):
        before = row_counts()
        output = seed()
        assert row_counts() == before
        assert "coordination" in output  # the accounts are printed again

    def test_each_role_has_an_account_that_signs_in(self, seeded, client):
        expected = {
            "coordination": (OrgKind.COORDINATOR, Role.MANAGER),
            "atelier": (OrgKind.WORKSHOP, Role.MEMBER),
            "structure": (OrgKind.STRUCTURE, Role.MEMBER),
            "fonds": (OrgKind.FUND, Role.READER),
            "donateur": (OrgKind.DONOR, Role.READER),
        }
        for username, (kind, role) in expected.items():
            membership = Membership.objects.select_related("organisation").get(
                user__username=username
            )
            assert (membership.organisation.kind, membership.role) == (kind, role)
        for account in (*demo.ACCOUNTS, demo.ADMIN):
            assert client.login(username=account.username, password=account.password), account
            client.logout()
        assert get_user_model().objects.get(username="admin").is_superuser

    def test_output_shows_where_and_how_to_sign_in(self, seeded):
        assert "http://127.0.0.1:8000/" in seeded
        for account in (*demo.ACCOUNTS, demo.ADMIN):
            assert account.username in seeded and account.password in seeded


def story_signature(stories):
    return [
        (s.final, s.registrar, s.fields, s.donor, [astuple(step) for step in s.steps], s.ages)
        for s in stories
    ]


def test_the_same_seed_tells_the_same_stories_whatever_the_day():
    def stories(now):
        rng = random.Random(demo.SEED)
        quotas = demo.status_quotas(demo.DEFAULT_DEVICES)
        names = [structure[0] for structure in demo.STRUCTURES]
        return demo.write_stories(rng, demo.Identifiers(rng), quotas, now, names)

    paris = timezone.get_default_timezone()
    monday_morning = datetime(2026, 3, 2, 9, 0, tzinfo=paris)
    saturday_night = datetime(2026, 10, 31, 23, 30, tzinfo=paris)
    assert story_signature(stories(monday_morning)) == story_signature(stories(saturday_night))


def test_every_status_gets_a_device_even_with_few_devices():
    for count in (len(Status), 20, 300, 1000):
        quotas = demo.status_quotas(count)
        assert sum(quotas.values()) == count
        assert min(quotas.values()) >= 1


@override_settings(PASSWORD_HASHERS=FAST_HASHER)
def test_a_taken_demo_username_stops_the_seed_before_any_write(db):
    get_user_model().objects.create_user(username="atelier", password="someone-else")
    before = row_counts()
    with pytest.raises(CommandError, match="atelier"):
        seed("--devices", "13")
    assert row_counts() == before


@override_settings(PASSWORD_HASHERS=FAST_HASHER)
@pytest.mark.slow
def test_an_existing_admin_keeps_its_password(db):
    get_user_model().objects.create_superuser(username="admin", password="the-real-one-2026")
    output = seed("--devices", "13")
    admin = get_user_model().objects.get(username="admin")
    assert admin.check_password("the-real-one-2026")
    assert demo.ADMIN.password not in output
    assert Device.objects.count() == 13


@override_settings(PASSWORD_HASHERS=FAST_HASHER)
@pytest.mark.slow
def test_a_failure_halfway_leaves_nothing_behind(db, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(demo, "_backdate_device_history", broken)
    with pytest.raises(RuntimeError):
        seed("--devices", "13")
    assert all(count == 0 for count in row_counts().values())
