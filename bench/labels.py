"""R16: 1,000 label codes rendered on every format and decoded from a 203 dpi raster.

Run from the repository root: `.venv/bin/python bench/labels.py [--count N] [--dpi D]`.
Prints, per format, the seconds to render the labels to PDF (QR matrices included: the
cache is emptied first), the seconds to rasterise and decode, and how many labels decoded
to their own URL; then how many single-symbol typos of the codes were rejected.
Needs the dev packages pypdfium2 and zxing-cpp.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inventory.codes import (  # noqa: E402
    ALPHABET,
    InvalidCode,
    generate_label_code,
    normalize_label_code,
)
from labels.formats import all_formats  # noqa: E402
from labels.qr import qr_matrix  # noqa: E402
from labels.render import LabelItem, layout_pages, render_pdf  # noqa: E402
from labels.zpl import render_zpl  # noqa: E402
from tests.labels.decoding import decode_labels  # noqa: E402

SITE_URL = "https://reemploi.inclusion-numerique92.fr"
NETWORK = "Réseau inclusion numérique 92"


def typos_rejected(codes: list[str]) -> tuple[int, int]:
    rejected = total = 0
    for code in codes:
        for index in range(len(code)):
            for symbol in ALPHABET:
                if symbol == code[index]:
                    continue
                total += 1
                try:
                    normalize_label_code(code[:index] + symbol + code[index + 1 :])
                except InvalidCode:
                    rejected += 1
    return rejected, total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--dpi", type=float, default=203)
    args = parser.parse_args()

    codes = set()
    while len(codes) < args.count:
        codes.add(generate_label_code())
    items = [LabelItem(code, "Ordinateur portable", "Dell Latitude 5490") for code in codes]
    render = {"site_url": SITE_URL, "network_name": NETWORK}
    print(f"{args.count} labels, SITE_URL {SITE_URL}, decoded at {args.dpi:g} dpi (zxing-cpp)")
    print(f"{'format':18} {'pages':>5} {'render s':>9} {'PDF KiB':>8} {'decode s':>9} decoded")
    all_ok = True
    for name, fmt in all_formats().items():
        qr_matrix.cache_clear()
        started = time.perf_counter()
        pdf = render_pdf(items, fmt, **render)
        render_seconds = time.perf_counter() - started
        pages = layout_pages(items, fmt, **render)
        started = time.perf_counter()
        results = decode_labels(pdf, pages, args.dpi)
        decode_seconds = time.perf_counter() - started
        decoded = sum(1 for payload, found in results if found == [payload])
        all_ok &= decoded == args.count
        print(
            f"{name:18} {len(pages):>5} {render_seconds:>9.2f} {len(pdf) / 1024:>8.0f} "
            f"{decode_seconds:>9.2f} {decoded}/{len(results)}"
        )
        if fmt.supports_zpl:
            qr_matrix.cache_clear()
            started = time.perf_counter()
            render_zpl(items, fmt, **render)
            print(f"{name + ' (ZPL)':18} {'':>5} {time.perf_counter() - started:>9.2f}")
    rejected, total = typos_rejected(sorted(codes))
    print(f"single-symbol typos rejected: {rejected}/{total}")
    return 0 if all_ok and rejected == total else 1


if __name__ == "__main__":
    sys.exit(main())
