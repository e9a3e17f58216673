"""Files shipped with the program, read through ``importlib.resources``.

The folders live at the top of the repository (``forms/``, ``resources/``) and are mapped into this
package by ``[tool.setuptools] package-dir`` in pyproject.toml: ``inspector.assets.forms`` is
``forms/`` and ``inspector.assets.resources`` is ``resources/``, in the wheel, in the editable
install and in the frozen bundle (packaging/inspector.spec). Use :mod:`inspector.paths` to reach them.
"""
