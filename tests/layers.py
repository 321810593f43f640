"""The test layers, listed once: each pytest marker and the folder (from the checkout's root) whose tests carry it.

conftest.py marks tests from it and `python3 -m tests --ci` selects from it. pytest.ini repeats the markers and
testpaths because pytest reads them only from there; ini_disagreements, run by a unit test, keeps the two in step.
Only the standard library here: `python3 -m tests` imports this before .venv exists.
"""

import configparser
from pathlib import PurePath

# In running order: the fast layers first, so a broken change fails in seconds rather than after the lab.
LAYERS = {
    "unit": "tests/unit",
    "lint": "tests/lint",
    "e2e": "tests/e2e",
    "molecule": "tests/molecule",
}


def marker_of(path):
    """The marker of the layer whose folder holds `path` (relative to the checkout's root), None outside them."""
    return next((marker for marker, folder in LAYERS.items() if PurePath(path).is_relative_to(folder)), None)


def ini_disagreements(ini_text):
    """How the markers and testpaths of pytest.ini's text differ from LAYERS, as messages; [] when they agree."""
    ini = configparser.ConfigParser(interpolation=None)
    ini.read_string(ini_text)
    section = ini["pytest"]
    markers = [line.split(":")[0].strip() for line in section.get("markers", "").splitlines() if line.strip()]
    testpaths = section.get("testpaths", "").split()
    problems = []
    if markers != list(LAYERS):
        problems.append(f"pytest.ini lists the markers {markers}, tests/layers.py {list(LAYERS)}")
    if testpaths != list(LAYERS.values()):
        problems.append(f"pytest.ini lists the testpaths {testpaths}, tests/layers.py {list(LAYERS.values())}")
    return problems
