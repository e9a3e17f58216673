"""HQ's reports, pure Python and DB-agnostic: they take plain dicts (rows as HQ stores them)
and return rows and cells, plus XLSX/PDF writers that keep the seeds' table structure.

- ``progress``: Shandong 鲁人社函〔2023〕65号 附件1 (training) and 附件2 (evaluation);
- ``ledger``: Xinxiang 新人社办〔2023〕35号 附件3 问题台账 rows (rendered by
  ``inspector.render.ledger_sheet``);
- ``credit``: the annual credit grade proposal and the 公示 list;
- ``publication``: 一公开 lists (draw results, results of finished checks).
"""
