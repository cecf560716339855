"""Demo logistics: a year of the channel's history, then today's work in progress.

The past twelve months, month by month: a donation received, reconditioned at one of the two
workshops (a device now and then recycled or dismantled), a need of a structure (all four
EPT, many kinds of structures, publics and purposes) accepted, served by an approved matching
run (most of them counting in one of three funding programmes), handed over as gifts or loans
(some delivered first), loans returned, or still out and overdue. Then the recent weeks: a
shipment on its way to ECODAIR (partly received), a WEEE disposal, needs of every fate and
their allocations, deliveries (one delivered, one on its way through the depot), hand-overs
with signed receipts (one still to sign, today's), a loan overdue, itinerant kits partly
returned, a matching run proposed for review. Last, the fund's report of the previous month,
issued and frozen.

Runs after inventory's demo (`seed_demo`), through the logistics services, with the demo's
accounts. Each step is played at its own moment of the story on the demo's clock
(`story_clock`): the services stamp their rows and their history rows with that moment, so a
device's, a need's or a loan's timeline reads in order, a need is accepted before its devices
are handed over, and no timestamp needs rewriting afterwards. Finding a shipment, a disposal,
a need or a programme already there, it writes nothing.
"""

import datetime
import random
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from inventory.demo import bench as demo_bench
from inventory.demo.seed import (
    DEMO_STRUCTURE_NAME,
    DONOR_COMPANY_NAME,
    NOTES,
    SECOND_WORKSHOP_NAME,
    WORKSHOP_NAME,
    DeviceGenerator,
    Identifiers,
)
from inventory.intake.services import donation_create
from inventory.models import Category, Commune, Device, Membership, Organisation, Reconditioning
from inventory.reconditioning.services import assessment_record
from inventory.services import device_register, device_transition, organisation_save
from inventory.states import OrgKind, Status
from logistics.allocations.services import (
    matching_run_approve,
    matching_run_create,
    run_line_swap,
)
from logistics.disposals.services import disposal_create
from logistics.models import (
    Allocation,
    AllocationStatus,
    DisposalBatch,
    FundingProgramme,
    FundReport,
    Need,
    Shipment,
)
from logistics.needs import services as needs
from logistics.shipments.services import shipment_create, shipment_receive

SEED = 1392
SHIPPED = 6  # registered devices sent in the demo shipment
RECEIVED = 2  # of which the workshop has scanned this many
DISPOSED = 12  # recycled devices in the demo disposal


class DemoMissing(Exception):
    """The inventory demo must be loaded first."""


@dataclass(frozen=True)
class LogisticsSummary:
    shipped: int
    received: int
    disposed: int
    needs: int = 0
    allocated: int = 0
    handed_over: int = 0
    programmes: int = 0
    reports: int = 0


def logistics_demo_present() -> bool:
    return (
        Shipment.objects.exists()
        or DisposalBatch.objects.exists()
        or Need.objects.exists()
        or FundingProgramme.objects.exists()
    )


# --- the demo's clock ------------------------------------------------------------------------


@contextmanager
def story_clock(moment: datetime.datetime):
    """Inside the block, `timezone.now()` (and so `localdate()`, `auto_now_add` and
    simple-history's dates) runs from `moment` instead of the present, as the seconds pass:
    the services write the story's past as they would have written it that day. Demo only:
    one process, one thread, the present restored on the way out."""
    real = timezone.now
    offset = moment - real()
    timezone.now = lambda: real() + offset
    try:
        yield
    finally:
        timezone.now = real


class Calendar:
    """Steps of the story, each played at its moment, in calendar order."""

    def __init__(self):
        self.steps: list[tuple[datetime.datetime, int, Callable[[], None]]] = []

    def at(self, moment: datetime.datetime, step: Callable[[], None]) -> None:
        self.steps.append((moment, len(self.steps), step))

    def first(self) -> datetime.datetime:
        return min(moment for moment, _n, _step in self.steps)

    def play(self) -> None:
        for moment, _n, step in sorted(self.steps, key=lambda entry: entry[:2]):
            with story_clock(moment):
                step()
        self.steps.clear()


# --- the story -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgrammeSpec:
    key: str
    funder: str
    name: str
    starts: int  # months before the current one
    months: int  # how long it runs
    target: int
    territories: tuple[str, ...] = ()
    structure_types: tuple[str, ...] = ()


PROGRAMMES = (
    ProgrammeSpec("caf", "Caisse d'allocations familiales des Hauts-de-Seine",
                  "Équipement des structures", 12, 24, 60),
    ProgrammeSpec("cd92", "Conseil départemental des Hauts-de-Seine",
                  "Inclusion numérique GPSO–POLD", 10, 13, 25, territories=("T3", "T4")),
    ProgrammeSpec("bdt", "Banque des Territoires", "France Services connectées", 11, 24, 15,
                  structure_types=("RFS",)),
)  # fmt: skip


@dataclass(frozen=True)
class Month:
    """One month of the past year: a donation reconditioned, one structure's need served."""

    months_ago: int
    structure: str
    lines: tuple[tuple[str, int], ...]
    purpose: str
    public: str
    loan_weeks: int | None = None  # a loan; a gift without
    programme: str = ""
    workshop: str = WORKSHOP_NAME
    donor: str = DONOR_COMPANY_NAME
    exits: tuple[str, ...] = ()  # extra devices: "intake", "recycle" or "dismantle"
    delivered: bool = False
    returns: tuple[tuple[int, int], ...] = ()  # (device's position, days after the hand-over)
    signer: tuple[str, str] = ("Camille Leroy", "Conseillère numérique")


