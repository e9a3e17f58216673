"""问题台账 rows (新人社办〔2023〕35号 附件3) from HQ's rows: one row per finding of a finished
check, filtered by period, county and institution kind. Rendering (XLSX/PDF with the annex's
exact header, columns and footer) is ``inspector.render.ledger_sheet``'s, shared with the laptop.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from inspector.render.ledger_sheet import COLUMNS, FOOTER, TITLE, build_pdf, write_xlsx  # noqa: F401
from inspector.reports.progress import _list, counted_inspections

RESULT = {"待整改": "整改中", "已按期整改": "已按期整改", "逾期整改": "逾期整改",
          "拒不整改或敷衍整改": "拒不整改或敷衍整改"}


def _obj(v: Any) -> dict[str, Any]:
    import json

    if isinstance(v, dict):
        return v
    try:
        d = json.loads(v or "{}")
    except ValueError:
        return {}
    return d if isinstance(d, dict) else {}


def rows(institutions: Mapping[str, Mapping[str, Any]], inspections: Iterable[Mapping[str, Any]],
         findings: Iterable[Mapping[str, Any]], rectifications: Iterable[Mapping[str, Any]] = (),
         handling: Mapping[str, Mapping[str, Any]] | None = None, *, since: str | None = None,
         until: str | None = None, county: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
    """Ledger rows keyed by the annex's column names (plus ``_``-prefixed ids for links)."""
    handling = handling or {}
    insps = {i["id"]: i for i in counted_inspections(inspections, since, until)
             if (not county or institutions.get(i["institution_id"], {}).get("county") == county)
             and (not kind or institutions.get(i["institution_id"], {}).get("kind") == kind)}
    rects: dict[str, Mapping[str, Any]] = {}
    for r in sorted(rectifications, key=lambda r: r.get("created_at") or ""):
        rects[r["inspection_id"]] = r  # the latest notice of each inspection
    out = []
    fs = [f for f in findings if f.get("inspection_id") in insps]
    fs.sort(key=lambda f: (insps[f["inspection_id"]].get("started_at") or "", f["inspection_id"],
                           f.get("position") or 0, f["id"]))
    for f in fs:
        i = insps[f["inspection_id"]]
        inst = institutions.get(i["institution_id"], {})
        rect = rects.get(i["id"])
        h = handling.get(f["id"]) or {}
        pic = _obj(i.get("person_in_charge"))
        codes = [str(c) for c in _list(f.get("codes"))]
        result = RESULT.get(str((rect or {}).get("status")), "") if rect else ""
        if h.get("result_note"):
            result = f"{result}（{h['result_note']}）" if result else h["result_note"]
        out.append({
            "机构名称": inst.get("name") or "",
            "问题简述": (f.get("description") or "") + (f"（{'、'.join(codes)}）" if codes else ""),
            "涉及人数": f.get("people_involved"),
            "资金金额": f.get("amount"),
            "责任人": pic.get("name") or inst.get("legal_rep") or "",
            "整改措施": h.get("measures") or f.get("required_action") or "",
            "整改期限": f.get("deadline") or (rect or {}).get("deadline") or "",
            "整改结果": result,
            "机构联系人及电话": " ".join(x for x in (inst.get("contact"), inst.get("phone")) if x),
            "_finding_id": f["id"], "_inspection_id": i["id"], "_institution_id": inst.get("id"),
            "_county": inst.get("county"), "_kind": inst.get("kind"), "_date": (i.get("started_at") or "")[:10],
        })
    return out


def totals(ledger: list[dict[str, Any]]) -> dict[str, Any]:
    return {"问题数": len(ledger), "涉及人数": sum(int(r["涉及人数"] or 0) for r in ledger),
            "资金金额": round(sum(float(r["资金金额"] or 0) for r in ledger), 2)}
