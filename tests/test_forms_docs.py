"""Keep forms/README.md honest: every item key, type, rule, rule column, param and flag the
loader accepts is documented there (datasette-style docs test)."""
from __future__ import annotations

import pytest

from inspector import forms
from tests.forms_fixtures import FORMS

README = (FORMS / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("key", forms._ITEM_KEYS)
def test_item_keys_documented(key):
    assert f"`{key}`" in README


@pytest.mark.parametrize("typ", forms.ITEM_TYPES + forms.COLUMN_TYPES + forms.THRESHOLD_OPS)
def test_types_and_ops_documented(typ):
    assert f"`{typ}`" in README


@pytest.mark.parametrize("rule", list(forms.RULES))
def test_rules_documented_with_columns_params_flags(rule):
    line = next(l for l in README.splitlines() if l.startswith(f"| `{rule}` |"))
    spec = forms.RULES[rule]
    for name in list(spec.columns) + list(spec.params) + list(spec.flags):
        assert name in line, (rule, name)
    for name, (_, default) in spec.params.items():
        assert f"{name} {default:g}" in line, (rule, name, default)