_AXM, _SOC, _CD = (
    DONOR_COMPANY_NAME,
    "Seine Ouest Conseil",
    "Conseil départemental des Hauts-de-Seine",
)
YEAR = (
    Month(12, "CCAS d'Antony", (("laptop", 2),), "lent_to_people", "job_seekers",
          programme="caf", donor=_CD,
          signer=("Isabelle Fontaine", "Responsable du CCAS")),
    Month(11, "France Services Vanves", (("laptop", 2), ("smartphone", 1)), "public_access",
          "everyone", programme="bdt", exits=("recycle",), delivered=True,
          signer=("Thomas Nguyen", "Agent France Services")),
    Month(10, "Médiathèque de Garches", (("tablet", 2),), "public_access", "seniors",
          loan_weeks=12, programme="cd92", donor=_SOC, returns=((0, 80), (1, 83)),
          signer=("Hélène Marchetti", "Bibliothécaire")),
    Month(9, "PIMMS de Gennevilliers", (("smartphone", 2),), "lent_to_people", "allophones",
          programme="caf", workshop=SECOND_WORKSHOP_NAME, exits=("dismantle",),
          signer=("Yacine Belkacem", "Médiateur social")),
    Month(8, "Espace public numérique d'Issy-les-Moulineaux", (("laptop", 3),),
          "public_access", "young_people", programme="cd92", donor=_SOC, delivered=True),
    Month(7, "Association Clic et Lien", (("laptop", 2),), "staff_use", "everyone",
          donor=_CD, exits=("recycle",),
          signer=("Julien Masson", "Trésorier de l'association")),
    Month(6, "France Services Clichy", (("desktop", 1), ("screen", 1)), "public_access",
          "everyone", programme="bdt", workshop=SECOND_WORKSHOP_NAME, delivered=True,
          signer=("Awa Traoré", "Agente France Services")),
    Month(5, "Centre social Les Champs-Philippe — La Garenne-Colombes",
          (("laptop", 1), ("tablet", 2)), "itinerant_kit", "seniors", loan_weeks=26,
          programme="cd92", returns=((2, 60),),
          signer=("Paul Girard", "Animateur multimédia")),
    Month(4, "CCAS de Boulogne-Billancourt", (("smartphone", 2),), "lent_to_people",
          "families", loan_weeks=12, programme="caf", donor=_SOC, returns=((0, 70),),
          signer=("Nathalie Roux", "Travailleuse sociale")),
    Month(3, "Tiers-lieu La Fabrique — Malakoff", (("laptop", 2),), "lent_to_people",
          "job_seekers", programme="caf", donor=_CD, exits=("intake",), delivered=True,
          signer=("Léa Bernard", "Coordinatrice du tiers-lieu")),
    Month(2, "Médiathèque de Bois-Colombes", (("tablet", 2),), "public_access",
          "disabilities", loan_weeks=26, workshop=SECOND_WORKSHOP_NAME,
          signer=("Marc Dupuis", "Responsable de l'espace multimédia")),
    Month(1, "Mairie de Montrouge — accueil numérique", (("laptop", 1), ("all_in_one", 1)),
          "public_access", "seniors", programme="caf",
          signer=("Sandrine Petit", "Agente d'accueil")),
)  # fmt: skip


def users_structure():
    return get_user_model().objects.filter(username="structure").first()


