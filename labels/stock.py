"""The rules of printing on label stock, one set of numbers for the screens, the API, the command
and the renderer: where printing may start on a sheet, how many labels one request may print,
and how many fresh codes one pre-print may issue. Pure: plain values in, plain values out.
"""

from labels.formats import LabelFormat

# Positions on a sheet are counted from 1, top left, across then down; the last is the format's
# labels per sheet (rolls have one). Starting later uses up a half-used sheet.
START_MIN = 1

# Upper bounds that keep one request to a few seconds of work (rendering is ~7 ms a label).
# The messages that state them are in the French catalogue with the numbers written out
# (forms, templates, the API's descriptions): change them together.
MAX_LABELS = 500  # labels of registered devices in one request
MAX_PREPRINT_SHEETS = 20  # whole sheets (the screen: or batches of roll labels) of fresh codes
MAX_PREPRINT_COUNT = 500  # fresh codes when the API is given a count rather than sheets
ROLL_BATCH = 50  # the screen counts fresh roll labels by batches of this many
# What one pre-print may issue whatever the stock: 20 sheets of the densest stock are 1,300.
MAX_PREPRINT_CODES = 5000


def start_max(fmt: LabelFormat) -> int:
    return fmt.per_page


def start_allowed(fmt: LabelFormat, start: int) -> bool:
    return START_MIN <= start <= start_max(fmt)


def codes_for_sheets(fmt: LabelFormat, *, sheets: int, start: int = START_MIN) -> int:
    """Fresh codes that fill `sheets` sheets from `start`: the positions before it stay blank."""
    return sheets * fmt.per_page - (start - START_MIN)


def codes_for_quantity(fmt: LabelFormat, quantity: int) -> int:
    """The screen's quantity: a sheet's worth of codes per unit on A4 stock (printed from the
    start position, so they may run onto one more sheet), ROLL_BATCH per unit on a roll."""
    return quantity * fmt.per_page if fmt.is_sheet else quantity * ROLL_BATCH


def preprint_count_allowed(count: int) -> bool:
    return 1 <= count <= MAX_PREPRINT_CODES
