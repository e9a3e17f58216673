"""Every item model passes pytest-qt's qtmodeltester; lists page lazily; errors become a row."""
from __future__ import annotations

import pytest

from tests.ui_fixtures import start_training_visit


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory):
    """One demo store (draw, tasks, visits, a rectification) shared by the read-only model tests."""
    from inspector.demo import seed_demo
    from inspector.store import Store

    h = tmp_path_factory.mktemp("demo")
    s = Store.open(h)
    seed_demo(s)
    s.close()
    return h


@pytest.fixture
def demo_store(demo_home):
    from inspector.store import Store

    s = Store.open(demo_home)
    yield s
    s.close()


def test_screen_models(qtmodeltester, qtbot, demo_store):
    from ui.screens import InspectionsScreen, InstitutionsScreen, RectificationsScreen, TasksScreen

    screens = [TasksScreen(demo_store), InstitutionsScreen(demo_store), InspectionsScreen(demo_store),
               RectificationsScreen(demo_store)]
    for s in screens:
        qtbot.addWidget(s)
        s.refresh()
        assert s.model.rowCount() > 0, type(s).__name__
        qtmodeltester.check(s.model, force_py=True)
    tasks = screens[0].model
    assert {tasks.row(r)["offline_text"] for r in range(tasks.rowCount())} == {"离线可用"}
    inst = screens[1]
    inst.table.selectRow(0)
    qtmodeltester.check(inst.hist, force_py=True)
    assert "信用评估等级" in inst.d_grade.text()


def test_institution_search_is_instant_and_filters(qtbot, demo_store):
    from ui.screens import InstitutionsScreen

    s = InstitutionsScreen(demo_store)
    qtbot.addWidget(s)
    s.refresh()
    everything = s.model.rowCount()
    first = s.model.row(0)
    qtbot.keyClicks(s.search, first["credit_code"])
    assert s.model.rowCount() == 1 and s.model.row(0)["id"] == first["id"]
    s.search.clear()
    s.search.insert(first["county"])
    assert 0 < s.model.rowCount() <= everything
    assert all(s.model.row(r)["county"] == first["county"] for r in range(s.model.rowCount()))


def test_visit_models(qtmodeltester, qtbot, store, tmp_path):
    from inspector.store import visits
    from ui.visit import VisitWidget
    from tests.ui_fixtures import write_roster

    iid = start_training_visit(store)
    v = VisitWidget(store, iid)
    qtbot.addWidget(v)
    cv = v.insp.checklist_version_ids[0]
    v.row(cv, "T-3-1").editor.edit.setText("100")
    v.row(cv, "T-3-1").editor._typed("100")
    v.findings_page.draft_from_failures()
    v.trainee_page.load_roster(str(write_roster(tmp_path / "r.csv", 30)))
    v.trainee_page.draw_sample()
    assert v.findings_page.model.rowCount() == 1 and v.trainee_page.model.rowCount() == 3
    qtmodeltester.check(v.findings_page.model, force_py=True)
    qtmodeltester.check(v.trainee_page.model, force_py=True)
    table = v.row(cv, "T-2-1").editor.model
    table.add_row({"name": "甲", "trade": "电工", "role": "理论", "years": 3})
    table.add_row()
    qtmodeltester.check(table, force_py=True)
    assert visits.get_answers(store, iid)[cv]["T-2-1"][0]["name"] == "甲"


def test_lazy_paging_and_error_row(qtmodeltester):
    from ui.models import Col, RowsModel

    data = [{"id": str(i), "name": f"机构{i}"} for i in range(450)]
    calls = []

    def fetch(off, lim):
        calls.append((off, lim))
        return data[off:off + lim]

    m = RowsModel([Col("name", "名称")], fetch, page=200)
    assert m.rowCount() == 200 and m.canFetchMore()
    m.fetchMore()
    m.fetchMore()
    assert m.rowCount() == 450 and not m.canFetchMore()
    assert calls == [(0, 200), (200, 200), (400, 200)]
    qtmodeltester.check(m, force_py=True)

    def broken(off, lim):
        raise RuntimeError("数据库被锁定")

    bad = RowsModel([Col("name", "名称"), Col("x", "X")], broken)
    assert bad.rowCount() == 1
    assert "数据库被锁定" in bad.data(bad.index(0, 0)) and bad.data(bad.index(0, 1)) == ""
    qtmodeltester.check(bad, force_py=True)
