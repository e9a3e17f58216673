"""Check characters of Chinese identifiers, and masking of personal numbers.

- 统一社会信用代码 (GB 32100-2015): 18 characters from a 31-letter alphabet (no I, O, S, V, Z);
  the 18th is a check character over the first 17 (weights 3^i mod 31). Positions 9-17 embed the
  organisation code whose own check follows GB 11714.
- 居民身份证号码 (GB 11643-1999): 17 digits (area, birth date, sequence) and a check character
  from ISO 7064 MOD 11-2 ('X' stands for 10).
- Masking (个人信息保护法: show the minimum): ``110105********1234`` and ``138****5678``.
"""
from __future__ import annotations

import datetime as _dt
import operator

CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_VALUE = {c: i for i, c in enumerate(CREDIT_ALPHABET)}
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def normalize_credit_code(code: str) -> str:
    """Upper-case and strip spaces (people paste codes with blanks and lower case)."""
    return "".join(str(code).split()).upper()


def credit_check_char(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters."""
    if len(first17) != 17:
        raise ValueError("need 17 characters")
    total = 0
    for ch, w in zip(first17, _CREDIT_WEIGHTS):
        v = _CREDIT_VALUE.get(ch)
        if v is None:
            raise ValueError(f"character {ch!r} is not allowed")
        total += v * w
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> str | None:
    """Why ``code`` is not a valid 统一社会信用代码 (Chinese text), or None when it is."""
    c = normalize_credit_code(code)
    if len(c) != 18:
        return f"应为 18 位（实际 {len(c)} 位）"
    bad = sorted({ch for ch in c if ch not in _CREDIT_VALUE})
    if bad:
        return "含有不允许的字符 " + "".join(bad)
    if credit_check_char(c[:17]) != c[17]:
        return "校验位错误"
    return None


def is_valid_credit_code(code: str) -> bool:
    return credit_code_problem(code) is None


def org_code_check_char(first8: str) -> str:
    """GB 11714 check character of a 9-character organisation code."""
    total = 0
    for ch, w in zip(first8, _ORG_WEIGHTS):
        v = int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10
        total += v * w
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def make_credit_code(dept: str, kind: str, area: str, org8: str) -> str:
    """Assemble a valid code: registration dept (1), org kind (1), area code (6), org body (8)."""
    first17 = dept + kind + area + org8 + org_code_check_char(org8)
    return first17 + credit_check_char(first17)


# -- 居民身份证号码 ------------------------------------------------------------

def id_check_char(first17: str) -> str:
    total = sum(map(operator.mul, map(int, first17), _ID_WEIGHTS))
    return _ID_CHECK[total % 11]


def id_number_problem(idn: str) -> str | None:
    """Why ``idn`` is not a well-formed 18-digit ID number (Chinese text), or None."""
    s = "".join(str(idn).split()).upper()
    if len(s) != 18:
        return f"应为 18 位（实际 {len(s)} 位）"
    if not s[:17].isdigit() or not (s[17].isdigit() or s[17] == "X"):
        return "含有非法字符"
    try:
        _dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return "出生日期无效"
    if id_check_char(s[:17]) != s[17]:
        return "校验位错误"
    return None


def is_valid_id_number(idn: str) -> bool:
    return id_number_problem(idn) is None


def make_id_number(area: str, birth: _dt.date, seq: int) -> str:
    first17 = f"{area}{birth:%Y%m%d}{seq % 1000:03d}"
    return first17 + id_check_char(first17)


def normalize_id_number(idn: str) -> str:
    return "".join(str(idn).split()).upper()


# -- masking ----------------------------------------------------------------

def mask_id(idn: str | None) -> str:
    """``110105199001011234`` → ``110105********1234``; short values keep less."""
    if not idn:
        return ""
    s = normalize_id_number(idn)
    if len(s) >= 12:
        return s[:6] + "*" * (len(s) - 10) + s[-4:]
    if len(s) > 4:
        return s[:2] + "*" * (len(s) - 4) + s[-2:]
    return "*" * len(s)


def mask_phone(phone: str | None) -> str:
    """``13812345678`` → ``138****5678``; keeps area codes of landlines readable."""
    if not phone:
        return ""
    s = "".join(str(phone).split())
    if len(s) >= 7:
        return s[:3] + "*" * (len(s) - 7) + s[-4:]
    return "*" * len(s)
