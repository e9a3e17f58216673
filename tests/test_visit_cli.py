"""``inspector visit …``: a whole 培训机构 visit without the GUI, through the real CLI (subprocess),
then the documents it produces, signed and verified with ``inspector verify``."""
from __future__ import annotations

import datetime as _dt
import json
import os
import subprocess
import sys
from pathlib import Path

from inspector import demo, demo_photos, forms
from inspector.render.common import strokes_to_png
from tests.visit_fixtures import passing_answers


def _cli(home: Path, *args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "INSPECTOR_HOME": str(home), **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "inspector", *args], capture_output=True, text=True, env=env,
                          timeout=180)


def _setup(store, home: Path, seed: int = 21) -> tuple[dict, list[dict]]:
    inst, ins = demo._setup_people(store, seed)
    demo._ensure_keys(home, ins)
    store.close()
    return inst, ins


def _training() -> forms.Checklist:
    return next(c for c in forms.load_all() if c.id == "training")


# typed into a note: printed masked like the fields made for them
PIC_ID, PIC_PHONE = "410702198507150037", "13912345678"


def _script(tmp: Path, inst: dict, ins: list[dict]) -> dict:
    """The run file of a whole training visit: every item, typed the way a person types."""
    answers = passing_answers(_training())
    for k in ("T-6-3", "T-6-4", "T-6-5"):  # skipped by the checklist's rule (T-6-2 = 否)
        answers.pop(k)
    answers.update({"T-3-1": "280 ㎡", "T-1-6": "20271231", "T-6-2": "否", "T-1-1": "符合",
                    "T-6-6": "学员花名册,教学计划,开班申请和审批材料,结业申请和审批材料,补贴申请和审批材料,"
                             "补贴人员花名册,补贴拨付凭证,培训监管记录,学员考勤表,视频影像",
                    "T-6-9": "机构负责人称线上平台正在建设，尚未启用。"})
    (tmp / "area.jpg").write_bytes(demo_photos.photo(800, 600, seed=3, kind="classroom"))
    for n, role in enumerate(("i1", "i2", "pic")):
        (tmp / f"{role}.png").write_bytes(strokes_to_png(demo.strokes(n + 1)))
    deadline = (_dt.date.today() + _dt.timedelta(days=30)).isoformat()
    return {
        "institution": inst["credit_code"], "checklists": ["training"],
        "inspectors": [r["badge_no"] for r in ins], "recorder": ins[1]["badge_no"], "place": "教学楼二层",
        "person_in_charge": {"name": "王校长", "position": "校长", "phone": "13800000000"},
        "ids_shown": True, "rights_explained": True,
        "answers": answers, "notes": {"T-3-1": f"实地测量两间教室合计；校长身份证{PIC_ID}，电话{PIC_PHONE}"},
        "photos": [{"item": "T-3-1", "file": "area.jpg", "caption": "理论教室"}],
        "findings": [{"item": "T-3-1", "required_action": "扩充理论教学场地至 300 平方米以上", "deadline": deadline}],
        "result": "发现问题已责令改正", "rectification": {"deadline": deadline},
        "signatures": {"inspector1": "i1.png", "inspector2": "i2.png", "person_in_charge": "pic.png"},
    }


def test_run_a_whole_training_visit_then_documents_verify(store, home, tmp_path):
    inst, ins = _setup(store, home)
    script = _script(tmp_path, inst, ins)
    run = tmp_path / "visit.json"
    run.write_text(json.dumps(script, ensure_ascii=False, indent=2), encoding="utf-8")
    p = _cli(home, "visit", "run", str(run))
    assert p.returncode == 0, p.stdout + p.stderr
    iid = p.stdout.strip()

    from inspector.store import Store, visits

    with Store.open(home) as s:
        insp = visits.get_inspection(s, iid)
        assert insp.locked and visits.finish_overrides(s, iid) == []
        got = visits.get_answers(s, iid)[insp.checklist_version_ids[0]]
        assert got["T-3-1"] == 280 and got["T-1-6"] == "2027-12-31" and len(got["T-6-6"]) == 10
        assert got["T-6-9"] == script["answers"]["T-6-9"] and "T-6-3" not in got
        [f] = visits.list_findings(s, iid)
        assert f.codes == ["PX-YB-3"] and f.required_action.startswith("扩充")
        assert len(visits.list_rectifications(s, institution_id=inst["id"])) == 1

    # the documents of the scripted visit: made, signed by both inspectors, exported, verified
    ca = home / "keys" / "local-ca" / "ca.cert.pem"
    for kind in ("record", "notice"):
        # no OS key store here: the device key (QR code) opens with a signing passphrase
        p = _cli(home, "documents", "make", iid, "--kind", kind, "--json",
                 env_extra={"INSPECTOR_PASSPHRASE": demo.DEMO_PASSPHRASES[0]})
        assert p.returncode == 0, p.stderr
        doc = json.loads(p.stdout)
        for i, r in enumerate(ins):
            p = _cli(home, "documents", "sign", doc["id"], "--badge", r["badge_no"],
                     env_extra={"INSPECTOR_PASSPHRASE": demo.DEMO_PASSPHRASES[i]})
            assert p.returncode == 0, p.stderr
        out = tmp_path / f"{kind}.pdf"
        assert _cli(home, "documents", "export", doc["id"], "--out", str(out)).returncode == 0
        p = _cli(home, "verify", str(out), "--trust", str(ca))
        assert p.returncode == 0, p.stdout + p.stderr
        if kind == "record":
            text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True,
                                  check=True).stdout
            flat = "".join(text.split())
            assert inst["name"] in flat
            # an ID number and a mobile number typed into a note print masked
            assert "410702********0037" in flat and "139****5678" in flat
            assert PIC_ID not in flat and PIC_PHONE not in flat


