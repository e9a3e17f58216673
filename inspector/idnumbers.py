"""Check characters of Chinese identifiers, and masking of personal numbers.

The checks are python-stdnum's (``stdnum.cn.ric``, ``stdnum.cn.uscc``) where it implements the
standard, on an ASCII form of what was typed:

- Input: whitespace is dropped, full-width forms (what a Chinese IME types: ``１２３``, ``Ｘ``) are
  NFKC-folded to ASCII, letters upper-cased. Any other non-ASCII character is refused and named:
  Arabic-Indic or other Unicode digits (``٣``), superscripts (``²``), circled or mathematical digits —
  NFKC would silently turn some of them into digits, and ``str.isdigit`` / ``int`` accept others.
  Nothing here raises on any string: every problem is a Chinese sentence.
- 统一社会信用代码 (GB 32100-2015): 18 characters from a 31-letter alphabet (no I, O, S, V, Z); the
  18th is the check character over the first 17 (``uscc.calc_check_digit``); positions 3-8 are the
  administrative division code, digits. GB 32100 lets the registration authority part (positions
  1-2: 登记管理部门码 and 机构类别码, e.g. ``Y1`` for 其他) be letters, where stdnum wants digits:
  those two positions follow the standard, the rest is stdnum's rule.
- 居民身份证号码 (GB 11643-1999): 17 digits (area, birth date, sequence) and a check character from
  ISO 7064 MOD 11-2 (``X`` stands for 10): stdnum's length, digits, birth date and check digit; the
  area code must be a county-level code of stdnum's GB/T 2260 table (cn/loc). stdnum also refuses an
  area code used before the county was created; we do not, because first-generation cards (1984–)
  carry the code current at issue, not at birth (stdnum says its date may be the registration date).
- Masking (个人信息保护法: show the minimum): ``110105********1234`` and ``138****5678``.
"""
from __future__ import annotations

import datetime as _dt
import logging
import re
import unicodedata

from stdnum import numdb
from stdnum.cn import ric as _ric
from stdnum.cn import uscc as _uscc
from stdnum.exceptions import ValidationError
from stdnum.util import isdigits

logger = logging.getLogger(__name__)

CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_VALUE = {c: i for i, c in enumerate(CREDIT_ALPHABET)}
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_FOLDED = ("<wide>", "<narrow>")  # the compatibility forms an IME types; other ones are refused


def ascii_form(value: object) -> tuple[str, str]:
    """``(text, refused)``: ``value`` without whitespace, full-width forms folded (NFKC) to ASCII,
    upper case; ``refused``: the other non-ASCII characters, in order of first appearance (then
    ``text`` is not to be trusted)."""
    s = value if isinstance(value, str) else "" if value is None else str(value)
    out: list[str] = []
    bad: list[str] = []
    for ch in s:
        if ch.isspace():
            continue
        if ch.isascii():
            out.append(ch)
            continue
        folded = unicodedata.normalize("NFKC", ch)
        if unicodedata.decomposition(ch).startswith(_FOLDED) and folded.isascii() and not folded.isspace():
            out.append(folded)
        elif ch not in bad:
            bad.append(ch)
    return "".join(out).upper(), "".join(bad)


def _refused(chars: str, limit: int = 5) -> str:
    """Name refused characters so a user can find them (invisible ones by code point)."""
    shown = [ch if ch.isprintable() else f"U+{ord(ch):04X}" for ch in chars[:limit]]
    return "、".join(shown) + ("等" if len(chars) > limit else "")


# -- 统一社会信用代码 ----------------------------------------------------------------
def normalize_credit_code(code: object) -> str:
    """Upper-case, strip spaces, fold full-width forms (people paste codes with blanks and lower case).
    A code holding other non-ASCII characters comes back as typed (minus blanks): the check names them."""
    s, bad = ascii_form(code)
    if bad:
        return "".join(str(code or "").split()).upper()
    return s


