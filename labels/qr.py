"""What a label's QR code says, and its modules.

The payload is SITE_URL + "/D/" + code with scheme and host in upper case (both are
case-insensitive in a URL) so that the whole of it fits QR alphanumeric mode, 5.5 bits a
character instead of 8: "HTTPS://REEMPLOI.EXAMPLE.ORG/D/7KQ3XM2PA". A path prefix of SITE_URL
is kept as it is: paths are case-sensitive, so a lower-case prefix just goes in byte mode.

Error correction: Q (25 % of codewords recoverable, for worn and scratched labels) unless the
symbol would then pass version 6, where M (15 %) is used instead. Version 6 is 41 modules
plus a 4-module quiet zone each side, 49 in all: 0.43 mm a module on the smallest label
(avery-l7651, 21.2 mm tall) and 4 dots a module (0.50 mm) on a 203 dpi Zebra 2 × 1 in label.
Q passes version 6 only with a payload over 108 alphanumeric characters, a SITE_URL of over
96; real ones stay at version 3 or 4 with Q:
  "HTTP://LOCALHOST:8000/D/…" (33 chars)                   Q → v3, 29 modules
  "HTTPS://REEMPLOI.EXAMPLE.ORG/D/…" (40 chars)            Q → v3, 29 modules (M is v3 too)
  "HTTPS://REEMPLOI.INCLUSION-NUMERIQUE92.FR/D/…" (53)     Q → v4, 33 modules (M: v3, 29)

Mask: always pattern MASK_PATTERN. The qrcode library would otherwise build the symbol with
each of the eight masks and score them, 85 % of the time of a thousand labels; any mask is a
valid symbol that every reader decodes (the mask is written in the format information), and
the tests read every label of a thousand on each format at 203 dpi.
"""

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

import qrcode
from qrcode.constants import ERROR_CORRECT_M, ERROR_CORRECT_Q

from inventory.codes import normalize_label_code

QUIET_ZONE_MODULES = 4
Q_MAX_VERSION = 6
MASK_PATTERN = 0  # (row + column) % 2: a checkerboard, which breaks up any solid area


@dataclass(frozen=True)
class QrMatrix:
    payload: str
    version: int
    error_correction: str  # "Q" or "M"
    modules: tuple[tuple[bool, ...], ...]  # modules[row][column], True = dark

    @property
    def size(self) -> int:
        return len(self.modules)


def qr_payload(code: str, site_url: str) -> str:
    code = normalize_label_code(code)
    parts = urlsplit(site_url.strip())
    if parts.scheme not in {"http", "https", "HTTP", "HTTPS"} or not parts.hostname:
        raise ValueError(f"SITE_URL must be an http(s) URL with a host, not {site_url!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"SITE_URL must not carry a query or fragment: {site_url!r}")
    prefix = parts.path.rstrip("/")
    return f"{parts.scheme.upper()}://{parts.netloc.upper()}{prefix}/D/{code}"


def _make(payload: str, error_correction: int) -> qrcode.QRCode:
    symbol = qrcode.QRCode(error_correction=error_correction, border=0, mask_pattern=MASK_PATTERN)
    # optimize: runs of 20+ characters that fit a denser mode get their own segment, so an
    # upper-case host stays alphanumeric even after a lower-case path prefix in byte mode.
    symbol.add_data(payload, optimize=20)
    symbol.make(fit=True)
    return symbol


@lru_cache(maxsize=2048)
def qr_matrix(payload: str) -> QrMatrix:
    symbol = _make(payload, ERROR_CORRECT_Q)
    level = "Q"
    if symbol.version > Q_MAX_VERSION:
        symbol = _make(payload, ERROR_CORRECT_M)
        level = "M"
    modules = tuple(tuple(bool(module) for module in row) for row in symbol.modules)
    return QrMatrix(payload, symbol.version, level, modules)


def dark_runs(matrix: QrMatrix) -> list[tuple[int, int, int]]:
    """(row, first column, length) of every horizontal run of dark modules."""
    runs = []
    for row, modules in enumerate(matrix.modules):
        column = 0
        size = len(modules)
        while column < size:
            if modules[column]:
                start = column
                while column < size and modules[column]:
                    column += 1
                runs.append((row, start, column - start))
            else:
                column += 1
    return runs
