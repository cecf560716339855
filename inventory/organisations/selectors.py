"""Reads of the coordination's structure screens and API: the structures with their number of
people, one structure's people, and the communes grouped by territory (EPT)."""

from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from inventory.models import Commune, Membership, Organisation
from inventory.states import OrgKind


@dataclass(frozen=True)
class StructureFilters:
    territory: str = ""  # EPT code
    structure_type: str = ""
    active: bool | None = None
    q: str = ""  # part of the name, or the start of the SIRET or RNA number


def structures() -> QuerySet[Organisation]:
    return Organisation.objects.filter(kind=OrgKind.STRUCTURE)


def structure_list(filters: StructureFilters = StructureFilters()) -> QuerySet[Organisation]:
    """By name, each with its commune, territory and `member_count`: one query per page."""
    found = structures().select_related("commune__territory")
    if filters.territory:
        found = found.filter(commune__territory_id=filters.territory)
    if filters.structure_type:
        found = found.filter(structure_type=filters.structure_type)
    if filters.active is not None:
        found = found.filter(is_active=filters.active)
    if q := " ".join(filters.q.split()):
        compact = "".join(q.split()).upper()
        found = found.filter(
            Q(name__icontains=q) | Q(siret__startswith=compact) | Q(rna__startswith=compact)
        )
    return found.annotate(member_count=Count("memberships")).order_by("name", "id")


def with_versions(found: QuerySet[Organisation]) -> QuerySet[Organisation]:
    """Each structure with `history_count`, the count services.structure_version reads (the
    ETag), in the same query: a list's versions cost no query per row."""
    history = (
        Organisation.history.model.objects.filter(id=OuterRef("pk"))
        .order_by()
        .values("id")
        .annotate(count=Count("*"))
        .values("count")
    )
    return found.annotate(history_count=Coalesce(Subquery(history, output_field=IntegerField()), 0))


def structure_people(structure: Organisation) -> QuerySet[Membership]:
    """The structure's people, the active ones first, by name."""
    return (
        Membership.objects.filter(organisation=structure)
        .select_related("user")
        .order_by("-user__is_active", "user__last_name", "user__first_name", "user__email", "id")
    )


def communes_by_territory() -> list[tuple[str, list[tuple[str, str]]]]:
    """(territory name, [(INSEE code, commune name), …]) for a select grouped by EPT."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for commune in Commune.objects.select_related("territory").order_by("territory_id", "name"):
        groups.setdefault(commune.territory.name, []).append((commune.insee_code, commune.name))
    return list(groups.items())
