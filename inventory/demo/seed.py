"""Demo data: the Hauts-de-Seine network, one account per role and a few hundred devices.

Every write goes through the services, so each history row names the user who acted; only the
timestamps are rewritten afterwards, to spread the story over the past eight months. The same
seed gives the same network and the same device stories (label codes stay random by design).
"""

import os
import random
import string
import unicodedata
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.codes import luhn_check_digit
from inventory.demo import bench as demo_bench
from inventory.models import (
    Category,
    Commune,
    Device,
    Donation,
    LabelCode,
    Membership,
    Organisation,
    Role,
)
from inventory.services import device_register, device_transition, membership_set, organisation_save
from inventory.states import WORKFLOW_MOVES, OrgKind, Status

SEED = 92
DEFAULT_DEVICES = 300
HISTORY_DAYS = 240  # about eight months of device stories

COORDINATOR_NAME = "Coordination inclusion numérique 92"
FUND_NAME = "Fonds local d'inclusion numérique 92"
WORKSHOP_NAME = "ECODAIR"
SECOND_WORKSHOP_NAME = "Atelier solidaire Boucle Nord"
DEMO_STRUCTURE_NAME = "Centre social Les Acacias — Gennevilliers"
DONOR_COMPANY_NAME = "Axiome Assurances — siège de La Défense"


class DemoConflict(Exception):
    """The database holds something the demo would collide with; nothing was written."""


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role_label: object  # lazy translated text
    organisation: str
    role: str
    first_name: str
    last_name: str


# Demo-only passwords, printed by the command: never reuse them on a reachable server.
ACCOUNTS = (
    DemoAccount(
        "coordination", "demo-coordination-92", _("coordinator"), COORDINATOR_NAME,
        Role.MANAGER, "Claire", "Dubois",
    ),
    DemoAccount(
        "atelier", "demo-atelier-92", _("workshop staff"), WORKSHOP_NAME,
        Role.MEMBER, "Karim", "Benali",
    ),
    DemoAccount(
        "atelier-nord", "demo-atelier-nord-92", _("workshop staff"), SECOND_WORKSHOP_NAME,
        Role.MEMBER, "Lucie", "Moreau",
    ),
    DemoAccount(
        "structure", "demo-structure-92", _("structure staff"), DEMO_STRUCTURE_NAME,
        Role.MEMBER, "Aminata", "Diallo",
    ),
    DemoAccount(
        "fonds", "demo-fonds-92", _("fund reader"), FUND_NAME,
        Role.READER, "Marc", "Lefèvre",
    ),
    DemoAccount(
        "donateur", "demo-donateur-92", _("donor contact"), DONOR_COMPANY_NAME,
        Role.READER, "Sophie", "Garnier",
    ),
)  # fmt: skip
ADMIN = DemoAccount("admin", "demo-admin-92", _("administrator (/admin/)"), "", "", "", "")


# name, data·inclusion type, commune INSEE code, street, identifier ("siret" or "rna")
# fmt: off
STRUCTURES = (
    # Vallée Sud Grand Paris (T2)
    ("CCAS d'Antony", "CCAS", "92002", "1 place de l'Hôtel-de-Ville", "siret"),
    ("France Services Bagneux", "RFS", "92007", "4 avenue Henri-Barbusse", "siret"),
    ("Médiathèque de Bourg-la-Reine", "BIB", "92014", "12 boulevard Carnot", "siret"),
    ("Centre social Les Tilleuls — Châtenay-Malabry", "CS", "92019", "8 rue Jean-Jaurès", "rna"),
    ("Médiathèque de Châtillon", "BIB", "92020", "2 rue Gabriel-Péri", "siret"),
    ("Espace public numérique de Clamart", "EPN", "92023", "27 avenue Victor-Hugo", "siret"),
    ("Association Clic et Lien", "ASSO", "92032", "5 rue Boucicaut", "rna"),
    ("CCAS de Malakoff", "CCAS", "92046", "1 place du 11-Novembre-1918", "siret"),
    ("Tiers-lieu La Fabrique — Malakoff", "TIERS_LIEUX", "92046", "46 rue Pierre-Larousse", "rna"),
    ("Mairie de Montrouge — accueil numérique", "MUNI", "92049", "43 avenue de la République", "siret"),  # noqa: E501
    ("PIMMS du Plessis-Robinson", "PIMMS", "92060", "10 avenue Léon-Blum", "rna"),
    ("Maison des solidarités de Sceaux", "MDS", "92071", "3 rue du Docteur-Roux", "siret"),
    # Grand Paris Seine Ouest (T3)
    ("CCAS de Boulogne-Billancourt", "CCAS", "92012", "26 avenue André-Morizet", "siret"),
    ("Centre social Le Pont de Sèvres — Boulogne-Billancourt", "CS", "92012", "2 allée Robert-Doisneau", "rna"),  # noqa: E501
    ("Médiathèque de Chaville", "BIB", "92022", "13 rue de Jouy", "siret"),
    ("Espace public numérique d'Issy-les-Moulineaux", "EPN", "92040", "18 rue Jean-Pierre-Timbaud", "siret"),  # noqa: E501
    ("Mairie de Marnes-la-Coquette — point numérique", "MUNI", "92047", "1 rue Gustave-Lemaire", "siret"),  # noqa: E501
    ("CCAS de Meudon", "CCAS", "92048", "6 avenue Le Corbeiller", "siret"),
    ("Association Seniors connectés de Sèvres", "ASSO", "92072", "9 Grande Rue", "rna"),
    ("France Services Vanves", "RFS", "92075", "21 rue Mary-Besseyre", "siret"),
    ("Médiathèque de Ville-d'Avray", "BIB", "92077", "7 rue de Marnes", "siret"),
    # Paris Ouest La Défense (T4)
    ("CCAS de Courbevoie", "CCAS", "92026", "7 boulevard Aristide-Briand", "siret"),
    ("Médiathèque de Garches", "BIB", "92033", "14 rue de Suresnes", "siret"),
    ("Centre social Les Champs-Philippe — La Garenne-Colombes", "CS", "92035", "19 rue Voltaire", "rna"),  # noqa: E501
    ("Espace emploi et numérique de Levallois", "MUNI", "92044", "55 rue Rivay", "siret"),
    ("CCAS de Nanterre", "CCAS", "92050", "88 rue du 8-Mai-1945", "siret"),
    ("France Services Nanterre Université", "RFS", "92050", "3 boulevard de Pesaro", "siret"),
    ("PIMMS de Nanterre", "PIMMS", "92050", "30 avenue Pablo-Picasso", "rna"),
    ("Médiathèque de Neuilly-sur-Seine", "BIB", "92051", "167 avenue Charles-de-Gaulle", "siret"),
    ("Espace public numérique de Puteaux", "EPN", "92062", "11 rue Eugène-Eichenberger", "siret"),  # noqa: E501
    ("Association Entraide numérique de Rueil", "ASSO", "92063", "24 boulevard Foch", "rna"),
    ("Centre social du Val d'Or — Saint-Cloud", "CS", "92064", "2 rue des Tennerolles", "rna"),
    ("France Services Suresnes", "RFS", "92073", "6 rue Émile-Duclaux", "siret"),
    # Boucle Nord de Seine (T5)
    ("CCAS d'Asnières-sur-Seine", "CCAS", "92004", "1 place de l'Hôtel-de-Ville", "siret"),
    ("Médiathèque de Bois-Colombes", "BIB", "92009", "35 rue Charles-Duflos", "siret"),
    ("France Services Clichy", "RFS", "92024", "80 boulevard Jean-Jaurès", "siret"),
    ("Centre social Europe — Colombes", "CS", "92025", "45 avenue de l'Europe", "rna"),
    (DEMO_STRUCTURE_NAME, "CS", "92036", "17 rue des Acacias", "rna"),
    ("PIMMS de Gennevilliers", "PIMMS", "92036", "177 avenue Gabriel-Péri", "rna"),
    ("Association Passerelles numériques", "ASSO", "92078", "4 place de la Libération", "rna"),
    ("France Services Argenteuil", "RFS", "95018", "12 boulevard Léon-Feix", "siret"),
    ("Espace public numérique d'Argenteuil", "EPN", "95018", "5 rue de Calais", "siret"),
)
# fmt: on

