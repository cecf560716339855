"""Spreadsheets built to hurt the importer, small on disk: what the tests and bench/ feed it.

Each is a real archive written with zipfile, around a workbook openpyxl made (so every part a
reader needs is there); only the parts under attack are replaced, streamed into the archive so
that a million rows never sit in memory at once.
"""

import io
import random
import zipfile
from collections.abc import Iterable, Iterator

from openpyxl import Workbook

SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"
MAIN = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
STRINGS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def plain_xlsx(rows: Iterable[Iterable] = (("Catégorie", "Marque"), ("Laptop", "Dell"))) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _with_strings_part(parts: dict[str, bytes]) -> dict[str, bytes]:
    """The content types and relationships that declare a shared-strings part."""
    types = parts["[Content_Types].xml"].decode()
    if STRINGS_TYPE not in types:
        override = f'<Override PartName="/{STRINGS}" ContentType="{STRINGS_TYPE}"/>'
        parts["[Content_Types].xml"] = types.replace("</Types>", override + "</Types>").encode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    if STRINGS_REL not in rels:
        relation = f'<Relationship Id="rIdS" Type="{STRINGS_REL}" Target="sharedStrings.xml"/>'
        rels = rels.replace("</Relationships>", relation + "</Relationships>")
        parts["xl/_rels/workbook.xml.rels"] = rels.encode()
    return parts


def xlsx_with(
    *,
    sheet: Iterable[bytes] | None = None,
    strings: Iterable[bytes] | None = None,
    extra: dict[str, bytes] | None = None,
    level: int = 1,
    bomb: tuple[str, Iterable[bytes]] | None = None,
) -> bytes:
    """A workbook whose sheet and shared strings are the chunks given (streamed in)."""
    parts = {}
    with zipfile.ZipFile(io.BytesIO(plain_xlsx())) as base:
        for info in base.infolist():
            parts[info.filename] = base.read(info)
    if strings is not None:
        parts = _with_strings_part(parts)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, data in parts.items():
            if name == SHEET and sheet is not None:
                _stream(archive, name, sheet)
            elif name == STRINGS and strings is not None:
                continue
            else:
                archive.writestr(name, data)
        if strings is not None:
            _stream(archive, STRINGS, strings)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
        if bomb is not None:
            _stream(archive, *bomb)
    return out.getvalue()


def _stream(archive: zipfile.ZipFile, name: str, chunks: Iterable[bytes]) -> None:
    with archive.open(name, "w", force_zip64=True) as member:
        buffer = []
        size = 0
        for chunk in chunks:
            buffer.append(chunk)
            size += len(chunk)
            if size > 1 << 20:
                member.write(b"".join(buffer))
                buffer, size = [], 0
        member.write(b"".join(buffer))


def _sheet(rows: Iterable[bytes], *, dimension: str | None = None) -> Iterator[bytes]:
    yield b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet ' + MAIN + b">"
    if dimension:
        yield b'<dimension ref="' + dimension.encode() + b'"/>'
    yield b"<sheetData>"
    yield from rows
    yield b"</sheetData></worksheet>"


def _inline(ref: str, text: str) -> bytes:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'.encode()


HEADER_ROW = b'<row r="1">' + _inline("A1", "Catégorie") + _inline("B1", "Marque") + b"</row>"


