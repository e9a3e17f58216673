"""``inspector-gui --self-test``: does this installation work, end to end, without a display?

Run from the frozen bundle (packaging test, an administrator after rollout) or from a source tree.
Every step either passes or fails with a reason; a part of the app that is not there yet is
reported as MISSING and counts as a failure, so the check can never pass by skipping. Nothing
touches the user's data folder: the store and keys live in a temporary folder that is removed.
Exit code 0 only when every step passed.
"""
from __future__ import annotations

import argparse
import importlib
import io
import json
import os
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, cast

# A 64x48 green HEIC (447 bytes, made with pillow-heif): phones deliver photos in this format.
_HEIC = (
    "AAAAHGZ0eXBoZWljAAAAAG1pZjFoZWljbWlhZgAAAX1tZXRhAAAAAAAAACFoZGxyAAAAAAAAAABwaWN0AAAAAAAAAAAAAAAAAAAA"
    "ACJpbG9jAAAAAERAAAEAAQAAAAABoQABAAAAAAAAAB4AAAAjaWluZgAAAAAAAQAAABVpbmZlAgAAAAABAABodmMxAAAAAA5waXRt"
    "AAAAAAABAAAA/WlwcnAAAADdaXBjbwAAAHZodmNDAQNwAAAAkAAAAAAAHvAA/P34+AAADwNgAAEAGEABDAH//wNwAAADAJAAAAMA"
    "AAMAHroCQGEAAQAqQgEBA3AAAAMAkAAAAwAAAwAeoCCBBZbq5Ka5uAhoMCAAAAMDIAAAAwAhYgABAAZEAcFzwIkAAAATY29scm5j"
    "bHgAAQANAAaAAAAAFGlzcGUAAAAAAAAAQAAAAEAAAAAoY2xhcAAAAEAAAAABAAAAMAAAAAEAAAAAAAAAAv////AAAAACAAAAEHBp"
    "eGkAAAAAAwgICAAAABhpcG1hAAAAAAAAAAEAAQWBAgMFhAAAACZtZGF0AAAAGigBrwngOSMkv//yYv//5u+//8qOytWOp3Pw"
)

PASS, FAIL, MISSING = "PASS", "FAIL", "MISSING"
LABELS = {PASS: "通过", FAIL: "失败", MISSING: "缺失"}


class Missing(Exception):
    """A module or function the step needs is not in this build."""


@dataclass
class Step:
    name: str
    title: str
    status: str = FAIL
    detail: str = ""
    seconds: float = 0.0


