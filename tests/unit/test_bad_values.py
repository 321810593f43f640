"""The table of bad values (tests/bad_values.py) covers every variable of every role, and the settings check refuses
each value on its own: the e2e layer then proves the refusal against a running cluster, changing nothing."""

from pathlib import Path

import pytest
import yaml

from ansible_collections.ray_docker.cluster.plugins.module_utils import settings
from tests.bad_values import BAD

ROOT = Path(__file__).resolve().parents[2]
# Refused only with the other variables or the host's facts (the e2e CROSS cases and the preflight's later checks).
REFUSED_TOGETHER = {
    "ray_monitoring_host": "must be one of the Ray hosts (preflight.value_problems)",
    "registry_cache_host": "must be one of the Ray hosts (preflight.value_problems)",
}


def role_specs(role):
    base = ROOT / "roles" / role / "meta"
    specs = {}
    for entry in yaml.safe_load((base / "argument_specs.yml").read_text())["argument_specs"].values():
        specs.update(entry.get("options") or {})
    rules = yaml.safe_load((base / "validation.yml").read_text()) or {}
    return specs, rules


ROLES = sorted(path.parent.parent.name for path in ROOT.glob("roles/*/meta/argument_specs.yml"))


@pytest.mark.parametrize("role", ROLES)
def test_the_table_covers_every_variable_of_the_role(role):
    specs, _ = role_specs(role)
    assert sorted(set(specs) - set(BAD.get(role, {}))) == [], f"roles/{role}: variables without a bad value"
    assert sorted(set(BAD.get(role, {})) - set(specs)) == [], f"roles/{role}: bad values of no variable"


@pytest.mark.parametrize("role, name", [(role, name) for role in ROLES for name in sorted(BAD.get(role, {}))])
def test_each_bad_value_is_refused_naming_its_variable(role, name):
    specs, rules = role_specs(role)
    if name in REFUSED_TOGETHER:
        return
    _, errors = settings.check_variable(name, BAD[role][name], specs[name], rules.get(name))
    assert errors and all(error.startswith(name) for error in errors), (name, BAD[role][name], errors)
