"""Sphinx configuration of the skl_softmaxnet documentation site.

Build from the repository root (``pip install -e ".[docs]"`` first)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The build never reaches the network: no intersphinx inventories are fetched, and
pages of other projects are linked by plain URL. Every ``examples/plot_*.py`` runs
during the build (sphinx-gallery) and its figures land on its gallery page.
"""

import os
import sys
from pathlib import Path

# One BLAS/OpenMP thread for the gallery, set before NumPy is imported, and
# inherited by the worker processes the distributed example starts: on a small
# shared machine extra BLAS threads mostly wait for each other on these sizes.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from threadpoolctl import threadpool_limits  # noqa: E402

import skl_softmaxnet  # noqa: E402

threadpool_limits(limits=1)
sys.path.insert(0, str(Path(__file__).parent / "sphinxext"))

# -- Project -----------------------------------------------------------------------
project = "skl_softmaxnet"
author = "the skl_softmaxnet developers"
copyright = "2026, the skl_softmaxnet developers"  # noqa: A001
version = release = skl_softmaxnet.__version__

# -- General -----------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    # MathJax copied into the site, so the maths renders without a network
    "sphinx-mathjax-offline",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "sphinxext",
    # sphinx-gallery writes these next to the generated pages; they are included
    # by the gallery and API pages, not documents of their own
    "**/*.examples",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.codeobj.json",
    "auto_examples/*.md5",
    "auto_examples/*.zip",
]
default_role = "literal"
# A cross-reference that does not resolve is a warning (so -W fails the build) ...
nitpicky = True
# ... except references to other projects, which are not resolvable without an
# intersphinx inventory (and fetching one would need the network).
nitpick_ignore_regex = [
    (
        r"py:.*",
        r"(sklearn|scipy|numpy|np|matplotlib|skops|skl2onnx|onnx|onnxruntime"
        r"|dask|dask_ml|distributed|joblib|pandas)(\..*)?",
    ),
    (r"py:.*", r"(ndarray|array-like|ArrayLike|Axes|Figure|Line2D|Legend)"),
]

# -- autodoc / autosummary / numpydoc ------------------------------------------------
autosummary_generate = True
autodoc_typehints = "none"  # the numpydoc sections carry the types
numpydoc_show_class_members = False  # the class template lists the members
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False
# Every public docstring is validated during the build; a failed check is a warning,
# so -W fails the build. Excluded checks, and why:
numpydoc_validation_checks = {
    "all",
    "ES01",  # extended summary: optional; many short methods need none
    "SA01",  # See Also: added where there is something to see, not everywhere
    "EX01",  # Examples: required on public classes and functions, not on each
    #          method; tests/test_docstrings.py checks that rule
    "GL08",  # no docstring: private helpers and inherited members
    "RT02",  # flags scikit-learn's convention of naming the returned estimator
    #          ("self : object"), which this package follows
}
numpydoc_validation_exclude = {
    # the members scikit-learn's mixins contribute: their docstrings are its own
    r"\.get_params$",
    r"\.set_params$",
    r"\.set_\w+_request$",
    r"\.get_metadata_routing$",
    r"\.set_callbacks$",
    r"\.score$",
    r"\.__init__$",
    # a module constant documented by a ``#:`` comment, which has no docstring
    # quotes for GL02 to check
    r"^skl_softmaxnet\.onnx\.ALIAS$",
}

# -- MyST (the Markdown pages: maths, scaling out, performance, ...) ----------------
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3

# -- sphinx-gallery ------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",  # run every plot_*.py
    "ignore_pattern": r"__init__\.py",
    "doc_module": ("skl_softmaxnet",),
    "backreferences_dir": "generated/backreferences",
    # the examples are also command-line scripts that save their figure to
    # --output; point that at a scratch directory instead of the examples folder
    "reset_argv": "gallery_helpers.reset_argv",
    "within_subsection_order": "gallery_helpers.ExampleOrder",
    "remove_config_comments": True,
    "min_reported_time": 1,
    "download_all_examples": False,
    "show_memory": False,
    "abort_on_example_error": False,  # report every failing example, then fail
}

# -- HTML ----------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skl_softmaxnet {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_show_sourcelink = False
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc", "sg_download_links", "sg_launcher_links"],
}
# pages with no sub-pages need no navigation column
html_sidebars = {
    page: []
    for page in [
        "index",
        "getting_started",
        "performance",
        "accuracy",
        "changelog",
        "development",
    ]
}
html_context = {"default_mode": "light"}