@dataclass
class Context:
    """What steps hand to later steps (the temp folder, the store, the signed PDF)."""

    tmp: Path
    store: Any = None
    pdf: bytes | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _need(module: str, *names: str) -> Any:
    """Import ``module`` and check it has ``names``; otherwise the step is MISSING."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name and (module == e.name or module.startswith(e.name + ".")):
            raise Missing(f"模块 {module} 不存在") from None
        raise
    absent = [n for n in names if not hasattr(mod, n)]
    if absent:
        raise Missing(f"{module} 缺少 {', '.join(absent)}")
    return mod


def _frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


# -- steps ------------------------------------------------------------------------------------
def step_version(ctx: Context) -> str:
    import inspector

    v = inspector.__version__
    if _frozen() and v.startswith("0.0.0"):
        raise AssertionError(f"打包版本号缺失（{v}）：安装包里没有 inspector 的元数据")
    where = f"frozen, {sys._MEIPASS}" if _frozen() else f"source, Python {sys.version.split()[0]}"  # type: ignore[attr-defined]
    return f"inspector {v}（{where}）"


def step_paths(ctx: Context) -> str:
    from inspector import paths

    f, r = paths.forms_dir(), paths.resources_dir()
    for label, p in (("forms", f), ("resources", r)):
        if not p.is_dir():
            raise AssertionError(f"{label} 目录不存在：{p}")
        if _frozen() and "INSPECTOR_FORMS" not in os.environ and \
                not Path(p).resolve().is_relative_to(Path(sys._MEIPASS).resolve()):  # type: ignore[attr-defined]
            raise AssertionError(f"{label} 不在安装目录内：{p}")
    fonts = sorted(x.name for x in (r / "fonts").glob("*.tt[fc]")) if (r / "fonts").is_dir() else []
    if not fonts:
        raise AssertionError(f"{r / 'fonts'} 中没有字体文件")
    licences = [x.name for x in (r / "fonts").iterdir() if "licen" in x.name.lower()]
    if not licences:
        raise AssertionError(f"{r / 'fonts'} 中没有字体许可证文件")
    return f"forms={f}; fonts={', '.join(fonts)}"


def step_checklists(ctx: Context) -> str:
    forms = _need("inspector.forms", "load_all")
    lists = forms.load_all()
    items = list(lists.values()) if isinstance(lists, dict) else list(lists)
    if not items:
        raise AssertionError("没有加载到任何检查表")
    desc = []
    for c in items:
        n = len(getattr(c, "items", ()) or ())
        if n == 0:
            raise AssertionError(f"检查表 {getattr(c, 'id', c)} 没有检查项")
        desc.append(f"{c.id}@{c.version}({n}项)")
    ctx.extra["checklists"] = items
    return f"{len(items)} 张检查表：" + "，".join(desc)


def step_store(ctx: Context) -> str:
    from inspector.store import Store

    home = ctx.tmp / "home"
    home.mkdir(exist_ok=True)
    store = Store.open(home)
    ctx.store = store
    with store.tx():
        store.set_meta("selftest", "1")
        store.log("selftest", "selftest", "check", {"ok": True}, actor="selftest")
    ic = store.integrity_check()
    if ic != "ok":
        raise AssertionError(f"数据库完整性检查失败：{ic}")
    bad = store.verify_audit_chain()
    if bad:
        raise AssertionError(f"审计链校验失败：{bad[:3]}")
    if store.get_meta("selftest") != "1":
        raise AssertionError("写入的数据读不回来")
    versions = store.schema_version()
    return f"{len(versions)} 个迁移（{versions[-1] if versions else '无'}），审计链完整"


def step_checklist_versions(ctx: Context) -> str:
    """Checklists become versioned rows in the store (what an inspection points at)."""
    if ctx.store is None or not ctx.extra.get("checklists"):
        raise AssertionError("前面的步骤未能打开数据库或加载检查表")
    cl = _need("inspector.store.checklists", "ensure_version", "load_version")
    ids = [cl.ensure_version(ctx.store, c) for c in ctx.extra["checklists"]]
    back = [cl.load_version(ctx.store, i) for i in ids]
    for i, c in zip(ids, back):
        if not c.items:
            raise AssertionError(f"检查表版本 {i} 读回后没有检查项")
    return "，".join(ids)


def step_document(ctx: Context) -> str:
    """The docs helper's headless demo visit: 笔录, 通知书, 送达回证 rendered and signed, then verified."""
    demo = _need("inspector.demo", "run_demo")
    verify = _need("inspector.verify", "verify_bytes")
    res = demo.run_demo(ctx.tmp / "demo-out", home=ctx.tmp / "demo-home", seed=1)
    files = res.get("files") or {}
    trust = [res["trust"]] if res.get("trust") else []
    signed = {k: Path(v) for k, v in files.items() if str(v).endswith(".pdf") and k in ("record", "notice", "receipt")}
    if not signed:
        raise AssertionError(f"演示没有生成签名文书：{sorted(files)}")
    sigs = 0
    for kind, path in signed.items():
        pdf = path.read_bytes()
        v = verify.verify_bytes(pdf, trust)
        if not v.get("valid"):
            raise AssertionError(f"{path.name} 未通过核验：" + "；".join(v.get("problems") or ["?"]))
        sigs += len(v.get("signers") or [])
    first = signed.get("record") or next(iter(signed.values()))
    pdf = first.read_bytes()
    ctx.pdf = pdf
    # The verifier must also catch a change: flip one byte inside the signed content.
    at = pdf.find(b"stream", len(pdf) // 4) + 12
    bad = pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1:]
    if verify.verify_bytes(bad, trust).get("valid"):
        raise AssertionError("篡改过的文书竟然通过了核验")
    names = "、".join(p.stem for p in signed.values())
    return f"{names}：{sigs} 个签名有效，篡改副本被拒"


