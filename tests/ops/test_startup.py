"""Start-up stays light: the scientific and document stacks are imported only where used.

`passerelle --help` once cost ~7 s of CPU and 220 MB because every process imported
matplotlib, scipy and OR-Tools; a web worker paid the same before its first page.
Figures: benchmarks/RESULTS.md ("Start-up").
"""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("matplotlib", "scipy", "ortools", "weasyprint", "openpyxl", "tablib", "python_calamine")

_REPORT = (
    "import sys\n"
    "heavy = " + repr(HEAVY) + "\n"
    "print('heavy=' + ','.join(sorted({m.split('.')[0] for m in sys.modules} & set(heavy))))\n"
)


def _run(code: str, tmp_path) -> str:  # type: ignore[no-untyped-def]
    env_code = (
        "import os\n"
        f"os.environ['PASSERELLE_INSTANCE_PATH'] = {str(tmp_path)!r}\n"
        f"os.environ['DATABASE_URL'] = 'sqlite:///{tmp_path}/startup.sqlite'\n"
    )
    out = subprocess.run([sys.executable, "-c", env_code + code + _REPORT], capture_output=True,
                         text=True, check=True, cwd=tmp_path)
    return out.stdout.strip().splitlines()[-1].removeprefix("heavy=")


def test_web_worker_first_page_imports_no_scientific_stack(tmp_path):
    code = (
        "from web import create_app\n"
        "app = create_app({'SECRET_KEY': 'x', 'PASSERELLE_DATA_KEY': " + repr(_data_key()) + ","
        " 'SERVER_NAME': 'localhost', 'RATELIMIT_ENABLED': False})\n"
        "response = app.test_client().get('/connexion')\n"
        "assert response.status_code == 200, response.status_code\n"
        "assert 'mot de passe' in response.get_data(as_text=True).lower()\n"
    )
    assert _run(code, tmp_path) == ""


def test_cli_help_imports_no_scientific_stack(tmp_path):
    code = (
        "from web.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit as end:\n"
        "    assert end.code == 0, end.code\n"
    )
    assert _run(code, tmp_path) == ""


def test_the_heavy_modules_still_load_where_they_are_used():
    # The lazy imports must still work: a chart draws, and the solver is reachable.
    import matching
    from services import charts

    assert callable(matching.solve)
    assert charts._mpl().Figure.__module__ == "matplotlib.figure"


def _data_key() -> str:
    from tests.conftest import DATA_KEY

    return DATA_KEY
