"""bench/scale.py stays importable, and its pure helpers (percentiles, deep page, tables and
their flags) hold; CI never runs the bench itself."""

import importlib.util
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from tests.builders import make_device

BENCH = Path(__file__).resolve().parents[2] / "bench" / "scale.py"


def load_scale():
    spec = importlib.util.spec_from_file_location("bench_scale", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


scale = load_scale()


def test_median_and_p95_of_durations():
    assert scale.summarise([float(n) for n in range(1, 101)]) == (50.5, 95.0)


@pytest.mark.django_db
def test_the_deep_page_starts_at_nine_tenths_of_the_list(coordinator):
    coord = APIClient()
    coord.force_authenticate(coordinator)
    made = [make_device(actor=coordinator) for _ in range(20)]
    newest_first = sorted(made, key=lambda d: (d.created_at, d.pk), reverse=True)
    page = coord.get(scale.deep_page_url("/api/devices/", len(made)) + "&page_size=5").json()
    # 90 % of 20 rows: the page opens on the 19th newest, after a cursor, not an OFFSET.
    assert [row["id"] for row in page["results"]] == [d.pk for d in newest_first[18:]]


def result(name, kind, median):
    return scale.Result(name, kind, [median] * 3)


def test_size_table_flags_a_median_over_the_issue_target():
    table = scale.size_table(
        [result("floor", "", 2.0), result("list", "list", 31.0), result("search", "exact", 15.0)],
        floor=2.0,
    )
    lines = table.splitlines()
    assert lines[2].endswith("OVER TARGET")  # 31 ms for a list page, 30 allowed
    assert not lines[3].endswith("OVER TARGET")  # 15 ms for an exact search, 15 allowed
    assert "16" in lines[2]  # 31 / 2: the ratio to the floor


def test_growth_table_flags_growth_over_one_and_a_half_and_targets_at_the_largest_size():
    table = scale.growth_table(
        {
            10_000: [result("list", "list", 20.0), result("detail", "", 8.0)],
            1_000_000: [result("list", "list", 40.0), result("detail", "", 11.9)],
        }
    )
    by_name = {line.split()[0]: line for line in table.splitlines()[2:]}
    assert by_name["list"].endswith("GROWS OVER 30 ms")
    assert "2.00×" in by_name["list"]
    assert by_name["detail"].endswith("1.49×")  # flat enough: no flag
