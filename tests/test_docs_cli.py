"""``inspector documents make / sign / list / export`` and ``documents key`` through the real CLI."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from inspector import demo, verify


def _cli(home, *args, env_extra=None):
    env = {**os.environ, "INSPECTOR_HOME": str(home), **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "inspector", *args], capture_output=True, text=True, env=env,
                          timeout=120)


def test_make_sign_list_export(store, home, tmp_path):
    inst, ins = demo._setup_people(store, 9)
    demo._ensure_keys(home, ins)
    iid = demo.visit(store, inst, ins, seed=9, work=home / "photos")
    store.close()

    p = _cli(home, "documents", "make", iid, "--kind", "notice", "--json")
    # no OS key store here: the device key (the QR code's signature) is sealed; a new process asks
    assert p.returncode == 2 and "设备密钥" in p.stderr
    p = _cli(home, "documents", "make", iid, "--kind", "notice", "--json",
             env_extra={"INSPECTOR_PASSPHRASE": demo.DEMO_PASSPHRASES[0]})
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["number"] == "新人社监〔%s〕L-0001号" % doc["number"][5:9] and doc["status"] == "draft"

    p = _cli(home, "documents", "sign", doc["id"], "--badge", ins[0]["badge_no"], "--json",
             env_extra={"INSPECTOR_PASSPHRASE": "wrong-passphrase"})
    assert p.returncode == 2 and "签名口令错误" in p.stderr
    for i, r in enumerate(ins):
        p = _cli(home, "documents", "sign", doc["id"], "--badge", r["badge_no"], "--json",
                 env_extra={"INSPECTOR_PASSPHRASE": demo.DEMO_PASSPHRASES[i]})
        assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["status"] == "signed"

    p = _cli(home, "documents", "list", "--inspection", iid, "--json")
    # record: the draft 笔录 the person in charge read before signing (inspector/visit_order.py)
    assert [d["kind"] for d in json.loads(p.stdout)] == ["record", "notice"]
    out = tmp_path / "n.pdf"
    p = _cli(home, "documents", "export", doc["id"], "--out", str(out))
    assert p.returncode == 0 and out.exists()
    assert verify.verify_file(out, [home / "keys" / "local-ca" / "ca.cert.pem"])["valid"]

    p = _cli(home, "documents", "make", iid, "--kind", "receipt", "--served", "{bad json")
    assert p.returncode == 2 and "JSON" in p.stderr


def test_key_command(home):
    p = _cli(home, "documents", "key", "--badge", "豫07001", "--name", "张三", "--json",
             env_extra={"INSPECTOR_PASSPHRASE": "a-good-passphrase"})
    assert p.returncode == 0, p.stderr
    assert (home / "keys" / "豫07001" / "key.pem").exists()
    p = _cli(home, "documents", "key", "--badge", "豫07002", "--name", "李四",
             env_extra={"INSPECTOR_PASSPHRASE": "123"})
    assert p.returncode == 2 and "至少" in p.stderr