class Story:
    """The actors, the organisations and what the steps leave for the next ones."""

    def __init__(self, users: dict, workshop: Organisation):
        self.coordinator = users["coordination"]
        self.bench = {WORKSHOP_NAME: users["atelier"], SECOND_WORKSHOP_NAME: users["atelier-nord"]}
        self.structure_user = users_structure()
        self.workshops = {
            o.name: o
            for o in Organisation.objects.filter(
                kind=OrgKind.WORKSHOP, name__in=[WORKSHOP_NAME, SECOND_WORKSHOP_NAME]
            )
        }
        self.workshops.setdefault(WORKSHOP_NAME, workshop)
        self.rng = random.Random(SEED)
        self.generator = DeviceGenerator(self.rng, Identifiers(self.rng))
        self.categories = Category.objects.in_bulk()
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.programmes: dict[str, FundingProgramme] = {}
        self.summary = {"needs": 0, "allocated": 0, "handed": 0}

    # Moments.

    def ago(self, days: int, hour: int = 10, minute: int = 0) -> datetime.datetime:
        day = self.today - datetime.timedelta(days=days)
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))

    def month_start(self, months_ago: int) -> datetime.date:
        year, month = divmod(self.today.year * 12 + self.today.month - 1 - months_ago, 12)
        return datetime.date(year, month + 1, 1)

    def on(self, day: datetime.date, offset: int, hour: int, minute: int = 0):
        moment = datetime.datetime.combine(
            day + datetime.timedelta(days=offset), datetime.time(hour, minute)
        )
        return timezone.make_aware(moment)

    def structure(self, name: str) -> Organisation:
        return Organisation.objects.select_related("commune").get(kind=OrgKind.STRUCTURE, name=name)

    # Steps shared by the past year and the recent weeks.

    def batch(self, calendar: Calendar, start: datetime.datetime, *, donor: str,
              workshop: str, specs: list[tuple[str, dict]], exits=()) -> "Batch":  # fmt: skip
        batch = Batch(self, donor=donor, workshop=workshop, specs=specs, exits=tuple(exits))
        batch.schedule(calendar, start)
        return batch

    def approve(self, need_ids: set[int], devices: list[Device], programme: str = ""):
        """A matching run over the accepted needs; the lines of `need_ids` approved, each with
        one of `devices` (the proposal's device swapped for it where the run chose another),
        counting in the programme."""
        run = matching_run_create(actor=self.coordinator)
        lines = list(
            run.lines.filter(need_line__need_id__in=need_ids)
            .select_related("need_line")
            .order_by("need_line__need_id", "id")
        )
        in_run = set(run.lines.values_list("device_id", flat=True))
        mine = {device.pk: device for device in devices}
        free = [pk for pk in mine if pk not in in_run]
        kept = []
        for line in lines:
            if line.device_id not in mine:
                category = line.need_line.category_id
                pk = next((pk for pk in free if mine[pk].category_id == category), None)
                if pk is None:
                    continue  # the run's device came later in the story: not this one
                free.remove(pk)
                run_line_swap(actor=self.coordinator, run_id=run.pk, line_id=line.pk, device=pk)
            kept.append(line.pk)
        if not kept:
            return []
        programme_id = self.programmes[programme].pk if programme else None
        made = matching_run_approve(
            actor=self.coordinator, run_id=run.pk, line_ids=kept, programme=programme_id
        )
        self.summary["allocated"] += len(made)
        return made

    def hand_over(self, allocations, signer: tuple[str, str], *, sign: bool = True, by=None):
        from logistics.handovers import services as handovers

        hand_over = handovers.hand_over_create(
            actor=self.coordinator,
            allocation_ids=[a.pk for a in allocations],
            received_by_name=signer[0],
            received_by_role=signer[1],
        )
        self.summary["handed"] += len(allocations)
        if sign:
            with story_clock(timezone.now() + datetime.timedelta(minutes=4)):
                handovers.hand_over_sign(
                    actor=by or self.coordinator,
                    hand_over_id=hand_over.pk,
                    signer_name=signer[0],
                    image=_signature_png(signer[0]),
                )
        return hand_over

    def deliver(self, calendar: Calendar, structure_of, allocations_of, start, *, signer,
                receiver=None, sign_by=None) -> dict:  # fmt: skip
        """A delivery prepared at `start`, leaving the next morning, received and handed over
        that afternoon (the returned dict gets the "hand_over")."""
        from logistics.deliveries import services as deliveries

        state = {}

        def prepare():
            allocations = allocations_of()
            if allocations:
                state["allocations"] = allocations
                state["delivery"] = deliveries.delivery_create(
                    actor=self.coordinator,
                    structure=structure_of(),
                    allocation_ids=[a.pk for a in allocations],
                    carrier="Camionnette de la coordination",
                )

        def dispatch():
            if "delivery" in state:
                deliveries.delivery_dispatch(
                    actor=self.coordinator, delivery_id=state["delivery"].pk
                )

        def receive():
            if "delivery" not in state:
                return
            for allocation in state["allocations"]:
                deliveries.delivery_receive(
                    actor=receiver or self.coordinator,
                    delivery_id=state["delivery"].pk,
                    raw=allocation.device.label_code_id,
                )
            state["hand_over"] = self.hand_over(state["allocations"], signer, by=sign_by)

        calendar.at(start, prepare)
        calendar.at(start + datetime.timedelta(days=1, hours=-1), dispatch)
        calendar.at(start + datetime.timedelta(days=1, hours=4), receive)
        return state

    def loan_return(self, hand_over_of, positions, note: str):
        from logistics.loans.services import loan_return

        def step():
            hand_over = hand_over_of()
            if hand_over is None or not hasattr(hand_over, "loan"):
                return
            items = list(hand_over.items.order_by("id").values_list("device_id", flat=True))
            returned = [items[p] for p in positions if p < len(items)]
            if returned:
                loan_return(
                    actor=self.coordinator,
                    loan_id=hand_over.loan.pk,
                    returned=returned,
                    note=note,
                )

        return step


