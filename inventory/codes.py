"""Label codes and IMEI: pure identifier arithmetic, tested without a database.

Label codes live here rather than in `labels` because registering a device (inventory) issues
one, and inventory must not import labels.

A label code is 8 random symbols (40 bits) from Crockford's base-32 alphabet (no I, L, O, U)
plus one Luhn mod 32 check symbol. Luhn mod N changes the checksum for every single-symbol
substitution, in the payload or in the check symbol itself, so a misread or mistyped symbol is
rejected instead of resolving to another device. Upper case and digits only, so a QR code can
carry it in alphanumeric mode.
"""

import re
import secrets
from urllib.parse import urlsplit

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BASE = len(ALPHABET)
PAYLOAD_LENGTH = 8
CODE_LENGTH = PAYLOAD_LENGTH + 1
GROUP = 3
_VALUE = {symbol: index for index, symbol in enumerate(ALPHABET)}
# Symbols people and OCR confuse with ours: read them as the symbol they resemble.
_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.·]+")


class InvalidCode(ValueError):
    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


def check_symbol(payload: str) -> str:
    """Luhn mod 32 over the payload, doubling from the rightmost symbol."""
    total = 0
    double = True
    for symbol in reversed(payload):
        value = _VALUE[symbol]
        if double:
            value *= 2
            value = value // BASE + value % BASE
        total += value
        double = not double
    return ALPHABET[(BASE - total % BASE) % BASE]


def generate_label_code() -> str:
    payload = "".join(secrets.choice(ALPHABET) for _ in range(PAYLOAD_LENGTH))
    return payload + check_symbol(payload)


def normalize_label_code(raw: str) -> str:
    """Canonical form of typed or scanned input: upper case, no separators, aliases mapped.

    Raises InvalidCode with reason "length", "alphabet" or "check".
    """
    code = _SEPARATORS.sub("", raw or "").upper().translate(_ALIASES)
    if len(code) != CODE_LENGTH:
        raise InvalidCode(code, "length")
    if any(symbol not in _VALUE for symbol in code):
        raise InvalidCode(code, "alphabet")
    if check_symbol(code[:-1]) != code[-1]:
        raise InvalidCode(code, "check")
    return code


def is_valid_label_code(raw: str) -> bool:
    try:
        normalize_label_code(raw)
    except InvalidCode:
        return False
    return True


def group_label_code(code: str) -> str:
    """ABC-DEF-GHJ: three groups of three, for reading aloud."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def label_code_for_display(raw: str) -> str:
    """A typed or scanned code as the label prints it when it is one; the text as given if not."""
    try:
        return group_label_code(normalize_label_code(raw))
    except InvalidCode:
        return raw


def luhn_check_digit(digits: str) -> str:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def is_valid_imei(value: str) -> bool:
    """15 digits: 8-digit TAC, 6-digit serial, Luhn check digit (3GPP TS 23.003)."""
    return (
        len(value) == 15
        and value.isascii()
        and value.isdigit()
        and luhn_check_digit(value[:14]) == value[14]
    )


def normalize_imei(raw: str) -> str:
    return re.sub(r"[\s\-./]", "", raw or "")


def is_valid_siret(value: str) -> bool:
    """14 digits with a Luhn check; La Poste (SIREN 356000000) uses digit sum % 5 instead."""
    if len(value) != 14 or not value.isascii() or not value.isdigit():
        return False
    if value.startswith("356000000"):
        return sum(int(c) for c in value) % 5 == 0
    return luhn_check_digit(value[:13]) == value[13]


def is_valid_rna(value: str) -> bool:
    """Répertoire national des associations: W followed by 9 digits (department + number)."""
    return bool(re.fullmatch(r"W\d[\dAB]\d{7}", value))


def code_from_scan(raw: str, site_url: str) -> str:
    """The label code in scanned or typed text: a label URL of this site, or a bare code.

    Raises InvalidCode with reason "empty", "foreign_url" (a URL of another site or not a
    label URL), or those of normalize_label_code.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidCode("", "empty")
    try:
        return _code_from_text(text, site_url)
    except InvalidCode as as_typed:
        unscrambled = text.translate(_AZERTY_TO_QWERTY)
        if unscrambled == text or not _AZERTY_SIGNATURE.search(text):
            raise
        try:
            return _code_from_text(unscrambled, site_url)
        except InvalidCode as unscrambled_error:
            # A wrong check once unscrambled is a misread code; anything else, the text as typed.
            if unscrambled_error.reason == "check":
                raise
            raise as_typed from None


def _code_from_text(text: str, site_url: str) -> str:
    if "/" in text:  # a bare code never holds one
        return normalize_label_code(_code_from_url(text, site_url))
    return normalize_label_code(text)


# A handheld scanner set up for a US keyboard, plugged into a French (AZERTY) computer, types
# "HTTPSM!!…" for "HTTPS://…" and "&é\"'(" for "12345". The mapping is one-to-one, so undoing
# it cannot turn one code into another; it is tried only when the text as typed is no code and
# bears the marks of that layout.
_AZERTY_TO_QWERTY = str.maketrans(
    {
        "&": "1", "é": "2", '"': "3", "'": "4", "(": "5", "-": "6", "è": "7", "_": "8",
        "ç": "9", "à": "0", ")": "-", "A": "Q", "Q": "A", "Z": "W", "W": "Z", "?": "M",
        "M": ":", ":": ".", "!": "/", ";": ",", ",": "M",
    }
)  # fmt: skip
_AZERTY_SIGNATURE = re.compile(r"[&é\"'(è_çà!]")


def _code_from_url(text: str, site_url: str) -> str:
    site = urlsplit(site_url)
    try:
        url = urlsplit(text if "://" in text or text.startswith("/") else f"//{text}")
    except ValueError as exc:
        # What a scanner can type is no URL at all ("[/" reads as a broken IPv6 host): that is
        # a refused scan like any other, never an error of the server.
        raise InvalidCode(text, "foreign_url") from exc
    if url.netloc and url.netloc.lower() != site.netloc.lower():
        raise InvalidCode(text, "foreign_url")
    prefix = site.path.rstrip("/").lower()
    path = url.path.rstrip("/")
    if not path.lower().startswith(f"{prefix}/d/"):
        raise InvalidCode(text, "foreign_url")
    return path[len(prefix) + 3 :]
