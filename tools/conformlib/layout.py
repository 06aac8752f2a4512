"""Where things are, and the one error every part raises for bad usage."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
CASES_DIR = os.path.join(ROOT, "conformance", "cases")
FIXTURES_DIR = os.path.join(ROOT, "fixtures")
ADAPTER = os.path.join(ROOT, "tools", "adapter")
VENV_PYTHON = os.path.join(ROOT, ".venv", "bin", "python")
REPORT_DIR = os.path.join(ROOT, "build", "conform")
MATRIX_DIR = os.path.join(ROOT, "build", "matrix")
VERSIONS_MD = os.path.join(ROOT, "docs", "versions.md")
PROTOCOL = "1.1"
REFERENCES = ("mmengine", "mmcv")
# ckpt's own profile (mmengine plus the extensions X1-X5): no reference runs it.
OWN_PROFILE = "ckpt"


class UsageError(Exception):
    """Bad command line or input file: exit status 2, the message names the
    parameter and the value at fault."""


def rel(path):
    """`path` relative to the repository when it is inside it."""
    if os.path.isabs(path) and path.startswith(ROOT + os.sep):
        return os.path.relpath(path, ROOT)
    return path