class Batch:
    """Devices of one donation: registered, sent to a workshop, received there, reconditioned
    one after the other (ready in one to two weeks), a few leaving as WEEE or parts."""

    def __init__(self, story: Story, *, donor: str, workshop: str, specs, exits):
        self.story, self.donor, self.workshop = story, donor, workshop
        self.specs, self.exits = specs, exits
        self.devices: list[Device] = []  # the ones made ready, in the order of `specs`
        self.left: list[Device] = []

    def schedule(self, calendar: Calendar, start: datetime.datetime) -> None:
        story = self.story
        day = timezone.localtime(start).date()
        calendar.at(start, self.register)
        if "intake" in self.exits:
            calendar.at(start + datetime.timedelta(hours=4), self.intake_exit)
        calendar.at(story.on(day, 1, 9, 30), self.send)
        calendar.at(story.on(day, 3, 10), self.receive)
        for position in range(len(self.specs)):
            calendar.at(story.on(day, 4 + position, 9), self.start(position))
            calendar.at(story.on(day, self.ready_offset(position), 16), self.ready(position))
        at_bench = [n for n, how in enumerate(self.exits) if how != "intake"]
        for position, n in enumerate(at_bench):
            index = len(self.specs) + n
            calendar.at(story.on(day, 4 + position, 11), self.start(index))
            calendar.at(story.on(day, 6 + position, 14), self.leave(index, self.exits[n]))

    @staticmethod
    def ready_offset(position: int) -> int:
        """The day (after the donation's) the `position`-th device is marked ready."""
        return 8 + 2 * position

    def register(self) -> None:
        story = self.story
        donor = Organisation.objects.get(kind=OrgKind.DONOR, name=self.donor)
        count = len(self.specs) + len(self.exits)
        donation = donation_create(
            actor=story.coordinator,
            donor=donor,
            received_on=timezone.localdate(),
            pickup_address=donor.address,
            expected_count=count,
            received_count=count,
            released_accounts=True,
            released_management=True,
            released_firmware=True,
            attested_by=f"Service informatique — {donor.name.split(' — ')[0]}",
            attested_on=timezone.localdate(),
        )
        extra = [("laptop", {}) if how != "intake" else ("desktop", {}) for how in self.exits]
        self.all = []
        for category, spec in [*self.specs, *extra]:
            fields = story.generator.fields(category)
            fields.pop("category_code")
            fields.update(spec)
            self.all.append(
                device_register(
                    actor=story.coordinator,
                    category=story.categories[category],
                    donor=donor,
                    donation=donation,
                    **fields,
                )
            )

    def _intake_device(self) -> Device:
        return self.all[len(self.specs) + self.exits.index("intake")]

    def intake_exit(self) -> None:
        # Broken on arrival: recycled from intake, never sent to a workshop.
        device = self._intake_device()
        device_transition(
            actor=self.story.coordinator,
            device_id=device.pk,
            action="recycle",
            note=NOTES["recycle"][2],
        )
        self.left.append(device)

    def send(self) -> None:
        workshop = self.story.workshops[self.workshop]
        skip = {self._intake_device().pk} if "intake" in self.exits else set()
        for device in self.all:
            if device.pk not in skip:
                device_transition(
                    actor=self.story.coordinator,
                    device_id=device.pk,
                    action="send_to_workshop",
                    target=workshop,
                )

    def receive(self) -> None:
        skip = {self._intake_device().pk} if "intake" in self.exits else set()
        for device in self.all:
            if device.pk not in skip:
                device_transition(
                    actor=self.story.bench[self.workshop],
                    device_id=device.pk,
                    action="receive_at_workshop",
                )

    def start(self, index: int):
        def step():
            device_transition(
                actor=self.story.bench[self.workshop],
                device_id=self.all[index].pk,
                action="start_reconditioning",
            )

        return step

    def ready(self, index: int):
        def step():
            bench = self.story.bench[self.workshop]
            device = Device.objects.select_related("category").get(pk=self.all[index].pk)
            demo_bench.record_full(bench, device, self.story.rng)
            cycle = Reconditioning.objects.get(device=device, completed_at__isnull=True)
            if cycle.grade not in ("A", "B"):  # the needs served ask for B or better
                assessment_record(actor=bench, device_id=device.pk, grade="B")
            result = device_transition(actor=bench, device_id=device.pk, action="mark_ready")
            self.devices.append(result.device)

        return step

    def leave(self, index: int, how: str):
        def step():
            bench = self.story.bench[self.workshop]
            device = Device.objects.select_related("category").get(pk=self.all[index].pk)
            if how == "recycle":
                demo_bench.record_destroyed(bench, device, self.story.rng)
            device_transition(actor=bench, device_id=device.pk, action=how, note=NOTES[how][0])
            self.left.append(device)

        return step


# --- the past year -------------------------------------------------------------------------


def _seed_programmes(story: Story, calendar: Calendar) -> None:
    """The funders and their programmes, recorded a few weeks before each one starts."""
    nanterre = Commune.objects.filter(insee_code="92050").first()
    for spec in PROGRAMMES:
        starts = story.month_start(spec.starts)
        ends = story.month_start(spec.starts - spec.months) - datetime.timedelta(days=1)

        def record(spec=spec, starts=starts, ends=ends):
            from logistics.funding.services import programme_create

            funder = Organisation.objects.filter(kind=OrgKind.FUND, name=spec.funder).first()
            if funder is None:
                funder = organisation_save(
                    actor=story.coordinator,
                    organisation=Organisation(
                        name=spec.funder,
                        kind=OrgKind.FUND,
                        commune=nanterre,
                        is_public_body=True,
                        contact_email="inclusion-numerique@financeur.example",
                    ),
                )
            years = f"{starts.year}" if starts.year == ends.year else f"{starts.year}–{ends.year}"
            name = spec.name if spec.key != "caf" else f"{spec.name} {years}"
            story.programmes[spec.key] = programme_create(
                actor=story.coordinator,
                funder=funder,
                name=name,
                starts_on=starts,
                ends_on=ends,
                target_devices=spec.target,
                territories=list(spec.territories),
                structure_types=list(spec.structure_types),
            )

        calendar.at(story.on(starts, -20 + len(story.programmes), 11), record)


