"""Jurisdiction profiles (forms/profiles/*.toml): the bureau, its document-number prefixes, the
checklists that apply, what a finding may cite (catalogue codes or the bureau's own problem
categories), the legal citations, the remedy notice and the documents' fixed wording.

A profile is data, loaded strictly like the checklists (every unknown or missing key is an
error) and versioned by content hash: ``xinxiang@<12 hex of sha256>``. A laptop works under
exactly one profile (meta ``profile``); ``apply`` sets it together with the 文号 prefixes.
"""
from __future__ import annotations

import functools
import hashlib
import logging
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspector import paths
from inspector.errors import ValidationError

logger = logging.getLogger(__name__)

PROFILE_DIR = "profiles"
DEFAULT = "xinxiang"
META_KEY = "profile"

_TOP = {"id", "title", "province", "city", "own_documents", "foreign_marks", "checklists", "agency", "numbers",
        "findings", "categories", "law", "remedy", "wording", "sources", "applicability"}
_OPTIONAL_TOP = {"categories"}
_AGENCY = {"name", "phone", "report_phone", "contact_unit", "email", "address", "postcode", "placeholders"}
_NUMBERS = {"record", "notice", "receipt"}
_FINDINGS = {"mode", "catalogue", "code_prefixes", "category_pattern", "fallback"}
_CATEGORY = {"id", "label", "cite"}
_LAW = {"inspection_basis", "record_basis", "recusal_basis", "order_basis", "policy_basis", "consequence",
        "remedy_intro"}
_REMEDY = {"reconsideration_body", "reconsideration_days", "reconsideration_article", "court", "litigation_months",
           "litigation_article", "placeholders"}
_WORDING = {"party_confirmation", "recusal_question", "ids_shown", "rights", "statement_days", "reinspection",
            "report_how", "ledger_annex", "ledger_title"}
_SOURCE = {"law", "articles", "source", "verified"}
_APPLICABILITY = {"only_cites", "reason"}
_DOC_NO = re.compile(r"^\S*?〔\d{4}〕\d+号")  # "内人社办发〔2021〕193号 四（九）" → the document's number
_ARTICLE = re.compile(r"第[一二三四五六七八九十百零]+条")


def _full_width_brackets(s: str) -> str:
    """"失信行为(4)" → "失信行为（4）": brackets in Chinese text are full-width (GB/T 15834)."""
    return re.sub(r"(?<=[\u4e00-\u9fff])\(([^()]{1,20})\)", r"（\1）", s)


@dataclass(frozen=True)
class Category:
    id: str
    label: str
    cite: str


