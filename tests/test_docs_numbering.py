"""Document numbers: agency prefix + 〔year〕 + sequence; unique and gap-free per agency and
year across many allocations, restarts and concurrent writers; a number taken by a failed
document is given back; local (unenrolled) numbers are marked."""
from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from inspector import numbering
from inspector.errors import DocumentError
from inspector.store import Store


def test_format_and_local_marker(store):
    n = numbering.allocate(store, "notice", year=2026)
    assert n.text == "新人社监〔2026〕L-0001号" and n.local and n.seq == 1
    blk = store.one("SELECT * FROM doc_number_blocks")
    assert blk["source"] == "local"


def test_many_allocations_and_restarts_are_gap_free(home):
    seen = []
    for _round in range(4):
        with Store.open(home) as s:
            seen += [numbering.allocate(s, "notice", year=2026).seq for _ in range(60)]
    assert seen == list(range(1, 241))
    with Store.open(home) as s:
        assert numbering.issued(s, "新人社监", 2026, "local") == list(range(1, 241))
        texts = [r["number"] for r in s.rows("SELECT number FROM doc_numbers")]
    assert len(set(texts)) == 240


def test_failed_document_gives_its_number_back(store):
    numbering.allocate(store, "notice", year=2026)
    with pytest.raises(RuntimeError):
        with store.tx():
            numbering.allocate(store, "notice", year=2026)
            raise RuntimeError("rendering failed")
    assert numbering.allocate(store, "notice", year=2026).seq == 2


def test_series_are_per_agency_and_year(store):
    store.set_meta("doc_prefix.notice", "卫人社监")
    a = numbering.allocate(store, "notice", year=2026)
    b = numbering.allocate(store, "notice", year=2027)
    c = numbering.allocate(store, "record", year=2026)
    assert (a.text, b.text, c.text) == ("卫人社监〔2026〕L-0001号", "卫人社监〔2027〕L-0001号", "新人社监录〔2026〕L-0001号")


def test_hq_blocks_replace_local_numbering(store):
    numbering.allocate(store, "notice", year=2026)  # before enrolment: local
    numbering.install_block(store, "新人社监", 2026, 101, 103)
    got = [numbering.allocate(store, "notice", year=2026).text for _ in range(3)]
    assert got == ["新人社监〔2026〕0101号", "新人社监〔2026〕0102号", "新人社监〔2026〕0103号"]
    with pytest.raises(DocumentError, match="号段已用完"):
        numbering.allocate(store, "notice", year=2026)
    with pytest.raises(DocumentError, match="重叠"):
        numbering.install_block(store, "新人社监", 2026, 50, 101)
    numbering.install_block(store, "新人社监", 2026, 201, 300)
    assert numbering.allocate(store, "notice", year=2026).text == "新人社监〔2026〕0201号"
    with pytest.raises(DocumentError):
        numbering.install_block(store, "新人社监", 2026, 5, 4)


def test_threads_share_one_series(store):
    out: list[int] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(25):
            n = numbering.allocate(store, "notice", year=2026).seq
            with lock:
                out.append(n)

    ts = [threading.Thread(target=work) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert sorted(out) == list(range(1, 101))


def test_processes_share_one_series(home):
    Store.open(home).close()
    code = ("import sys; from inspector.store import Store; from inspector import numbering\n"
            "s = Store.open(sys.argv[1])\n"
            "print(' '.join(str(numbering.allocate(s, 'receipt', year=2026).seq) for _ in range(30)))\n")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(home)], stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    nums = []
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0
        nums += [int(x) for x in out.split()]
    assert sorted(nums) == list(range(1, 61))
