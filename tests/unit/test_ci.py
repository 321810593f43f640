"""`python3 -m tests --ci` cannot be narrowed by accident: no argument or environment variable selects fewer
tests, the layers are listed once (pytest.ini agrees with tests/layers.py), and a marker passing fewer tests
than its floor fails the run."""

import json
from pathlib import Path

import pytest

from tests.__main__ import FLOORS, ci_arguments, ci_environment, ci_problems, read_floors
from tests.layers import LAYERS, ini_disagreements, marker_of

ROOT = Path(__file__).resolve().parents[2]
PYTEST_INI = """\
[pytest]
testpaths = tests/unit tests/lint tests/e2e tests/molecule
addopts = -ra --strict-markers
markers =
    unit: fast tests
    lint: ansible-lint
    e2e: end to end (100% real, so no interpolation)
    molecule: Molecule scenarios
"""
FLOORS_JSON = {"unit": 200, "lint": 20, "e2e": 100, "molecule": 5}


def test_ci_selects_every_layer_by_marker_and_folder():
    assert ci_arguments([]) == ["-m", "unit or lint or e2e or molecule", "--durations=0", "--durations-min=2",
                                "tests/unit", "tests/lint", "tests/e2e", "tests/molecule"]


def test_ci_refuses_arguments_that_would_narrow_it():
    with pytest.raises(ValueError, match="--ci takes no other argument"):
        ci_arguments(["-m", "unit"])


def test_ci_leaves_out_every_variable_pytest_reads_and_keeps_the_rest():
    environ = {"PYTEST_ADDOPTS": "-m unit", "PYTEST_PLUGINS": "skipper", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
               "PYTEST_CURRENT_TEST": "tests/unit/test_a.py::test_a (call)", "PYTEST_DEBUG": "1",
               "PYTEST_XDIST_AUTO_NUM_WORKERS": "1", "PY_IGNORE_IMPORTMISMATCH": "1",
               "HOME": "/root", "PATH": "/usr/bin", "RAYLAB_GRAFANA_ARCHIVE": "/tmp/grafana.tar",
               "RAYLAB_CACHE": "/cache", "MY_PYTEST_NOTE": "kept"}
    env, ignored = ci_environment(environ)
    assert env == {"HOME": "/root", "PATH": "/usr/bin", "RAYLAB_GRAFANA_ARCHIVE": "/tmp/grafana.tar",
                   "RAYLAB_CACHE": "/cache", "MY_PYTEST_NOTE": "kept"}
    assert ignored == {key: environ[key] for key in environ if key not in env}
    assert list(ignored) == sorted(ignored), "printed in a stable order"


def test_ci_with_a_clean_environment_ignores_nothing():
    assert ci_environment({"HOME": "/root"}) == ({"HOME": "/root"}, {})


GRAFANA_SKIP = {"marker": "e2e", "reason": "the lab's mirror serves no Grafana", "at_most": 2}


def report(passed=None, collected=None, skipped=(), xfail=()):
    passed = passed if passed is not None else dict(FLOORS_JSON)
    return {"passed_by_marker": passed, "collected_by_marker": collected if collected is not None else dict(passed),
            "skipped_tests": list(skipped), "xfail_tests": list(xfail)}


def floors_and_skips():
    return read_floors(json.dumps({"floors": FLOORS_JSON, "declared_skips": [dict(GRAFANA_SKIP)]}))


def test_a_ci_run_where_every_test_passed_is_complete_and_one_below_a_floor_is_not():
    floors, declared = floors_and_skips()
    assert ci_problems(report(), floors, declared) == []
    assert ci_problems(report({**FLOORS_JSON, "unit": 999}), floors, declared) == []
    short = {**FLOORS_JSON, "e2e": 99, "molecule": 0}
    assert ci_problems(report(short), floors, declared) == [
        "99 e2e tests passed, below its floor of 100 (tests/floors.json)",
        "0 molecule tests passed, below its floor of 5 (tests/floors.json)"]


def test_a_test_that_neither_passed_nor_was_skipped_for_a_declared_reason_fails_the_run():
    floors, declared = floors_and_skips()
    collected = {**FLOORS_JSON, "unit": 201}
    assert ci_problems(report(collected=collected), floors, declared) == [
        "1 unit tests neither passed nor were skipped for a declared reason"]