@dataclass(frozen=True)
class Profile:
    id: str
    version: str          # 12 hex of the file's sha256
    title: str
    province: str
    city: str
    own_documents: tuple[str, ...]
    foreign_marks: tuple[str, ...]
    checklists: tuple[str, ...]
    agency: dict[str, Any]
    numbers: dict[str, str]
    findings: dict[str, Any]
    categories: tuple[Category, ...]
    law: dict[str, str]
    remedy: dict[str, Any]
    wording: dict[str, str]
    sources: tuple[dict[str, Any], ...]
    applicability: dict[str, Any] = field(default_factory=dict)
    source_text: str = field(repr=False, default="")

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"

    @property
    def uses_catalogue(self) -> bool:
        return self.findings["mode"] == "catalogue"

    # -- citing ---------------------------------------------------------------
    def own_basis(self, basis: str | None) -> str:
        """The parts of a checklist basis (；-separated) that cite this jurisdiction's own documents."""
        parts = [p.strip() for p in re.split(r"[；;]", basis or "") if p.strip()]
        return "；".join(p for p in parts if any(p.startswith(d) for d in self.own_documents))

    def not_applicable(self, basis: str | None) -> str | None:
        """Why a checklist item is not inspected under this profile ([applicability]): its basis cites
        only documents listed in ``only_cites`` (another jurisdiction's notices), so the bureau has no
        provision to cite for it. None when the item applies (also for an item with no basis)."""
        only = tuple(self.applicability.get("only_cites") or ())
        parts = [p.strip() for p in re.split(r"[；;]", basis or "") if p.strip()]
        if not only or not parts or not all(p.startswith(only) for p in parts):
            return None
        docs = dict.fromkeys((m.group(0) if (m := _DOC_NO.match(p)) else p) for p in parts)
        return str(self.applicability["reason"]).format(documents="、".join(docs))

    def category_for(self, item_id: str | None, basis: str | None) -> Category | None:
        """The bureau's problem category of a checklist item (categories mode)."""
        cats = {c.id: c for c in self.categories}
        pat = self.findings.get("category_pattern")
        if pat:
            m = re.search(pat, basis or "")
            if m:
                cid = f"XX-{m.group('annex')}-{int(m.group('no'))}"
                if cid in cats:
                    return cats[cid]
                logger.warning("profile %s: no category %s for item %s", self.id, cid, item_id)
        # a category cited by its own words in the item's basis (e.g. 35号 五（三）9)
        own = self.own_basis(basis)
        for c in self.categories:
            key = re.sub(r"（[^（）]*）$", "", c.cite).strip()
            if key and key in own:
                return c
        for fb in self.findings.get("fallback", []):
            if item_id and item_id.startswith(fb["prefix"]):
                return cats.get(fb["category"])
        return None

    def codes_for(self, codes: list[str] | None) -> list[str]:
        """Catalogue codes a finding may cite under this profile (none in categories mode)."""
        if not self.uses_catalogue:
            return []
        prefixes = tuple(self.findings["code_prefixes"])
        return [c for c in codes or [] if c.startswith(prefixes)]

    def cite(self, item_id: str | None, basis: str | None, codes: list[str] | None) -> dict[str, Any]:
        """What a finding or checklist item cites under this profile: the provision text and the
        labels (catalogue codes or the problem category)."""
        own = self.own_basis(basis)
        if self.uses_catalogue:
            from inspector import catalogue

            labels = self.codes_for(codes)
            cites = []
            for c in labels:
                try:
                    e = catalogue.entry(c)
                except ValidationError:
                    logger.warning("profile %s: unknown catalogue code %s", self.id, c)
                    continue
                if f"{e.kind}{e.severity}失信行为({e.number})" in own:
                    continue  # the item's own basis already cites this catalogue row
                cites.append(f"内人社办发〔2024〕58号 附件 {e.kind}{e.severity}失信行为第{e.number}项")
            provision = "；".join(dict.fromkeys(([own] if own else []) + cites))
            return {"provision": _full_width_brackets(provision), "labels": labels, "category": None}
        cat = self.category_for(item_id, basis)
        provision = _full_width_brackets(own or (cat.cite if cat else ""))
        return {"provision": provision, "labels": [cat.label] if cat else [],
                "category": cat.label if cat else None}

    def clean(self, text: str | None) -> str:
        """A title or basis with parenthesised references to other jurisdictions' documents removed."""
        s = text or ""
        for mark in self.foreign_marks:
            s = re.sub(r"[（(][^（）()]*" + re.escape(mark) + r"[^（）()]*[）)]", "", s)
        return s

    def settings(self) -> dict[str, str]:
        """Flat texts the document builders use."""
        a, r, w, lw = self.agency, self.remedy, self.wording, self.law
        contact = f"{a['contact_unit']}，电话 {a['phone']}" + (f"，电子邮箱 {a['email']}" if a.get("email") else "")
        return {
            "profile": self.ref, "agency_name": a["name"], "agency_address": a["address"],
            "agency_postcode": a["postcode"], "agency_phone": a["phone"], "contact": contact,
            "report_phone": a["report_phone"], "notice_basis": lw["policy_basis"], "consequence": lw["consequence"],
            "report_how": w["report_how"], "reinspection": w["reinspection"],
            "reconsideration_body": r["reconsideration_body"], "court": r["court"],
        }

    def citations(self) -> list[tuple[str, str]]:
        """Every (law title, article) the profile's [law] and [remedy] texts cite, e.g.
        ("《劳动保障监察条例》", "第十六条"); "该条例/该条" refer back to the last title named."""
        out: list[tuple[str, str]] = []
        for text in [*self.law.values(), self.remedy["reconsideration_article"], self.remedy["litigation_article"]]:
            title = ""
            for m in re.finditer(r"(《[^》]+》)|(第[一二三四五六七八九十百零]+条)", text):
                if m.group(1):
                    title = m.group(1)
                elif (title, m.group(2)) not in out:
                    out.append((title, m.group(2)))
        return out

    def unverified(self) -> list[str]:
        """Citations with no [[sources]] entry marked verified that lists that article (Chinese lines)."""
        listed: dict[str, set[str]] = {}
        for s in self.sources:
            m = re.match(r"《[^》]+》", s["law"])
            if m and s["verified"] is True:
                listed.setdefault(m.group(0), set()).update(_ARTICLE.findall(s["articles"]))
        return [f"{self.id}: {title or '（未写明法律名称）'}{art} 未在 [[sources]] 中核对（verified = true）"
                for title, art in self.citations() if art not in listed.get(title, set())]

    def pending(self) -> list[str]:
        """What still needs the bureau's input or its legal office: the fields listed as placeholders
        and the citations not verified. Warnings, not errors: the documents stay correct as worded."""
        lines = [f"{self.id}: [agency] {k} 尚待机关提供（当前：{self.agency[k] or '空'}）"
                 for k in self.agency["placeholders"]]
        lines += [f"{self.id}: [remedy] {k} 尚待机关确认确切名称（当前：{self.remedy[k]}）"
                  for k in self.remedy["placeholders"]]
        return lines + self.unverified()

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "version": self.version, "ref": self.ref, "title": self.title,
                "agency": dict(self.agency), "numbers": dict(self.numbers), "law": dict(self.law),
                "remedy": dict(self.remedy), "wording": dict(self.wording), "checklists": list(self.checklists)}


