"""Label codes, IMEI, SIRET and RNA: pure arithmetic, no database."""

import random

import pytest

from inventory.codes import (
    ALPHABET,
    CODE_LENGTH,
    InvalidCode,
    check_symbol,
    generate_label_code,
    group_label_code,
    is_valid_imei,
    is_valid_label_code,
    is_valid_rna,
    is_valid_siret,
    luhn_check_digit,
    normalize_label_code,
)


def test_alphabet_has_no_look_alike_symbols_and_is_qr_alphanumeric():
    assert len(ALPHABET) == 32
    assert not set("ILOU") & set(ALPHABET)
    assert set(ALPHABET) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def test_generated_codes_carry_forty_random_bits_and_a_valid_check():
    codes = {generate_label_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert len(code) == CODE_LENGTH == 9
        assert normalize_label_code(code) == code
    # 8 payload symbols of 5 bits each.
    assert 32 ** (CODE_LENGTH - 1) == 2**40


def test_every_single_symbol_substitution_is_rejected():
    rng = random.Random(20261129)
    payloads = ["".join(rng.choice(ALPHABET) for _ in range(8)) for _ in range(300)]
    payloads += ["00000000", "ZZZZZZZZ", "0123456789"[:8]]
    checked = 0
    for payload in payloads:
        code = payload + check_symbol(payload)
        for position in range(CODE_LENGTH):
            for symbol in ALPHABET:
                if symbol == code[position]:
                    continue
                typo = code[:position] + symbol + code[position + 1 :]
                assert not is_valid_label_code(typo), (code, typo)
                checked += 1
    assert checked == len(payloads) * CODE_LENGTH * 31


def test_substitution_rejection_holds_at_every_position_for_every_pair_of_symbols():
    # Luhn mod 32 is position-wise: the property cannot depend on the other symbols, so
    # checking every (position, original, replacement) triple on one background is exhaustive.
    background = "0" * 8
    for position in range(8):
        for original in ALPHABET:
            payload = background[:position] + original + background[position + 1 :]
            code = payload + check_symbol(payload)
            for replacement in ALPHABET.replace(original, ""):
                typo = code[:position] + replacement + code[position + 1 :]
                assert not is_valid_label_code(typo)


def test_input_is_case_insensitive_and_tolerates_separators():
    code = generate_label_code()
    grouped = group_label_code(code)
    assert grouped.count("-") == 2
    for typed in (code.lower(), grouped, grouped.lower(), f"  {code[:3]} {code[3:6]} {code[6:]} "):
        assert normalize_label_code(typed) == code


def test_look_alike_letters_read_as_the_digit_they_resemble():
    payload = "0011A1B0"
    code = payload + check_symbol(payload)
    assert normalize_label_code(code.replace("0", "O").replace("1", "l")) == code


@pytest.mark.parametrize(
    ("raw", "reason"),
    [("", "length"), ("ABC", "length"), ("ABCDEFGH*", "alphabet"), ("ABCDEFGHJK", "length")],
)
def test_malformed_codes_say_why(raw, reason):
    with pytest.raises(InvalidCode) as excinfo:
        normalize_label_code(raw)
    assert excinfo.value.reason == reason


def test_imei_check_digit_matches_the_published_vectors():
    assert luhn_check_digit("26053179311383") == "7"
    assert luhn_check_digit("35209900176148") == "1"
    assert is_valid_imei("260531793113837")
    assert is_valid_imei("352099001761481")


@pytest.mark.parametrize(
    "imei", ["260531793113836", "26053179311383", "2605317931138370", "26053179311383A", ""]
)
def test_invalid_imeis_are_rejected(imei):
    assert not is_valid_imei(imei)


def test_imei_single_digit_substitutions_are_rejected():
    imei = "260531793113837"
    for position in range(15):
        for digit in "0123456789":
            if digit != imei[position]:
                assert not is_valid_imei(imei[:position] + digit + imei[position + 1 :])


def test_siret_check():
    assert is_valid_siret("73282932000074")  # a published SIRET (Apple France)
    assert not is_valid_siret("73282932000075")
    assert not is_valid_siret("7328293200007")
    # La Poste's establishments share one SIREN and use a digit sum divisible by 5 instead.
    assert luhn_check_digit("3560000000001") != "0"
    assert is_valid_siret("35600000000010")
    assert not is_valid_siret("35600000000011")


def test_rna_format():
    assert is_valid_rna("W921000123")
    assert is_valid_rna("W2A1000123")
    assert not is_valid_rna("921000123")
    assert not is_valid_rna("W92100012")
