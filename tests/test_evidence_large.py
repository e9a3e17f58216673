"""Photos as phones make them: a 108-MP JPEG (12000×9000, Samsung's "108 MP" mode) imports,
decoded at reduced DCT scale so the full bitmap is never in memory; only true decompression bombs
are refused, in Chinese, without Pillow's English text. The big JPEG is generated here, never
committed."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from inspector import evidence
from tests.evidence_fixtures import png_claiming, write

W, H = 12000, 9000   # 108 MP
FULL_RGB_MB = W * H * 3 / 2**20   # 309 MiB if it were decoded whole


_MAKE = """
import sys
from PIL import Image, ImageDraw
small = Image.new("RGB", (1200, 900), (180, 190, 200))
d = ImageDraw.Draw(small)
for k in range(0, 1200, 37):
    d.line([(k, 0), (1200 - k, 900)], fill=(k % 255, (3 * k) % 255, (7 * k) % 255), width=3)
small.resize((int(sys.argv[2]), int(sys.argv[3])), Image.Resampling.NEAREST).save(sys.argv[1], "JPEG", quality=80)
"""


@pytest.fixture(scope="module")
def big_jpeg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A camera-sized JPEG with some structure (not one flat colour: a phone's file is MBs).
    Made in a child process, so the test process never holds the 309-MiB bitmap."""
    out = tmp_path_factory.mktemp("big") / "IMG_108MP.jpg"
    subprocess.run([sys.executable, "-c", _MAKE, str(out), str(W), str(H)], check=True, timeout=120)
    return out


# VmHWM: this process's own peak (a new address space at exec; ru_maxrss would carry the pytest
# parent's peak across fork+exec)
_PEAK = """
import json, sys
from inspector import evidence
r = evidence.import_file(sys.argv[1], sys.argv[2])
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"w": r.width, "h": r.height, "ok": r.ok, "peak_mb": hwm / 1024}))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="peak memory read from /proc (Linux)")
def test_108_mp_jpeg_is_accepted_at_reduced_scale(big_jpeg: Path, tmp_path: Path) -> None:
    # its own process, so the peak RSS is the import's alone (the fixture's bitmap is not counted)
    out = subprocess.run([sys.executable, "-c", _PEAK, str(tmp_path / "home"), str(big_jpeg)],
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["ok"] and (res["w"], res["h"]) == (W, H)
    # decoded at 1/4 DCT scale (3000×2250): far below the 309 MiB a full decode needs
    assert res["peak_mb"] < FULL_RGB_MB * 0.6, res
    with Image.open(evidence.blobs.store(tmp_path / "home").path(
            evidence.import_file(tmp_path / "home", big_jpeg).display_sha256)) as disp:
        assert max(disp.size) == evidence.DISPLAY_MAX


def test_only_true_bombs_are_refused_in_chinese(tmp_path: Path) -> None:
    files = [
        write(tmp_path, "bomb_240mp.png", png_claiming(20_000, 12_000)),   # 240 MP: over 200 MP
        write(tmp_path, "bomb_ratio.png", png_claiming(12_000, 9_000)),     # 108 MP in ~100 bytes
        write(tmp_path, "bomb_side.png", png_claiming(100_000, 10)),        # a side no camera makes
    ]
    results = evidence.import_photos(tmp_path / "home", files, workers=1)
    for f, r in zip(files, results):
        assert r.status == "error", r
        assert f.name in r.error and "解压炸弹" in r.error, r.error
        # no Pillow (English) text reaches the inspector
        assert not any(w in r.error for w in ("Image size", "pixels", "exceeds", "decompression")), r.error
    assert "超过上限 200 百万像素" in results[0].error
    assert "压缩比异常" in results[1].error