def test_commands_one_by_one_check_and_finish(store, home, tmp_path):
    inst, ins = _setup(store, home, seed=22)
    p = _cli(home, "visit", "start", "--institution", inst["credit_code"], "--checklist", "training",
             *[a for r in ins for a in ("--inspector", r["badge_no"])], "--json")
    assert p.returncode == 0, p.stderr
    iid = json.loads(p.stdout)["inspection_id"]

    p = _cli(home, "visit", "answer", iid, "T-3-1", "28a")
    assert p.returncode == 2 and "“28a”不是数字" in p.stderr
    p = _cli(home, "visit", "answer", iid, "T-3-1", "1e6 ㎡")
    assert p.returncode == 2 and "确认理论课集中培训面积 1,000,000 ㎡？" in p.stderr
    p = _cli(home, "visit", "answer", iid, "T-3-1", "280", "--json")
    assert p.returncode == 0 and json.loads(p.stdout)["value"] == 280

    p = _cli(home, "visit", "check", iid, "--json")
    assert p.returncode == 1
    keys = {x["key"] for x in json.loads(p.stdout)}
    assert {"ids_shown", "rights", "photo:training@2026.2:T-3-1", "unanswered:training@2026.2:T-1-1",
            "signature:inspector1", "result"} <= keys
    p = _cli(home, "visit", "finish", iid)
    assert p.returncode == 2 and "不能完成检查并锁定" in p.stderr and "未记录出示执法证件" in p.stderr

    photo = tmp_path / "a.jpg"
    photo.write_bytes(demo_photos.photo(640, 480, seed=5))
    assert _cli(home, "visit", "photo", iid, "T-3-1", str(photo)).returncode == 0
    p = _cli(home, "visit", "check", iid, "--json")
    assert "photo:training@2026.2:T-3-1" not in {x["key"] for x in json.loads(p.stdout)}
    # the rest is overridden with a reason each: recorded, then finished
    overrides = [a for x in json.loads(p.stdout) for a in ("--override", f"{x['key']}=测试：命令行逐项")]
    p = _cli(home, "visit", "finish", iid, *overrides)
    assert p.returncode == 0, p.stderr


def test_malformed_run_file_names_the_line_and_key(store, home, tmp_path):
    inst, ins = _setup(store, home, seed=23)
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "institution": "x",\n  "answers": {"T-1-1": "符合",}\n}\n', encoding="utf-8")
    p = _cli(home, "visit", "run", str(bad))
    assert p.returncode == 2 and "第 3 行" in p.stderr and "JSON 格式错误" in p.stderr

    bad.write_text(json.dumps({"institution": inst["credit_code"], "checklists": ["training"], "answer": {}},
                              ensure_ascii=False, indent=2), encoding="utf-8")
    p = _cli(home, "visit", "run", str(bad))
    assert p.returncode == 2 and "第 %d 行" % _line_of(bad, '"answer"') in p.stderr
    assert "未知的键 “answer”" in p.stderr

    script = {"institution": inst["credit_code"], "checklists": ["training"],
              "inspectors": [r["badge_no"] for r in ins], "answers": {"T-1-1": "符合", "T-3-1": "-50"}}
    bad.write_text(json.dumps(script, ensure_ascii=False, indent=2), encoding="utf-8")
    p = _cli(home, "visit", "run", str(bad))
    assert p.returncode == 2 and "第 %d 行" % _line_of(bad, '"T-3-1"') in p.stderr
    assert "answers.T-3-1" in p.stderr and "不能为负数" in p.stderr


def _line_of(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


def test_start_takes_hq_checklists_and_hqs_newer_versions(store, home, tmp_path):
    """What HQ sent is what a scripted visit uses, as in the app: a checklist only HQ has, and HQ's
    newer publication of a shipped one rather than the laptop's file."""
    from inspector import paths
    from inspector.store import Store, checklists, visits

    inst, ins = demo._setup_people(store, 23)
    demo._ensure_keys(home, ins)
    src = (paths.forms_dir() / "training.toml").read_text(encoding="utf-8")
    newer = src.replace('version = "2026.2"', 'version = "2026.9"', 1)
    own = src.replace('id = "training"', 'id = "hq_special"', 1)
    assert checklists.ensure_version(store, forms.parse_checklist(newer, "hq")) == "training@2026.9"
    assert checklists.ensure_version(store, forms.parse_checklist(own, "hq")) == "hq_special@2026.2"
    store.close()
    p = _cli(home, "visit", "start", "--institution", inst["credit_code"], "--checklist", "hq_special",
             "--checklist", "training", *[a for r in ins for a in ("--inspector", r["badge_no"])], "--json")
    assert p.returncode == 0, p.stderr
    iid = json.loads(p.stdout)["inspection_id"]
    with Store.open(home) as s:
        assert visits.get_inspection(s, iid).checklist_version_ids == ["hq_special@2026.2", "training@2026.9"]
    p = _cli(home, "visit", "start", "--institution", inst["credit_code"], "--checklist", "nosuch",
             *[a for r in ins for a in ("--inspector", r["badge_no"])])
    assert p.returncode == 2 and "没有检查表 “nosuch”" in p.stderr and "hq_special" in p.stderr
