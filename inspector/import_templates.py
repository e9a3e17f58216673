"""Template workbooks for every import, so a clerk fills a sheet instead of guessing headers.

Each template's header row is built from the importer's own column list (the headers it reads
first), followed by one example row that the importer accepts as it is, drop-down lists where
the importer allows only some values (机构类型, 信用等级, 自评等级, 整改情况), a note (comment)
on every header cell saying what goes in the column, identifier columns stored as text (an
18-digit 身份证号 typed into a number cell loses its last digits), and a second sheet 填写说明
listing the same. Importers read the first sheet only, so the second one is never imported.
"""
from __future__ import annotations

import datetime as _dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from inspector.errors import DocumentError, ValidationError

MAX_ROWS = 2000        # rows the drop-down lists and text formats cover


@dataclass(frozen=True)
class Field:
    header: str
    required: bool
    note: str
    example: Any
    choices: tuple[str, ...] = ()
    text: bool = False                 # identifiers: stored as text
    whole: tuple[int, int] | None = None
    width: float = 14.0


@dataclass(frozen=True)
class Template:
    kind: str
    title: str          # what the clerk sees (file name, page titles)
    command: str        # the import that reads it
    fields: tuple[Field, ...]


def _example_credit_code(org8: str) -> str:
    from inspector.idnumbers import make_credit_code

    return make_credit_code("5", "2", "410702", org8)


def _institutions() -> Template:
    from inspector.directory_import import CREDIT_GRADES, INSTITUTION_COLUMNS, KINDS

    info: dict[str, tuple[str, Any, dict[str, Any]]] = {
        "name": ("机构全称，与营业执照、办学许可证或民非登记证一致。", "新乡市示例职业技能培训学校（示例行，请删除）",
                 {"width": 30}),
        "credit_code": ("18 位统一社会信用代码（GB 32100），按此代码更新已有机构，不会重复导入。",
                        _example_credit_code("MA00001X"), {"text": True, "width": 22}),
        "kind": ("只能选 培训机构 或 评价机构。", "培训机构", {"choices": KINDS, "width": 11}),
        "county": ("机构所在县（市、区），双随机按区县抽取。", "红旗区", {"width": 10}),
        "address": ("办学或评价场所地址。", "新乡市红旗区示例路 1 号", {"width": 26}),
        "legal_rep": ("法定代表人姓名。", "王示例", {"width": 10}),
        "contact": ("机构联系人姓名。", "李示例", {"width": 10}),
        "phone": ("联系电话（手机或座机，座机带区号）。", "0373-0000000", {"text": True, "width": 14}),
        "trades": ("开展培训或评价的职业（工种），多个用“、”或“；”分隔。", "电工、焊工", {"width": 16}),
        "headcount": ("本年度培训或取证人数（非负整数），用于抽查学员比例。", 120, {"whole": (0, 10_000_000), "width": 10}),
        "licence_no": ("办学许可证号或评价机构备案号，可留空。", "示例许可证 0001", {"text": True, "width": 16}),
        "credit_grade": (f"上年度信用等级：{'/'.join(CREDIT_GRADES)}，未评定的留空。", "良好",
                         {"choices": CREDIT_GRADES, "width": 10}),
        "complaints": ("本年度投诉次数（非负整数），留空按 0 计；加权抽取时使用。", 0, {"whole": (0, 100_000), "width": 10}),
    }
    return Template("institutions", "检查对象名录导入模板", "inspector directory import institutions 文件",
                    tuple(Field(c.header, c.required, info[c.key][0], info[c.key][1], **info[c.key][2])
                          for c in INSTITUTION_COLUMNS))


