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

Speed (issue 10: a thousand labels in one request within 2 s): the mask is always
MASK_PATTERN. The qrcode library would otherwise build the symbol with each of the eight masks
and score them, 85 % of the time of a thousand labels; any mask is a valid symbol that every
reader decodes (the mask is written in the format information), and the tests read every
label of a thousand on each format at 203 dpi. The codewords (data and Reed-Solomon) are
computed here with integers and log tables, the library's own algorithm without its
bit-by-bit buffer and recursive polynomials; a test checks they equal the library's.
"""

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

import qrcode
from qrcode import LUT, base, exceptions, util
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


class _Bits:
    """The bit buffer QRData.write fills, as one integer."""

    def __init__(self):
        self.value = 0
        self.length = 0

    def put(self, num: int, length: int) -> None:
        self.value = (self.value << length) | (num & ((1 << length) - 1))
        self.length += length


def _remainder(data: list[int], generator: list[int]) -> list[int]:
    """data × x^ec mod generator over GF(256): the block's error-correction codewords."""
    log, exp = base.LOG_TABLE, base.EXP_TABLE
    generator_logs = [log[coefficient] for coefficient in generator[1:]]
    remainder = [0] * len(generator_logs)
    for byte in data:
        factor = byte ^ remainder[0]
        remainder = remainder[1:] + [0]
        if factor:
            factor_log = log[factor]
            for index, coefficient_log in enumerate(generator_logs):
                remainder[index] ^= exp[(coefficient_log + factor_log) % 255]
    return remainder


def codewords(version: int, error_correction: int, data_list) -> list[int]:
    """What qrcode.util.create_data returns: data codewords then error correction, interleaved."""
    bits = _Bits()
    for data in data_list:
        bits.put(data.mode, 4)
        bits.put(len(data), util.length_in_bits(data.mode, version))
        data.write(bits)
    blocks = base.rs_blocks(version, error_correction)
    capacity = sum(block.data_count for block in blocks)
    if bits.length > capacity * 8:
        raise exceptions.DataOverflowError(f"{bits.length} bits > {capacity * 8}")
    # Terminator (up to four 0 bits), then 0 bits to a whole byte, then the pad bytes.
    terminator = min(capacity * 8 - bits.length, 4)
    bits.put(0, terminator + (-(bits.length + terminator)) % 8)
    filled = bits.length // 8
    stream = list(bits.value.to_bytes(filled, "big")) if filled else []
    stream += [util.PAD0 if i % 2 == 0 else util.PAD1 for i in range(capacity - filled)]
    data_blocks, ec_blocks, offset = [], [], 0
    for block in blocks:
        chunk = stream[offset : offset + block.data_count]
        offset += block.data_count
        data_blocks.append(chunk)
        ec_blocks.append(_remainder(chunk, _generator(block.total_count - block.data_count)))
    return _interleave(data_blocks) + _interleave(ec_blocks)


def _generator(ec_count: int) -> list[int]:
    if ec_count in LUT.rsPoly_LUT:
        return LUT.rsPoly_LUT[ec_count]
    poly = base.Polynomial([1], 0)
    for index in range(ec_count):
        poly = poly * base.Polynomial([1, base.gexp(index)], 0)
    return list(poly)


def _interleave(blocks: list[list[int]]) -> list[int]:
    longest = max(len(block) for block in blocks)
    return [block[i] for i in range(longest) for block in blocks if i < len(block)]


def _make(payload: str, error_correction: int) -> qrcode.QRCode:
    symbol = qrcode.QRCode(error_correction=error_correction, border=0, mask_pattern=MASK_PATTERN)
    # optimize: runs of 20+ characters that fit a denser mode get their own segment, so an
    # upper-case host stays alphanumeric even after a lower-case path prefix in byte mode.
    symbol.add_data(payload, optimize=20)
    symbol.best_fit()
    # make() keeps a data_cache it finds: it then only places the codewords and the mask.
    symbol.data_cache = codewords(symbol.version, error_correction, symbol.data_list)
    symbol.make(fit=False)
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