def million_rows(count: int = 1_000_000) -> bytes:
    """A header, then `count` laptops; no <dimension>: a reader must find the end itself.

    The rows carry no number (the format allows it: each follows the one before), so a
    thousand of them are one repeated chunk and the file builds in a blink.
    """
    row = b'<row><c t="s"><v>0</v></c><c t="s"><v>1</v></c></row>'
    chunk = row * 1000

    def rows() -> Iterator[bytes]:
        yield HEADER_ROW
        for _ in range(count // 1000):
            yield chunk
        yield row * (count % 1000)

    return xlsx_with(sheet=_sheet(rows()), strings=_strings([b"Laptop", b"Dell"]))


def _strings(texts: Iterable[bytes], count: int | None = None) -> Iterator[bytes]:
    texts = list(texts)
    total = len(texts) if count is None else count
    yield b"<sst " + MAIN + b' count="%d" uniqueCount="%d">' % (total, total)
    yield b"".join(b"<si><t>" + text + b"</t></si>" for text in texts)
    yield b"</sst>"


def many_shared_strings(count: int = 2_000_000, *, distinct: bool = False) -> bytes:
    """A two-row sheet and `count` shared strings, which a reader loads before any row."""

    def strings() -> Iterator[bytes]:
        yield b"<sst " + MAIN + b' count="%d" uniqueCount="%d">' % (count, count)
        yield b"<si><t>Laptop</t></si><si><t>Dell</t></si>"
        if distinct:
            yield b"".join(b"<si><t>s%d</t></si>" % index for index in range(count - 2))
        else:
            filler = b"<si><t>x</t></si>" * 1000
            for _ in range((count - 2) // 1000):
                yield filler
            yield b"<si><t>x</t></si>" * ((count - 2) % 1000)
        yield b"</sst>"

    second = b'<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" t="s"><v>1</v></c></row>'
    return xlsx_with(sheet=_sheet([HEADER_ROW, second]), strings=strings())


def sparse_rows(count: int = 5000, gap: int = 999) -> bytes:
    """Laptops `gap` empty rows apart: a reader that fills the gaps walks count × gap rows."""

    def rows() -> Iterator[bytes]:
        yield HEADER_ROW
        for index in range(count):
            number = 2 + index * (gap + 1)
            yield (
                b'<row r="%d">' % number
                + _inline(f"A{number}", "Laptop")
                + _inline(f"B{number}", "Dell")
                + b"</row>"
            )

    return xlsx_with(sheet=_sheet(rows()))


def wide_rows(count: int = 300, columns: int = 16_384) -> bytes:
    """Rows of `columns` empty cells each after the header: many cells, no device."""
    from openpyxl.utils import get_column_letter

    letters = [get_column_letter(index).encode() for index in range(1, columns + 1)]

    def rows() -> Iterator[bytes]:
        yield HEADER_ROW
        for number in range(2, count + 2):
            suffix = b"%d" % number
            yield b'<row r="' + suffix + b'">'
            yield b"".join(b'<c r="' + letter + suffix + b'"/>' for letter in letters)
            yield b"</row>"

    return xlsx_with(sheet=_sheet(rows()))


def long_cell(length: int = 30_000_000) -> bytes:
    """One laptop whose note is `length` characters long."""
    rows = [
        b'<row r="1">'
        + _inline("A1", "Catégorie")
        + _inline("B1", "Marque")
        + _inline("C1", "Notes")
        + b"</row>",
        b'<row r="2">'
        + _inline("A2", "Laptop")
        + _inline("B2", "Dell")
        + b'<c r="C2" t="inlineStr"><is><t>',
        *(b"x" * 1_000_000 for _ in range(length // 1_000_000)),
        b"</t></is></c></row>",
    ]
    return xlsx_with(sheet=_sheet(rows))


def zip_bomb(megabytes: int = 1024, *, member: str = SHEET) -> bytes:
    """A workbook whose `member` is `megabytes` MB of zeros (a few MB on disk per GB)."""
    zeros = b"\x00" * (1 << 20)
    if member == SHEET:
        return xlsx_with(sheet=(zeros for _ in range(megabytes)))
    return xlsx_with(extra={}, bomb=(member, (zeros for _ in range(megabytes))))


def lying_sizes(declared: int = 4_000_000_000) -> bytes:
    """A workbook whose central directory declares its sheet `declared` bytes long."""
    content = bytearray(xlsx_with())
    index = 0
    while (index := content.find(b"PK\x01\x02", index)) != -1:
        length = int.from_bytes(content[index + 28 : index + 30], "little")
        if content[index + 46 : index + 46 + length] == SHEET.encode():
            # The uncompressed size sits 24 bytes into a central directory entry.
            content[index + 24 : index + 28] = min(declared, 0xFFFFFFFE).to_bytes(4, "little")
        index += 4
    return bytes(content)


def many_members(count: int = 20_000) -> bytes:
    return xlsx_with(extra={f"xl/media/x{index}.bin": b"" for index in range(count)})


def odd_member(name: str) -> bytes:
    return xlsx_with(extra={name: b"<x/>"})


def nested_archive() -> bytes:
    return xlsx_with(extra={"xl/worksheets/sheet2.zip": plain_xlsx()})


def encrypted_xlsx() -> bytes:
    """What Excel saves with a password: an OLE compound file holding an EncryptedPackage."""
    name = "EncryptedPackage".encode("utf-16-le")
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500 + name + b"\x00" * 500


def zip_encrypted() -> bytes:
    """A workbook whose members claim to be encrypted (general-purpose flag bit 0)."""
    content = bytearray(xlsx_with())
    index = 0
    while (index := content.find(b"PK\x01\x02", index)) != -1:
        content[index + 8] |= 0x01
        index += 4
    index = 0
    while (index := content.find(b"PK\x03\x04", index)) != -1:
        content[index + 6] |= 0x01
        index += 4
    return bytes(content)


# Files that stay just under each declared limit: what the reader must still get through fast.


def scattered_rows(megabytes: int = 9) -> bytes:
    """A laptop, then 999 blank rows, again and again: rows that never end a blank run."""
    target = megabytes * 1_000_000

    def rows() -> Iterator[bytes]:
        yield HEADER_ROW
        number, size = 2, 0
        while size < target:
            row = b'<row r="%d">' % number + _inline(f"A{number}", "Laptop")
            row += _inline(f"B{number}", "Dell") + b"</row>"
            row += b"".join(b'<row r="%d"/>' % (number + gap) for gap in range(1, 1000))
            size += len(row)
            number += 1000
            yield row

    return xlsx_with(sheet=_sheet(rows()), level=6)


def wide_empty_cells(megabytes: int = 9, columns: int = 16_384) -> bytes:
    """Rows of empty cells far to the right, up to `megabytes` of sheet: no device at all."""
    from openpyxl.utils import get_column_letter

    target = megabytes * 1_000_000

    def rows() -> Iterator[bytes]:
        yield HEADER_ROW
        number, size = 2, 0
        while size < target:
            suffix = b"%d" % number
            row = (
                b'<row r="'
                + suffix
                + b'">'
                + b"".join(
                    b'<c r="' + get_column_letter(column).encode() + suffix + b'"/>'
                    for column in range(columns - 2000, columns + 1)
                )
            )
            row += b"</row>"
            size += len(row)
            number += 1
            yield row

    return xlsx_with(sheet=_sheet(rows()), level=6)


def strings_under_the_cap(count: int = 99_000) -> bytes:
    return many_shared_strings(count, distinct=True)


def bloated_styles(megabytes: int = 3) -> bytes:
    """A stylesheet of tens of thousands of cell formats, as style-bloated workbooks have."""
    base = plain_xlsx()
    with zipfile.ZipFile(io.BytesIO(base)) as archive:
        styles = archive.read("xl/styles.xml").decode()
    count = megabytes * 1_000_000 // 110
    draw = random.Random(1).randrange
    # Random indents: a stylesheet that packs like a real one, not like filler.
    formats = "".join(
        f'<xf numFmtId="{draw(50)}" fontId="0" fillId="0" borderId="0" xfId="0" '
        f'applyAlignment="1"><alignment indent="{draw(250)}" textRotation="{draw(180)}"/></xf>'
        for _index in range(count)
    )
    start = styles.index("<cellXfs")
    end = styles.index("</cellXfs>") + len("</cellXfs>")
    styles = styles[:start] + f'<cellXfs count="{count}">' + formats + "</cellXfs>" + styles[end:]
    return _replace(base, {"xl/styles.xml": styles.encode()}, level=9)


def _replace(content: bytes, parts: dict[str, bytes], level: int = 6) -> bytes:
    out = io.BytesIO()
    source = zipfile.ZipFile(io.BytesIO(content))
    with source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for info in source.infolist():
            archive.writestr(info.filename, parts.get(info.filename, source.read(info)))
    return out.getvalue()


def csv_million_lines(size: int = 5 * 1024 * 1024) -> bytes:
    line = b"Laptop;Dell\r\n"
    return b"Categorie;Marque\r\n" + line * ((size - 20) // len(line))


def csv_one_wide_line(size: int = 5 * 1024 * 1024) -> bytes:
    return b"Categorie;Marque" + b";" * (size - 40) + b"\r\nLaptop;Dell\r\n"


def csv_mixed_encoding(rows: int = 5000, bad_row: int = 7) -> bytes:
    """UTF-8 rows with one row saved in Windows-1252 (two exports pasted together)."""
    lines = ["Catégorie;Marque;Remarques".encode()]
    for number in range(2, rows + 2):
        text = "Écran fêlé" if number == bad_row else "état correct"
        lines.append(f"PC portable;Dell;{text}".encode("cp1252" if number == bad_row else "utf-8"))
    return b"\r\n".join(lines) + b"\r\n"


def million_numbered_rows(count: int = 1_000_000) -> bytes:
    """The same million rows, numbered as Excel numbers them, packed hard: about 5 MB."""

    def rows() -> Iterator[bytes]:
        yield HEADER_ROW
        for number in range(2, count + 2):
            yield (
                b'<row r="%d"><c r="A%d" t="s"><v>0</v></c><c r="B%d" t="s"><v>1</v></c></row>'
                % (number, number, number)
            )

    strings = _strings([b"Laptop", b"Dell"])
    return xlsx_with(sheet=_sheet(rows()), strings=strings, level=9)


def bloated_workbook(kilobytes: int = 1000) -> bytes:
    """A workbook part just under its limit, filled with defined names."""
    base = plain_xlsx()
    with zipfile.ZipFile(io.BytesIO(base)) as archive:
        workbook = archive.read("xl/workbook.xml").decode()
    draw = random.Random(2).randrange
    names = []
    size = 0
    while size < kilobytes * 1000 - 200:
        name = f'<definedName name="n{draw(10**9)}">Sheet!$A${draw(10**5)}</definedName>'
        names.append(name)
        size += len(name)
    defined = "<definedNames>" + "".join(names) + "</definedNames>"
    workbook = workbook.replace("</sheets>", "</sheets>" + defined, 1)
    return _replace(base, {"xl/workbook.xml": workbook.encode()}, level=9)
