"""The package boundaries are a test: the import-linter contracts in pyproject.toml must all be kept.

They say that the core (nn, data, training, export and the studio's Qt-free models) never imports Qt, pyqtgraph,
the GUI or the CLI; that nn imports neither training, export nor the studio, and training, data and export do not
import the studio; that GUI panels do not import each other, and what they share imports none of them; and that no
package has an import cycle between its modules. import-linter reads the source (it imports nothing), in its own
process so this test leaves sys.path alone.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = 6  # as many as pyproject.toml declares: a contract deleted by accident fails the test too


def test_import_contracts_are_kept():
    code = ("import sys; from importlinter.cli import lint_imports; "
            "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=300)
    report = run.stdout + run.stderr  # "No module named 'importlinter'": pip install -e .[test]
    assert run.returncode == 0, report
    assert f"Contracts: {CONTRACTS} kept, 0 broken." in report, report
