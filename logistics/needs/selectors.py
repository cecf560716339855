"""Reads of the needs register, scoped: the coordination reads every need, a structure its own,
other organisations none. Pages follow the flat list pattern (inventory.pagination): ordered by
an index, newest first."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from inventory.selectors import user_scope
from inventory.states import OrgKind
from inventory.web.structure_facts import StructureFact
from logistics import permissions
from logistics.models import Need, NeedLine
from logistics.needs.lifecycle import EDITABLE, OPEN, NeedStatus, Side, moves_from


def needs_visible_to(user) -> QuerySet[Need]:
    scope = user_scope(user)
    needs = Need.objects.all()
    if scope.sees_all:
        return needs
    if scope.kind == OrgKind.STRUCTURE and scope.organisation is not None:
        return needs.filter(structure=scope.organisation)
    return needs.none()


def _lines() -> Prefetch:
    return Prefetch(
        "lines",
        queryset=NeedLine.objects.select_related("category").order_by("id"),
        to_attr="line_rows",
    )


@dataclass(frozen=True)
class RegisterFilters:
    """The register's filters, all optional; values already checked by the form or the API."""

    status: str = ""
    territory: str = ""
    commune: str = ""
    structure_type: str = ""
    structure: int | None = None
    category: str = ""
    public: str = ""
    purpose: str = ""
    older_than_days: int | None = None


def need_register(user, filters: RegisterFilters | None = None) -> QuerySet[Need]:
    """The needs the user may see, filtered, newest first, each with its lines (`line_rows`)
    and its structure and commune: three queries for a page, whatever its length."""
    filters = filters or RegisterFilters()
    needs = needs_visible_to(user)
    if filters.status:
        needs = needs.filter(status=filters.status)
    if filters.territory:
        needs = needs.filter(structure__commune__territory_id=filters.territory)
    if filters.commune:
        needs = needs.filter(structure__commune_id=filters.commune)
    if filters.structure_type:
        needs = needs.filter(structure__structure_type=filters.structure_type)
    if filters.structure is not None:
        needs = needs.filter(structure_id=filters.structure)
    if filters.public:
        needs = needs.filter(public=filters.public)
    if filters.purpose:
        needs = needs.filter(purpose=filters.purpose)
    if filters.category:
        # EXISTS, not a join: a need with two lines of the category is listed once.
        needs = needs.filter(
            Exists(NeedLine.objects.filter(need=OuterRef("pk"), category_id=filters.category))
        )
    if filters.older_than_days is not None:
        limit = timezone.now() - datetime.timedelta(days=filters.older_than_days)
        needs = needs.filter(created_at__lt=limit)
    return (
        needs.select_related("structure", "structure__commune", "created_by")
        .prefetch_related(_lines())
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class Units:
    asked: int
    accepted: int
    served: int


def register_units(needs: QuerySet[Need], *, category: str = "") -> Units:
    """Units asked, accepted and served over the needs of a register's selection: one
    aggregate over their lines (the category filter counts that category's lines only). A
    draft asks nothing yet: its lines are left out."""
    lines = NeedLine.objects.filter(need__in=needs.order_by().values("pk")).exclude(
        need__status=NeedStatus.DRAFT
    )
    if category:
        lines = lines.filter(category_id=category)
    sums = lines.aggregate(
        asked=Coalesce(Sum("quantity"), 0),
        accepted=Coalesce(Sum("quantity_accepted"), 0),
        served=Coalesce(Sum("quantity_served"), 0),
    )
    return Units(sums["asked"], sums["accepted"], sums["served"])


def need_detail(user, pk: int) -> Need | None:
    """The need with its lines, structure and author, if the user may see it."""
    return (
        needs_visible_to(user)
        .select_related("structure", "structure__commune", "created_by")
        .prefetch_related(_lines())
        .filter(pk=pk)
        .first()
    )


def need_history(need: Need) -> list:
    """The need's recorded changes, newest first, with who made them."""
    return list(need.history.select_related("history_user").order_by("-history_date", "-pk"))


def need_actions(user, need: Need) -> list[str]:
    """The moves the user may offer on this need (and "edit" while it may still change)."""
    scope = user_scope(user)
    names: list[str] = []
    if permissions.may_declare_needs(scope):
        names += [move.name for move in moves_from(need.status, Side.STRUCTURE)]
        if need.status in EDITABLE:
            names.append("edit")
    if permissions.may_decide_needs(scope):
        names += [move.name for move in moves_from(need.status, Side.COORDINATION)]
    return names


def structure_need_facts(scope, structure) -> list[StructureFact]:
    """A structure's page (inventory.web.structure_facts): its needs, open and in all, with a
    link to them in the register, for who reads the register."""
    if not (scope.sees_all and permissions.may_read_needs(scope)):
        return []
    counts = Need.objects.filter(structure=structure).aggregate(
        total=Count("pk"), open=Count("pk", filter=Q(status__in=OPEN))
    )
    text = (
        ngettext(
            "%(open)s open out of %(total)s need",
            "%(open)s open out of %(total)s needs",
            counts["total"],
        )
        % counts
    )
    url = f"{reverse('logistics:need_list')}?structure={structure.pk}"
    return [StructureFact(str(_("Needs")), text, url)]