def _check_keys(where: str, d: Any, allowed: set[str], problems: list[str], optional: set[str] = set()) -> None:
    if not isinstance(d, dict):
        problems.append(f"{where}: 应为表（table）")
        return
    for k in sorted(set(d) - allowed):
        problems.append(f"{where}: 未知字段 '{k}'")
    for k in sorted(allowed - optional - set(d)):
        problems.append(f"{where}: 缺少字段 '{k}'")


def parse_profile(text: str, filename: str = "forms/profiles/x.toml") -> Profile:
    """Parse and check one profile; every problem is collected (Chinese, naming file and key)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ValidationError(f"{filename}: TOML 语法错误：{e}") from e
    problems: list[str] = []
    _check_keys(filename, data, _TOP, problems, _OPTIONAL_TOP)
    for key, allowed in (("agency", _AGENCY), ("numbers", _NUMBERS), ("findings", _FINDINGS), ("law", _LAW),
                         ("remedy", _REMEDY), ("wording", _WORDING), ("applicability", _APPLICABILITY)):
        _check_keys(f"{filename}: [{key}]", data.get(key, {}), allowed, problems)
    cats = []
    for i, c in enumerate(data.get("categories", []), 1):
        _check_keys(f"{filename}: categories 第{i}项", c, _CATEGORY, problems)
        if isinstance(c, dict) and not (set(_CATEGORY) - set(c)):
            cats.append(Category(str(c["id"]), str(c["label"]), str(c["cite"])))
    for i, s in enumerate(data.get("sources", []), 1):
        _check_keys(f"{filename}: sources 第{i}项", s, _SOURCE, problems)
        if isinstance(s, dict) and not isinstance(s.get("verified", False), bool):
            problems.append(f"{filename}: sources 第{i}项: verified 应为 true 或 false")
    if problems:
        raise ValidationError(problems[0], problems)
    f = data["findings"]
    if f["mode"] not in ("catalogue", "categories"):
        problems.append(f"{filename}: [findings] mode 应为 catalogue 或 categories，而不是 {f['mode']!r}")
    if f["mode"] == "catalogue" and (not f["catalogue"] or not f["code_prefixes"]):
        problems.append(f"{filename}: [findings] catalogue 模式须给出 catalogue 和 code_prefixes")
    if f["mode"] == "categories":
        if not cats:
            problems.append(f"{filename}: categories 模式须列出 [[categories]]")
        ids = {c.id for c in cats}
        for fb in f["fallback"]:
            if fb.get("category") not in ids:
                problems.append(f"{filename}: [findings] fallback 引用了不存在的类别 {fb.get('category')!r}")
    for key in ("inspection_basis", "record_basis", "recusal_basis", "order_basis"):
        if not _ARTICLE.search(data["law"][key]):
            problems.append(f"{filename}: [law] {key} 须写明条款（第…条）")
    for sect in ("agency", "remedy"):  # fields still waiting for the bureau's data (warned, see pending)
        for k in data[sect]["placeholders"]:
            if k not in data[sect] or k == "placeholders":
                problems.append(f"{filename}: [{sect}] placeholders 列出了不存在的字段 {k!r}")
    for key in ("reconsideration_article", "litigation_article"):
        if not _ARTICLE.search(data["remedy"][key]):
            problems.append(f"{filename}: [remedy] {key} 须写明条款（第…条）")
    if data["remedy"]["reconsideration_days"] != 60 or data["remedy"]["litigation_months"] != 6:
        problems.append(f"{filename}: [remedy] 复议期限应为 60 日、诉讼期限应为 6 个月")
    if not data["sources"]:
        problems.append(f"{filename}: 须列出 [[sources]]（条款核对来源）")
    problems += _applicability_problems(filename, data)
    own = data["agency"]["name"]
    for mark in data["foreign_marks"]:
        if mark in own:
            problems.append(f"{filename}: 机关名称含有本档案禁止出现的字样 {mark!r}")
    if problems:
        raise ValidationError(problems[0], problems)
    return Profile(
        id=str(data["id"]), version=hashlib.sha256(text.encode("utf-8")).hexdigest()[:12], title=data["title"],
        province=data["province"], city=data["city"], own_documents=tuple(data["own_documents"]),
        foreign_marks=tuple(data["foreign_marks"]), checklists=tuple(data["checklists"]), agency=dict(data["agency"]),
        numbers=dict(data["numbers"]), findings=dict(f), categories=tuple(cats), law=dict(data["law"]),
        remedy=dict(data["remedy"]), wording=dict(data["wording"]), sources=tuple(data["sources"]),
        applicability=dict(data["applicability"]), source_text=text)


def _applicability_problems(filename: str, data: dict[str, Any]) -> list[str]:
    """[applicability]: ``only_cites`` lists document prefixes (never one of the profile's own: an item
    citing the bureau's own notice always applies); ``reason`` is the 不适用 text, {documents} = the
    documents the item cites."""
    out: list[str] = []
    a = data["applicability"]
    only, reason = a["only_cites"], a["reason"]
    if not isinstance(only, list) or not all(isinstance(d, str) and d.strip() for d in only):
        return [f"{filename}: [applicability] only_cites 应为文件字号前缀的列表，如 [\"内人社办发\"]"]
    for d in only:
        if any(d.startswith(o) or o.startswith(d) for o in data["own_documents"]):
            out.append(f"{filename}: [applicability] only_cites 不能包含本地区的文件 {d!r}（own_documents）")
    if not isinstance(reason, str) or not reason.strip():
        return out + [f"{filename}: [applicability] reason 须写明不适用的理由"]
    try:
        reason.format(documents="")
    except (KeyError, IndexError, ValueError) as e:
        out.append(f"{filename}: [applicability] reason 只能使用 {{documents}}（{type(e).__name__}：{e}）")
    return out


def profiles_dir() -> Path:
    return paths.forms_dir() / PROFILE_DIR


def available() -> list[str]:
    return sorted(p.stem for p in profiles_dir().glob("*.toml"))


@functools.lru_cache(maxsize=8)
def load(name: str) -> Profile:
    p = profiles_dir() / f"{name}.toml"
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ValidationError(f"地区档案 {name!r} 不存在或无法读取（{p}：{e.strerror}）；可用：{'、'.join(available())}") \
            from e
    prof = parse_profile(text, str(p))
    if prof.id != name:
        raise ValidationError(f"{p}: id {prof.id!r} 与文件名 {name!r} 不一致")
    for line in prof.pending():  # loaded all the same: the printed wording holds without them
        logger.warning("地区档案 %s", line)
    return prof


@functools.lru_cache(maxsize=8)
def _parse_cached(text: str) -> Profile:
    return parse_profile(text, "profile published by HQ")


def active(store: Any) -> Profile:
    """The profile this laptop works under: one published to it (meta ``profile.text``, e.g. by HQ
    with the checklists), else the shipped file named by meta ``profile``, else the default."""
    text = store.get_meta(f"{META_KEY}.text")
    if text:
        return _parse_cached(text)
    return load(store.get_meta(META_KEY, DEFAULT) or DEFAULT)


def install(store: Any, text: str) -> Profile:
    """Put the laptop under a profile received as TOML text (checked as strictly as a shipped one)."""
    prof = parse_profile(text, "profile published by HQ")
    store.set_meta(f"{META_KEY}.text", text)
    store.set_meta(META_KEY, prof.id)
    store.set_meta(f"{META_KEY}.version", prof.version)
    for kind, prefix in prof.numbers.items():
        store.set_meta(f"doc_prefix.{kind}", prefix)
    logger.info("profile %s installed", prof.ref)
    return prof


def apply(store: Any, name: str) -> Profile:
    """Put the laptop under the shipped profile ``name``: the profile and its 文号 prefixes."""
    prof = load(name)
    if store.get_meta(f"{META_KEY}.text"):
        store.set_meta(f"{META_KEY}.text", "")
    store.set_meta(META_KEY, prof.id)
    store.set_meta(f"{META_KEY}.version", prof.version)
    for kind, prefix in prof.numbers.items():
        store.set_meta(f"doc_prefix.{kind}", prefix)
    return prof
