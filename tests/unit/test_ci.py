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


def test_a_ci_run_at_its_floors_is_complete_and_one_below_a_floor_is_not():
    floors = read_floors(json.dumps({"floors": FLOORS_JSON}))
    assert ci_problems({"passed_by_marker": FLOORS_JSON}, floors) == []
    assert ci_problems({"passed_by_marker": {**FLOORS_JSON, "unit": 999}}, floors) == []
    short = {**FLOORS_JSON, "e2e": 99, "molecule": 0}
    assert ci_problems({"passed_by_marker": short}, floors) == [
        "99 e2e tests passed, below its floor of 100 (tests/floors.json)",
        "0 molecule tests passed, below its floor of 5 (tests/floors.json)"]


def test_a_ci_run_without_counts_is_below_every_floor():
    floors = read_floors(json.dumps({"floors": FLOORS_JSON}))
    assert ci_problems({}, floors) == [f"0 {marker} tests passed, below its floor of {floor} (tests/floors.json)"
                                       for marker, floor in FLOORS_JSON.items()]


def test_floors_come_back_in_layer_order():
    shuffled = dict(reversed(list(FLOORS_JSON.items())))
    assert list(read_floors(json.dumps({"floors": shuffled}))) == list(LAYERS)


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


def test_the_repository_floors_cover_every_marker():
    floors = read_floors((ROOT / FLOORS).read_text(encoding="utf-8"))
    assert list(floors) == list(LAYERS)


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
