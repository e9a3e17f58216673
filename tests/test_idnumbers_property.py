"""The ID-number and credit-code checks over arbitrary Unicode text: they never raise, everything
they accept is ASCII and valid by python-stdnum's rules (``stdnum.cn.ric`` / ``stdnum.cn.uscc``,
the GB 32100 letters in positions 1-2 aside), full-width input is folded, and look-alike digits
(Arabic-Indic, superscript, circled, mathematical) are refused by name. Plus known examples, and a
roster holding such strings sampled without a traceback."""
from __future__ import annotations

import datetime as dt
import unicodedata

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from stdnum import numdb
from stdnum.cn import ric, uscc
from stdnum.util import isdigits

from inspector.idnumbers import (CREDIT_ALPHABET, credit_code_problem, id_number_problem, is_valid_credit_code,
                                 is_valid_id_number, make_credit_code, make_id_number, mask_id,
                                 normalize_credit_code, normalize_id_number)

SETTINGS = settings(max_examples=400, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
# every code point, surrogates and unassigned ones included
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
AREAS = ("110105", "410702", "410703", "410711", "440305", "310115", "510107")
# what a user may type for a digit: accepted (full-width, blanks) and refused look-alikes
FULLWIDTH = {str(d): chr(0xFF10 + d) for d in range(10)}
LOOKALIKES = {str(d): [chr(0x0660 + d), chr(0x06F0 + d), chr(0x0966 + d), chr(0x1D7CE + d), chr(0x2080 + d)]
              for d in range(10)}
for _d, _sup in zip("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"):
    LOOKALIKES[_d].append(_sup)
for _d in range(1, 10):
    LOOKALIKES[str(_d)].append(chr(0x2460 + _d - 1))  # ① …


def _ids() -> st.SearchStrategy[str]:
    return st.builds(make_id_number, st.sampled_from(AREAS),
                     st.dates(dt.date(1984, 1, 1), dt.date(2008, 12, 31)), st.integers(0, 999))


def _credit_codes() -> st.SearchStrategy[str]:
    body = st.text(st.sampled_from(CREDIT_ALPHABET), min_size=8, max_size=8)
    return st.builds(make_credit_code, st.sampled_from("159YAN"), st.sampled_from("123"),
                     st.sampled_from(AREAS), body)


def assert_valid_id(n: str) -> None:
    """stdnum's checks of an accepted number: ASCII, length, digits, birth date, check digit, county."""
    assert n.isascii() and len(n) == 18 and ric.compact(n) == n
    assert isdigits(n[:17]) and (isdigits(n[17]) or n[17] == "X")
    ric.get_birth_date(n)  # raises InvalidComponent on a bad date
    assert ric.calc_check_digit(n) == n[17]
    assert any("county" in props for _p, props in numdb.get("cn/loc").info(n[:6]))


def assert_valid_credit(c: str) -> None:
    assert c.isascii() and len(c) == 18 and all(ch in CREDIT_ALPHABET for ch in c)
    assert isdigits(c[2:8]) and uscc.calc_check_digit(c) == c[17]
    if isdigits(c[:2]):  # where GB 32100 and stdnum agree, stdnum accepts it as is
        assert uscc.is_valid(c), c


@SETTINGS
@given(ANY_TEXT)
@example("²")
@example("11010519491231002²")
@example("410799199001010014")  # province known, county not: stdnum's own validate raises KeyError here
def test_id_checks_never_raise_and_accept_only_valid_ascii(s):
    why = id_number_problem(s)
    assert why is None or isinstance(why, str) and why
    n = normalize_id_number(s)
    mask_id(s)
    if why is None:
        assert is_valid_id_number(s)
        assert_valid_id(n)


@SETTINGS
@given(ANY_TEXT)
@example("91350100M000100Y4²")
def test_credit_checks_never_raise_and_accept_only_valid_ascii(s):
    why = credit_code_problem(s)
    assert why is None or isinstance(why, str) and why
    c = normalize_credit_code(s)
    if why is None:
        assert is_valid_credit_code(s)
        assert_valid_credit(c)


@SETTINGS
@given(_ids(), st.data())
def test_look_alike_digits_are_refused_and_full_width_folded(good, data):
    """Near-valid input: a valid number with some digits typed another way and blanks added."""
    assert_valid_id(good)
    chars, refused = [], []
    for ch in good:
        way = data.draw(st.sampled_from(["ascii", "ascii", "full", "space", "lookalike"]))
        if way == "full" and ch in FULLWIDTH:
            chars.append(FULLWIDTH[ch])
        elif way == "space":
            chars.append(ch + data.draw(st.sampled_from([" ", "\u3000", "\t"])))
        elif way == "lookalike" and ch in LOOKALIKES:
            alt = data.draw(st.sampled_from(LOOKALIKES[ch]))
            chars.append(alt)
            refused.append(alt)
        else:
            chars.append(ch.lower())
    typed = "".join(chars)
    why = id_number_problem(typed)
    if refused:
        assert why is not None and why.startswith("含有非法字符") and refused[0] in why, (typed, why)
        assert not is_valid_id_number(typed)
    else:
        assert why is None, (typed, why)
        assert normalize_id_number(typed) == good


@SETTINGS
@given(_credit_codes())
def test_generated_credit_codes_are_valid_and_width_folded(code):
    assert credit_code_problem(code) is None
    assert_valid_credit(code)
    wide = "".join(chr(ord(ch) + 0xFEE0) for ch in code)  # ＡＢＣ１２３
    assert normalize_credit_code(wide) == code and credit_code_problem(wide) is None
    assert normalize_credit_code(code.lower()) == code


@pytest.mark.parametrize("value", [
    "11010519491231002X", "11010519491231002x", " 110105 19491231 002X ", "１１０１０５１９４９１２３１００２Ｘ",
    "360426199101010071",  # stdnum's own example
])
def test_known_good_id_numbers(value):
    assert id_number_problem(value) is None
    assert_valid_id(normalize_id_number(value))


@pytest.mark.parametrize("value,why", [
    ("110105194912310021", "校验位错误"),
    ("110105194913310021", "出生日期无效"),
    ("1101051949123", "18 位"),
    ("11010519491231002²", "含有非法字符 ²"),
    ("١١٠١٠٥١٩٤٩١٢٣١٠٠٢X", "含有非法字符 ١"),
    ("۱۱۰۱۰۵۱۹۴۹۱۲۳۱۰۰۲X", "含有非法字符"),
    ("११०१०५१९४९१२३१००२X", "含有非法字符"),
    ("①①0105194912310027", "含有非法字符 ①"),
    ("𝟏𝟏0105194912310027", "含有非法字符"),
    ("11010519491231002\u200b", "U+200B"),
    ("410799199001010014", "地区代码 410799"),
    ("²", "含有非法字符"),
    ("", "18 位"),
])
def test_known_bad_id_numbers(value, why):
    got = id_number_problem(value)
    assert got is not None and why in got, got


@pytest.mark.parametrize("value", ["91350100M000100Y43", "91110000600037341L", " 91350100m000100y43 ",
                                   "９１１１００００６０００３７３４１Ｌ",
                                   make_credit_code("Y", "1", "410702", "MA000001"),  # 其他: a letter first
                                   make_credit_code("N", "2", "410702", "MA000002")])
def test_known_good_credit_codes(value):
    assert credit_code_problem(value) is None
    assert_valid_credit(normalize_credit_code(value))


@pytest.mark.parametrize("value,why", [
    ("91110000600037341X", "校验位错误"), ("9111000060003734", "18 位"), ("9111000060003734IL", "不允许的字符 I"),
    ("913501A0M000100Y43", "第 3-8 位"), ("9111000060003734١L", "不允许的字符 ١"),
    ("91110000600037341²", "不允许的字符 ²"),
])
def test_known_bad_credit_codes(value, why):
    got = credit_code_problem(value)
    assert got is not None and why in got, got


def test_roster_with_look_alike_digits_is_flagged_not_a_traceback():
    """``inspector sample-trainees`` over a roster holding '²' and Arabic-Indic digits: flags, no crash."""
    from inspector.sampling import sample_roster

    good = make_id_number("410702", dt.date(1990, 5, 6), 12)
    arabic = "".join(chr(0x0660 + int(c)) if c.isdigit() else c for c in good)
    wide = "".join(FULLWIDTH.get(c, c) for c in good)
    rows = [{"name": "甲", "id_number": "²", "trade": "电工"},
            {"name": "乙", "id_number": arabic, "trade": "电工"},
            {"name": "丙", "id_number": wide, "trade": "焊工"},
            {"name": "丁", "id_number": good, "trade": "焊工"}]
    res = sample_roster(rows, "seed-1", source="名册.xlsx")
    bad = {f["rows"][0]: f["message"] for f in res.flags if f["kind"] == "bad_id"}
    assert set(bad) == {2, 3}, res.flags
    assert "含有非法字符 ²" in bad[2] and "含有非法字符" in bad[3]
    # the full-width number is stored as the ASCII number: the same person as row 5
    assert res.rows[2]["id_number"] == good
    assert any(f["kind"] == "repeat_training" and f["rows"] == [4, 5] for f in res.flags), res.flags
    assert all(unicodedata.normalize("NFKC", r["id_number"]).isascii() or r["row"] == 3 for r in res.rows)


@SETTINGS
@given(st.dates(min_value=dt.date(1940, 1, 1), max_value=dt.date(2010, 12, 31)), st.integers(0, 999),
       st.text(alphabet="检查记录，。：王校长称 ", max_size=12))
def test_ids_and_mobiles_in_free_text_print_masked_other_numbers_do_not(birth, seq, words):
    from inspector import idnumbers

    idn = idnumbers.make_id_number("410702", birth, seq)
    text = f"{words}身份证{idn}，手机 13912345678；许可证号 41070388967690123X 金额 12345678901"
    out = idnumbers.mask_in_text(text)
    assert idn not in out and idnumbers.mask_id(idn) in out
    assert "13912345678" not in out and "139****5678" in out
    assert "12345678901" in out                     # not a mobile number (starts with 12)
    if not idnumbers.is_valid_id_number("41070388967690123X"):
        assert "41070388967690123X" in out          # 18 characters but no valid ID: left alone
    assert out.startswith(words)
