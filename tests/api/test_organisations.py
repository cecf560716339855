"""GET /api/organisations/: who may see which organisations, and never their contacts."""

from inventory.states import OrgKind
from tests.builders import make_organisation

URL = "/api/organisations/"


def names(response) -> set[str]:
    assert response.status_code == 200
    return {row["name"] for row in response.json()["results"]}


def test_coordinator_sees_every_organisation(
    api, coordinator, workshop_org, structure_org, fund_org, donor_org, coordinator_org
):
    assert names(api(coordinator).get(URL, {"page_size": 200})) >= {
        workshop_org.name,
        structure_org.name,
        fund_org.name,
        donor_org.name,
        coordinator_org.name,
    }


def test_others_see_their_own_and_the_active_workshops_and_structures(
    api, workshop_staff, workshop_org, other_workshop_org, structure_org, fund_org, donor_org
):
    closed = make_organisation(kind=OrgKind.WORKSHOP, name="Atelier fermé", is_active=False)
    seen = names(api(workshop_staff).get(URL))
    assert {workshop_org.name, other_workshop_org.name, structure_org.name} <= seen
    assert not {fund_org.name, donor_org.name, closed.name} & seen


def test_a_fund_sees_itself_but_no_donor(api, fund_reader, fund_org, donor_org, workshop_org):
    seen = names(api(fund_reader).get(URL))
    assert fund_org.name in seen
    assert donor_org.name not in seen


def test_contact_fields_are_never_exposed(api, coordinator, structure_org):
    structure_org.contact_email = "directrice@example.org"
    structure_org.save()
    response = api(coordinator).get(URL, {"kind": "structure"})
    [row] = response.json()["results"]
    assert set(row) == {"id", "name", "kind", "commune", "territory"}
    assert row["commune"] == "92002"
    assert row["territory"]
    assert "directrice" not in response.content.decode()


def test_filter_by_kind(api, coordinator, workshop_org, other_workshop_org, structure_org):
    assert names(api(coordinator).get(URL, {"kind": "workshop"})) == {
        workshop_org.name,
        other_workshop_org.name,
    }
    assert api(coordinator).get(URL, {"kind": "alien"}).json()["code"] == "invalid"