# name, kind, commune, address, has a SIRET, asset-tag prefix (donors)
OTHER_ORGANISATIONS = (
    (WORKSHOP_NAME, OrgKind.WORKSHOP, None, "Atelier francilien, Paris", False, ""),
    (SECOND_WORKSHOP_NAME, OrgKind.WORKSHOP, "92036", "2 rue du Port", True, ""),
    (FUND_NAME, OrgKind.FUND, "92050", "", False, ""),
    (DONOR_COMPANY_NAME, OrgKind.DONOR, "92026", "1 esplanade du Général-de-Gaulle", True, "AXM"),
    ("Seine Ouest Conseil", OrgKind.DONOR, "92040", "40 rue Camille-Desmoulins", True, "SOC-IT"),
    ("Conseil départemental des Hauts-de-Seine", OrgKind.DONOR, "92050", "", False, "CD92"),
)
PUBLIC_DONORS = frozenset({"Conseil départemental des Hauts-de-Seine"})
DONOR_WEIGHTS = {
    DONOR_COMPANY_NAME: 40,
    "Seine Ouest Conseil": 25,
    "Conseil départemental des Hauts-de-Seine": 25,
}
NO_DONOR_WEIGHT = 10


@dataclass(frozen=True)
class ModelSpec:
    """A device model as it arrives from donors; a serial pattern uses # digit, @ letter,
    ? letter or digit (no I or O), anything else literally."""

    category: str
    manufacturer: str
    model: str
    weight: int
    serial: str = ""
    cpu: tuple[str, ...] = ()
    ram: tuple[int, ...] = ()
    storage: tuple[tuple[int, str], ...] = ()
    screen: str = ""
    os: tuple[str, ...] = ()
    tac: str = ""  # phones: type allocation code of the IMEI
    dual_sim: float = 0.0


# One model per line, as a spreadsheet would list them: easier to read than black's layout.
# fmt: off
_WIN = ("Windows 10 Pro", "Windows 11 Pro")
_I5_8 = ("Intel Core i5-8250U", "Intel Core i5-8350U")
_SSD = ((256, "ssd"),)
_SSD2 = ((256, "ssd"), (512, "ssd"))
_SSD_HDD = ((256, "ssd"), (500, "hdd"))
_M = ModelSpec

