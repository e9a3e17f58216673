"""``inspector photos``: import photo evidence into an inspection, list it, check the blobs."""
from __future__ import annotations

import argparse
import sys
from typing import Any

from inspector import blobs
from inspector.cli import emit
from inspector.store import Store


def register(sub: Any) -> None:
    p = sub.add_parser("photos", help="现场照片证据：导入、列出、校验",
                       description="inspector photos import|list|verify")
    psub = p.add_subparsers(dest="photos_command", metavar="ACTION")
    p.set_defaults(func=lambda args: (p.print_help(), 1)[1])

    i = psub.add_parser("import", help="导入照片（JPEG/PNG/HEIC）到一次检查",
                        description="原始文件按 SHA-256 原样保存为证据，另生成显示副本和缩略图；"
                                    "损坏或非图片文件单独报错，不影响其他文件。")
    i.add_argument("inspection_id", metavar="INSPECTION_ID")
    i.add_argument("files", metavar="FILE", nargs="+")
    i.add_argument("--item", help="检查项编号（照片作为该项的证据）")
    i.add_argument("--finding", help="问题编号（照片作为该问题的证据）")
    i.add_argument("--inspector", help="拍摄/导入照片的检查人员编号")
    i.add_argument("--workers", type=int, help="并行进程数（默认：CPU 核数）")
    i.add_argument("--json", action="store_true")
    i.set_defaults(func=cmd_import)

    ls = psub.add_parser("list", help="列出一次检查的照片")
    ls.add_argument("inspection_id", metavar="INSPECTION_ID")
    ls.add_argument("--item", help="只列出该检查项的照片")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list)

    v = psub.add_parser("verify", help="重新计算证据库中每个文件的 SHA-256，找出被改动的文件")
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=cmd_verify)


def _progress(done: int, total: int, nbytes: int) -> None:
    line = f"导入照片 {done}/{total}（{nbytes / 2**20:.1f} MiB）"
    if sys.stderr.isatty():  # one line redrawn in a terminal, one line per file in a log
        print("\r" + line, end="" if done < total else "\n", file=sys.stderr, flush=True)
    elif done:
        print(line, file=sys.stderr, flush=True)


def cmd_import(args: argparse.Namespace) -> int:
    from inspector.store import photos

    with Store.open(args.home) as store:
        results = photos.import_into(store, args.inspection_id, args.files, args.item, finding_id=args.finding,
                                     inspector_id=args.inspector, workers=args.workers, progress=_progress,
                                     actor=args.inspector)
    data = [r.to_dict() for r in results]
    ok = sum(r.ok for r in results)

    def text(_: Any) -> str:
        lines = []
        for r in results:
            if r.ok and r.duplicate:
                lines.append(f"重复  {r.original_name}  已在该检查项中，未重复添加")
            elif r.ok:
                lines.append(f"成功  {r.original_name}  {r.width}×{r.height}  {r.sha256[:12]}…"  # type: ignore[index]
                             + (f"  拍摄于 {r.taken_at}" if r.taken_at else "")
                             + (f"  GPS {r.gps_lat:.5f},{r.gps_lon:.5f}" if r.gps_lat is not None else ""))
            else:
                lines.append(f"失败  {r.error}")
        lines.append(f"共 {len(results)} 个文件：成功 {ok}，失败 {len(results) - ok}")
        return "\n".join(lines)

    emit(args, data, text)
    return 0 if ok == len(results) else 1


def cmd_list(args: argparse.Namespace) -> int:
    from inspector.store import photos

    with Store.open(args.home) as store:
        rows = photos.list_photos(store, args.inspection_id, args.item)

    def text(rs: list[dict[str, Any]]) -> str:
        if not rs:
            return "（没有照片）"
        return "\n".join(f"{r['id']}  {r['item_id'] or '-'}  {r['original_name']}  {r['width']}×{r['height']}"
                         f"  {r['taken_at'] or ''}  {r['caption'] or ''}" for r in rs)

    emit(args, rows, text)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from inspector import paths

    bs = blobs.store(paths.home(args.home))
    shas = list(bs)
    bad = [s for s in shas if not bs.verify(s)]
    data = {"root": str(bs.root), "checked": len(shas), "corrupt": bad}
    emit(args, data, lambda d: f"已校验 {d['checked']} 个文件" + (
        "，全部完好" if not d["corrupt"] else "，以下文件内容与 SHA-256 不符：\n" + "\n".join(d["corrupt"])))
    return 0 if not bad else 1