def test_only_a_declared_skip_is_allowed_and_only_so_many_times():
    floors, declared = floors_and_skips()
    grafana = {"test": "tests/e2e/test_monitoring.py::test_grafana", "marker": "e2e",
               "reason": "the lab's mirror serves no Grafana: no package source ..."}
    collected = {**FLOORS_JSON, "e2e": 101}
    assert ci_problems(report(collected=collected, skipped=[grafana]), floors, declared) == []
    other = {"test": "tests/e2e/test_site.py::test_x", "marker": "e2e", "reason": "flaky today"}
    assert ci_problems(report(collected=collected, skipped=[other]), floors, declared) == [
        "tests/e2e/test_site.py::test_x was skipped (flaky today), for no reason declared in tests/floors.json",
        "1 e2e tests neither passed nor were skipped for a declared reason"]
    three = {**FLOORS_JSON, "e2e": 103}
    problems = ci_problems(report(collected=three, skipped=[grafana] * 3), floors, floors_and_skips()[1])
    assert problems == ["more e2e tests were skipped for \"the lab's mirror serves no Grafana\" than the 2 "
                        "tests/floors.json declares"]
    unit_grafana = dict(grafana, marker="unit")
    assert "for no reason declared" in ci_problems(report(skipped=[unit_grafana]), floors, declared)[0]


def test_an_xfail_mark_fails_the_run():
    floors, declared = floors_and_skips()
    xfail = {"test": "tests/unit/test_a.py::test_a", "marker": "unit", "reason": "known bug", "outcome": "xfailed"}
    assert ci_problems(report(xfail=[xfail]), floors, declared) == [
        "tests/unit/test_a.py::test_a is marked xfail (xfailed: known bug): fix the test or the code, CI does not hide failures"]


def test_a_ci_run_without_counts_is_below_every_floor():
    floors, declared = floors_and_skips()
    assert ci_problems({}, floors, declared) == [f"0 {marker} tests passed, below its floor of {floor} (tests/floors.json)"
                                                 for marker, floor in FLOORS_JSON.items()]


def test_floors_come_back_in_layer_order():
    shuffled = dict(reversed(list(FLOORS_JSON.items())))
    assert list(read_floors(json.dumps({"floors": shuffled}))[0]) == list(LAYERS)


@pytest.mark.parametrize("floors, message", [
    ({key: value for key, value in FLOORS_JSON.items() if key != "e2e"}, "gives floors for"),
    ({**FLOORS_JSON, "slow": 3}, "gives floors for"),
    ({**FLOORS_JSON, "molecule": 0}, "the floor of molecule must be"),
    ({**FLOORS_JSON, "lint": "20"}, "the floor of lint must be"),
    ({**FLOORS_JSON, "lint": True}, "the floor of lint must be"),
    ({**FLOORS_JSON, "unit": 2.5}, "the floor of unit must be"),
])
def test_floors_cover_every_marker_with_at_least_one_test(floors, message):
    with pytest.raises(ValueError, match=message):
        read_floors(json.dumps({"floors": floors}))


def test_a_declared_skip_names_its_marker_reason_and_count():
    with pytest.raises(ValueError, match="a declared skip needs"):
        read_floors(json.dumps({"floors": FLOORS_JSON, "declared_skips": [{"marker": "e2e", "reason": "x"}]}))


def test_the_repository_floors_cover_every_marker_and_declare_only_the_grafana_skip():
    floors, declared = read_floors((ROOT / FLOORS).read_text(encoding="utf-8"))
    assert list(floors) == list(LAYERS)
    assert [(skip["marker"], skip["at_most"]) for skip in declared] == [("e2e", 2)]


def test_pytest_runs_with_xfail_strict():
    assert "xfail_strict = true" in (ROOT / "pytest.ini").read_text(encoding="utf-8")


def test_pytest_ini_agrees_with_the_layers():
    assert ini_disagreements((ROOT / "pytest.ini").read_text(encoding="utf-8")) == []
    assert ini_disagreements(PYTEST_INI) == []


@pytest.mark.parametrize("edit, named", [
    (("tests/e2e ", ""), "testpaths"),
    (("tests/unit tests/lint", "tests/lint tests/unit"), "testpaths"),
    (("    molecule: Molecule scenarios\n", ""), "markers"),
    (("    molecule: Molecule scenarios\n", "    molecule: Molecule scenarios\n    slow: long\n"), "markers"),
])
def test_pytest_ini_out_of_step_with_the_layers_is_named(edit, named):
    [problem] = ini_disagreements(PYTEST_INI.replace(*edit))
    assert problem.startswith(f"pytest.ini lists the {named}")


@pytest.mark.parametrize("path, marker", [
    ("tests/unit/test_ci.py", "unit"),
    ("tests/unit/raydeploy/test_cli.py", "unit"),
    ("tests/e2e/test_site.py", "e2e"),
    ("tests/molecule/test_molecule.py", "molecule"),
    ("tests/lab/util.py", None),
    ("tests/unitary/test_a.py", None),
])
def test_a_test_takes_the_marker_of_its_layer_folder(path, marker):
    assert marker_of(Path(path)) == marker
