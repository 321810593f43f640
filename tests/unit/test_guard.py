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


def test_the_report_counts_collected_and_passed_tests_per_marker_and_names_skips_and_xfails(tmp_path):
    body = ("import pytest\n\n"
            "@pytest.mark.unit\ndef test_a():\n    pass\n\n"
            "@pytest.mark.unit\ndef test_b():\n    pass\n\n"
            "@pytest.mark.e2e\n@pytest.mark.skip(reason='no Grafana')\ndef test_c():\n    pass\n\n"
            "@pytest.mark.unit\n@pytest.mark.xfail(reason='known')\ndef test_e():\n    assert False\n\n"
            "@pytest.mark.lint\ndef test_d():\n    assert False\n")
    report = tmp_path / "report.json"
    result = run_guarded(tmp_path, body, env={**os.environ, "RAY_DOCKER_TESTS_REPORT": str(report)})
    assert result.returncode == 1, result.stdout + result.stderr
    data = json.loads(report.read_text())
    assert data["passed_by_marker"] == {"unit": 2, "lint": 0, "e2e": 0, "molecule": 0}
    assert data["collected_by_marker"] == {"unit": 3, "lint": 1, "e2e": 1, "molecule": 0}
    assert data["skipped_tests"] == [{"test": "test_sample.py::test_c", "marker": "e2e", "reason": "no Grafana"}]
    assert data["xfail_tests"] == [{"test": "test_sample.py::test_e", "marker": "unit", "reason": "known",
                                    "outcome": "xfailed"}]
    assert (data["passed"], data["skipped"]) == (2, 1)