def credit_check_char(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters (ValueError on a bad character)."""
    if len(first17) != 17:
        raise ValueError("need 17 characters")
    bad = [ch for ch in first17 if ch not in _CREDIT_VALUE]
    if bad:
        raise ValueError(f"character {bad[0]!r} is not allowed")
    return str(_uscc.calc_check_digit(first17))


def credit_code_problem(code: object) -> str | None:
    """Why ``code`` is not a valid 统一社会信用代码 (Chinese text), or None when it is. Never raises."""
    c, refused = ascii_form(code)
    if refused:
        return "含有不允许的字符 " + _refused(refused)
    if len(c) != 18:
        return f"应为 18 位（实际 {len(c)} 位）"
    bad = sorted({ch for ch in c if ch not in _CREDIT_VALUE})
    if bad:
        return "含有不允许的字符 " + _refused("".join(bad))
    if not isdigits(c[2:8]):
        return "第 3-8 位（登记管理机关行政区划码）应为数字"
    if _uscc.calc_check_digit(c) != c[17]:
        return "校验位错误"
    return None


def is_valid_credit_code(code: object) -> bool:
    return credit_code_problem(code) is None


def org_code_check_char(first8: str) -> str:
    """GB 11714 check character of a 9-character organisation code."""
    total = 0
    for ch, w in zip(first8, _ORG_WEIGHTS):
        v = int(ch) if isdigits(ch) else ord(ch) - ord("A") + 10
        total += v * w
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def make_credit_code(dept: str, kind: str, area: str, org8: str) -> str:
    """Assemble a valid code: registration dept (1), org kind (1), area code (6), org body (8)."""
    first17 = dept + kind + area + org8 + org_code_check_char(org8)
    return first17 + credit_check_char(first17)


# -- 居民身份证号码 ------------------------------------------------------------
def id_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of 17 ASCII digits (ValueError otherwise)."""
    if len(first17) != 17 or not isdigits(first17):
        raise ValueError("need 17 ASCII digits")
    return str(_ric.calc_check_digit(first17 + "0"))  # stdnum's takes the number with its check digit


def _area_known(area: str) -> bool:
    """A county-level code of stdnum's GB/T 2260 table, whatever its years of use."""
    try:
        info = {k for _part, props in numdb.get("cn/loc").info(area) for k in props}
    except Exception:  # a damaged table must not crash a roster check: say why, treat as unknown
        logger.exception("stdnum cn/loc lookup failed for area %r", area)
        return False
    return "county" in info


def id_number_problem(idn: object) -> str | None:
    """Why ``idn`` is not a well-formed 18-digit ID number (Chinese text), or None. Never raises."""
    s, refused = ascii_form(idn)
    if refused:
        return "含有非法字符 " + _refused(refused, 1)  # one is enough to find it; more would show the number's digits
    if len(s) != 18:
        return f"应为 18 位（实际 {len(s)} 位）"
    if not isdigits(s[:17]) or not (isdigits(s[17]) or s[17] == "X"):
        return "含有非法字符"
    try:
        born = _ric.get_birth_date(s)
    except (ValidationError, ValueError):
        return "出生日期无效"
    if born > _dt.date.today():
        return "出生日期无效（晚于今天）"
    if _ric.calc_check_digit(s) != s[17]:
        return "校验位错误"
    if not _area_known(s[:6]):
        return f"地区代码 {s[:6]} 不在行政区划代码表中"
    return None


def is_valid_id_number(idn: object) -> bool:
    return id_number_problem(idn) is None


def make_id_number(area: str, birth: _dt.date, seq: int) -> str:
    first17 = f"{area}{birth:%Y%m%d}{seq % 1000:03d}"
    return first17 + id_check_char(first17)


def normalize_id_number(idn: object) -> str:
    """The ASCII form (blanks dropped, full-width folded, ``x`` → ``X``); a number holding other
    non-ASCII characters comes back as typed (minus blanks) so the check can name them."""
    s, bad = ascii_form(idn)
    if bad:
        return "".join(str(idn or "").split()).upper()
    return s


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


_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_MOBILE_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")


def mask_in_text(text: str | None) -> str:
    """Free text as printed: a valid resident ID number or a mainland mobile number typed into a note
    or a text answer is masked like the fields made for them (个人信息保护法: the minimum shown).
    Other long numbers (licence numbers, amounts) are left alone: an ID must pass its checksum."""
    if not text:
        return text or ""
    out = _ID_IN_TEXT.sub(lambda m: mask_id(m.group(0)) if is_valid_id_number(m.group(0)) else m.group(0), text)
    return _MOBILE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)), out)
