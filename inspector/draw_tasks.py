"""Turning a draw into tasks: one open task per drawn institution, for the inspectors drawn with it,
with the checklist of the institution's kind, due ``due_days`` after the day of the draw. The laptop's
store (``store/directory.save_draw``) and HQ (``hq/admin.run_draw``) both write exactly these rows.

Pure: the caller gives the directory ids (credit code → row id, badge number → row id), the day, the
time stamp and the id maker, and writes the rows where it keeps them."""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Mapping

from inspector.draw import CHECKLIST_FOR_KIND, DrawRecord
from inspector.errors import NotFound
from inspector.util import new_id


def tasks_for_draw(record: DrawRecord, draw_id: str, institution_ids: Mapping[str, str],
                   inspector_ids: Mapping[str, str], *, day: dt.date, due_days: int, created_at: str,
                   make_id: Callable[[], str] = new_id) -> list[dict[str, Any]]:
    """The task rows of ``record`` (lists unencoded), in the record's task order. A drawn institution or
    inspector missing from the directory the ids come from raises NotFound: the draw ran on another
    directory than the one it is being saved to."""
    out = []
    for t in record.tasks:
        code = t.institution["credit_code"]
        if code not in institution_ids:
            raise NotFound(f"抽取结果中的机构 {code} 不在名录库中")
        missing = [i["badge_no"] for i in t.inspectors if i["badge_no"] not in inspector_ids]
        if missing:
            raise NotFound(f"抽取结果中的检查人员 {', '.join(missing)} 不在名录库中")
        out.append({"id": make_id(), "draw_id": draw_id, "kind": "draw", "institution_id": institution_ids[code],
                    "inspector_ids": [inspector_ids[i["badge_no"]] for i in t.inspectors],
                    "checklist_ids": [CHECKLIST_FOR_KIND[t.institution["kind"]]],
                    "due_from": day.isoformat(), "due_to": (day + dt.timedelta(days=due_days)).isoformat(),
                    "status": "open", "created_at": created_at})
    return out
