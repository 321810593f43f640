"""A run where every test is skipped fails, and the guard counts passed tests per marker for the CI run."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_guarded(tmp_path, body, env=None):
    (tmp_path / "test_sample.py").write_text(body)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "tests.guard", "-c", "/dev/null",
                           "--rootdir", str(tmp_path), str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                          env=env)


@pytest.mark.parametrize("body, code", [
    ("import pytest\n\n@pytest.mark.skip(reason='x')\ndef test_a():\n    pass\n", 5),
    ("def test_a():\n    assert True\n", 0),
])
def test_every_test_skipped_is_no_test_run(tmp_path, body, code):
    result = run_guarded(tmp_path, body)
    assert result.returncode == code, result.stdout + result.stderr


def test_the_report_counts_passed_tests_per_marker(tmp_path):
    body = ("import pytest\n\n"
            "@pytest.mark.unit\ndef test_a():\n    pass\n\n"
            "@pytest.mark.unit\ndef test_b():\n    pass\n\n"
            "@pytest.mark.e2e\n@pytest.mark.skip(reason='x')\ndef test_c():\n    pass\n\n"
            "@pytest.mark.lint\ndef test_d():\n    assert False\n")
    report = tmp_path / "report.json"
    result = run_guarded(tmp_path, body, env={**os.environ, "RAY_DOCKER_TESTS_REPORT": str(report)})
    assert result.returncode == 1, result.stdout + result.stderr
    assert json.loads(report.read_text()) == {"passed_by_marker": {"unit": 2, "lint": 0, "e2e": 0, "molecule": 0},
                                              "passed": 2, "skipped": 1}
