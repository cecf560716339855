"""The QR payload and its symbol: small, upper case, strong error correction."""

import pytest
import qrcode
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q

from inventory.codes import InvalidCode, generate_label_code
from labels.qr import (
    MASK_PATTERN,
    Q_MAX_VERSION,
    QUIET_ZONE_MODULES,
    codewords,
    dark_runs,
    qr_matrix,
    qr_payload,
)

QR_ALPHANUMERIC = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


def test_payload_is_the_upper_case_device_url():
    payload = qr_payload("7KQ3XM2P0", "https://reemploi.example.org")
    assert payload == "HTTPS://REEMPLOI.EXAMPLE.ORG/D/7KQ3XM2P0"
    assert set(payload) <= QR_ALPHANUMERIC


def test_payload_accepts_a_grouped_lower_case_code():
    assert qr_payload("7kq-3xm-2p0", "http://localhost:8000") == (
        "HTTP://LOCALHOST:8000/D/7KQ3XM2P0"
    )


def test_payload_keeps_a_path_prefix_as_it_is():
    assert qr_payload("7KQ3XM2P0", "https://example.org/reemploi/") == (
        "HTTPS://EXAMPLE.ORG/reemploi/D/7KQ3XM2P0"
    )


def test_payload_refuses_a_code_with_a_wrong_check_symbol():
    with pytest.raises(InvalidCode):
        qr_payload("7KQ3XM2P1", "https://example.org")


@pytest.mark.parametrize("site_url", ["example.org", "ftp://example.org", "https://x.org/?a=1"])
def test_payload_refuses_a_site_url_that_is_not_a_plain_http_url(site_url):
    with pytest.raises(ValueError, match="SITE_URL"):
        qr_payload("7KQ3XM2P0", site_url)


@pytest.mark.parametrize(
    ("site_url", "version", "size"),
    [
        ("http://localhost:8000", 3, 29),
        ("https://reemploi.example.org", 3, 29),
        ("https://reemploi.inclusion-numerique92.fr", 4, 33),
    ],
)
def test_usual_urls_get_error_correction_q_in_a_small_symbol(site_url, version, size):
    matrix = qr_matrix(qr_payload("7KQ3XM2P0", site_url))
    assert (matrix.error_correction, matrix.version, matrix.size) == ("Q", version, size)


def test_alphanumeric_mode_keeps_the_symbol_smaller_than_bytes_would():
    upper = qr_matrix(qr_payload("7KQ3XM2P0", "https://reemploi.inclusion-numerique92.fr"))
    lower = qr_matrix(upper.payload.lower())  # the same URL, forced into byte mode
    assert upper.version < lower.version


def test_a_very_long_site_url_falls_back_to_error_correction_m():
    matrix = qr_matrix(qr_payload("7KQ3XM2P0", "https://" + "x" * 90 + ".org"))
    assert matrix.error_correction == "M"
    assert matrix.version <= Q_MAX_VERSION


def test_dark_runs_cover_exactly_the_dark_modules():
    matrix = qr_matrix(qr_payload("7KQ3XM2P0", "https://reemploi.example.org"))
    painted = [[False] * matrix.size for _ in range(matrix.size)]
    for row, column, length in dark_runs(matrix):
        assert length >= 1
        for offset in range(length):
            assert not painted[row][column + offset]
            painted[row][column + offset] = True
    assert tuple(tuple(row) for row in painted) == matrix.modules
    # Runs are maximal: a run never ends just before another dark module.
    for row, column, length in dark_runs(matrix):
        end = column + length
        assert end == matrix.size or not matrix.modules[row][end]


def test_quiet_zone_is_four_modules():
    assert QUIET_ZONE_MODULES == 4


@pytest.mark.parametrize(
    "level", [ERROR_CORRECT_Q, ERROR_CORRECT_M, ERROR_CORRECT_L, ERROR_CORRECT_H]
)
@pytest.mark.parametrize(
    "site_url",
    [
        "http://localhost:8000",
        "https://reemploi.inclusion-numerique92.fr",
        "https://reseau-inclusion.example.org/reemploi",
        "https://" + "x" * 200 + ".org/chemin/très/long",
    ],
)
def test_codewords_are_the_qrcode_librarys_own(level, site_url):
    for _ in range(20):
        symbol = qrcode.QRCode(error_correction=level, border=0)
        symbol.add_data(qr_payload(generate_label_code(), site_url), optimize=20)
        version = symbol.best_fit()
        expected = qrcode.util.create_data(version, level, symbol.data_list)
        assert codewords(version, level, symbol.data_list) == expected


def test_the_matrix_is_the_librarys_symbol_with_the_fixed_mask():
    payload = qr_payload(generate_label_code(), "https://reemploi.example.org")
    symbol = qrcode.QRCode(error_correction=ERROR_CORRECT_Q, border=0, mask_pattern=MASK_PATTERN)
    symbol.add_data(payload, optimize=20)
    symbol.make(fit=True)
    assert qr_matrix(payload).modules == tuple(
        tuple(bool(m) for m in row) for row in symbol.modules
    )
