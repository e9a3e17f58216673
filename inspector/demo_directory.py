"""Realistic demo directories (新乡市) for the demo data, tests and benchmarks.

Everything is generated from ``random.Random(seed)``: the same call gives the same rows. Credit
codes and ID numbers carry valid check characters; names are invented.
"""
from __future__ import annotations

import datetime as _dt
import random
from pathlib import Path
from typing import Any, Sequence

from inspector.directory_import import INSPECTOR_COLUMNS, INSTITUTION_COLUMNS
from inspector.idnumbers import CREDIT_ALPHABET, make_credit_code, make_id_number
from inspector.tabular import write_table

CITY = "新乡市"
# county → administrative division code (GB/T 2260)
COUNTIES: dict[str, str] = {
    "红旗区": "410702", "卫滨区": "410703", "凤泉区": "410704", "牧野区": "410711",
    "新乡县": "410721", "获嘉县": "410724", "原阳县": "410725", "延津县": "410726",
    "封丘县": "410727", "卫辉市": "410781", "辉县市": "410782", "长垣市": "410783",
}
_COUNTY_WEIGHTS = (14, 9, 4, 10, 6, 5, 5, 4, 5, 6, 8, 9)
TRADES = ("电工", "焊工", "育婴员", "保育师", "中式烹调师", "中式面点师", "养老护理员", "美容师", "美发师",
          "家政服务员", "健康管理师", "电子商务师", "计算机程序设计员", "汽车维修工", "叉车司机",
          "保安员", "茶艺师", "西式面点师", "农业技术员", "网约配送员", "直播销售员", "钳工", "车工")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建军志强海燕红梅玉兰凤英德胜子涵浩然欣怡宇轩梓萱晨阳俊杰雨桐一诺佳怡思远"
_BRAND = ("华宇", "鑫源", "新航", "博学", "启明", "金桥", "卓越", "宏达", "育才", "恒信", "远航", "众诚", "惠民",
          "安康", "锦程", "巧手", "匠心", "天成", "嘉禾", "弘毅", "聚贤", "致远", "立信", "牧野", "卫河", "太行",
          "同心", "百川", "新星", "润泽", "乐业", "福瑞", "明德", "鼎盛", "高远", "长青", "和谐", "扬帆")
_TRAINING_SUFFIX = ("职业技能培训学校", "职业培训学校有限公司", "技能培训中心", "职业技术培训学校")
_EVAL_SUFFIX = ("职业技能等级认定中心", "职业技能评价有限公司", "技能人才评价中心")
_STREETS = ("人民路", "平原路", "金穗大道", "新中大道", "胜利路", "劳动路", "健康路", "和平路", "自由路", "宏力大道")
GRADES = ("优秀", "良好", "合格", "不合格")

# demo regions, one per shipped jurisdiction profile (forms/profiles): the demo's institutions and
# inspectors live where the profile's bureau works
REGIONS: dict[str, dict[str, Any]] = {
    "xinxiang": {"city": CITY, "counties": COUNTIES, "weights": _COUNTY_WEIGHTS, "badge": "豫",
                 "streets": _STREETS, "unit": "人力资源和社会保障局"},
    "neimenggu": {"city": "呼和浩特市",
                  "counties": {"新城区": "150102", "回民区": "150103", "玉泉区": "150104", "赛罕区": "150105",
                               "土默特左旗": "150121", "托克托县": "150122", "和林格尔县": "150123",
                               "清水河县": "150124", "武川县": "150125"},
                  "weights": (14, 10, 9, 14, 5, 4, 4, 3, 3), "badge": "蒙",
                  "streets": ("新华大街", "中山路", "锡林郭勒北路", "大学西街", "昭乌达路", "呼伦贝尔南路",
                              "成吉思汗大街", "鄂尔多斯大街"),
                  "unit": "人力资源和社会保障局"},
}


