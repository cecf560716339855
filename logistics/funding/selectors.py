"""Reads of the funding programmes for the screens: the programmes an approval may attribute
allocations to, and one programme's progress. Who sees which programme is
logistics.fund_reports.selectors.programmes_visible_to."""

import datetime as dt

from django.db.models import Count, Q, QuerySet

from logistics.models import AllocationStatus, FundingProgramme, HandOverItem, Mode


def programmes_open_on(day: dt.date) -> QuerySet[FundingProgramme]:
    """The programmes an approval made on `day` may count in: open to new allocations, and
    running that day (programme_check refuses the others with its reasons)."""
    return (
        FundingProgramme.objects.select_related("funder")
        .filter(is_active=True, starts_on__lte=day, ends_on__gte=day)
        .order_by("funder__name", "name", "id")
    )


def programme_progress(programme: FundingProgramme) -> dict:
    """Its allocations by status, and its devices handed over to date against its target: two
    queries whatever the programme holds."""
    allocations = programme.allocations.aggregate(
        total=Count("id"),
        active=Count("id", filter=Q(status=AllocationStatus.ACTIVE)),
        handed_over=Count("id", filter=Q(status=AllocationStatus.HANDED_OVER)),
        cancelled=Count("id", filter=Q(status=AllocationStatus.CANCELLED)),
    )
    handed = HandOverItem.objects.filter(allocation__programme=programme).aggregate(
        devices=Count("id"),
        gifts=Count("id", filter=Q(mode=Mode.GIFT)),
        loans=Count("id", filter=Q(mode=Mode.LOAN)),
    )
    target = programme.target_devices
    return {
        "allocations": allocations,
        "handed_over": handed["devices"],
        "gifts": handed["gifts"],
        "loans": handed["loans"],
        "progress": round(handed["devices"] / target, 4) if target else None,
    }
