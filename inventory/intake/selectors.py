"""Reads of intake: donations with their device counts, donors by name, the categories a
spreadsheet may name, and the version an edit of a donation is checked against."""

import hashlib

from django.db.models import Count, QuerySet
from django.db.models.functions import Lower

from inventory.intake import spreadsheets as imports
from inventory.models import Category, Donation, Organisation
from inventory.states import OrgKind


def donor_by_name(name: str) -> Organisation | None:
    return (
        Organisation.objects.filter(kind=OrgKind.DONOR)
        .annotate(folded=Lower("name"))
        .filter(folded=" ".join((name or "").split()).lower())
        .first()
    )


def donation_version(donation: Donation) -> str:
    """A digest of the editable fields: an edit posted against another version is stale."""
    text = "\x1f".join(str(donation.serializable_value(name)) for name in DONATION_FIELDS)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def category_refs() -> list[imports.CategoryRef]:
    return [
        imports.CategoryRef(c.code, c.name_fr, c.name_en, c.has_imei)
        for c in Category.objects.all()
    ]


def donation_list(donations: QuerySet[Donation], *, donor: int | None = None) -> QuerySet[Donation]:
    """The donations given (the user's share), newest first, with each donation's count of
    registered devices."""
    donations = (
        donations.select_related("donor", "collected_by")
        .annotate(registered_count=Count("devices"))
        .order_by("-received_on", "-id")
    )
    return donations.filter(donor_id=donor) if donor else donations


DONATION_FIELDS = (
    "donor",
    "received_on",
    "pickup_address",
    "expected_count",
    "received_count",
    "released_accounts",
    "released_management",
    "released_firmware",
    "attested_by",
    "attested_on",
    "notes",
)