def person_name(rng: random.Random) -> str:
    given = GIVEN[rng.randrange(len(GIVEN))]
    if rng.random() < 0.6:
        given += GIVEN[rng.randrange(len(GIVEN))]
    return SURNAMES[rng.randrange(len(SURNAMES))] + given


def mobile(rng: random.Random) -> str:
    return rng.choice(("138", "139", "137", "150", "151", "155", "176", "186", "189")) + f"{rng.randrange(10**8):08d}"


def make_institutions(n: int, seed: int | str = 1, region: str = "xinxiang") -> list[dict[str, Any]]:
    """``n`` institutions spread over the region's counties (新乡市's 12 by default), unique names and
    valid credit codes."""
    reg = REGIONS[region]
    city, county_codes, streets = reg["city"], reg["counties"], reg["streets"]
    rng = random.Random(f"institutions|{seed}" if region == "xinxiang" else f"institutions|{region}|{seed}")
    names, codes = set(), set()
    out: list[dict[str, Any]] = []
    counties = list(county_codes)
    # brand names after 新乡's river, district and mountains only in 新乡
    brands = _BRAND if region == "xinxiang" else tuple(b for b in _BRAND if b not in ("牧野", "卫河", "太行"))
    while len(out) < n:
        county = rng.choices(counties, weights=reg["weights"])[0]
        kind = "培训机构" if rng.random() < 0.75 else "评价机构"
        suffix = rng.choice(_TRAINING_SUFFIX if kind == "培训机构" else _EVAL_SUFFIX)
        prefix = city if rng.random() < 0.4 else county
        name = f"{prefix}{rng.choice(brands)}{suffix}"
        if name in names:
            name = name.replace(suffix, f"{rng.choice(brands)}{suffix}")
        if name in names:
            name = f"{name[:-len(suffix)]}第{len(out) + 1}{suffix}"
        org8 = "MA" + "".join(rng.choice(CREDIT_ALPHABET) for _ in range(6))
        code = make_credit_code("9" if "公司" in suffix else "5", "1" if "公司" in suffix else "2",
                                county_codes[county], org8)
        if code in codes or name in names:
            continue
        names.add(name)
        codes.add(code)
        out.append({
            "credit_code": code, "name": name, "kind": kind, "county": county,
            "address": f"{city}{county}{rng.choice(streets)}{rng.randrange(1, 400)}号",
            "legal_rep": person_name(rng), "contact": person_name(rng), "phone": mobile(rng),
            "trades": rng.sample(TRADES, rng.randint(1, 4)),
            "headcount": rng.randrange(20, 1500),
            "licence_no": (f"{county_codes[county]}{rng.randrange(10**7):07d}" if kind == "培训机构"
                           else f"S{county_codes[county]}{rng.randrange(10**4):04d}"),
            "credit_grade": rng.choices(GRADES + ("",), weights=(10, 30, 25, 5, 30))[0] or None,
            "complaints": rng.choices((0, 1, 2, 3), weights=(80, 12, 5, 3))[0],
        })
    return out


def make_inspectors(n: int, seed: int | str = 1,
                    institutions: Sequence[dict[str, Any]] | None = None,
                    region: str = "xinxiang") -> list[dict[str, Any]]:
    """``n`` inspectors; about one in ten declares a conflict with one of ``institutions``."""
    reg = REGIONS[region]
    county_codes = reg["counties"]
    rng = random.Random(f"inspectors|{seed}" if region == "xinxiang" else f"inspectors|{region}|{seed}")
    counties = list(county_codes)
    out = []
    for i in range(n):
        county = counties[i % len(counties)] if i < len(counties) * 2 else rng.choice(counties)
        conflicts: list[str] = []
        if institutions and rng.random() < 0.1:
            inst = rng.choice(list(institutions))
            conflicts.append(inst["credit_code"] if rng.random() < 0.5 else inst["name"])
        out.append({
            "badge_no": f"{reg['badge']}{county_codes[county]}{i + 1:05d}", "name": person_name(rng),
            "unit": f"{county}{reg['unit']}",
            "county": county,
            "specialties": rng.sample(("职业技能培训", "职业技能评价", "劳动保障监察", "就业补贴"), 2),
            "conflicts": conflicts,
        })
    return out


