"""`python3 -m tests`: the whole test suite, on a machine with only python3.

Builds .venv from requirements-dev.txt when needed, then runs pytest there. The end-to-end
tests bring up the test lab themselves (Docker engine, registry mirror, Ray image).
Extra arguments go to pytest, e.g. `python3 -m tests -m unit`.

`python3 -m tests --ci` (what .ci/run runs) takes no other argument: it ignores the environment variables
that change which tests pytest collects or runs (printing each), selects every layer of tests/layers.py
explicitly, and fails unless every collected test passed or was skipped for a reason tests/floors.json declares
(Grafana's missing image), no test is marked xfail, and each marker passed at least its floor of tests, so that a
leftover variable, a selection, a skip or a lost folder cannot quietly drop tests from a green run.
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
# A CI log lists every test phase that took 2 s or more: where the run's minutes go, to keep it under 55.
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
    """({marker: floor} in LAYERS order, [declared skip]) from floors.json's text; raises ValueError unless every
    marker, and only they, has a floor of at least 1 (a floor of 0 would let that marker's tests all vanish), and each
    declared skip names its marker, a reason (a regular expression the skip's reason must match) and at most how many."""
    data = json.loads(text)
    floors = data.get("floors") or {}
    if set(floors) != set(LAYERS):
        raise ValueError(f"{FLOORS} gives floors for {sorted(floors)}, the markers are {sorted(LAYERS)}")
    for marker, floor in floors.items():
        if type(floor) is not int or floor < 1:
            raise ValueError(f"{FLOORS}: the floor of {marker} must be a whole number of at least 1, not {floor!r}")
    declared = data.get("declared_skips") or []
    for skip in declared:
        if skip.get("marker") not in LAYERS or not skip.get("reason") or type(skip.get("at_most")) is not int:
            raise ValueError(f"{FLOORS}: a declared skip needs a marker of {sorted(LAYERS)}, a reason and at_most: {skip}")
    return {marker: floors[marker] for marker in LAYERS}, declared


def ci_problems(report, floors, declared=()):
    """Why a CI run must fail although pytest passed: a test skipped for a reason nobody declared (or more than
    declared), an xfail mark (it hides a failure), a marker where a test neither passed nor was skipped for a declared
    reason, and a marker below its floor (a folder lost)."""
    import re

    report = report or {}
    passed = report.get("passed_by_marker") or {}
    collected = report.get("collected_by_marker") or {}
    problems = [f"{item['test']} is marked xfail ({item['outcome']}: {item['reason']}): fix the test or the code, "
                "CI does not hide failures" for item in report.get("xfail_tests") or []]
    allowed = {marker: 0 for marker in LAYERS}
    for skip in report.get("skipped_tests") or []:
        match = next((entry for entry in declared if entry["marker"] == skip.get("marker")
                      and re.search(entry["reason"], skip.get("reason") or "")), None)
        if match is None:
            problems.append(f"{skip['test']} was skipped ({skip.get('reason')}), for no reason declared in {FLOORS}")
            continue
        match["_seen"] = match.get("_seen", 0) + 1
        allowed[skip["marker"]] += 1
    for entry in declared:
        if entry.pop("_seen", 0) > entry["at_most"]:
            problems.append(f"more {entry['marker']} tests were skipped for {entry['reason']!r} than the {entry['at_most']} "
                            f"{FLOORS} declares")
    for marker, floor in floors.items():
        got, wanted = passed.get(marker, 0), collected.get(marker, 0) - allowed[marker]
        if got < wanted:
            problems.append(f"{wanted - got} {marker} tests neither passed nor were skipped for a declared reason")
        if got < floor:
            problems.append(f"{got} {marker} tests passed, below its floor of {floor} ({FLOORS})")
    return problems


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
                floors, declared = read_floors(handle.read())
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
            problems = ci_problems(json.load(handle), floors, declared)
        if problems:
            print(f"tests: the CI run is incomplete: {'; '.join(problems)}", file=sys.stderr)
            return 1
    return int(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
