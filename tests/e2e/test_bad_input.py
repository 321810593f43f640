"""Every variable of every role, fed a bad value against a running healthy cluster: the run stops before
any change with a message naming the variable, and the cluster and daemon.json stay exactly as they were.

The table (tests/bad_values.py) must hold a bad value for every variable in every roles/*/meta/argument_specs.yml:
the unit layer fails a new variable without one (tests/unit/test_bad_values.py). Values go in one run per role (the
preflight reports every problem at once; each variable must be named), then the checks that span
variables or need the host's facts, one run each.
"""

import json
import re
from pathlib import Path

import pytest

from tests.bad_values import BAD

from .conftest import host_fingerprint, run_runner

ROOT = Path(__file__).resolve().parents[2]
# The wsl2 role's variables are checked on Windows PCs: that batch adds one (never contacted: the
# settings check runs on the control node before any connection).
WINDOWS_PC = """
all:
  children:
    windows_wsl:
      hosts:
        pc-1: {ansible_host: 192.0.2.10, ansible_connection: ssh, ansible_shell_type: powershell}
"""

# Problems no single value shows: each alone, with (part of) the message that must name it.
CROSS = {
    "more CPUs than the host has": ({"ray_cluster_worker_num_cpus": 2},
                                    r"host localhost: ray_cluster_head_num_cpus/ray_cluster_worker_num_cpus give its 3 "
                                    r"Ray node\(s\) \d+ CPUs, but it has \d+"),
    "more memory than the host has": ({"ray_cluster_worker_memory": "64G"}, r"host localhost: its Ray containers would need"),
    "open files above the hard limit": ({"ray_cluster_nofile_limit": 1048576},
                                        r"ray_cluster_nofile_limit=1048576: must be at most the host's hard limit"),
    "a flag the role sets": ({"ray_cluster_extra_start_args": ["--num-cpus=4"]},
                             r"ray_cluster_extra_start_args: --num-cpus is set by the role"),
    "a flag Ray does not have": ({"ray_cluster_extra_start_args": ["--no-such-flag"]},
                                 r"ray_cluster_extra_start_args: `ray start` has no flag --no-such-flag"),
    "token authentication switched off": ({"ray_cluster_env": {"RAY_AUTH_MODE": "disabled"}},
                                          r"ray_cluster_env: RAY_AUTH_MODE is set by the role"),
    "ports colliding": ({"ray_metrics_export_port": 6379}, r"ray_metrics_export_port=6379 collides with ray_gcs_port"),
    "the cache's port colliding": ({"registry_cache_port": 8265}, r"registry_cache_port=8265 collides with ray_dashboard_port"),
    "the cache on a host that is not a Ray host": ({"registry_cache_host": "elsewhere"},
                                                   r"registry_cache_host=elsewhere must be one of the Ray hosts"),
    "an empty worker port range": ({"ray_min_worker_port": 20000, "ray_max_worker_port": 19999},
                                   r"ray_min_worker_port=20000 and ray_max_worker_port=19999"),
    "a mirror set twice": ({"docker_registry_mirrors": ["http://127.0.0.1:5000"],
                            "docker_daemon_options": {"registry-mirrors": ["http://x:5000"]}},
                           r"docker_daemon_options sets 'registry-mirrors' and docker_registry_mirrors sets it too"),
}


def refused(extra, healthy_cluster, inventories=(), verb="site"):
    before = host_fingerprint()
    result = run_runner(verb, *(arg for path in inventories for arg in ("-i", str(path))), "-e", json.dumps(extra))
    assert result.rc == 1 and result.summary["status"] == "failed", result.stderr[-3000:]
    assert "Nothing was changed" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.summary["changed"] == 0
    after = host_fingerprint()
    assert after == before, {key: (before[key], after[key]) for key in before if before[key] != after[key]}
    return result.stderr


@pytest.mark.parametrize("role", sorted(BAD))
def test_every_bad_value_of_a_role_is_refused_naming_it(role, healthy_cluster, tmp_path):
    inventories = ()
    if role == "wsl2":
        (tmp_path / "windows.yml").write_text(WINDOWS_PC)
        inventories = (ROOT / "inventory" / "localhost.yml", tmp_path / "windows.yml")
    stderr = refused(BAD[role], healthy_cluster, inventories)
    named = {name for name in BAD[role] if re.search(rf"\b{name}(=|\[| key )", stderr)}
    assert sorted(set(BAD[role]) - named) == [], stderr[-4000:]
    assert f"Settings refused for host {'pc-1' if role == 'wsl2' else 'localhost'}" in stderr
    if role == "wsl2":
        assert "wsl2_task_password=<hidden>" in stderr, "a secret is never shown"


# One variable per role in a run of its own (a batch could hide a check that only prints), through the verb that
# runs the role on its own where there is one.
ALONE = {role: next(iter(values.items())) for role, values in BAD.items() if role not in ("wsl2", "preflight")}
VERB_OF = {"docker": "docker", "registry_cache": "cache", "ray_image": "image", "ray_cluster": "cluster",
           "ray_monitoring": "monitoring"}


@pytest.mark.parametrize("role", sorted(ALONE))
def test_one_bad_value_alone_is_refused_by_its_roles_verb(role, healthy_cluster):
    name, value = ALONE[role]
    stderr = refused({name: value}, healthy_cluster, verb=VERB_OF.get(role, "site"))
    assert re.search(rf"\b{name}(=|\[| key )", stderr), stderr[-3000:]


@pytest.mark.parametrize("case", sorted(CROSS))
def test_problems_across_variables_are_refused_naming_them(case, healthy_cluster):
    extra, needle = CROSS[case]
    stderr = refused(extra, healthy_cluster)
    assert re.search(needle, stderr), stderr[-3000:]
