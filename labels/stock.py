"""The rules of printing on label stock, one set of numbers for the screens, the API, the command
and the renderer: where printing may start on a sheet, how many labels one request may print,
and how many fresh codes one pre-print may issue. Pure: plain values in, plain values out.
"""

from labels.formats import LabelFormat

# Positions on a sheet are counted from 1, top left, across then down; the last is the format's
# labels per sheet (rolls have one). Starting later uses up a half-used sheet.
START_MIN = 1

# Upper bounds that keep one request to about two seconds of work (bench/labels.py: a thousand
# labels in under 2 s on every format). The messages that state the label caps take them as a
# parameter; the pre-print screen's and service's still spell theirs out: change them together.
# DATA_UPLOAD_MAX_NUMBER_FIELDS (config/settings.py) lets the screen post MAX_LABELS device ids.
MAX_LABELS = 1000  # labels of registered devices in one request
MAX_PREPRINT_SHEETS = 20  # whole sheets (the screen: or batches of roll labels) of fresh codes
MAX_PREPRINT_COUNT = 1000  # fresh codes when the API is given a count rather than sheets
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
