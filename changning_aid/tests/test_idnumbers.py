"""GB 11643 ID numbers: what is accepted, what is refused and how, and the leak scanner."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from changning_aid.sensitive.idnumbers import (
    check_character,
    find_full_id_numbers,
    id_number_problem,
    is_valid_id_number,
    normalize_id_number,
    validate_id_number,
)
from tests.sensitive_app.factories import make_id_number

# A textbook example: 11010519491231002X.
VALID = "11010519491231002X"


def test_the_check_character_follows_iso_7064():
    assert check_character("11010519491231002") == "X"
    assert check_character("31010519800101123") == make_id_number("310105", "19800101", "123")[-1]


@pytest.mark.parametrize(
    "value",
    [
        VALID,
        VALID.lower(),
        f" {VALID} ",
        "110105 19491231 002X",
        "１１０１０５１９４９１２３１００２Ｘ",
    ],
)
def test_valid_numbers_in_any_spelling_are_accepted(value):
    validate_id_number(value)
    assert normalize_id_number(value) == VALID


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("310105198001011", "这是15位的旧身份证号,请填写18位的新号码。"),
        ("3101051980", "身份证号应为18位,现在是10位。"),
        ("310105********1234", "请填写完整的身份证号,不能填写遮盖后的号码。"),
        ("31010519800101123A", "身份证号的前17位应为数字,最后一位为数字或字母X。"),
        ("99010519800101123" + "0", "身份证号开头的地区代码 990105 不存在。"),
        ("31010519800231123" + "0", "身份证号中的出生日期 19800231 不是有效日期。"),
        ("31010518990101123" + "0", "身份证号中的出生日期 1899-01-01 早于1900年。"),
    ],
)
def test_wrong_numbers_are_refused_with_a_clear_chinese_message(value, message):
    with pytest.raises(ValidationError) as error:
        validate_id_number(value)
    assert error.value.messages == [message]


def test_a_wrong_check_character_is_refused():
    number = make_id_number()
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    assert id_number_problem(wrong) == "身份证号的校验位(最后一位)不正确,请核对后重新输入。"


def test_a_birth_date_in_the_future_is_refused():
    number = make_id_number(birth="20991231")
    problem = id_number_problem(number, today=datetime.date(2026, 1, 1))
    assert problem == "身份证号中的出生日期 2099-12-31 晚于今天。"


def test_the_scanner_finds_full_numbers_and_nothing_else():
    number = make_id_number()
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    text = (
        f"<td>{number}</td> masked 310105********1234, a phone 13812345678, "
        f"an order 202601011234567890123, a wrong one {wrong}"
    )
    assert find_full_id_numbers(text) == [number]
    assert find_full_id_numbers(f"x{VALID.lower()}y") == []  # letters glued on: not a number
    assert find_full_id_numbers(f"编号:{VALID.lower()}。") == [VALID.lower()]
    assert is_valid_id_number(VALID)
