"""Sphinx configuration of ganplify's documentation (``make docs``: HTML in docs/_build/html)."""

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(DOCS.parent / "src"))

import ganplify  # noqa: E402

project = "ganplify"
author = "the ganplify developers"
release = version = ganplify.__version__
copyright = "ganplify developers"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "ganplify_docs",  # the configuration reference and the results index, generated
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = [
    "_build",
    "_ext",
    "_generated/*.md",
    "**/.ipynb_checkpoints",
    "check_browser.py",
]

myst_enable_extensions = ["colon_fence", "dollarmath", "deflist"]
myst_heading_anchors = 3

autosummary_generate = True
autodoc_default_options = {"members": True, "show-inheritance": False}
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # the numpydoc-ish docstrings name the types
# heavy optional imports stay real (the package imports them lazily, inside functions)
napoleon_numpy_docstring = True
napoleon_google_docstring = False

html_theme = "pydata_sphinx_theme"
html_title = f"ganplify {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path = []
html_last_updated_fmt = None
# light or dark from the reader's system; an empty default makes the theme log a console error
# on a first visit (docs/check_browser.py found it)
html_context = {"default_mode": "auto"}