def _qapp() -> Any:
    if "QT_QPA_PLATFORM" not in os.environ:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication(["inspector-gui", "--self-test"])


def step_photos(ctx: Context) -> str:
    """Phone photos: HEIC decodes through the shipped decoder (evidence prefers pi-heif, decode only)."""
    import base64

    from PIL import Image

    evidence = _need("inspector.evidence", "heif_supported")
    if not evidence.heif_supported():
        raise AssertionError("没有 HEIC 解码器（pi-heif），手机照片无法导入")
    img = Image.open(io.BytesIO(base64.b64decode(_HEIC)))
    img.load()
    r, g, b = cast(tuple[int, int, int], img.convert("RGB").getpixel((32, 24)))  # an RGB image: one int per band
    if img.size != (64, 48) or not (g > 100 and r < 100):
        raise AssertionError(f"HEIC 解码结果不对：{img.size} {(r, g, b)}")
    return "支持格式：" + evidence.supported_names()


def step_photo_import(ctx: Context) -> str:
    """Photo import runs in worker processes (forkserver on Linux, spawn on Windows): they must start
    from the frozen executable, do the work and not open a second app."""
    import concurrent.futures as cf

    from PIL import Image

    evidence = _need("inspector.evidence", "import_photos", "_context")
    src = ctx.tmp / "photos"
    src.mkdir(exist_ok=True)
    paths = []
    for i in range(4):
        p = src / f"现场照片{i + 1}.jpg"
        Image.new("RGB", (320, 240), (40 * i, 120, 200)).save(p, "JPEG", quality=85)
        paths.append(p)
    with cf.ProcessPoolExecutor(max_workers=1, mp_context=evidence._context()) as ex:
        pid = ex.submit(os.getpid).result(timeout=120)
    if pid == os.getpid():
        raise AssertionError("工作进程没有启动")
    home = ctx.tmp / "photo-home"
    res = evidence.import_photos(home, paths, workers=2)
    bad = [f"{r.original_name}: {r.status} {r.error or ''}" for r in res if r.status != "ok"]
    if bad:
        raise AssertionError("照片导入失败：" + "；".join(bad))
    return f"{len(res)} 张照片由工作进程导入（{evidence._context().get_start_method()}）"


def step_qt(ctx: Context) -> str:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QColor, QFontDatabase, QImage, QImageReader, QPainter

    app = _qapp()
    from inspector import paths

    fonts = sorted((paths.resources_dir() / "fonts").glob("*.tt[fc]"))
    fid = QFontDatabase.addApplicationFont(str(fonts[0])) if fonts else -1
    if fid < 0:
        raise AssertionError(f"Qt 无法加载字体 {fonts[0] if fonts else '（无）'}")
    family = QFontDatabase.applicationFontFamilies(fid)[0]
    formats = {bytes(f.data()).decode() for f in QImageReader.supportedImageFormats()}
    need = {"jpeg", "png", "gif", "svg", "ico"}
    if not need <= formats:
        raise AssertionError(f"缺少图片格式插件：{sorted(need - formats)}")
    # Photos arrive as JPEG: decode one made by Pillow (a different codec) through Qt's plugin.
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buf, "JPEG", quality=90)
    # PySide6 takes the format as str at run time (bytes is refused) though its stubs say bytes
    img = QImage.fromData(QByteArray(buf.getvalue()), "JPEG")  # type: ignore[arg-type]
    if img.isNull() or img.width() != 64 or QColor(img.pixel(10, 10)).red() < 150:
        raise AssertionError("Qt 无法解码 JPEG 照片")
    # Painting with the CJK font offscreen (what every screen does).
    canvas = QImage(200, 40, QImage.Format.Format_ARGB32)
    canvas.fill(0xFFFFFFFF)
    p = QPainter(canvas)
    from PySide6.QtGui import QFont

    p.setFont(QFont(family, 16))
    p.drawText(4, 30, "现场检查")
    p.end()
    dark = sum(1 for x in range(0, 200, 2) for y in range(0, 40, 2) if QColor(canvas.pixel(x, y)).lightness() < 128)
    if dark < 5:
        raise AssertionError("中文字体绘制结果为空白")
    out = QBuffer()
    out.open(QIODevice.OpenModeFlag.WriteOnly)
    canvas.save(out, "PNG")  # type: ignore[call-overload]  # str at run time, as above
    return f"平台 {app.platformName()}，字体 {family}，图片格式 {len(formats)} 种"