CATALOGUE = (
    _M("laptop", "Dell", "Latitude 5490", 5, "???????", _I5_8, (8, 16), _SSD2, "14.0", _WIN),
    _M("laptop", "Dell", "Latitude 7400", 3, "???????",
       ("Intel Core i5-8365U", "Intel Core i7-8665U"), (8, 16), _SSD2, "14.0", _WIN),
    _M("laptop", "Dell", "Latitude E7470", 2, "???????", ("Intel Core i5-6300U",), (8,),
       ((128, "ssd"), (256, "ssd")), "14.0", ("Windows 10 Pro",)),
    _M("laptop", "Lenovo", "ThinkPad T480", 5, "PF??????", _I5_8, (8, 16), _SSD, "14.0", _WIN),
    _M("laptop", "Lenovo", "ThinkPad X280", 2, "PF??????", ("Intel Core i5-8250U",), (8,),
       _SSD, "12.5", _WIN),
    _M("laptop", "Lenovo", "ThinkPad L14 Gen 1", 2, "PF??????",
       ("AMD Ryzen 5 PRO 4650U", "Intel Core i5-10210U"), (8, 16), _SSD2, "14.0",
       ("Windows 11 Pro",)),
    _M("laptop", "HP", "EliteBook 840 G5", 4, "5CG####???", _I5_8, (8, 16), _SSD, "14.0", _WIN),
    _M("laptop", "HP", "ProBook 450 G7", 3, "5CD####???", ("Intel Core i5-10210U",), (8,),
       _SSD2, "15.6", _WIN),
    _M("laptop", "Apple", "MacBook Air 13 pouces (2017)", 2, "C02?????????",
       ("Intel Core i5 1,8 GHz",), (8,), ((128, "ssd"), (256, "ssd")), "13.3",
       ("macOS Monterey",)),
    _M("laptop", "Apple", "MacBook Pro 13 pouces (2019)", 1, "C02?????????",
       ("Intel Core i5 1,4 GHz",), (8, 16), _SSD, "13.3", ("macOS Ventura",)),
    _M("laptop", "Fujitsu", "Lifebook U748", 1, "DSBG######", ("Intel Core i5-8250U",), (8,),
       _SSD, "14.0", _WIN),
    _M("desktop", "Dell", "OptiPlex 7060 SFF", 4, "???????", ("Intel Core i5-8500",), (8, 16),
       _SSD_HDD, "", _WIN),
    _M("desktop", "Dell", "OptiPlex 5070 Micro", 2, "???????", ("Intel Core i5-9500T",), (8,),
       _SSD, "", ("Windows 11 Pro",)),
    _M("desktop", "HP", "ProDesk 600 G4 SFF", 3, "CZC#######", ("Intel Core i5-8500",), (8,),
       _SSD_HDD, "", _WIN),
    _M("desktop", "Lenovo", "ThinkCentre M720q Tiny", 3, "MJ0?????", ("Intel Core i5-8400T",),
       (8, 16), _SSD, "", _WIN),
    _M("desktop", "Fujitsu", "Esprimo D538", 1, "YM@#######", ("Intel Core i3-8100",), (8,),
       ((500, "hdd"),), "", ("Windows 10 Pro",)),
    _M("all_in_one", "HP", "ProOne 440 G4", 2, "8CC####???", ("Intel Core i5-8500T",), (8,),
       _SSD, "23.8", _WIN),
    _M("all_in_one", "Lenovo", "ThinkCentre M820z", 1, "MJ0?????", ("Intel Core i5-8400",),
       (8,), _SSD, "21.5", _WIN),
    _M("all_in_one", "Apple", "iMac 21,5 pouces (2017)", 1, "C02?????????",
       ("Intel Core i5 2,3 GHz",), (8,), ((1000, "hdd"),), "21.5", ("macOS Ventura",)),
    _M("screen", "Dell", "P2419H", 4, "CN0?#####?####", screen="23.8"),
    _M("screen", "HP", "EliteDisplay E243", 3, "CNK####???", screen="23.8"),
    _M("screen", "iiyama", "ProLite XU2492HSU", 2, "11??#####????", screen="23.8"),
    _M("screen", "Philips", "243V7QDSB", 2, "UK0?########", screen="23.8"),
    _M("screen", "Samsung", "S24F350FHU", 2, "0??#H4LK#####", screen="23.5"),
    _M("screen", "Lenovo", "ThinkVision T22i-10", 2, "V90?????", screen="21.5"),
    _M("tablet", "Apple", "iPad (6e génération)", 3, "DMP?????????", (), (2,),
       ((32, "emmc"), (128, "emmc")), "9.7", ("iPadOS 17",)),
    _M("tablet", "Apple", "iPad (7e génération)", 3, "DMP?????????", (), (3,),
       ((32, "emmc"), (128, "emmc")), "10.2", ("iPadOS 18",)),
    _M("tablet", "Samsung", "Galaxy Tab A 10.1 (2019)", 3, "R52?#######", (), (2,),
       ((32, "emmc"),), "10.1", ("Android 11",)),
    _M("tablet", "Lenovo", "Tab M10 (TB-X505F)", 2, "HA1?????", (), (2,), ((32, "emmc"),),
       "10.1", ("Android 10",)),
    _M("smartphone", "Samsung", "Galaxy A40", 3, "R58M#####?@", (), (4,), ((64, "emmc"),),
       "5.9", ("Android 11",), "35424110", 0.5),
    _M("smartphone", "Samsung", "Galaxy A50", 3, "R58M#####?@", (), (4,), ((128, "emmc"),),
       "6.4", ("Android 11",), "35319710", 0.5),
    _M("smartphone", "Samsung", "Galaxy A51", 3, "R58N#####?@", (), (4,), ((128, "emmc"),),
       "6.5", ("Android 13",), "35220611", 0.5),
    _M("smartphone", "Samsung", "Galaxy A12", 2, "R58R#####?@", (), (3,), ((32, "emmc"),),
       "6.5", ("Android 12",), "35085732", 0.5),
    _M("smartphone", "Samsung", "Galaxy S9", 2, "R58K#####?@", (), (4,), ((64, "emmc"),),
       "5.8", ("Android 10",), "35375309"),
    _M("smartphone", "Apple", "iPhone 8", 3, "F??L????????", (), (2,), ((64, "emmc"),), "4.7",
       ("iOS 16",), "35673508"),
    _M("smartphone", "Apple", "iPhone SE (2e génération)", 2, "F??L????????", (), (3,),
       ((64, "emmc"), (128, "emmc")), "4.7", ("iOS 17",), "35654811", 1.0),
    _M("smartphone", "Apple", "iPhone XR", 1, "F??L????????", (), (3,),
       ((64, "emmc"), (128, "emmc")), "6.1", ("iOS 17",), "35728209", 1.0),
    _M("smartphone", "Xiaomi", "Redmi Note 9", 2, "2#########", (), (3,), ((64, "emmc"),),
       "6.5", ("Android 11",), "86677905", 1.0),
    _M("smartphone", "Motorola", "moto g8", 1, "ZY?#######", (), (4,), ((64, "emmc"),), "6.4",
       ("Android 10",), "35189911", 1.0),
    _M("smartphone", "Google", "Pixel 4a", 1, "##??#####?####", (), (6,), ((128, "emmc"),),
       "5.8", ("Android 13",), "35302511"),
    _M("feature_phone", "Nokia", "105 (2019)", 2, "", (), (), (), "1.8", ("Series 30+",),
       "35401910", 0.5),
    _M("feature_phone", "Doro", "6520", 1, "", (), (), (), "2.8", (), "35924810"),
    _M("printer", "HP", "LaserJet Pro M404dn", 2, "PHB?######"),
    _M("printer", "Brother", "HL-L2350DW", 2, "E7####@#N######"),
    _M("printer", "Canon", "i-SENSYS LBP6030", 1, "XSP#####"),
    _M("mfp", "HP", "LaserJet Pro MFP M428fdw", 2, "PHB?######"),
    _M("mfp", "Brother", "MFC-L2710DW", 2, "E7####@#N######"),
    _M("mfp", "Epson", "EcoTank ET-2720", 1, "X5??######"),
    _M("mfp", "Canon", "i-SENSYS MF443dw", 1, "XNP#####"),
    _M("network_box", "TP-Link", "Archer C6", 2, "22##########"),
    _M("network_box", "TP-Link", "M7200 (routeur 4G)", 1, "22##########"),
    _M("network_box", "Huawei", "B311 (box 4G)", 1, "??#####???######"),
    _M("accessory", "Dell", "Station d'accueil WD19", 2, "CN0?#####?####"),
    _M("accessory", "Lenovo", "ThinkPad USB-C Dock Gen 2", 1, "ZK?#####"),
    _M("accessory", "Logitech", "MK270 (clavier et souris)", 2),
    _M("accessory", "Dell", "Adaptateur secteur 65 W", 2),
)
# fmt: on
CATEGORY_WEIGHTS = {
    "laptop": 38,
    "desktop": 14,
    "all_in_one": 4,
    "screen": 12,
    "tablet": 8,
    "smartphone": 12,
    "feature_phone": 2,
    "printer": 2,
    "mfp": 3,
    "network_box": 2,
    "accessory": 3,
}

