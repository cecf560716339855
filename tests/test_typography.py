"""French typography in the French catalogue: « » quotes, and a non-breaking space before : ; ! ?
and inside « » (U+00A0, or the narrow U+202F), so no sign is left alone at a line start."""

import re

import pytest

from tests.test_translations import PO, po_entries

SPACES = "\u00a0\u202f"
# What is not French prose: HTML tags, URLs, format placeholders, clock times.
NOT_PROSE = re.compile(
    r"<[^>]*>"
    r"|[a-zA-Z][a-zA-Z0-9+.-]*://\S*"
    r"|%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdfr]|%[sd%]"
    r"|\b\d{1,2}:\d{2}\b"
)
# A sign of French punctuation ends a word: it is followed by a space, the end or a closing sign.
NEEDS_SPACE = re.compile(r"[:;!?](?=\s|$|[»)\]])")


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), text)


def typography_problems(text: str) -> list[str]:
    prose = NOT_PROSE.sub("\x00", text)
    problems = []
    for match in re.finditer(r"[\"“”]", prose):
        problems.append(f"{match[0]} used as a quote: write « … »")
    for match in NEEDS_SPACE.finditer(prose):
        before = prose[match.start() - 1] if match.start() else ""
        if before and before not in SPACES:
            context = prose[max(0, match.start() - 15) : match.end()]
            problems.append(f"no non-breaking space before {match[0]!r}: …{context!r}")
    for match in re.finditer(r"«(.?)", prose):
        if match[1] not in SPACES:
            problems.append("no non-breaking space after «")
    for match in re.finditer(r"(.?)»", prose):
        if match[1] not in SPACES:
            problems.append("no non-breaking space before »")
    return problems


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("Appareil enregistré\u00a0: %(code)s.", 0),
        ("Action «\u00a0%(move)s\u00a0» effectuée\u202f!", 0),
        ("Consultez https://example.org/a?b=1:2 à 10:30.", 0),
        ('<span class="visually-hidden">Télécharger</span>', 0),
        ("make demo HOST=0.0.0.0:%(port)s", 0),
        ("Enregistré : rien", 1),
        ("Enregistré: rien", 1),
        ("Vraiment ?", 1),
        ("Catégorie “%(value)s” inconnue.", 2),
        ('Le "lot" du jour', 2),
        ("Le « lot » du jour", 2),
    ],
)
def test_the_typography_check_tells_prose_from_code(text, count):
    assert len(typography_problems(text)) == count


def test_every_french_string_follows_french_typography():
    found = {}
    for entry in po_entries(PO.read_text(encoding="utf-8")):
        for text in entry["msgstr"].values():
            if problems := typography_problems(unescape(text)):
                found[entry["msgid"]] = problems
    assert found == {}