def _seed_month(story: Story, calendar: Calendar, month: Month, index: int) -> None:
    first = story.month_start(month.months_ago)
    specs = [(category, {}) for category, units in month.lines for _ in range(units)]
    batch = story.batch(
        calendar,
        story.on(first, 0, 10, index),
        donor=month.donor,
        workshop=month.workshop,
        specs=specs,
        exits=month.exits,
    )
    state: dict = {}
    delivery: dict = {}

    def declare():
        structure = story.structure(month.structure)
        fields = {"purpose": month.purpose, "public": month.public, "urgency": "normal"}
        if month.loan_weeks:
            fields |= {"mode": "loan", "loan_weeks": month.loan_weeks}
        else:
            fields["mode"] = "gift"
        state["need"] = needs.need_create(
            actor=story.coordinator,
            structure=structure.pk,
            submit=True,
            lines=[{"category": c, "quantity": q} for c, q in month.lines],
            **fields,
        )
        story.summary["needs"] += 1

    def accept():
        needs.need_accept(actor=story.coordinator, need_id=state["need"].pk)

    def approve():
        state["allocations"] = story.approve({state["need"].pk}, batch.devices, month.programme)

    # Accepted three to six days after it was submitted; approved one to three days after the
    # last device was ready; handed over one to six days later (or delivered the next day).
    signer = month.signer
    approved = Batch.ready_offset(len(specs) - 1) + 1 + index % 3
    calendar.at(story.on(first, 2, 11, index), declare)
    calendar.at(story.on(first, 3 + index % 4, 15, index), accept)
    calendar.at(story.on(first, approved, 11, index), approve)
    if month.delivered:
        delivery = story.deliver(
            calendar,
            lambda: story.structure(month.structure),
            lambda: state.get("allocations", []),
            story.on(first, approved + 1, 10, index),
            signer=signer,
        )
        handed_at = story.on(first, approved + 2, 14)
    else:

        def hand_over():
            if state.get("allocations"):
                state["hand_over"] = story.hand_over(state["allocations"], signer)

        handed_at = story.on(first, approved + 1 + index * 5 % 6, 15, index)
        calendar.at(handed_at, hand_over)

    def handed():
        return (delivery if month.delivered else state).get("hand_over")

    for position, days in month.returns:
        moment = handed_at + datetime.timedelta(days=days, hours=-4)
        if moment < story.now - datetime.timedelta(hours=1):
            calendar.at(
                moment,
                story.loan_return(handed, [position], NOTES["return_loan"][0]),
            )


def _seed_year(story: Story) -> None:
    calendar = Calendar()
    _seed_programmes(story, calendar)
    for index, month in enumerate(YEAR):
        _seed_month(story, calendar, month, index)
    _network_set_up_before(calendar.first() - datetime.timedelta(days=3))
    calendar.play()


def _network_set_up_before(moment: datetime.datetime) -> None:
    """The inventory demo sets the network up some ten months back; this story starts a year
    back. Move the set-up (organisations, memberships, accounts, with their history) earlier
    by as much as needed, all together: their own order stays as it was."""
    HistoricalOrganisation = Organisation.history.model
    HistoricalMembership = Membership.history.model
    last = Organisation.objects.order_by("-created_at").values_list("created_at", flat=True)
    last = last.first()
    if last is None or last <= moment:
        return
    shift = last - moment
    User = get_user_model()
    set_up_end = last
    Organisation.objects.update(created_at=F("created_at") - shift)
    HistoricalOrganisation.objects.filter(history_date__lte=set_up_end).update(
        history_date=F("history_date") - shift, created_at=F("created_at") - shift
    )
    first_device = Device.objects.order_by("created_at").values_list("created_at", flat=True)
    first_device = first_device.first() or set_up_end
    HistoricalMembership.objects.filter(history_date__lt=first_device).update(
        history_date=F("history_date") - shift
    )
    User.objects.filter(date_joined__lt=first_device).update(date_joined=F("date_joined") - shift)


def _received_at_repair() -> None:
    """The inventory demo dates its bench records back after writing them, but not when each
    cycle's device was received: read it from the device's history, as the migration that
    added the field did (the receipt at the workshop before the cycle started)."""
    received = (
        Device.history.model.objects.filter(
            id=OuterRef("device_id"),
            history_change_reason="receive_at_workshop",
            history_date__lte=OuterRef("started_at"),
        )
        .order_by("-history_date")
        .values("history_date")[:1]
    )
    Reconditioning.objects.filter(received_at__gt=F("started_at")).update(
        received_at=Coalesce(Subquery(received), "started_at")
    )
    Reconditioning.history.filter(received_at__gt=F("started_at")).update(
        received_at=Coalesce(
            Subquery(Reconditioning.objects.filter(pk=OuterRef("id")).values("received_at")[:1]),
            "started_at",
        )
    )


# --- the recent weeks ------------------------------------------------------------------------