_LETTERS = "".join(c for c in string.ascii_uppercase if c not in "IO")
_ALNUM = string.digits + _LETTERS


class Identifiers:
    """Believable, valid and never repeated identifiers drawn from one random generator."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.seen: set[str] = set()

    def _fresh(self, draw) -> str:
        while True:
            value = draw()
            if value not in self.seen:
                self.seen.add(value)
                return value

    def siret(self, first_digit: str) -> str:
        # A SIREN carries its own Luhn digit, and the SIRET (SIREN + NIC) another one.
        def draw():
            body = first_digit + "".join(self.rng.choices(string.digits, k=7))
            siren = body + luhn_check_digit(body)
            head = siren + f"{self.rng.randint(1, 60):04d}"
            return head + luhn_check_digit(head)

        return self._fresh(draw)

    def rna(self, departement: str) -> str:
        return self._fresh(lambda: f"W{departement}{self.rng.randint(2000000, 4999999):07d}")

    def serial(self, manufacturer: str, pattern: str) -> str:
        symbols = {"#": string.digits, "@": _LETTERS, "?": _ALNUM}

        def draw():
            text = "".join(self.rng.choice(symbols[c]) if c in symbols else c for c in pattern)
            return f"{manufacturer.lower()}|{text}"

        return self._fresh(draw).split("|", 1)[1]

    def imei_pair(self, tac: str, dual: bool) -> tuple[str, str]:
        def imei(number: int) -> str:
            body = f"{tac}{number % 1_000_000:06d}"
            return body + luhn_check_digit(body)

        while True:
            number = self.rng.randint(0, 999_998)
            first, second = imei(number), imei(number + 1) if dual else ""
            if first not in self.seen and second not in self.seen:
                self.seen.update({first, second} - {""})
                return first, second


class DeviceGenerator:
    """Fields for `device_register`: a model from the catalogue with its serial and specs."""

    def __init__(self, rng: random.Random, identifiers: Identifiers | None = None):
        self.rng = rng
        self.ids = identifiers or Identifiers(rng)
        self.by_category: dict[str, list[ModelSpec]] = {}
        for spec in CATALOGUE:
            self.by_category.setdefault(spec.category, []).append(spec)

    def category(self) -> str:
        return self.rng.choices(list(CATEGORY_WEIGHTS), weights=CATEGORY_WEIGHTS.values())[0]

    def fields(self, category: str | None = None) -> dict:
        rng = self.rng
        specs = self.by_category[category or self.category()]
        spec = rng.choices(specs, weights=[s.weight for s in specs])[0]
        fields: dict = {
            "category_code": spec.category,
            "manufacturer": spec.manufacturer,
            "model_name": spec.model,
            "serial_number": self.ids.serial(spec.manufacturer, spec.serial) if spec.serial else "",
        }
        if spec.tac:
            fields["imei1"], fields["imei2"] = self.ids.imei_pair(
                spec.tac, rng.random() < spec.dual_sim
            )
        if spec.cpu:
            fields["cpu"] = rng.choice(spec.cpu)
        if spec.ram:
            fields["ram_gb"] = rng.choice(spec.ram)
        if spec.storage:
            fields["storage_gb"], fields["storage_type"] = rng.choice(spec.storage)
        if spec.screen:
            fields["screen_inches"] = Decimal(spec.screen)
        if spec.os:
            fields["operating_system"] = rng.choice(spec.os)
        return fields


# --- Device stories -------------------------------------------------------------------------

# How many devices end in each status, in proportion (every status gets at least one).
STATUS_WEIGHTS = {
    Status.REGISTERED: 20,
    Status.SENT_TO_WORKSHOP: 15,
    Status.AT_WORKSHOP: 20,
    Status.IN_RECONDITIONING: 25,
    Status.READY: 60,
    Status.GIVEN: 55,
    Status.ON_LOAN: 35,
    Status.RETURNED: 10,
    Status.RECYCLED: 20,
    Status.DISMANTLED: 8,
    Status.RETURNED_TO_DONOR: 6,
    Status.LOST: 6,
}
# How long ago (days) a device reached its final status: work in progress is recent.
# At least five days: moving a weekend event to a weekday nearby must not reach the future.
FINAL_AGE_DAYS = {
    Status.REGISTERED: (5, 20),
    Status.SENT_TO_WORKSHOP: (5, 12),
    Status.AT_WORKSHOP: (5, 25),
    Status.IN_RECONDITIONING: (5, 30),
    Status.READY: (5, 150),
    Status.ON_LOAN: (5, 150),
    Status.RETURNED: (5, 30),
}
EXIT_AGE_DAYS = (5, 220)

NOTES = {
    "recycle": (
        "Carte mère hors service : filière DEEE (Ecologic).",
        "Batterie gonflée et coque fendue : recyclage.",
        "Trop ancien pour être reconditionné : recyclage DEEE.",
    ),
    "dismantle": (
        "Charnière cassée : RAM, SSD et clavier gardés en pièces détachées.",
        "Dalle hors service : conservé pour pièces.",
    ),
    "return_to_donor_apple": ("Verrou d'activation iCloud actif : le donateur doit le lever.",),
    "return_to_donor_phone": (
        "Compte Google (FRP) encore associé : retour au donateur pour déverrouillage.",
    ),
    "return_to_donor": (
        "Mot de passe BIOS inconnu : retour au donateur.",
        "Inscrit dans Windows Autopilot : retour au donateur pour désinscription.",
    ),
    "declare_lost_transit": ("Colis jamais arrivé à l'atelier ; enquête transporteur close.",),
    "declare_lost_structure": (
        "Non restitué par le bénéficiaire malgré deux relances.",
        "Volé pendant un atelier numérique ; plainte déposée.",
    ),
    "lend": ("Prêt de trois mois pour les ateliers d'initiation.", "Prêt pour une formation."),
    "return_loan": ("Retour en fin de prêt, chargeur inclus.",),
}


@dataclass(frozen=True)
class Step:
    action: str
    actor: str  # "coordinator", "structure", or a workshop name
    gap_days: tuple[float, float]  # time since the previous event
    target: str = ""  # an organisation name
    note: str = ""


@dataclass
class Story:
    final: Status
    registrar: str
    fields: dict
    donor: str
    steps: list[Step] = field(default_factory=list)
    times: list[datetime] = field(default_factory=list)  # registration, then one per step
    ages: list[float] = field(default_factory=list)  # the same events, in days before today
    device: Device | None = None


def status_quotas(count: int) -> dict[Status, int]:
    if count < len(STATUS_WEIGHTS):
        raise ValueError(f"at least {len(STATUS_WEIGHTS)} devices are needed for every status")
    total = sum(STATUS_WEIGHTS.values())
    quotas = {status: max(1, weight * count // total) for status, weight in STATUS_WEIGHTS.items()}
    quotas[Status.READY] += count - sum(quotas.values())
    while quotas[Status.READY] < 1:  # few devices: take from the largest shares
        largest = max(quotas, key=quotas.get)
        quotas[largest] -= 1
        quotas[Status.READY] += 1
    return quotas


class StoryWriter:
    """Plans each device's path through the lifecycle, as the people involved would act."""

    def __init__(self, rng: random.Random, structures: list[str]):
        self.rng = rng
        self.structures = structures
        # The structure with a demo account receives a good share, so its pages are not empty.
        self.structure_weights = [8 if name == DEMO_STRUCTURE_NAME else 1 for name in structures]

    def note(self, key: str, chance: float = 1.0) -> str:
        return self.rng.choice(NOTES[key]) if self.rng.random() < chance else ""

    def structure(self) -> str:
        return self.rng.choices(self.structures, weights=self.structure_weights)[0]

    def intake(self, workshop: str) -> tuple[str, list[Step]]:
        # About a third of donations are collected by the workshop itself, from the donor.
        if self.rng.random() < 0.3:
            return workshop, [Step("receive_at_workshop", workshop, (0.01, 0.2))]
        return "coordinator", [
            Step("send_to_workshop", "coordinator", (1, 14), workshop),
            Step("receive_at_workshop", workshop, (1, 6)),
        ]

    def bench(self, workshop: str) -> list[Step]:
        return [
            Step("start_reconditioning", workshop, (0.1, 15)),
            Step("mark_ready", workshop, (1, 10)),
        ]

    def deliver(self, action: str, target: str = "") -> list[Step]:
        steps = [Step("reserve", "coordinator", (1, 40))]
        if self.rng.random() < 0.1:
            steps += [
                Step("release_reservation", "coordinator", (2, 10)),
                Step("reserve", "coordinator", (1, 10)),
            ]
        note = self.note("lend", 0.3) if action == "lend" else ""
        return steps + [Step(action, "coordinator", (2, 14), target or self.structure(), note)]

    def loan_back(self) -> list[Step]:
        # The coordination takes returned loans in before sending them through a workshop again.
        return [Step("return_loan", "coordinator", (30, 150), note=self.note("return_loan", 0.3))]

    def to_ready(self, workshop: str, *, loop_chance: float = 0.0) -> tuple[str, list[Step]]:
        registrar, steps = self.intake(workshop)
        steps += self.bench(workshop)
        if self.rng.random() < loop_chance:
            steps += self.deliver("lend") + self.loan_back()
            steps += [
                Step("send_to_workshop", "coordinator", (1, 10), workshop),
                Step("receive_at_workshop", workshop, (1, 6)),
            ]
            steps += self.bench(workshop)
        return registrar, steps

    def plan(self, final: Status, fields: dict) -> tuple[str, list[Step]]:
        rng = self.rng
        workshop = WORKSHOP_NAME if rng.random() < 0.75 else SECOND_WORKSHOP_NAME
        match final:
            case Status.REGISTERED:
                return "coordinator", []
            case Status.SENT_TO_WORKSHOP:
                return "coordinator", [Step("send_to_workshop", "coordinator", (1, 14), workshop)]
            case Status.AT_WORKSHOP:
                return self.intake(workshop)
            case Status.IN_RECONDITIONING:
                registrar, steps = self.intake(workshop)
                return registrar, steps + self.bench(workshop)[:1]
            case Status.READY:
                return self.to_ready(workshop, loop_chance=0.25)
            case Status.GIVEN:
                registrar, steps = self.to_ready(workshop, loop_chance=0.05)
                return registrar, steps + self.deliver("hand_over_gift")
            case Status.ON_LOAN:
                registrar, steps = self.to_ready(workshop, loop_chance=0.1)
                return registrar, steps + self.deliver("lend")
            case Status.RETURNED:
                registrar, steps = self.to_ready(workshop)
                return registrar, steps + self.deliver("lend") + self.loan_back()
            case Status.RECYCLED:
                note = self.note("recycle")
                if rng.random() < 0.25:  # broken on arrival: recycled straight from intake
                    return "coordinator", [Step("recycle", "coordinator", (1, 10), note=note)]
                registrar, steps = self.intake(workshop)
                if rng.random() < 0.5:
                    steps += self.bench(workshop)[:1]
                return registrar, steps + [Step("recycle", workshop, (1, 15), note=note)]
            case Status.DISMANTLED:
                registrar, steps = self.intake(workshop)
                steps += self.bench(workshop)[:1]
                return registrar, steps + [
                    Step("dismantle", workshop, (1, 15), note=self.note("dismantle"))
                ]
            case Status.RETURNED_TO_DONOR:
                if fields["manufacturer"] == "Apple":
                    note = self.note("return_to_donor_apple")
                elif fields["category_code"] in {"smartphone", "tablet"}:
                    note = self.note("return_to_donor_phone")
                else:
                    note = self.note("return_to_donor")
                registrar, steps = self.intake(workshop)
                if rng.random() < 0.5:
                    steps += self.bench(workshop)[:1]
                return registrar, steps + [Step("return_to_donor", workshop, (1, 15), note=note)]
            case Status.LOST:
                if rng.random() < 0.5:
                    return "coordinator", [
                        Step("send_to_workshop", "coordinator", (1, 14), workshop),
                        Step(
                            "declare_lost", "coordinator", (10, 30),
                            note=self.note("declare_lost_transit"),
                        ),
                    ]  # fmt: skip
                # Lost while on loan: the structure with a demo account declares it itself;
                # for the others (no account in the demo) the coordination does.
                registrar, steps = self.to_ready(workshop)
                structure = self.structure()
                declarer = "structure" if structure == DEMO_STRUCTURE_NAME else "coordinator"
                return registrar, steps + self.deliver("lend", structure) + [
                    Step(
                        "declare_lost", declarer, (10, 90),
                        note=self.note("declare_lost_structure"),
                    )
                ]  # fmt: skip
        raise AssertionError(final)

    def schedule(self, story: Story, now: datetime) -> None:
        """Times for registration and each step: increasing, on weekdays, in office hours."""
        rng = self.rng
        offsets = [0.0]
        for step in story.steps:
            offsets.append(offsets[-1] + rng.uniform(*step.gap_days))
        low, high = FINAL_AGE_DAYS.get(story.final, EXIT_AGE_DAYS)
        end_age = rng.uniform(low, high)
        span = HISTORY_DAYS - end_age - 1
        if offsets[-1] > span:  # too long a story for the window: compress it
            offsets = [offset * span / offsets[-1] for offset in offsets]
        # Ages in days are what the random sequence fixes; dates follow from today. Play order
        # sorts on the ages, so the same seed gives the same rows whatever the day.
        story.ages = [end_age + offsets[-1] - offset for offset in offsets]
        times: list[datetime] = []
        for age in story.ages:
            moment = _office_hours(now - timedelta(days=age), rng)
            bump = timedelta(minutes=rng.randint(5, 90))
            if times and moment <= times[-1]:
                moment = _next_office_moment(times[-1] + bump)
            times.append(moment)
        story.times = times


