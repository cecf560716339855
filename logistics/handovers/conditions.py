"""The "prix solidaires": what an association may charge, at most, when it resells a device a
public body gave (loi 3DS, art. 178; décret of 7 November 2022). Prices include VAT, for a
device in working order with its charger, storage, operating system and battery. Pure data.
"""

from collections.abc import Iterable

# Euros, by category code. The décret prices a desktop "with a screen, a keyboard and a mouse":
# an all-in-one is one, and a central unit alone is held to that ceiling too (never more).
# Categories it does not name (feature phones, network boxes, accessories) have no ceiling.
SOLIDARITY_PRICE_CEILINGS: dict[str, int] = {
    "laptop": 180,
    "desktop": 150,
    "all_in_one": 150,
    "tablet": 100,
    "smartphone": 100,
    "screen": 30,
    "printer": 30,
    "mfp": 170,
}


def solidarity_ceilings(category_codes: Iterable[str]) -> list[tuple[str, int | None]]:
    """Each category once, in the order first met, with its ceiling (None: none is set)."""
    seen: dict[str, int | None] = {}
    for code in category_codes:
        if code not in seen:
            seen[code] = SOLIDARITY_PRICE_CEILINGS.get(code)
    return list(seen.items())
