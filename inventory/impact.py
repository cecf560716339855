"""Environmental impact of reuse, from the ADEME factors kept as data.

The factors (kg CO2e, kg of raw materials and kg of e-waste avoided per year of extra use, by
device type) and the network's assumptions (years of extra use per category) are CSV files in
inventory/data, each with its source: never constants in code. A category without a published
absolute figure is "not estimated", never guessed; a factor left blank in the source (the
smartphone's e-waste) leaves that one figure unestimated. Pure Python: the reports and the
donor summary pass the device counts per category they computed in SQL.
"""

import csv
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.utils.translation import get_language

DATA = Path(__file__).resolve().parent / "data"
FACTORS_CSV = DATA / "impact_factors.csv"
ASSUMPTIONS_CSV = DATA / "impact_assumptions.csv"
# The three figures, with the factor's column in the CSV.
MEASURES = (
    ("co2e_kg", "kg_co2e_avoided_per_year"),
    ("materials_kg", "kg_materials_avoided_per_year"),
    ("ewaste_kg", "kg_ewaste_avoided_per_year"),
)


@dataclass(frozen=True)
class Factor:
    device_type: str
    per_year: dict[str, Decimal | None]  # measure → kg per year, None where not published
    status: str  # "published" or "to_confirm"
    source: str
    published_on: str

    @property
    def published(self) -> bool:
        return self.status == "published"


@dataclass(frozen=True)
class Assumption:
    category: str
    device_type: str
    extra_years: Decimal
    basis_fr: str
    basis_en: str

    @property
    def basis(self) -> str:
        return self.basis_en if (get_language() or "fr").startswith("en") else self.basis_fr


@dataclass(frozen=True)
class ImpactLine:
    category: str
    devices: int
    estimated: bool  # a published factor and an assumption exist for the category
    extra_years: Decimal | None
    figures: dict[str, Decimal | None]  # measure → kg, None where not estimated


@dataclass(frozen=True)
class Impact:
    lines: tuple[ImpactLine, ...]
    totals: dict[str, Decimal] = field(default_factory=dict)
    devices_estimated: int = 0
    devices_not_estimated: int = 0


def _decimal(text: str) -> Decimal | None:
    text = (text or "").strip()
    return Decimal(text) if text else None


@functools.cache
def factors() -> dict[str, Factor]:
    with FACTORS_CSV.open(encoding="utf-8", newline="") as handle:
        return {
            row["device_type"]: Factor(
                device_type=row["device_type"],
                per_year={measure: _decimal(row[column]) for measure, column in MEASURES},
                status=row["status"],
                source=row["source"],
                published_on=row["published_on"],
            )
            for row in csv.DictReader(handle)
        }


@functools.cache
def assumptions() -> dict[str, Assumption]:
    with ASSUMPTIONS_CSV.open(encoding="utf-8", newline="") as handle:
        return {
            row["category"]: Assumption(
                category=row["category"],
                device_type=row["device_type"],
                extra_years=Decimal(row["extra_years"]),
                basis_fr=row["basis_fr"],
                basis_en=row["basis_en"],
            )
            for row in csv.DictReader(handle)
        }


def impact_of(counts: Mapping[str, int]) -> Impact:
    """The impact of `counts` devices per category reused: factor × years × devices for each
    measure the source publishes; the rest is counted as not estimated."""
    lines = []
    totals = {measure: Decimal(0) for measure, _column in MEASURES}
    estimated_devices = not_estimated = 0
    for category, devices in sorted(counts.items()):
        if not devices:
            continue
        assumption = assumptions().get(category)
        factor = factors().get(assumption.device_type) if assumption else None
        estimated = bool(assumption and factor and factor.published)
        figures: dict[str, Decimal | None] = {}
        for measure, _column in MEASURES:
            per_year = factor.per_year.get(measure) if estimated else None
            if per_year is None:
                figures[measure] = None
            else:
                figures[measure] = (per_year * assumption.extra_years * devices).quantize(
                    Decimal("0.01")
                )
                totals[measure] += figures[measure]
        if estimated:
            estimated_devices += devices
        else:
            not_estimated += devices
        lines.append(
            ImpactLine(
                category=category,
                devices=devices,
                estimated=estimated,
                extra_years=assumption.extra_years if assumption else None,
                figures=figures,
            )
        )
    return Impact(
        lines=tuple(lines),
        totals=totals,
        devices_estimated=estimated_devices,
        devices_not_estimated=not_estimated,
    )
