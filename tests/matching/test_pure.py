"""The matching package is a pure library."""

import subprocess
import sys


def test_import_loads_neither_flask_nor_sqlalchemy() -> None:
    code = (
        "import sys, matching\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('flask', 'sqlalchemy', 'web', 'models', 'services'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""


def test_public_api_names() -> None:
    import matching

    for name in ("Instance", "Policy", "Unit", "Household", "Proposal", "Result", "Unmatched",
                 "Violation", "solve", "check", "read_instance", "read_result",
                 "instance_from_dict", "instance_to_dict", "result_to_dict",
                 "result_from_dict", "InstanceError"):
        assert name in matching.__all__
        assert hasattr(matching, name)