def step_pdf_view(ctx: Context) -> str:
    """QtPdf renders the signed document (the PDF preview screens use it)."""
    if ctx.pdf is None:
        raise AssertionError("前一步没有生成文书，无法预览")
    _qapp()
    try:
        from PySide6.QtPdf import QPdfDocument
        from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize
        from PySide6.QtGui import QColor
    except ImportError as e:
        raise Missing(f"QtPdf 不可用：{e}") from None
    import PySide6.QtPdfWidgets  # noqa: F401 - the preview widget must load too

    doc = QPdfDocument()
    data = QByteArray(ctx.pdf)
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.ReadOnly)
    doc.load(buf)
    if doc.status() != QPdfDocument.Status.Ready or doc.pageCount() < 1:
        raise AssertionError(f"QtPdf 无法打开文书（{doc.error()}）")
    img = doc.render(0, QSize(300, 424))
    inked = sum(1 for x in range(0, img.width(), 3) for y in range(0, img.height(), 3)
                if QColor(img.pixel(x, y)).lightness() < 160)
    if inked < 20:
        raise AssertionError("文书第一页渲染为空白")
    return f"{doc.pageCount()} 页，第一页渲染 {img.width()}×{img.height()}，{inked} 个采样点有字"


def step_print(ctx: Context) -> str:
    _qapp()
    from PySide6.QtGui import QPainter, QPageSize
    from PySide6.QtPrintSupport import QPrinter

    target = ctx.tmp / "print.pdf"
    pr = QPrinter(QPrinter.PrinterMode.HighResolution)
    pr.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    pr.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    pr.setOutputFileName(str(target))
    p = QPainter(pr)
    p.drawText(100, 100, "打印测试")
    p.end()
    if not target.exists() or target.stat().st_size < 500:
        raise AssertionError("打印到 PDF 失败")
    return f"打印到 PDF {target.stat().st_size} 字节"


def step_multimedia(ctx: Context) -> str:
    _qapp()
    try:
        from PySide6.QtMultimedia import QMediaDevices, QMediaFormat
        import PySide6.QtMultimediaWidgets  # noqa: F401
    except ImportError as e:
        raise Missing(f"QtMultimedia 不可用：{e}") from None
    fmts = QMediaFormat().supportedFileFormats(QMediaFormat.ConversionMode.Decode)
    if not fmts:
        raise AssertionError("多媒体后端插件未加载（无可解码格式）")
    cams = len(QMediaDevices.videoInputs())
    return f"多媒体后端可用（{len(fmts)} 种格式），摄像头 {cams} 个"


