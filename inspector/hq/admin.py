"""HQ admin actions used by ``inspector-hq`` (and by the web console): init, directory
import, checklist publication, the draw. Each write that laptops must see goes to the
pull log through ``service.upsert_entity``.
"""
from __future__ import annotations

import datetime as dt
import json
import secrets
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from inspector.errors import ImportRowsError, ValidationError
from inspector.hq import db as D
from inspector.hq import service
from inspector.hq.config import HQConfig
from inspector.util import dumps, new_id, now_iso


def init_home(home: str | Path, *, db_url: str | None = None, admin_user: str = "admin",
              admin_password: str | None = None, agency: str | None = None,
              profile: str | None = None) -> dict[str, Any]:
    """Create HQ's data folder, its CA, the schema and an admin account (password returned once).
    With ``profile`` (a shipped jurisdiction profile), the agency's name and the 文号 prefixes come
    from it, and HQ publishes it to every laptop it enrols."""
    from argon2 import PasswordHasher

    from inspector.pki import CA

    extra: dict[str, Any] = {}
    if profile:
        from inspector import profiles

        prof = profiles.load(profile)
        extra = {"profile": prof.id, "doc_prefixes": dict(prof.numbers)}
        agency = agency or prof.agency["name"]
    cfg = HQConfig.load(home, db_url=db_url, agency=agency, **extra)
    cfg.save()
    ca_new = not (cfg.ca_dir / "ca.cert.pem").exists()
    ca = CA.load_or_create(cfg.ca_dir, f"{cfg.agency} 总部证书机构", org=cfg.agency)
    engine = D.make_engine(cfg.url)
    D.create_schema(engine)
    new_password = admin_password or secrets.token_urlsafe(12)
    password: str | None = new_password
    with D.write(engine) as conn:
        have = conn.execute(sa.select(D.staff.c.id).where(D.staff.c.username == admin_user)).first()
        if have is None:
            conn.execute(D.staff.insert().values(id=new_id(), username=admin_user, name="管理员",
                                                 password_hash=PasswordHasher().hash(new_password), role="admin",
                                                 created_at=now_iso()))
        else:
            password = None
    engine.dispose()
    return {"home": str(cfg.home), "db": cfg.url.split("@")[-1], "ca_created": ca_new,
            "ca_subject": ca.cert.subject.rfc4514_string(), "admin_user": admin_user, "admin_password": password}


def import_directory(engine: Engine, path: str | Path, which: str, *, partial: bool = False) -> dict[str, int]:
    """Institutions or inspectors from a CSV/XLSX file (the laptop's parser), keyed by credit code / badge."""
    from inspector.directory_import import parse_institutions, parse_inspectors

    parse = parse_institutions if which == "institutions" else parse_inspectors
    records, problems, total = parse(path)
    if problems and not partial:
        raise ImportRowsError(f"{Path(path).name}: {total - len(records)} 行有误，未导入任何数据", problems)
    entity, table, key = (("institution", D.institutions, "credit_code") if which == "institutions"
                          else ("inspector", D.inspectors, "badge_no"))
    inserted = updated = unchanged = 0
    with D.write(engine) as conn:
        existing = {getattr(r, key): r for r in conn.execute(sa.select(table)).all()}
        for rec in records:
            row = {k: (dumps(v) if isinstance(v, list) else v) for k, v in rec.items()}
            old = existing.get(rec[key])
            if old is not None:
                cur = service.join_row(table, old)
                if all(cur.get(k) == v for k, v in row.items() if v is not None):
                    unchanged += 1
                    continue
                row = {**cur, **row, "id": old.id}
                updated += 1
            else:
                row["id"] = new_id()
                inserted += 1
            row["updated_at"] = now_iso()
            service.upsert_entity(conn, entity, row)
    return {"inserted": inserted, "updated": updated, "unchanged": unchanged, "skipped": total - len(records)}


def publish_checklists(engine: Engine, directory: str | Path | None = None) -> list[str]:
    """Store every checklist version of ``forms/`` (immutable) and publish it to laptops."""
    from inspector.forms import load_all

    out = []
    with D.write(engine) as conn:
        for cl in load_all(directory):
            have = conn.execute(sa.select(D.checklist_versions.c.id).where(
                D.checklist_versions.c.id == cl.version_id)).first()
            if have:
                continue
            service.upsert_entity(conn, "checklist_version", {
                "id": cl.version_id, "checklist_id": cl.id, "version": cl.version, "title": cl.title,
                "source": cl.source, "sha256": cl.sha256, "stored_at": now_iso()})
            out.append(cl.version_id)
    return out


def run_draw(engine: Engine, seed: str, params: Any, *, due_days: int = 30, actor: str | None = None,
             save: bool = True) -> dict[str, Any]:
    """The same pure draw as ``inspector draw``, on HQ's directories; saved draws become tasks laptops pull."""
    from inspector.draw import draw
    from inspector.draw_tasks import tasks_for_draw

    def _dec(table: sa.Table, r: Any) -> dict[str, Any]:
        d = service.join_row(table, r)
        for k in ("trades", "specialties", "conflicts"):
            if isinstance(d.get(k), str):
                d[k] = json.loads(d[k])
        return d

    with engine.connect() as conn:
        insts = [_dec(D.institutions, r) for r in conn.execute(sa.select(D.institutions)).all()]
        insps = [_dec(D.inspectors, r) for r in conn.execute(sa.select(D.inspectors)).all()]
    record = draw(insts, insps, seed, params)
    if not save:
        return record.to_json()
    record.draw_id = draw_id = new_id()
    rec_json = record.to_json()
    inst_ids = {r["credit_code"]: r["id"] for r in insts}
    insp_ids = {r["badge_no"]: r["id"] for r in insps}
    now = now_iso()
    tasks = tasks_for_draw(record, draw_id, inst_ids, insp_ids, day=dt.date.today(), due_days=due_days,
                           created_at=now)
    with D.write(engine) as conn:
        service.upsert_entity(conn, "draw", {
            "id": draw_id, "seed": record.seed, "algorithm": record.algorithm,
            "params": dumps(record.params.to_json()), "institutions_sha256": record.institutions_sha256,
            "inspectors_sha256": record.inspectors_sha256, "result_sha256": record.result_sha256,
            "record": dumps(rec_json), "due_days": due_days, "actor": actor, "created_at": now})
        for task in tasks:
            service.upsert_entity(conn, "task", task | {"inspector_ids": dumps(task["inspector_ids"]),
                                                        "checklist_ids": dumps(task["checklist_ids"])},
                                  audience=task["inspector_ids"])
    return rec_json


def check_params(kw: dict[str, Any]) -> Any:
    from inspector.draw import DrawParams

    try:
        return DrawParams(**kw)
    except TypeError as e:
        raise ValidationError(f"抽取参数无效：{e}") from e
