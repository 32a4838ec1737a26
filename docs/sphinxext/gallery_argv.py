"""Command-line arguments sphinx-gallery gives each example while building the docs.

The examples are scripts that save their figure to ``--output`` (default: the
current directory, which is ``examples/`` during the build). The gallery captures
the figures itself, so the script's own copy goes to a scratch directory.
"""

import tempfile
from pathlib import Path

OUTPUT_DIR = Path(tempfile.gettempdir()) / "skl_softmaxnet_gallery"


def reset_argv(gallery_conf, script_vars):
    """``sys.argv[1:]`` for the example in ``script_vars["src_file"]``."""
    OUTPUT_DIR.mkdir(exist_ok=True)
    return ["--output", str(OUTPUT_DIR / (Path(script_vars["src_file"]).stem + ".png"))]
