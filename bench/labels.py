"""R16: 1,000 label codes rendered on every format and decoded from a 203 dpi raster.

Run from the repository root: `.venv/bin/python bench/labels.py [--count N] [--dpi D] [--runs R]`.
Prints, per format, the seconds to render the labels to PDF (median of R runs, QR matrices
included: the cache is emptied before each), the seconds to rasterise and decode, and how
many labels decoded to their own URL; the same median for ZPL on Zebra formats; then how many
single-symbol typos of the codes were rejected. Issue 10's target: 1,000 labels in 2 s.
Needs the dev packages pypdfium2 and zxing-cpp.
"""

import argparse
import statistics
import sys
import time
from functools import partial
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


def median_seconds(render, runs: int):
    """(median seconds, last result) of `runs` renders, each with an empty QR cache."""
    seconds = []
    for _ in range(runs):
        qr_matrix.cache_clear()
        started = time.perf_counter()
        result = render()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--dpi", type=float, default=203)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    codes = set()
    while len(codes) < args.count:
        codes.add(generate_label_code())
    items = [LabelItem(code, "Ordinateur portable", "Dell Latitude 5490") for code in codes]
    render = {"site_url": SITE_URL, "network_name": NETWORK}
    print(
        f"{args.count} labels, SITE_URL {SITE_URL}, render: median of {args.runs} runs, "
        f"decoded at {args.dpi:g} dpi (zxing-cpp)"
    )
    print(f"{'format':18} {'pages':>5} {'render s':>9} {'PDF KiB':>8} {'decode s':>9} decoded")
    all_ok = True
    for name, fmt in all_formats().items():
        render_seconds, pdf = median_seconds(partial(render_pdf, items, fmt, **render), args.runs)
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
            zpl_seconds, _ = median_seconds(partial(render_zpl, items, fmt, **render), args.runs)
            print(f"{name + ' (ZPL)':18} {'':>5} {zpl_seconds:>9.2f}")
    rejected, total = typos_rejected(sorted(codes))
    print(f"single-symbol typos rejected: {rejected}/{total}")
    return 0 if all_ok and rejected == total else 1


if __name__ == "__main__":
    sys.exit(main())
