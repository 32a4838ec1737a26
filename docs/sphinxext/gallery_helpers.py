"""Helpers the sphinx-gallery configuration in ``docs/conf.py`` names by string.

sphinx-gallery imports a callable given as ``"module.name"``; a string, unlike a
function object, keeps the configuration picklable, so Sphinx can cache it.
"""

import tempfile
from pathlib import Path

OUTPUT_DIR = Path(tempfile.gettempdir()) / "skl_softmaxnet_gallery"

# The order of the gallery: from the first fit to tuning and scaling out. Examples
# not listed here follow, by file name.
ORDER = [
    "plot_digits.py",
    "plot_compare_mlp.py",
    "plot_early_stopping.py",
    "plot_class_weights.py",
    "plot_grid_search.py",
    "plot_gradient_check.py",
    "plot_distributed_search.py",
]


def reset_argv(gallery_conf, script_vars):
    """Command-line arguments of the example in ``script_vars["src_file"]``.

    The examples are scripts that save their figure to ``--output`` (default: the
    working directory, which is ``examples/`` during the build). The gallery
    captures the figures itself, so the script's own copy goes to a scratch
    directory.
    """
    OUTPUT_DIR.mkdir(exist_ok=True)
    name = Path(script_vars["src_file"]).stem + ".png"
    return ["--output", str(OUTPUT_DIR / name)]


class ExampleOrder:
    """Sort key of the gallery's examples: ``ORDER`` first, then by file name."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        position = ORDER.index(filename) if filename in ORDER else len(ORDER)
        return f"{position:03d}-{filename}"

    def __repr__(self):  # a stable repr, so Sphinx does not rebuild every time
        return f"<{type(self).__name__}>"
