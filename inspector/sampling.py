"""Trainee sampling (新人社办〔2023〕35号 §五(三)9): of an institution's N trained or certified
people, ceil(10 % × N) are sampled (at least 1 when N ≥ 1); of those, ceil(10 % × sample)
(at least 1) are verified by phone or on site.

Like the draw, a pure function of (seed, roster): each row gets the key HMAC-SHA256(seed,
"trainee|<content>|<occurrence>") (first 16 bytes as a big-endian integer), where content is
name, ID number, trade, phone, class, certificate number joined by U+001F and occurrence counts
identical earlier rows; the smallest keys are sampled, then the smallest HMAC(seed,
"verify|<content>|<key>") among them are verified. The file's row order does not matter.
ID numbers and phones are masked in every output unless asked (个人信息保护法).

Flags raised while reading: the same ID twice in the same trade (同一人员多次重复参加同一工种培训,
内人社办发〔2023〕119号 §22) and ID numbers that fail GB 11643 (length, birth date, check).
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from inspector.idnumbers import id_number_problem, mask_id, mask_phone, normalize_id_number
from inspector.tabular import Column, read_table
from inspector.util import canonical_json, sha256_hex

ROSTER_COLUMNS = (
    Column("name", "姓名"),
    Column("id_number", "身份证号", aliases=("身份证号码", "公民身份号码", "证件号码")),
    Column("trade", "培训职业工种", aliases=("职业工种", "培训工种", "培训职业（工种）", "职业(工种)")),
    Column("phone", "联系电话", aliases=("手机号码", "电话")),
    Column("class", "班级", required=False, aliases=("班级名称", "培训班级")),
    Column("cert_no", "证书编号", required=False),
)
_FIELDS = ("name", "id_number", "trade", "phone", "class", "cert_no")


def sample_size(n: int) -> int:
    """ceil(10 % of n), at least 1 when n ≥ 1."""
    return 0 if n <= 0 else max(1, (n + 9) // 10)


def _u(key: bytes, msg: str) -> int:
    return int.from_bytes(hmac.digest(key, msg.encode("utf-8"), "sha256")[:16], "big")


@dataclass
class SampleResult:
    seed: str
    roster_sha256: str
    rows: list[dict[str, Any]]            # every row, normalised, with "row"
    sampled: list[int]                    # indices into rows, in row order
    verify: list[int]
    flags: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.rows)

    def check_rows(self) -> list[dict[str, Any]]:
        """Sampled rows, unmasked, as ``store.visits.add_trainee_checks`` takes them."""
        verify = set(self.verify)
        return [{"row": self.rows[i]["row"], "name": self.rows[i]["name"],
                 "id_number": self.rows[i]["id_number"], "trade": self.rows[i]["trade"],
                 "phone": self.rows[i]["phone"], "selected_for": "verify" if i in verify else "sample"}
                for i in self.sampled]

    def to_json(self, *, show_id: bool = False) -> dict[str, Any]:
        def person(i: int) -> dict[str, Any]:
            r = dict(self.rows[i])
            if not show_id:
                r["id_number"] = mask_id(r["id_number"])
                r["phone"] = mask_phone(r["phone"])
            return r

        flags = []
        for f in self.flags:
            f = dict(f)
            idn = f.get("id_number") or ""
            shown = idn if show_id else mask_id(idn)
            f["message"] = f["message"].replace("{id}", shown or "（空）")
            if idn:
                f["id_number"] = shown
            flags.append(f)
        return {"total": self.total, "seed": self.seed, "roster_sha256": self.roster_sha256,
                "sample_size": len(self.sampled), "verify_size": len(self.verify),
                "sampled": [person(i) for i in self.sampled], "verify": [person(i) for i in self.verify],
                "flags": flags}


def sample_roster(rows: Iterable[Mapping[str, Any]], seed: str, *, source: str = "") -> SampleResult:
    """Sample a roster (rows with name, id_number, trade, phone, optional class, cert_no, row)."""
    key = str(seed).encode("utf-8")
    norm = []
    for n, r in enumerate(rows, start=2):
        rec: dict[str, Any] = {f: str(r.get(f) or "").strip() for f in _FIELDS}
        rec["id_number"] = normalize_id_number(rec["id_number"])
        rec["row"] = int(r.get("row") or n)
        norm.append(rec)
    prefix = f"{source}: " if source else ""

    # a row's identity for the random key: its fields joined by U+001F (unit separator)
    contents = ["\x1f".join([r[f] for f in _FIELDS]) for r in norm]
    seen: dict[str, int] = {}
    keys = []
    for i, c in enumerate(contents):
        occ = seen.get(c, 0)
        seen[c] = occ + 1
        keys.append((_u(key, f"trainee|{c}|{occ}"), c, i))
    roster_sha = sha256_hex(canonical_json(sorted(contents)))
    n_sample = sample_size(len(norm))
    picked = [i for _, _, i in sorted(keys)[:n_sample]]
    vkeys = sorted((_u(key, f"verify|{contents[i]}|{keys[i][0]}"), i) for i in picked)
    verify = sorted((i for _, i in vkeys[:sample_size(n_sample)]), key=lambda i: norm[i]["row"])
    picked.sort(key=lambda i: norm[i]["row"])

    flags: list[dict[str, Any]] = []
    groups: dict[tuple[str, str], list[int]] = {}
    for i, r in enumerate(norm):
        missing = [label for f, label in (("name", "姓名"), ("id_number", "身份证号"), ("trade", "培训职业工种"))
                   if not r[f]]
        if missing:
            flags.append({"kind": "missing", "rows": [r["row"]],
                          "message": f"{prefix}第 {r['row']} 行: 缺少{'、'.join(missing)}"})
        if r["id_number"]:
            why = id_number_problem(r["id_number"])
            if why:
                flags.append({"kind": "bad_id", "rows": [r["row"]], "id_number": r["id_number"],
                              "message": f"{prefix}第 {r['row']} 行: 身份证号 {{id}} {why}"})
            if r["trade"]:
                groups.setdefault((r["id_number"], r["trade"]), []).append(i)
    for (idn, trade), idx in groups.items():
        if len(idx) > 1:
            rows_ = sorted(norm[i]["row"] for i in idx)
            flags.append({"kind": "repeat_training", "rows": rows_, "id_number": idn, "trade": trade,
                          "name": norm[idx[0]]["name"],
                          "message": f"{prefix}同一人员多次重复参加同一工种培训：{norm[idx[0]]['name']}"
                                     f"（身份证号 {{id}}）{trade}，第 {'、'.join(map(str, rows_))} 行"})
    flags.sort(key=lambda f: (f["rows"][0], f["kind"]))
    return SampleResult(seed=str(seed), roster_sha256=roster_sha, rows=norm, sampled=picked,
                        verify=verify, flags=flags)


def read_roster(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a roster file (XLSX/CSV) with their Excel row numbers."""
    table = read_table(path, ROSTER_COLUMNS)
    return [{**rec, "row": rowno} for rowno, rec in table.rows]


def sample_file(path: str | Path, seed: str) -> SampleResult:
    return sample_roster(read_roster(path), seed, source=Path(path).name)
