"""A pytest plugin that keeps a narrowed or hollow run from passing.

- Every test skipped is no test run: the exit status becomes pytest's "no tests ran" (5), which
  `python3 -m tests` turns into a failure.
- With RAY_DOCKER_TESTS_REPORT set, it writes how many tests passed under each marker there, so that
  `python3 -m tests --ci` can refuse a run in which a marker passed fewer tests than its floor (tests/floors.json).
"""

import json
import os

import pytest

from tests.layers import LAYERS

_passed = {marker: 0 for marker in LAYERS}
_outcomes = {"passed": 0, "skipped": 0}


def pytest_runtest_logreport(report):
    if report.when == "call" and report.passed:
        _outcomes["passed"] += 1
        for marker in LAYERS:
            if marker in report.keywords:
                _passed[marker] += 1
    elif report.skipped:
        _outcomes["skipped"] += 1


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    if exitstatus == pytest.ExitCode.OK and _outcomes["passed"] == 0 and _outcomes["skipped"] > 0:
        session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED
    report = os.environ.get("RAY_DOCKER_TESTS_REPORT")
    if report:
        with open(report, "w", encoding="utf-8") as handle:
            json.dump({"passed_by_marker": _passed, **_outcomes}, handle)
