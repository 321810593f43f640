"""`python3 -m tests`: the whole test suite, on a machine with only python3.

Builds .venv from requirements-dev.txt when needed, then runs pytest there. The end-to-end
tests bring up the test lab themselves (Docker engine, registry mirror, Ray image).
Extra arguments go to pytest, e.g. `python3 -m tests -m unit`.

`python3 -m tests --ci` (what .ci/run runs) takes no other argument: it ignores the environment variables
that change which tests pytest collects or runs (printing each), selects every layer of tests/layers.py
explicitly, and fails unless each marker passed at least its floor of tests (tests/floors.json), so that a
leftover variable, a selection or a mass skip cannot quietly drop tests from a green run.
"""

import json
import os
import sys
import tempfile

from raydeploy import bootstrap
from tests.layers import LAYERS

NO_TESTS_RAN = 5
# Per marker, the fewest tests a CI run must pass; adding tests includes raising its marker's floor there.
FLOORS = "tests/floors.json"
# A CI log lists every test phase that took 2 s or more: where the run's minutes go, to keep it under 45.
DURATIONS = ("--durations=0", "--durations-min=2")
# pytest reads it besides its PYTEST_* variables: set, a test module may be silently shadowed by a namesake.
PYTEST_VARIABLES = ("PY_IGNORE_IMPORTMISMATCH",)


def ci_arguments(argv):
    """The pytest arguments of a CI run: every layer; raises ValueError for arguments that would narrow it."""
    if argv:
        raise ValueError(f"--ci takes no other argument (got {' '.join(argv)}): CI runs everything")
    return ["-m", " or ".join(LAYERS), *DURATIONS, *LAYERS.values()]


def ci_environment(environ):
    """(environment of a CI run, {name: value} it leaves out): every variable pytest reads to pick plugins,
    options or tests. The project's own (RAYLAB_CACHE, RAYLAB_GRAFANA_ARCHIVE, ...) stay: they place caches
    or let more tests run, never fewer."""
    ignored = {key: value for key, value in sorted(environ.items())
               if key.startswith("PYTEST_") or key in PYTEST_VARIABLES}
    return {key: value for key, value in environ.items() if key not in ignored}, ignored


def read_floors(text):
    """{marker: floor} in LAYERS order from floors.json's text; raises ValueError unless every marker, and only
    they, has a floor of at least 1 (a floor of 0 would let that marker's tests all skip)."""
    floors = json.loads(text).get("floors") or {}
    if set(floors) != set(LAYERS):
        raise ValueError(f"{FLOORS} gives floors for {sorted(floors)}, the markers are {sorted(LAYERS)}")
    for marker, floor in floors.items():
        if type(floor) is not int or floor < 1:
            raise ValueError(f"{FLOORS}: the floor of {marker} must be a whole number of at least 1, not {floor!r}")
    return {marker: floors[marker] for marker in LAYERS}


def ci_problems(report, floors):
    """Why a CI run must fail although pytest passed: markers that passed fewer tests than their floor."""
    passed = (report or {}).get("passed_by_marker") or {}
    return [f"{passed.get(marker, 0)} {marker} tests passed, below its floor of {floor} ({FLOORS})"
            for marker, floor in floors.items() if passed.get(marker, 0) < floor]


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
            argv = ci_arguments(argv)
            with open(FLOORS, encoding="utf-8") as handle:
                floors = read_floors(handle.read())
        except (OSError, ValueError) as exc:
            print(f"tests: error: {exc}", file=sys.stderr)
            return 2
        env, ignored = ci_environment(os.environ)
        for name, value in ignored.items():
            print(f"tests: ignoring {name}={value!r} for the CI run", file=sys.stderr)
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
            problems = ci_problems(json.load(handle), floors)
        if problems:
            print(f"tests: the CI run is incomplete: {'; '.join(problems)}", file=sys.stderr)
            return 1
    return int(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