# A weekend day moves to one of the five weekdays around it, so no weekday is overloaded.
_WEEKEND_SHIFTS = {5: (-3, -2, -1, 2, 3), 6: (-3, -2, 1, 2, 3)}


def _office_hours(moment: datetime, rng: random.Random) -> datetime:
    """The same day (or a weekday nearby) at a random time between 8:30 and 17:30."""
    # Every number is drawn every time, so that the random sequence never depends on the date.
    minutes, shift = rng.randint(8 * 60 + 30, 17 * 60 + 30), rng.randrange(5)
    local = timezone.localtime(moment)
    if local.weekday() in _WEEKEND_SHIFTS:
        local += timedelta(days=_WEEKEND_SHIFTS[local.weekday()][shift])
    return local.replace(hour=minutes // 60, minute=minutes % 60, second=0, microsecond=0)


def _next_office_moment(moment: datetime) -> datetime:
    local = timezone.localtime(moment)
    if local.hour >= 18:
        local = (local + timedelta(days=1)).replace(hour=8, minute=30)
    while local.weekday() >= 5:
        local = (local + timedelta(days=1)).replace(hour=8, minute=30)
    return local


# --- Seeding --------------------------------------------------------------------------------


@dataclass
class DemoSummary:
    organisations: int
    structures: int
    territories: int
    users: int
    devices: int
    history_rows: int
    statuses: dict[str, int]
    admin_created: bool


def demo_admin_unchanged() -> bool:
    admin = get_user_model().objects.filter(username=ADMIN.username).first()
    return admin is not None and admin.check_password(ADMIN.password)


def demo_present() -> bool:
    return Organisation.objects.filter(kind=OrgKind.COORDINATOR, name=COORDINATOR_NAME).exists()


def demo_seed(
    *, devices: int = DEFAULT_DEVICES, seed: int = SEED, now: datetime | None = None
) -> DemoSummary:
    """Create the demo network in one transaction: all of it or, on any error, nothing."""
    now = now or timezone.now()
    quotas = status_quotas(devices)  # validates the count before anything is written
    User = get_user_model()
    taken = sorted(
        User.objects.filter(username__in=[a.username for a in ACCOUNTS]).values_list(
            "username", flat=True
        )
    )
    if taken:
        raise DemoConflict(f"user names already taken: {', '.join(taken)}")
    rng = random.Random(seed)
    ids = Identifiers(rng)
    hashes = _password_hashes()
    with transaction.atomic():
        return _seed(rng, ids, quotas, now, hashes)


def _password_hashes() -> dict[str, str]:
    # Password hashing is slow on purpose (about half a second each); the hash function
    # releases the GIL, so threads share it over the cores before the write transaction starts.
    accounts = [*ACCOUNTS, ADMIN]
    with ThreadPoolExecutor(max_workers=min(len(accounts), os.cpu_count() or 1)) as pool:
        hashed = pool.map(make_password, [account.password for account in accounts])
    return {account.username: value for account, value in zip(accounts, hashed, strict=True)}


def _seed(
    rng, ids: Identifiers, quotas: dict[Status, int], now: datetime, hashes: dict[str, str]
) -> DemoSummary:
    User = get_user_model()
    HistoricalDevice = Device.history.model
    HistoricalOrganisation = Organisation.history.model
    HistoricalMembership = Membership.history.model
    watermark = {
        model: model.objects.aggregate(top=Max("history_id"))["top"] or 0
        for model in (
            HistoricalDevice,
            HistoricalOrganisation,
            HistoricalMembership,
            *(model.history.model for model in demo_bench.RECORD_MODELS),
            Donation.history.model,
        )
    }
    org_times: list[datetime] = []
    network_start = now - timedelta(days=HISTORY_DAYS + 70)

    def next_org_time() -> datetime:
        # The network was set up in the two months before the first donation.
        moment = _office_hours(network_start + timedelta(days=1.2 * len(org_times)), rng)
        if org_times and moment <= org_times[-1]:
            moment = _next_office_moment(org_times[-1] + timedelta(minutes=20))
        org_times.append(moment)
        return moment

    users: dict[str, object] = {}
    for account in ACCOUNTS:
        users[account.username] = User.objects.create(
            username=account.username,
            password=hashes[account.username],
            first_name=account.first_name,
            last_name=account.last_name,
            email=f"{account.username}@demo.reemploi.example",
        )
    coordinator_user = users[ACCOUNTS[0].username]

    # The coordinator user acts for everything that follows, its own organisation included.
    orgs: dict[str, Organisation] = {}
    communes = {c.insee_code: c for c in Commune.objects.select_related("territory")}

    def save(org: Organisation) -> None:
        organisation_save(actor=coordinator_user, organisation=org)
        orgs[org.name] = org
        next_org_time()

    save(
        Organisation(
            name=COORDINATOR_NAME,
            kind=OrgKind.COORDINATOR,
            commune=communes["92050"],
            address="2-16 boulevard Soufflot, 92000 Nanterre",
            contact_email="coordination@inclusion-numerique92.example",
        )
    )
    membership_times: list[datetime] = []
    membership_set(
        actor=coordinator_user,
        user=coordinator_user,
        organisation=orgs[COORDINATOR_NAME],
        role=ACCOUNTS[0].role,
    )
    membership_times.append(org_times[-1] + timedelta(minutes=5))

    for name, kind, insee, street, has_siret, _prefix in OTHER_ORGANISATIONS:
        commune = communes.get(insee) if insee else None
        address = street
        if commune is not None and street:
            address = f"{street}, {commune.postal_code} {commune.name}"
        save(
            Organisation(
                name=name,
                kind=kind,
                commune=commune,
                address=address,
                siret=ids.siret(rng.choice("4578")) if has_siret else "",
                contact_email=f"contact@{_slug(name)}.example",
                # The département gives as a public body (loi 3DS: prix solidaires).
                is_public_body=name in PUBLIC_DONORS,
            )
        )
    for name, structure_type, insee, street, identifier in STRUCTURES:
        commune = communes[insee]
        public = structure_type in {"CCAS", "MUNI", "BIB", "MDS", "EPN", "RFS"}
        save(
            Organisation(
                name=name,
                kind=OrgKind.STRUCTURE,
                structure_type=structure_type,
                commune=commune,
                address=f"{street}, {commune.postal_code} {commune.name}",
                siret=ids.siret("2" if public else "8") if identifier == "siret" else "",
                rna=ids.rna(commune.departement) if identifier == "rna" else "",
                contact_email=f"numerique@{_slug(name)}.example",
                contact_phone=f"01 {rng.randint(40, 49)} {rng.randint(10, 99)} "
                f"{rng.randint(10, 99)} {rng.randint(10, 99)}",
            )
        )

    moment = org_times[-1]
    for account in ACCOUNTS[1:]:
        membership_set(
            actor=coordinator_user,
            user=users[account.username],
            organisation=orgs[account.organisation],
            role=account.role,
        )
        moment = _next_office_moment(moment + timedelta(minutes=rng.randint(3, 40)))
        membership_times.append(moment)
    admin_created = not User.objects.filter(username=ADMIN.username).exists()
    if admin_created:
        User.objects.create(
            username=ADMIN.username,
            password=hashes[ADMIN.username],
            email="admin@demo.reemploi.example",
            is_staff=True,
            is_superuser=True,
        )

    actors = {
        "coordinator": coordinator_user,
        WORKSHOP_NAME: users["atelier"],
        SECOND_WORKSHOP_NAME: users["atelier-nord"],
        "structure": users["structure"],
    }
    stories = write_stories(rng, ids, quotas, now, [s[0] for s in STRUCTURES])
    cycle_moments, donation_moments = _play(stories, actors, orgs)
    demo_bench.backdate(cycle_moments, _set_columns)
    _set_columns(Donation, {pk: {"created_at": m} for pk, m in donation_moments.items()})
    history = Donation.history.model.objects.filter(id__in=list(donation_moments))
    _set_columns(
        Donation.history.model,
        {
            hid: {"history_date": donation_moments[pk]}
            for hid, pk in history.values_list("history_id", "id")
        },
    )

    # Backdate the timestamps to the story's times. Only timestamps change: the history rows
    # written by the services already hold every state, so no history row is missing.
    _set_columns(
        Device,
        {
            s.device.pk: {
                "created_at": s.times[0],
                "updated_at": s.times[-1],
                "status_changed_at": s.times[-1],
            }
            for s in stories
        },
    )
    _set_columns(LabelCode, {s.device.label_code_id: {"issued_at": s.times[0]} for s in stories})
    _backdate_device_history(stories, watermark[HistoricalDevice])
    org_rows = HistoricalOrganisation.objects.filter(
        history_id__gt=watermark[HistoricalOrganisation]
    ).order_by("history_id")
    org_rows = list(org_rows.values_list("history_id", "id"))
    _set_columns(
        HistoricalOrganisation,
        {
            history_id: {"history_date": moment, "created_at": moment}
            for (history_id, _pk), moment in zip(org_rows, org_times, strict=True)
        },
    )
    _set_columns(
        Organisation,
        {pk: {"created_at": moment} for (_id, pk), moment in zip(org_rows, org_times, strict=True)},
    )
    member_rows = HistoricalMembership.objects.filter(
        history_id__gt=watermark[HistoricalMembership]
    ).order_by("history_id")
    _set_columns(
        HistoricalMembership,
        {
            history_id: {"history_date": moment}
            for history_id, moment in zip(
                member_rows.values_list("history_id", flat=True), membership_times, strict=True
            )
        },
    )
    _set_columns(
        User,
        {
            users[account.username].pk: {"date_joined": moment}
            for account, moment in zip(ACCOUNTS, membership_times, strict=True)
        },
    )

    for model, top in watermark.items():
        # Every row this seed wrote must name its author; roll everything back otherwise.
        if model.objects.filter(history_id__gt=top, history_user__isnull=True).exists():
            raise RuntimeError(f"{model.__name__}: a history row has no user")

    return DemoSummary(
        organisations=len(orgs),
        structures=len(STRUCTURES),
        territories=len({communes[s[2]].territory_id for s in STRUCTURES}),
        users=len(users) + int(admin_created),
        devices=len(stories),
        history_rows=sum(len(story.times) for story in stories),
        statuses=dict(Counter(story.device.status for story in stories)),
        admin_created=admin_created,
    )


def write_stories(rng, ids, quotas, now, structures: list[str]) -> list[Story]:
    generator = DeviceGenerator(rng, ids)
    writer = StoryWriter(rng, structures)
    finals = [status for status, count in quotas.items() for _ in range(count)]
    rng.shuffle(finals)
    donors = list(DONOR_WEIGHTS) + [""]
    donor_weights = list(DONOR_WEIGHTS.values()) + [NO_DONOR_WEIGHT]
    stories = []
    for final in finals:
        fields = generator.fields()
        donor = rng.choices(donors, weights=donor_weights)[0]
        if final == Status.RETURNED_TO_DONOR and not donor:
            donor = DONOR_COMPANY_NAME
        registrar, steps = writer.plan(final, fields)
        story = Story(final=final, registrar=registrar, fields=fields, donor=donor, steps=steps)
        writer.schedule(story, now)
        stories.append(story)
    # Register in time order so that ids, like the history, follow the calendar.
    stories.sort(key=lambda story: -story.ages[0])
    return stories


def _play(stories: list[Story], actors: dict, orgs: dict[str, Organisation]):
    """Apply every event of every story in calendar order, through the services.

    Returns, for backdating, the moment of each bench cycle's records {reconditioning pk: time}
    and of each donation's intake {donation pk: time}.
    """
    categories = {c.code: c for c in Category.objects.all()}
    prefixes = {name: prefix for name, *_rest, prefix in OTHER_ORGANISATIONS}
    bench_rng = random.Random(SEED * 7)  # its own stream: the device stories stay as they were
    donations = _plan_donations(stories)
    cycle_moments: dict[int, datetime] = {}
    events = [
        (-age, index, position)
        for index, story in enumerate(stories)
        for position, age in enumerate(story.ages)
    ]
    events.sort()
    serial = 0
    for _age, index, position in events:
        story = stories[index]
        if position == 0:
            fields = dict(story.fields)
            category = categories[fields.pop("category_code")]
            donation = None
            if story.donor:
                serial += 1
                fields["asset_tag"] = f"{prefixes[story.donor]}-{40000 + serial * 7:06d}"
                donation = donations[index].save_once(actors["coordinator"], orgs, story.times[0])
            story.device = device_register(
                actor=actors[story.registrar],
                category=category,
                donor=orgs[story.donor] if story.donor else None,
                donation=donation,
                **fields,
            )
            continue
        step = story.steps[position - 1]
        actor = actors[step.actor]
        cycle = None
        if story.device.status == Status.IN_RECONDITIONING:
            if step.action == "mark_ready":
                demo_bench.record_full(actor, story.device, bench_rng)
            elif step.action == "return_to_donor":
                demo_bench.record_blocked(actor, story.device)
            elif step.action in {"recycle", "dismantle"} and bench_rng.random() < 0.6:
                demo_bench.record_destroyed(actor, story.device, bench_rng)
            cycle = demo_bench.open_cycle_id(story.device)
        result = device_transition(
            actor=actor,
            device_id=story.device.pk,
            action=step.action,
            target=orgs[step.target] if step.target else None,
            note=step.note,
            # The demo replays devices' past: the gifts and loans of before the allocations'
            # workflow (logistics) recorded them. No device is left reserved here: the
            # logistics demo reserves devices by approving a matching run.
            workflow=step.action in WORKFLOW_MOVES,
        )
        if not result.changed:
            raise RuntimeError(f"{step.action} changed nothing on {story.device}")
        story.device = result.device
        if cycle is not None:
            cycle_moments[cycle] = story.times[position]
    for story in stories:
        if story.device.status == Status.IN_RECONDITIONING:
            # On the bench today: locks checked and part of the checklist done.
            actor = actors[story.steps[-1].actor]
            demo_bench.record_partial(actor, story.device, bench_rng)
            # The records follow the start of the reconditioning, within the working day.
            started = story.times[-1]
            end = min(started + timedelta(hours=3, minutes=10), timezone.now())
            cycle_moments[demo_bench.open_cycle_id(story.device)] = max(end, started)
    donation_moments = {
        planned.donation.pk: planned.moment
        for planned in donations.values()
        if planned.donation is not None
    }
    return cycle_moments, donation_moments


@dataclass
class PlannedDonation:
    """One donor's batch: the devices it registered in one calendar month."""

    donor: str
    count: int
    donation: Donation | None = None
    moment: datetime | None = None

    def save_once(self, actor, orgs: dict[str, Organisation], moment: datetime) -> Donation:
        if self.donation is None:
            donor = orgs[self.donor]
            day = timezone.localtime(moment).date()
            self.donation = Donation(
                donor=donor,
                received_on=day,
                pickup_address=donor.address,
                expected_count=self.count + (1 if self.count % 5 == 0 else 0),
                received_count=self.count,
                released_accounts=True,
                released_management=True,
                released_firmware=self.count % 4 != 0,
                attested_by=f"Service informatique — {donor.name.split(' — ')[0]}",
                attested_on=day,
                created_by=actor,
            )
            self.donation._history_user = actor
            self.donation.save()
            self.moment = moment
        return self.donation


def _plan_donations(stories: list[Story]) -> dict[int, PlannedDonation]:
    """Group each donor's devices by month of registration into donations ({story index: …})."""
    batches: dict[tuple[str, str], PlannedDonation] = {}
    by_story = {}
    for index, story in enumerate(stories):
        if not story.donor:
            continue
        key = (story.donor, story.times[0].strftime("%Y-%m"))
        batch = batches.setdefault(key, PlannedDonation(story.donor, 0))
        batch.count += 1
        by_story[index] = batch
    return by_story


def _backdate_device_history(stories: list[Story], watermark: int) -> None:
    # Each service call above wrote exactly one history row, in the order the events were
    # played; the rows of one device, in id order, match that device's times one to one.
    HistoricalDevice = Device.history.model
    by_device = {story.device.pk: story for story in stories}
    rows = (
        HistoricalDevice.objects.filter(history_id__gt=watermark, id__in=by_device)
        .order_by("history_id")
        .values_list("history_id", "id", "history_change_reason")
    )
    seen: Counter = Counter()
    values = {}
    for history_id, pk, reason in rows:
        story = by_device[pk]
        position = seen[pk]
        seen[pk] += 1
        expected = "register" if position == 0 else story.steps[position - 1].action
        if reason != expected:
            raise RuntimeError(f"history of device {pk} out of step: {reason} for {expected}")
        values[history_id] = {"history_date": story.times[position], "created_at": story.times[0]}
    if any(seen[pk] != len(story.times) for pk, story in by_device.items()):
        raise RuntimeError("a device has more or fewer history rows than events")
    _set_columns(HistoricalDevice, values)


def _set_columns(model, values: dict) -> None:
    """Set columns row by row, {pk: {field: value}}, in one executemany.

    Used only to backdate timestamps of rows this seed has just written; bulk_update would
    compile a CASE per row and take seconds for the demo's two thousand rows.
    """
    if not values:
        return
    meta = model._meta
    names = list(next(iter(values.values())))
    fields = [meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608 (names come from the model's metadata)
    params = [
        [f.get_db_prep_value(row[f.name], connection) for f in fields] + [pk]
        for pk, row in values.items()
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _slug(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name.split(" — ")[0]).encode("ascii", "ignore").decode()
    words = "".join(c if c.isalnum() else " " for c in plain.lower()).split()
    return "-".join(w for w in words if w not in {"de", "du", "des", "la", "le", "les", "d", "l"})