# The demo's needs: (lines, need fields, days ago, what became of it). Lines are
# (category, quantity, {spec}); one need per structure in this order, the demo structure's
# first (its account declares them; the coordination records the others, as for a structure
# that phoned its need in). Decisions come two days after the need.
_L, _T, _P = "laptop", "tablet", "smartphone"
DEMO_NEEDS = (
    ([(_L, 4, {"min_ram_gb": 8, "os_family": "windows"}), (_T, 2, {})],
     {"purpose": "public_access", "public": "everyone"}, 40, "accepted"),
    ([(_T, 3, {"min_grade": "B"})],
     {"purpose": "itinerant_kit", "public": "seniors", "mode": "loan", "loan_weeks": 26}, 45,
     "accepted"),
    ([(_L, 2, {})], {"purpose": "staff_use", "public": "everyone"}, 1, "draft"),
    ([(_L, 3, {"min_ram_gb": 8, "min_storage_gb": 256})],
     {"purpose": "lent_to_people", "public": "job_seekers", "mode": "loan", "loan_weeks": 12},
     118, "accepted"),
    ([(_P, 10, {"os_family": "android", "min_grade": "B"})],
     {"purpose": "lent_to_people", "public": "allophones", "urgency": "high"}, 20, "accepted"),
    ([(_L, 3, {"min_ram_gb": 16})], {"purpose": "staff_use", "public": "everyone"}, 90,
     "declined"),
    ([(_T, 5, {})], {"purpose": "public_access", "public": "young_people"}, 12, "submitted"),
    ([(_L, 2, {"min_ram_gb": 4}), (_P, 2, {})],
     {"purpose": "public_access", "public": "families"}, 50, "accepted"),
    ([(_L, 12, {"min_ram_gb": 8})],
     {"purpose": "lent_to_people", "public": "job_seekers", "urgency": "high"}, 33, "accepted"),
    ([(_P, 4, {})], {"purpose": "lent_to_people", "public": "disabilities"}, 65, "cancelled"),
    ([(_T, 3, {"min_grade": "A"})], {"purpose": "public_access", "public": "seniors"}, 8,
     "submitted"),
    ([(_L, 5, {"os_family": "linux"})], {"purpose": "public_access", "public": "everyone"},
     120, "expired"),
    ([(_L, 1, {}), (_T, 2, {})], {"purpose": "itinerant_kit", "public": "seniors",
     "mode": "loan", "loan_weeks": 52}, 50, "accepted"),
    ([(_P, 6, {"min_storage_gb": 64})], {"purpose": "lent_to_people", "public": "young_people"},
     15, "accepted"),
    ([(_L, 1, {})], {"purpose": "staff_use", "public": "everyone", "urgency": "low"}, 5,
     "submitted"),
)  # fmt: skip
LOAN_NEED = 3  # a loan of twelve weeks handed over a hundred days ago: overdue now
KIT_NEEDS = (1, 12)  # itinerant kits lent five weeks ago, one device of each back since
BIG_LAPTOP = {"ram_gb": 16, "storage_gb": 512, "storage_type": "ssd"}


def _seed_needs(story: Story, calendar: Calendar) -> dict[int, Need]:
    """The demo's needs through the services, each on its story's days."""
    structures = list(
        Organisation.objects.filter(kind=OrgKind.STRUCTURE, is_active=True).order_by("name")
    )
    structures.sort(key=lambda org: org.name != DEMO_STRUCTURE_NAME)
    made: dict[int, Need] = {}
    for index, (lines, fields, days, fate) in enumerate(DEMO_NEEDS):
        structure = structures[index % len(structures)] if index >= 3 else structures[0]
        own = structure.name == DEMO_STRUCTURE_NAME and story.structure_user is not None
        actor = story.structure_user if own else story.coordinator

        def declare(index=index, lines=lines, fields=fields, fate=fate, own=own, actor=actor,
                    structure=structure):  # fmt: skip
            made[index] = needs.need_create(
                actor=actor,
                structure=None if own else structure.pk,
                submit=fate != "draft",
                lines=[{"category": c, "quantity": q, **spec} for c, q, spec in lines],
                **({"mode": "gift", "urgency": "normal", "justification": ""} | fields),
            )
            story.summary["needs"] += 1

        def decide(index=index, fate=fate, actor=actor):
            need = made[index]
            if fate == "accepted":
                first = need.lines.order_by("id").first()
                cut = {first.pk: max(first.quantity - 1, 1)} if first.quantity > 4 else {}
                needs.need_accept(actor=story.coordinator, need_id=need.pk, quantities=cut)
            elif fate == "declined":
                needs.need_decline(
                    actor=story.coordinator,
                    need_id=need.pk,
                    reason="Ordinateurs de 16 Go trop rares en stock : redéposez un besoin à 8 Go.",
                )
            elif fate == "cancelled":
                needs.need_cancel(actor=actor, need_id=need.pk, reason="Équipés par la mairie.")

        calendar.at(story.ago(days, 9, 30 + index), declare)
        if fate in ("accepted", "declined"):
            calendar.at(story.ago(days - 2, 15, index), decide)
        elif fate == "cancelled":
            calendar.at(story.ago(days - 3, 11, index), decide)
        elif fate == "expired":
            # The daily expiry, sixty days after the need was submitted.
            calendar.at(story.ago(days - 61, 6), lambda: needs.needs_expire(days=60))
    return made


