"""bench/scale.py stays importable, and its pure helpers (percentiles, deep page, tables and
their flags) hold; CI never runs the bench itself."""

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "scale.py"


def load_scale():
    spec = importlib.util.spec_from_file_location("bench_scale", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


scale = load_scale()


def test_median_and_p95_of_durations():
    assert scale.summarise([float(n) for n in range(1, 101)]) == (50.5, 95.0)


def test_deep_page_is_at_nine_tenths_of_the_pages():
    assert scale.deep_page_url("/api/devices/", 100_000) == "/api/devices/?page=1800"
    assert scale.deep_page_url("/api/devices/?status=ready", 1_001) == (
        "/api/devices/?status=ready&page=19"
    )
    assert scale.deep_page_url("/api/devices/", 0) == "/api/devices/?page=1"


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
