"""The rules of printing on label stock: start positions, counts and caps, without a database
except where codes are issued."""

import pytest

from inventory.errors import DomainError
from inventory.models import LabelCode
from labels import stock
from labels.formats import all_formats, get_format
from labels.services import preprint_issue


def test_a_sheet_starts_anywhere_from_the_first_to_the_last_position():
    sheet = get_format("avery-l7160")
    allowed = [start for start in range(-1, 30) if stock.start_allowed(sheet, start)]
    assert allowed == list(range(1, 22))
    roll = get_format("brother-dk22205")
    assert stock.start_max(roll) == 1


def test_sheets_are_filled_from_the_start_position():
    sheet = get_format("avery-l7160")
    assert stock.codes_for_sheets(sheet, sheets=2) == 42
    assert stock.codes_for_sheets(sheet, sheets=2, start=5) == 42 - 4


def test_the_screen_counts_sheets_on_a4_and_batches_on_rolls():
    assert stock.codes_for_quantity(get_format("avery-l7160"), 2) == 42
    assert stock.codes_for_quantity(get_format("brother-dk22205"), 2) == 2 * stock.ROLL_BATCH


def test_the_largest_preprint_of_any_surface_stays_under_the_cap():
    most = stock.MAX_PREPRINT_SHEETS
    for fmt in all_formats().values():
        assert stock.preprint_count_allowed(stock.codes_for_quantity(fmt, most))
        assert stock.preprint_count_allowed(stock.codes_for_sheets(fmt, sheets=most))
    assert stock.preprint_count_allowed(stock.MAX_PREPRINT_COUNT)


@pytest.mark.parametrize("count", [0, stock.MAX_PREPRINT_CODES + 1])
def test_a_preprint_beyond_the_cap_issues_nothing(coordinator, count):
    with pytest.raises(DomainError) as caught:
        preprint_issue(actor=coordinator, count=count)
    assert caught.value.code == "invalid"
    assert LabelCode.objects.count() == 0
