"""一公开: the results of finished checks as an exportable list (draw records are published
by ``inspector.publish``, shared with the laptop)."""
from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

from inspector.reports.progress import counted_inspections

RESULT_COLUMNS = ("序号", "检查日期", "机构名称", "统一社会信用代码", "区县", "机构类型", "检查人员", "检查结果",
                  "问题数", "整改情况")


def result_rows(institutions: Mapping[str, Mapping[str, Any]], inspectors: Mapping[str, Mapping[str, Any]],
                inspections: Iterable[Mapping[str, Any]], findings: Iterable[Mapping[str, Any]],
                rectifications: Iterable[Mapping[str, Any]], *, since: str | None = None,
                until: str | None = None) -> list[list[Any]]:
    insps = sorted(counted_inspections(inspections, since, until), key=lambda i: (i.get("started_at") or "", i["id"]))
    nf: dict[str, int] = {}
    for f in findings:
        nf[f["inspection_id"]] = nf.get(f["inspection_id"], 0) + 1
    rect: dict[str, str] = {}
    for r in sorted(rectifications, key=lambda r: r.get("created_at") or ""):
        rect[r["inspection_id"]] = r.get("status") or ""
    out = []
    for n, i in enumerate(insps, 1):
        inst = institutions.get(i["institution_id"], {})
        ids = i.get("inspector_ids")
        ids = json.loads(ids) if isinstance(ids, str) else (ids or [])
        names = "、".join((inspectors.get(x) or {}).get("name") or "" for x in ids if inspectors.get(x))
        cnt = nf.get(i["id"], 0)
        out.append([n, (i.get("started_at") or "")[:10], inst.get("name"), inst.get("credit_code"), inst.get("county"),
                    inst.get("kind"), names, i.get("result_category") or ("发现问题已责令改正" if cnt else "未发现问题"),
                    cnt, rect.get(i["id"], "—" if not cnt else "")])
    return out