def _inspectors() -> Template:
    from inspector.directory_import import INSPECTOR_COLUMNS

    info: dict[str, tuple[str, Any, dict[str, Any]]] = {
        "name": ("执法检查人员姓名。", "赵示例（示例行，请删除）", {"width": 18}),
        "badge_no": ("行政执法证号，按此号更新已有人员，不会重复导入。", "豫41070000001", {"text": True, "width": 16}),
        "unit": ("工作单位全称，印在检查笔录和文书上。", "新乡市人力资源和社会保障局", {"width": 26}),
        "county": ("所属县（市、区）；异地检查时不派往本区县。", "红旗区", {"width": 10}),
        "specialties": ("专业领域，多个用“、”分隔。", "职业技能培训、职业技能评价", {"width": 24}),
        "conflicts": ("需要回避的机构（统一社会信用代码或名称），多个用“、”分隔，可留空。", "", {"width": 26}),
    }
    return Template("inspectors", "执法检查人员名录导入模板", "inspector directory import inspectors 文件",
                    tuple(Field(c.header, c.required, info[c.key][0], info[c.key][1], **info[c.key][2])
                          for c in INSPECTOR_COLUMNS))


def _roster() -> Template:
    from inspector.idnumbers import make_id_number
    from inspector.sampling import ROSTER_COLUMNS

    info: dict[str, tuple[str, Any, dict[str, Any]]] = {
        "name": ("学员姓名，与身份证一致。", "孙示例", {"width": 10}),
        "id_number": ("18 位居民身份证号码；本列为文本格式，请勿改为数值。", make_id_number("410702", _dt.date(1990, 1, 1), 123),
                      {"text": True, "width": 22}),
        "trade": ("培训或评价的职业（工种）。", "电工", {"width": 14}),
        "phone": ("手机号码，电话核实时使用。", "13800000000", {"text": True, "width": 14}),
        "class": ("班级名称或期次，可留空。", "2026年第1期电工班", {"width": 18}),
        "cert_no": ("职业技能等级证书编号，可留空。", "", {"text": True, "width": 22}),
    }
    return Template("roster", "学员花名册模板（抽查学员用）", "inspector sample-trainees 文件 --seed 种子",
                    tuple(Field(c.header, c.required, info[c.key][0], info[c.key][1], **info[c.key][2])
                          for c in ROSTER_COLUMNS))


def _self_assessment() -> Template:
    from inspector.grading import GRADES, RECTIFICATION_STATUS
    from inspector.reports.credit import SELF_COLUMNS

    statuses = tuple(RECTIFICATION_STATUS.values())
    info: dict[str, tuple[str, Any, dict[str, Any]]] = {
        "统一社会信用代码": ("机构的 18 位统一社会信用代码，须已在检查对象名录中。", _example_credit_code("MA00001X"),
                      {"text": True, "width": 22}),
        "年度": ("自评年度（四位年份）。", _dt.date.today().year, {"whole": (2000, 2100), "width": 8}),
        "自评等级": (f"机构自评的信用等级：{'/'.join(GRADES)}。", "良好", {"choices": GRADES, "width": 10}),
        "失信行为代码": ("自查发现的失信行为代码（内人社办发〔2024〕58号附件，如 PX-QW-1），多个用“、”分隔；没有则留空。",
                   "PX-QW-1", {"width": 16}),
        "整改情况": (f"上述失信行为的整改情况：{'/'.join(statuses)}；留空按已按期整改计。", "已按期整改",
                 {"choices": statuses, "width": 14}),
        "说明": ("需要说明的情况，可留空。", "招生简章已补充备案", {"width": 26}),
    }
    fields = [Field("机构名称", False, "机构名称，便于核对；导入时以统一社会信用代码为准。",
                    "新乡市示例职业技能培训学校（示例行，请删除）", width=30)]
    fields += [Field(c, c in SELF_COLUMNS[:3], info[c][0], info[c][1], **info[c][2]) for c in SELF_COLUMNS]
    return Template("self-assessment", "信用自评表模板", "总部控制台 信用评估 → 导入自评表", tuple(fields))


BUILDERS: dict[str, Callable[[], Template]] = {
    "institutions": _institutions, "inspectors": _inspectors, "roster": _roster, "self-assessment": _self_assessment,
}
KINDS = tuple(BUILDERS)
FILE_NAMES = {"institutions": "检查对象名录_模板.xlsx", "inspectors": "执法检查人员名录_模板.xlsx",
              "roster": "学员花名册_模板.xlsx", "self-assessment": "信用自评表_模板.xlsx"}


