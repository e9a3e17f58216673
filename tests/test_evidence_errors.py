"""Bad files fail one by one, naming the file, while the good files of the batch import."""
from __future__ import annotations

import io
import os
import random
from pathlib import Path

import pytest
from PIL import Image

from inspector import evidence
from inspector.errors import EvidenceError
from tests.evidence_fixtures import blob_files, photo_bytes, png_claiming, write


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path], list[evidence.ImportResult]]:
    """One parallel batch mixing good photos with every kind of bad file."""
    d = tmp_path_factory.mktemp("batch")
    good = photo_bytes(1600, 1200, seed=20)
    gif = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(gif, "GIF")
    files = [
        write(d, "good1.jpg", good),
        write(d, "truncated.jpg", photo_bytes(1600, 1200, seed=21)[: len(good) // 2]),
        write(d, "random.jpg", random.Random(5).randbytes(200_000)),
        write(d, "notes.txt", "检查记录：现场无异常\n".encode() * 100),
        write(d, "bomb.png", png_claiming(100_000, 100_000)),     # 10 gigapixels in 100 bytes
        write(d, "big.png", png_claiming(12_000, 10_000)),        # 120 MP: over the 100 MP limit
        write(d, "empty.jpg", b""),
        write(d, "anim.gif", gif.getvalue()),
        write(d, "good2.jpg", photo_bytes(1200, 1600, seed=22)),
        d / "missing.jpg",
    ]
    home = d / "home"
    return home, files, evidence.import_photos(home, files, workers=2)


def test_good_files_import_and_bad_files_fail_alone(batch) -> None:  # type: ignore[no-untyped-def]
    home, files, results = batch
    assert [r.path for r in results] == [str(f) for f in files]  # one result per file, input order
    status = {Path(r.path).name: r.status for r in results}
    assert status.pop("good1.jpg") == "ok" and status.pop("good2.jpg") == "ok"
    assert set(status.values()) == {"error"}
    assert len(blob_files(home)) == 6  # nothing stored for the bad ones


@pytest.mark.parametrize("name, words", [
    ("truncated.jpg", "损坏或不完整"),
    ("random.jpg", "不是可识别的图片文件"),
    ("notes.txt", "不是可识别的图片文件"),
    ("bomb.png", "解压炸弹"),
    ("big.png", "解压炸弹"),
    ("empty.jpg", "文件为空"),
    ("anim.gif", "不支持的图片格式 GIF"),
    ("missing.jpg", "无法读取文件"),
])
def test_each_error_names_the_file_and_the_cause(batch, name: str, words: str) -> None:  # type: ignore[no-untyped-def]
    _, _, results = batch
    r = next(r for r in results if Path(r.path).name == name)
    assert r.status == "error" and r.sha256 is None
    assert name in r.error and words in r.error, r.error


def test_import_file_raises_evidence_error(tmp_path: Path) -> None:
    bad = write(tmp_path, "IMG_0009.jpg", b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(EvidenceError, match="IMG_0009.jpg"):
        evidence.import_file(tmp_path / "home", bad)


def test_a_folder_is_not_a_photo(tmp_path: Path) -> None:
    (tmp_path / "DCIM").mkdir()
    [r] = evidence.import_photos(tmp_path / "home", [tmp_path / "DCIM"])
    assert r.status == "error" and "DCIM" in r.error


def test_corrupt_exif_does_not_block_the_photo(tmp_path: Path) -> None:
    img = Image.open(io.BytesIO(photo_bytes(800, 600, seed=23)))
    ex = Image.Exif()
    ex[0x0112] = 99                              # nonsense orientation
    ex.get_ifd(0x8769)[0x9003] = "0000:00:00 00:00:00"
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=ex.tobytes())
    r = evidence.import_file(tmp_path / "home", write(tmp_path, "odd.jpg", buf.getvalue()))
    assert r.ok and r.orientation == 1 and r.taken_at is None and (r.width, r.height) == (800, 600)


def test_a_file_changing_while_read_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = write(tmp_path, "growing.jpg", photo_bytes(800, 600, seed=24))
    real_stat = Path.stat

    def small_stat(self: Path, *a, **k):  # type: ignore[no-untyped-def]
        st = real_stat(self, *a, **k)
        if self == src:
            return os.stat_result((st.st_mode, st.st_ino, st.st_dev, st.st_nlink, st.st_uid, st.st_gid,
                                   st.st_size - 100, st.st_atime, st.st_mtime, st.st_ctime))
        return st

    monkeypatch.setattr(Path, "stat", small_stat)  # the file "grew" after we sized it
    with pytest.raises(EvidenceError, match="读取时被改动"):
        evidence.import_file(tmp_path / "home", src)