def _seed_recent(story: Story) -> dict:
    calendar = Calendar()
    made = _seed_needs(story, calendar)
    state: dict = {}
    # The overdue loan's laptops, given in spring and reconditioned for it.
    loan_batch = story.batch(
        calendar,
        story.ago(140, 10),
        donor=_CD,
        workshop=WORKSHOP_NAME,
        specs=[("laptop", BIG_LAPTOP)] * 3,
    )
    kit_batches = [
        story.batch(calendar, story.ago(72, 10), donor=_AXM, workshop=WORKSHOP_NAME,
                    specs=[("tablet", {})] * 3),
        story.batch(calendar, story.ago(71, 10), donor=_SOC, workshop=SECOND_WORKSHOP_NAME,
                    specs=[("laptop", {}), ("tablet", {}), ("tablet", {})]),
    ]  # fmt: skip

    def loan_run():
        state["loan"] = story.approve({made[LOAN_NEED].pk}, loan_batch.devices, "caf")

    def loan_hand_over():
        if state["loan"]:
            state["loan_hand_over"] = story.hand_over(
                state["loan"], ("Sophie Marchand", "Conseillère en insertion")
            )

    def kit_run():
        devices = [device for batch in kit_batches for device in batch.devices]
        state["kits"] = story.approve({made[i].pk for i in KIT_NEEDS}, devices, "caf")

    kit_hand_overs: list = []

    def kits_hand_over():
        by_structure: dict = {}
        for allocation in state["kits"]:
            by_structure.setdefault(allocation.structure_id, []).append(allocation)
        for _structure, allocations in sorted(by_structure.items()):
            own = allocations[0].structure.name == DEMO_STRUCTURE_NAME
            signer = (
                ("Nadia Benali", "Coordinatrice de l'espace numérique")
                if own
                else ("Karim Haddad", "Médiateur numérique itinérant")
            )
            kit_hand_overs.append(story.hand_over(allocations, signer))

    def kits_back():
        # One device of each kit came back to the depot after the tour of the residences.
        for hand_over in kit_hand_overs:
            items = list(hand_over.items.order_by("id").values_list("device_id", flat=True))
            if len(items) > 1:
                story.loan_return(
                    lambda hand_over=hand_over: hand_over,
                    [len(items) - 1],
                    "Rendu après la tournée des résidences seniors.",
                )()

    calendar.at(story.ago(108, 11), loan_run)
    calendar.at(story.ago(100, 15), loan_hand_over)
    calendar.at(story.ago(40, 11), kit_run)
    calendar.at(story.ago(35, 10), kits_hand_over)
    calendar.at(story.ago(10, 16), kits_back)
    calendar.at(story.ago(9, 11), lambda: state.update(recent=_recent_run(story)))
    _seed_recent_deliveries(story, calendar, state)
    calendar.at(story.ago(7, 10), lambda: state.update(disposed=_seed_disposal(story)))
    calendar.at(story.ago(2, 9), lambda: state.update(shipped=_seed_shipment(story)))
    calendar.play()
    return state


