"""`python3 -m tests`: the whole test suite, on a machine with only python3.

Builds .venv from requirements-dev.txt when needed, then runs pytest there. The end-to-end
tests bring up the test lab themselves (Docker engine, registry mirror, Ray image).
Extra arguments go to pytest, e.g. `python3 -m tests -m unit`.

`python3 -m tests --ci` (what .ci/run runs) takes no other argument: it ignores PYTEST_ADDOPTS,
selects every marker explicitly, and fails unless tests of each marker (unit, lint, e2e, molecule)
passed, so that a leftover environment variable or selection cannot quietly drop a whole layer.
"""

import json
import os
import sys
import tempfile

from raydeploy import bootstrap

NO_TESTS_RAN = 5
MARKERS = ("unit", "lint", "e2e", "molecule")


def ci_arguments(argv, environ):
    """(pytest arguments, environment) for a CI run; raises ValueError for arguments that would narrow it."""
    if argv:
        raise ValueError(f"--ci takes no other argument (got {' '.join(argv)}): CI runs everything")
    env = {key: value for key, value in environ.items() if key != "PYTEST_ADDOPTS"}
    return ["-m", " or ".join(MARKERS)], env


def ci_problems(report):
    """Why a CI run must fail although pytest passed: markers with no passing test."""
    passed = (report or {}).get("passed_by_marker") or {}
    return [f"no {marker} test passed" for marker in MARKERS if not passed.get(marker)]


def main(argv):
    ci = "--ci" in argv
    argv = [arg for arg in argv if arg != "--ci"]
    try:
        bootstrap.ensure_venv(bootstrap.ROOT / "requirements-dev.txt",
                              ["-m", "tests", *(["--ci"] if ci else []), *argv])
    except bootstrap.BootstrapError as exc:
        print(f"tests: error: {exc}", file=sys.stderr)
        return 2
    import pytest

    os.chdir(bootstrap.ROOT)
    report = None
    if ci:
        try:
            argv, env = ci_arguments(argv, os.environ)
        except ValueError as exc:
            print(f"tests: error: {exc}", file=sys.stderr)
            return 2
        if "PYTEST_ADDOPTS" in os.environ:
            print(f"tests: ignoring PYTEST_ADDOPTS={os.environ['PYTEST_ADDOPTS']!r} for the CI run", file=sys.stderr)
        os.environ.clear()
        os.environ.update(env)
        report = tempfile.NamedTemporaryFile(prefix="ray-docker-tests-", suffix=".json", delete=False).name
        os.environ["RAY_DOCKER_TESTS_REPORT"] = report
    code = pytest.main(argv)
    if code == NO_TESTS_RAN:
        print("tests: no tests ran (or every one was skipped): that is a failure", file=sys.stderr)
        return 1
    if report and code == 0:
        with open(report, encoding="utf-8") as handle:
            problems = ci_problems(json.load(handle))
        if problems:
            print(f"tests: the CI run is incomplete: {'; '.join(problems)}", file=sys.stderr)
            return 1
    return int(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
