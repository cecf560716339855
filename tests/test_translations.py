"""The French catalogue is complete, compiled, and covers every string in the code."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "config" / "locale" / "fr" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
SOURCES = ["config", "inventory", "logistics", "labels", "api", "templates", "manage.py"]


def po_entries(text: str) -> list[dict]:
    """Entries of a .po file: msgid, the msgstr values, and flags (a small reader, enough here)."""
    entries, current, key = [], None, None
    for line in text.splitlines() + [""]:
        if not line.strip():
            if current is not None:
                entries.append(current)
            current, key = None, None
            continue
        if current is None:
            current = {"flags": "", "msgid": "", "msgstr": {}, "obsolete": False}
        if line.startswith("#~"):
            current["obsolete"] = True
        elif line.startswith("#,"):
            current["flags"] += line
        elif line.startswith("#"):
            continue
        elif match := re.match(r'(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) "(.*)"$', line):
            key = match.group(1)
            if key.startswith("msgstr"):
                current["msgstr"][key] = match.group(2)
            else:
                current[key] = match.group(2)
        elif line.startswith('"') and key is not None:
            if key.startswith("msgstr"):
                current["msgstr"][key] += line[1:-1]
            else:
                current[key] = current.get(key, "") + line[1:-1]
    return [entry for entry in entries if entry["msgid"] and not entry["obsolete"]]


def test_every_french_entry_is_translated_and_reviewed():
    entries = po_entries(PO.read_text(encoding="utf-8"))
    assert len(entries) > 100
    untranslated = [e["msgid"] for e in entries if not all(e["msgstr"].values())]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert untranslated == []
    assert fuzzy == []


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext (msgfmt) not installed")
def test_the_compiled_catalogue_matches_its_source(tmp_path):
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(compiled), str(PO)], check=True)  # noqa: S603,S607
    assert compiled.read_bytes() == MO.read_bytes(), "run: make messages"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext (xgettext) not installed")
@pytest.mark.slow
def test_the_catalogue_holds_every_string_of_the_code(tmp_path):
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("locale"))
        else:
            shutil.copy(source, tmp_path / name)
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "makemessages", "-l", "fr", "--no-location"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "PYTHONPATH": str(tmp_path),
            "REEMPLOI_DATA_DIR": str(tmp_path / "var"),
        },
    )
    [fresh] = tmp_path.glob("**/locale/fr/LC_MESSAGES/django.po")
    wanted = {e["msgid"] for e in po_entries(fresh.read_text(encoding="utf-8"))}
    have = {e["msgid"] for e in po_entries(PO.read_text(encoding="utf-8"))}
    assert sorted(wanted - have) == [], "run: make messages, then translate the new entries"