def template(kind: str) -> Template:
    try:
        return BUILDERS[kind]()
    except KeyError:
        raise ValidationError(f"没有“{kind}”的导入模板（可用：{'、'.join(KINDS)}）") from None


def build(kind: str) -> bytes:
    """The template workbook of ``kind`` as XLSX bytes."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from inspector.reports import xlsx_print as X

    t = template(kind)
    wb = Workbook()
    ws = wb.active
    ws.title = t.title[:28].split("（")[0]
    X.set_widths(ws, [f.width for f in t.fields])
    for j, f in enumerate(t.fields, 1):
        col = get_column_letter(j)
        head = ws.cell(1, j, f.header)
        head.font = X.font(bold=True)
        head.alignment = X.align("center")
        head.border = X.border()
        note = f"{'必填' if f.required else '选填'}。{f.note}"
        if f.choices:
            note += f"\n可选：{'、'.join(f.choices)}"
        head.comment = Comment(note, "inspector", width=260, height=110)
        cell = ws.cell(2, j)
        if f.text:
            cell.value = "" if f.example is None else str(f.example)
            cell.number_format = "@"
            ws.column_dimensions[col].number_format = "@"   # rows the clerk adds stay text as well
        else:
            cell.value = f.example
        cell.alignment = X.align("left")
        cell.border = X.border()
        rng = f"{col}2:{col}{MAX_ROWS}"
        if f.choices:
            dv = DataValidation(type="list", formula1='"' + ",".join(f.choices) + '"', allow_blank=not f.required,
                                showErrorMessage=True, showInputMessage=True, errorTitle="输入有误",
                                error=f"{f.header}只能选：{'、'.join(f.choices)}", promptTitle=f.header,
                                prompt=f"请从下拉列表选择：{'、'.join(f.choices)}"[:250])
            dv.add(rng)
            ws.add_data_validation(dv)
        elif f.whole:
            dv = DataValidation(type="whole", operator="between", formula1=str(f.whole[0]), formula2=str(f.whole[1]),
                                allow_blank=not f.required, showErrorMessage=True, errorTitle="输入有误",
                                error=f"{f.header}应为 {f.whole[0]}–{f.whole[1]} 的整数")
            dv.add(rng)
            ws.add_data_validation(dv)
    ws.freeze_panes = "A2"
    X.finish(ws, landscape=True, title_rows=(1, 1))
    # the same notes on a sheet of their own, printable
    guide = wb.create_sheet("填写说明")
    X.set_widths(guide, (20, 8, 60, 30))
    X.line(guide, 1, f"{t.title}：填写说明", 4, size=14, bold=True, horizontal="center")
    X.line(guide, 2, f"第一个工作表的第 1 行是表头，请勿修改；第 2 行是示例，填写前请删除。导入：{t.command}", 4)
    for j, h in enumerate(("列名", "必填", "说明", "可选值"), 1):
        c = guide.cell(3, j, h)
        c.font = X.font(bold=True)
        c.alignment = X.align("center")
        c.border = X.border()
    for i, f in enumerate(t.fields, 4):
        for j, v in enumerate((f.header, "是" if f.required else "否", f.note, "、".join(f.choices)), 1):
            c = guide.cell(i, j, v)
            c.alignment = X.align("center" if j == 2 else "left")
            c.border = X.border()
    X.finish(guide, landscape=False, title_rows=(3, 3))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write(kind: str, path: str | Path) -> Path:
    p = Path(path)
    if p.suffix.lower() != ".xlsx":
        raise ValidationError(f"{p.name}: 模板为 Excel 文件，文件名应以 .xlsx 结尾")
    data = build(kind)
    try:
        p.write_bytes(data)
    except OSError as e:
        raise DocumentError(f"{p}: 无法写入（{e.strerror or e}）") from e
    return p
