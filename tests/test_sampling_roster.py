"""Trainee sampling: sizes, reproducibility, flags, masking, the CLI."""
from __future__ import annotations

import json
import random
from collections import Counter

import pytest

from inspector.demo_directory import make_roster, write_roster
from inspector.errors import ImportRowsError
from inspector.idnumbers import mask_id
from inspector.sampling import read_roster, sample_file, sample_roster, sample_size
from inspector.tabular import write_table
from tests.draw_fixtures import cli


@pytest.mark.parametrize("n,sample,verify", [(0, 0, 0), (1, 1, 1), (9, 1, 1), (10, 1, 1), (11, 2, 1),
                                             (101, 11, 2), (100, 10, 1), (250, 25, 3)])
def test_sample_sizes(n, sample, verify):
    assert sample_size(n) == sample
    res = sample_roster(make_roster(n, seed=n), "s")
    assert (res.total, len(res.sampled), len(res.verify)) == (n, sample, verify)
    assert set(res.verify) <= set(res.sampled)
    assert len(set(res.sampled)) == sample


def test_same_seed_same_sample_whatever_the_row_order():
    rows = make_roster(300, seed=1)
    a = sample_roster([dict(r, row=i + 2) for i, r in enumerate(rows)], "抽样-1").to_json(show_id=True)
    shuffled = [dict(r, row=i + 2) for i, r in enumerate(rows)]
    random.Random(3).shuffle(shuffled)
    b = sample_roster(shuffled, "抽样-1").to_json(show_id=True)
    assert a["roster_sha256"] == b["roster_sha256"]
    assert sorted(x["id_number"] for x in a["sampled"]) == sorted(x["id_number"] for x in b["sampled"])
    assert sorted(x["id_number"] for x in a["verify"]) == sorted(x["id_number"] for x in b["verify"])
    c = sample_roster(rows, "抽样-2").to_json(show_id=True)
    assert {x["id_number"] for x in a["sampled"]} != {x["id_number"] for x in c["sampled"]}


def test_sampling_is_uniform_over_rows():
    rows = make_roster(20, seed=2)
    hits: Counter = Counter()
    for s in range(1500):
        for i in sample_roster(rows, f"u{s}").sampled:   # 2 of 20 each time
            hits[i] += 1
    exp = 1500 * 2 / 20
    chi = sum((hits[i] - exp) ** 2 / exp for i in range(20))
    assert chi < 43.82, hits  # df 19, p = 0.001


def test_flags_repeat_training_and_bad_ids_with_row_numbers():
    rows = make_roster(40, seed=4)
    rows[5].update(name=rows[1]["name"], id_number=rows[1]["id_number"], trade=rows[1]["trade"])
    rows[9].update(name=rows[1]["name"], id_number=rows[1]["id_number"], trade=rows[1]["trade"])
    rows[12].update(id_number=rows[2]["id_number"], trade="不同工种" if rows[2]["trade"] != "不同工种" else "电工")
    good = rows[20]["id_number"]
    rows[20]["id_number"] = good[:17] + ("0" if good[17] != "0" else "1")
    rows[21]["id_number"] = ""
    res = sample_roster([dict(r, row=i + 2) for i, r in enumerate(rows)], "f", source="roster.csv")
    out = res.to_json()
    repeat = [f for f in out["flags"] if f["kind"] == "repeat_training"]
    assert len(repeat) == 1  # the same ID in a different trade is not a repeat
    assert repeat[0]["rows"] == [3, 7, 11]
    assert "同一人员多次重复参加同一工种培训" in repeat[0]["message"]
    assert mask_id(rows[1]["id_number"]) in repeat[0]["message"]
    assert rows[1]["id_number"] not in json.dumps(out, ensure_ascii=False)
    bad = [f for f in out["flags"] if f["kind"] == "bad_id"]
    assert [f["rows"] for f in bad] == [[22]] and "校验位错误" in bad[0]["message"]
    assert bad[0]["message"].startswith("roster.csv: 第 22 行")
    missing = [f for f in out["flags"] if f["kind"] == "missing"]
    assert [f["rows"] for f in missing] == [[23]] and "身份证号" in missing[0]["message"]
    assert rows[1]["id_number"] in json.dumps(res.to_json(show_id=True), ensure_ascii=False)


def test_output_is_masked_unless_asked():
    rows = make_roster(30, seed=5)
    res = sample_roster(rows, "m")
    masked = res.to_json()
    shown = res.to_json(show_id=True)
    for m, s in zip(masked["sampled"], shown["sampled"]):
        assert m["id_number"] == s["id_number"][:6] + "********" + s["id_number"][-4:]
        assert m["phone"] == s["phone"][:3] + "****" + s["phone"][-4:]
        assert m["name"] == s["name"] and m["row"] == s["row"]
    check_rows = res.check_rows()
    assert [r["selected_for"] for r in check_rows].count("verify") == len(res.verify)
    assert check_rows[0]["id_number"] == shown["sampled"][0]["id_number"]


def test_reads_xlsx_and_gb18030_csv_with_header_aliases(tmp_path):
    rows = make_roster(23, seed=6)
    x = write_roster(tmp_path / "r.xlsx", rows)
    g = write_roster(tmp_path / "r.csv", rows, encoding="gb18030")
    a, b = sample_file(x, "k").to_json(show_id=True), sample_file(g, "k").to_json(show_id=True)
    assert a["total"] == b["total"] == 23 and a["sampled"] == b["sampled"]
    assert read_roster(x)[0]["row"] == 2 and read_roster(x)[0]["name"] == rows[0]["name"]
    alias = tmp_path / "alias.csv"
    write_table(alias, ["序号", "姓名", "公民身份号码", "职业(工种)", "手机号码"],
                [[1, r["name"], r["id_number"], r["trade"], r["phone"]] for r in rows])
    assert sample_file(alias, "k").to_json(show_id=True)["total"] == 23
    broken = tmp_path / "broken.csv"
    write_table(broken, ["姓名", "培训职业工种", "联系电话"], [["张三", "电工", "1"]])
    with pytest.raises(ImportRowsError) as ei:
        sample_file(broken, "k")
    assert 'broken.csv: 第 1 行: 缺少必填列 "身份证号"' in ei.value.problems


def test_cli_sample_trainees(home, tmp_path):
    rows = make_roster(101, seed=7, duplicates=1, bad_ids=1)
    path = write_roster(tmp_path / "花名册.csv", rows, encoding="gb18030")
    p = cli(home, "sample-trainees", str(path), "--seed", "2026-11-22", "--json", check=True)
    out = json.loads(p.stdout)
    assert out["total"] == 101 and len(out["sampled"]) == 11 and len(out["verify"]) == 2
    assert {"repeat_training", "bad_id"} <= {f["kind"] for f in out["flags"]}
    assert all("********" in s["id_number"] for s in out["sampled"])
    again = json.loads(cli(home, "sample-trainees", str(path), "--seed", "2026-11-22", "--json",
                           "--show-id", check=True).stdout)
    assert [s["row"] for s in again["sampled"]] == [s["row"] for s in out["sampled"]]
    assert all("*" not in s["id_number"] for s in again["sampled"])
    text = cli(home, "sample-trainees", str(path), "--seed", "2026-11-22", check=True).stdout
    assert "花名册共 101 人，抽取 11 人，其中 2 人电话或实地核实" in text