def step_window(ctx: Context) -> str:
    """First start: the main window builds on a fresh data folder (created by the app) and shows."""
    app_mod = _need("ui.app", "build")
    app = _qapp()
    home = ctx.tmp / "first-start" / "inspector-data"
    _app, store, win = app_mod.build(["--home", str(home)])
    try:
        win.show()
        for _ in range(5):
            app.processEvents()
        title, ok = win.windowTitle(), win.isVisible()
        about = win.about_text() if hasattr(win, "about_text") else None
        win.close()
        app.processEvents()
    finally:
        store.close()
    if not ok:
        raise AssertionError("主窗口未能显示")
    import inspector

    if about is not None and inspector.__version__ not in about:
        raise AssertionError(f"“关于”中没有版本号 {inspector.__version__}：{about[:80]}")
    if not home.is_dir() or not any(home.iterdir()):
        raise AssertionError(f"首次启动没有建立数据目录 {home}")
    return f"主窗口“{title}”已显示，关于：{inspector.__version__}；首次启动建立了数据目录（{len(list(home.iterdir()))} 个文件）"


STEPS: list[tuple[str, str, Callable[[Context], str]]] = [
    ("version", "版本", step_version),
    ("paths", "安装文件（检查表、字体、许可证）", step_paths),
    ("checklists", "加载全部检查表", step_checklists),
    ("store", "本地数据库（临时目录）", step_store),
    ("checklist_versions", "检查表写入数据库", step_checklist_versions),
    ("document", "演示文书：渲染、签名、核验", step_document),
    ("photos", "照片格式（JPEG、HEIC）", step_photos),
    ("photo_import", "照片导入（工作进程）", step_photo_import),
    ("qt", "Qt 界面基础（字体、图片插件）", step_qt),
    ("pdf_view", "PDF 预览（QtPdf）", step_pdf_view),
    ("print", "打印支持", step_print),
    ("multimedia", "多媒体（拍照）", step_multimedia),
    ("window", "主窗口", step_window),
]


def run(only: list[str] | None = None) -> list[Step]:
    results: list[Step] = []
    with tempfile.TemporaryDirectory(prefix="inspector-selftest-") as tmp:
        ctx = Context(Path(tmp))
        try:
            for name, title, fn in STEPS:
                if only and name not in only:
                    continue
                st = Step(name, title)
                t0 = time.perf_counter()
                try:
                    st.detail = fn(ctx) or ""
                    st.status = PASS
                except Missing as e:
                    st.status, st.detail = MISSING, str(e)
                except Exception as e:  # noqa: BLE001 - every failure becomes a reported step
                    st.status = FAIL
                    st.detail = f"{type(e).__name__}: {e}"
                    if os.environ.get("INSPECTOR_SELFTEST_TRACE"):
                        st.detail += "\n" + traceback.format_exc()
                st.seconds = round(time.perf_counter() - t0, 3)
                results.append(st)
        finally:
            if ctx.store is not None:
                ctx.store.close()
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="inspector-gui --self-test", description="安装自检（无需显示器）")
    ap.add_argument("--json", action="store_true", help="machine-readable result")
    ap.add_argument("--only", action="append", help="run only this step (repeatable)")
    ap.add_argument("--report", help="also write the report to this file")
    args, _unknown = ap.parse_known_args([a for a in (sys.argv[1:] if argv is None else argv) if a != "--self-test"])
    t0 = time.perf_counter()
    results = run(args.only)
    ok = bool(results) and all(r.status == PASS for r in results)
    total = round(time.perf_counter() - t0, 3)
    if args.json:
        text = json.dumps({"ok": ok, "seconds": total, "steps": [asdict(r) for r in results]},
                          ensure_ascii=False, indent=2)
    else:
        lines = [f"[{r.status}] {r.title}（{r.seconds:.2f} s）：{r.detail}" for r in results]
        failed = [r for r in results if r.status != PASS]
        lines.append(f"自检{'通过' if ok else '失败'}：{len(results) - len(failed)}/{len(results)} 项通过，用时 {total:.1f} s"
                     + ("" if ok else "；未通过：" + "、".join(f"{r.title}（{LABELS[r.status]}）" for r in failed)))
        text = "\n".join(lines)
    report = args.report or (None if sys.stdout is not None else
                             str(Path(tempfile.gettempdir()) / "inspector-selftest.txt"))
    if report:
        Path(report).write_text(text + "\n", encoding="utf-8")
    if sys.stdout is not None:
        print(text, flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