def _recent_run(story: Story) -> list[Allocation]:
    """One matching run approved nine days ago over the accepted needs: the oldest needs'
    lines first, half of the proposal, each device ready before that day."""
    run = matching_run_create(actor=story.coordinator)
    before = timezone.now() - datetime.timedelta(days=1)
    lines = list(run.lines.select_related("device").order_by("need_line__need__created_at", "id"))
    kept = [
        line.pk
        for line in lines[: max(len(lines) // 2, 1)]
        if line.device.status_changed_at < before
    ]
    if not kept:
        return []
    made = matching_run_approve(actor=story.coordinator, run_id=run.pk, line_ids=kept)
    story.summary["allocated"] += len(made)
    return made


def _seed_recent_deliveries(story: Story, calendar: Calendar, state: dict) -> None:
    """The demo structure's laptops delivered last week, received and handed over, signed by
    its staff; its tablets on their way through the depot (another structure's gifts when it
    has none); the other structures' gifts wait at the bench, but one structure's, handed over
    this morning, whose receipt is still to sign."""
    from logistics.deliveries import services as deliveries

    def recent(own: bool, laptops: bool | None = None):
        allocations = [
            a
            for a in state.get("recent", [])
            if (a.structure.name == DEMO_STRUCTURE_NAME) == own and a.mode == "gift"
        ]
        if laptops is not None:
            allocations = [a for a in allocations if (a.device.category_id == "laptop") == laptops]
        return allocations

    demo = Organisation.objects.filter(kind=OrgKind.STRUCTURE, name=DEMO_STRUCTURE_NAME).first()
    story.deliver(
        calendar,
        lambda: demo,
        lambda: recent(True, laptops=True),
        story.ago(7, 10),
        signer=("Nadia Benali", "Coordinatrice de l'espace numérique"),
        receiver=story.structure_user,
        sign_by=story.structure_user,
    )
    on_the_way: dict = {}

    def through_depot():
        allocations = recent(True, laptops=False)
        if not allocations:  # another structure's gifts, then
            others = recent(False)
            first = others[0].structure_id if others else None
            allocations = [a for a in others if a.structure_id == first]
        if not allocations:
            return
        on_the_way["structure"] = allocations[0].structure_id
        on_the_way["delivery"] = deliveries.delivery_create(
            actor=story.coordinator,
            structure=allocations[0].structure,
            allocation_ids=[a.pk for a in allocations],
            via_depot=True,
            expected_on=story.today + datetime.timedelta(days=1),
            carrier="Coursier solidaire",
        )
        deliveries.delivery_dispatch(actor=story.coordinator, delivery_id=on_the_way["delivery"].pk)

    def at_depot():
        if "delivery" in on_the_way:
            deliveries.delivery_receive_at_depot(
                actor=story.coordinator, delivery_id=on_the_way["delivery"].pk
            )

    def leaves_depot():
        if "delivery" in on_the_way:
            deliveries.delivery_dispatch(
                actor=story.coordinator, delivery_id=on_the_way["delivery"].pk
            )

    def unsigned():
        others = [
            a
            for a in recent(False)
            if a.structure_id != on_the_way.get("structure")
            and Allocation.objects.filter(pk=a.pk, status=AllocationStatus.ACTIVE).exists()
        ]
        if others:
            first = others[0].structure_id
            story.hand_over(
                [a for a in others if a.structure_id == first], ("Jean Morel", ""), sign=False
            )

    calendar.at(story.ago(3, 10), through_depot)
    calendar.at(story.ago(2, 9, 30), at_depot)
    calendar.at(story.ago(1, 9), leaves_depot)
    # This morning's hand-over: in the current month whatever the day, and in the past.
    today = story.ago(0, 0, 5)
    calendar.at(max(today, story.now - datetime.timedelta(hours=1)), unsigned)


def _seed_shipment(story: Story) -> tuple[int, int]:
    to_send = list(
        Device.objects.filter(status=Status.REGISTERED, custodian__kind=OrgKind.COORDINATOR)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:SHIPPED]
    )
    received = 0
    if to_send:
        shipment = shipment_create(
            actor=story.coordinator,
            workshop=story.workshops[WORKSHOP_NAME],
            devices=to_send,
            expected_on=story.today,
            carrier="Camionnette de la coordination",
            notes="Lot de la semaine pour ECODAIR.",
        )
        with story_clock(timezone.now() + datetime.timedelta(hours=26)):
            for device in Device.objects.filter(pk__in=to_send[:RECEIVED]):
                shipment_receive(
                    actor=story.bench[WORKSHOP_NAME], shipment=shipment, raw=device.label_code_id
                )
                received += 1
    return len(to_send), received


def _seed_disposal(story: Story) -> int:
    recycled = list(
        Device.objects.filter(status=Status.RECYCLED)
        .order_by("updated_at", "pk")
        .values_list("pk", flat=True)[:DISPOSED]
    )
    if recycled:
        disposal_create(
            actor=story.coordinator,
            eco_organisation="ecosystem",
            collector="Point de collecte ecosystem — Nanterre",
            left_on=timezone.localdate(),
            weight_kg=Decimal("2.4") * len(recycled),
            document_reference=f"BSD-{timezone.localdate():%Y}-0417",
            devices=recycled,
        )
    return len(recycled)


# --- today ---------------------------------------------------------------------------------


def _seed_today(story: Story) -> None:
    """This morning's donation, just registered; a matching run proposed over what is left,
    for the coordination to review; the previous month's report, issued."""
    from logistics.fund_reports.figures import Period, Scope
    from logistics.fund_reports.services import report_issue

    calendar = Calendar()
    start = max(story.ago(0, 0, 2), story.now - datetime.timedelta(hours=2))
    intake = Batch(
        story, donor=_AXM, workshop=WORKSHOP_NAME, specs=[("laptop", {}), ("screen", {})], exits=()
    )
    calendar.at(start, intake.register)
    calendar.play()
    matching_run_create(actor=story.coordinator)
    first = story.month_start(1)
    last = story.month_start(0) - datetime.timedelta(days=1)
    report_issue(actor=story.coordinator, period=Period(first, last), scope=Scope())


def logistics_demo_seed() -> LogisticsSummary:
    users = get_user_model().objects.in_bulk(
        ["coordination", "atelier", "atelier-nord"], field_name="username"
    )
    workshop = Organisation.objects.filter(kind=OrgKind.WORKSHOP, name=WORKSHOP_NAME).first()
    if len(users) < 3 or workshop is None:
        raise DemoMissing("run seed_demo first")
    story = Story(users, workshop)
    with transaction.atomic():
        _received_at_repair()
        _seed_year(story)
        state = _seed_recent(story)
        _seed_today(story)
    shipped, received = state.get("shipped", (0, 0))
    return LogisticsSummary(
        shipped=shipped,
        received=received,
        disposed=state.get("disposed", 0),
        needs=story.summary["needs"],
        allocated=story.summary["allocated"],
        handed_over=story.summary["handed"],
        programmes=len(story.programmes),
        reports=FundReport.objects.count(),
    )


# Receipts ----------------------------------------------------------------------------------


def _signature_png(name: str) -> bytes:
    """A hand-drawn-looking stroke, as the signature pad would send it (demo only)."""
    import io
    import math

    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (480, 160), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    seed = sum(map(ord, name))
    points = [
        (30 + x * 4, 90 + 28 * math.sin(x / (6 + seed % 4)) * math.cos(x / 17)) for x in range(105)
    ]
    draw.line(points, fill=(20, 30, 60, 255), width=4, joint="curve")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
