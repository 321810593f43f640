"""A CI run cannot be narrowed by accident, and a run where every test is skipped fails."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.__main__ import MARKERS, ci_arguments, ci_problems

ROOT = Path(__file__).resolve().parents[2]


def test_ci_ignores_pytest_addopts_and_selects_every_marker():
    args, env = ci_arguments([], {"PYTEST_ADDOPTS": "-m unit", "HOME": "/root"})
    assert "PYTEST_ADDOPTS" not in env and env["HOME"] == "/root"
    assert args == ["-m", "unit or lint or e2e or molecule"]


def test_ci_refuses_arguments_that_would_narrow_it():
    with pytest.raises(ValueError, match="--ci takes no other argument"):
        ci_arguments(["-m", "unit"], {})


def test_a_ci_run_missing_a_marker_is_incomplete():
    full = {"passed_by_marker": {marker: 3 for marker in MARKERS}}
    assert ci_problems(full) == []
    assert ci_problems({"passed_by_marker": {"unit": 80, "lint": 9, "e2e": 0, "molecule": 7}}) == ["no e2e test passed"]
    assert ci_problems({}) == [f"no {marker} test passed" for marker in MARKERS]


@pytest.mark.parametrize("body, code", [
    ("import pytest\n\n@pytest.mark.skip(reason='x')\ndef test_a():\n    pass\n", 5),
    ("def test_a():\n    assert True\n", 0),
])
def test_every_test_skipped_is_no_test_run(tmp_path, body, code):
    (tmp_path / "test_sample.py").write_text(body)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "tests.guard", "-c", "/dev/null",
                             "--rootdir", str(tmp_path), str(tmp_path)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == code, result.stdout + result.stderr