def make_roster(n: int, seed: int | str = 1, *, trades: Sequence[str] = ("电工", "育婴员", "中式烹调师"),
                duplicates: int = 0, bad_ids: int = 0) -> list[dict[str, Any]]:
    """A trainee roster; ``duplicates`` rows repeat an earlier person in the same trade,
    ``bad_ids`` rows get a wrong ID check character."""
    rng = random.Random(f"roster|{seed}")
    areas = list(COUNTIES.values())
    rows = []
    for i in range(n):
        birth = _dt.date(1970, 1, 1) + _dt.timedelta(days=rng.randrange(365 * 35))
        rows.append({"name": person_name(rng), "id_number": make_id_number(rng.choice(areas), birth, rng.randrange(1000)),
                     "trade": rng.choice(list(trades)), "phone": mobile(rng),
                     "class": f"2026-{rng.randrange(1, 13):02d}期", "cert_no": ""})
    for k in range(min(duplicates, max(0, n - 1))):
        src = rows[k]
        dst = rows[n - 1 - k]
        dst.update(name=src["name"], id_number=src["id_number"], trade=src["trade"])
    for k in range(min(bad_ids, n)):
        r = rows[(k * 7 + 3) % n]
        good = r["id_number"]
        r["id_number"] = good[:17] + ("0" if good[17] != "0" else "1")
    return rows


# -- files ----------------------------------------------------------------------

ROSTER_HEADERS = ("姓名", "身份证号", "培训职业工种", "联系电话", "班级", "证书编号")


def _cell(v: Any) -> Any:
    if isinstance(v, list):
        return "；".join(v)
    return "" if v is None else v


def write_institutions(path: str | Path, rows: Sequence[dict[str, Any]], *, encoding: str = "utf-8-sig") -> Path:
    cols = INSTITUTION_COLUMNS
    return write_table(path, [c.header for c in cols], ([_cell(r.get(c.key)) for c in cols] for r in rows),
                       encoding=encoding, sheet="检查对象名录库")


def write_inspectors(path: str | Path, rows: Sequence[dict[str, Any]], *, encoding: str = "utf-8-sig") -> Path:
    cols = INSPECTOR_COLUMNS
    return write_table(path, [c.header for c in cols], ([_cell(r.get(c.key)) for c in cols] for r in rows),
                       encoding=encoding, sheet="执法检查人员名录库")


def write_roster(path: str | Path, rows: Sequence[dict[str, Any]], *, encoding: str = "utf-8-sig") -> Path:
    keys = ("name", "id_number", "trade", "phone", "class", "cert_no")
    return write_table(path, ROSTER_HEADERS, ([r.get(k, "") for k in keys] for r in rows),
                       encoding=encoding, sheet="花名册")


def write_demo_directories(folder: str | Path, *, institutions: int = 300, inspectors: int = 40,
                           roster: int = 120, seed: int | str = 1, suffix: str = ".xlsx") -> dict[str, Path]:
    """Write 检查对象名录库, 执法检查人员名录库 and a trainee roster into ``folder`` (XLSX or CSV)."""
    d = Path(folder)
    d.mkdir(parents=True, exist_ok=True)
    insts = make_institutions(institutions, seed)
    return {
        "institutions": write_institutions(d / f"检查对象名录库{suffix}", insts),
        "inspectors": write_inspectors(d / f"执法检查人员名录库{suffix}", make_inspectors(inspectors, seed, insts)),
        "roster": write_roster(d / f"学员花名册{suffix}", make_roster(roster, seed, duplicates=2, bad_ids=1)),
    }
