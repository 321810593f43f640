"""ray_settings_check: every variable checked on every host before anything changes (scope=host), and the cluster as
a whole once the probe read each host (scope=cluster). The single checks are in module_utils/test_settings.py,
test_preflight.py and test_variable_names.py; here, what the action resolves, which checks it runs for which host,
what it keeps as facts and how it refuses."""

import sys

import pytest
from ansible.errors import AnsibleActionFail

from tests.unit.plugins.action.harness import GIB, Lab, host_facts, plugin, run

settings_check = plugin("ray_settings_check")


def check(lab, host="head", args=None, **task_vars):
    result, calls = run("ray_settings_check", lab.task_vars(host, **task_vars), args)
    assert calls == [], "the settings check contacts no host"
    return result


def refused(lab, host="head", args=None, **task_vars):
    with pytest.raises(AnsibleActionFail) as failure:
        check(lab, host, args, **task_vars)
    return str(failure.value), failure.value.result


# ---------------------------------------------------------------- scope=host

def test_a_hosts_settings_are_checked_and_kept_typed_as_its_fact():
    lab = Lab(heads=["head"], workers=["w1"], variables={"ray_gcs_port": "7000", "ray_gcs_fault_tolerance": "false",
                                                         "ray_cluster_name": "lab",
                                                         "ray_cluster_network": "{{ ray_cluster_name }}-net"})
    result = check(lab)
    typed = result["ansible_facts"]["preflight_settings"]
    assert result["changed"] is False and "failed" not in result
    assert typed["ray_gcs_port"] == 7000 and typed["ray_gcs_fault_tolerance"] is False, "typed as the specs say"
    assert typed["ray_cluster_network"] == "lab-net", "templated with the host's variables"
    assert typed["ray_dashboard_port"] == 8265 and typed["docker_registry_mirrors"] == [], "the roles' defaults"
    assert result["checked"] == len(typed) > 100
    assert not any(name.startswith("wsl2_") for name in typed), "the wsl2 role's variables apply to Windows PCs only"


def test_a_windows_pc_is_checked_against_the_wsl2_role_and_its_secret_stays_out_of_the_facts(home):
    (home / ".ssh").mkdir()
    (home / ".ssh" / "id_ed25519.pub").write_text("ssh-ed25519 AAAA me\n")
    lab = Lab(heads=["head"], workers=["d1"], groups={"windows_wsl": ["pc1"]},
              host_variables={"pc1": {"wsl2_distro_host": "d1", "wsl2_task_logon_type": "password",
                                      "wsl2_task_password": "hunter2"}, "d1": {"ansible_port": 2222}})
    result = check(lab, "pc1")
    typed = result["ansible_facts"]["preflight_settings"]
    assert typed["wsl2_distro_host"] == "d1" and typed["wsl2_task_logon_type"] == "password"
    assert "wsl2_task_password" not in typed and "hunter2" not in repr(result)
    assert "ray_gcs_port" in typed, "the ray role applies to the PCs too (their firewall opens its ports)"
    assert "docker_registry_mirrors" not in typed


def test_a_bad_value_is_refused_naming_the_variable_and_the_host():
    message, result = refused(Lab(variables={"ray_gcs_port": 70000}))
    assert message == "Settings refused for host head: ray_gcs_port=70000: must be in [1, 65535]. Nothing was changed."
    assert result["errors"] == ["ray_gcs_port=70000: must be in [1, 65535]"] and result["failed"] is True
    assert result["checked"] > 100


def test_a_value_that_cannot_be_evaluated_is_refused_naming_it():
    message, result = refused(Lab(variables={"ray_version": "{{ undefined_thing }}"}))
    assert "ray_version: cannot be evaluated: 'undefined_thing' is undefined" in result["errors"]


def test_a_misspelt_variable_is_refused_naming_the_closest_name():
    message, _ = refused(Lab(variables={"ray_cluster_nmae": "x"}))
    assert "ray_cluster_nmae" in message and "did you mean ray_cluster_name?" in message
    assert "ray_cluster_nmae" not in check(Lab(variables={"ray_cluster_nmae": "x",
                                                          "preflight_foreign_variables": ["ray_cluster_nmae"]}))[
        "ansible_facts"]["preflight_settings"], "declared as another role's: accepted"


def test_values_are_checked_among_themselves():
    message, _ = refused(Lab(variables={"ray_dashboard_port": 6379}))
    assert "Port problem: ray_gcs_port=6379 collides with ray_dashboard_port" in message
    message, _ = refused(Lab(heads=["head"], workers=["w1"], variables={"ray_monitoring_host": "elsewhere"}))
    assert "ray_monitoring_host=elsewhere must be one of the Ray hosts (head, w1)" in message


def test_extra_start_args_are_checked_against_the_control_nodes_ray(monkeypatch):
    monkeypatch.setattr(settings_check, "ray_start_flags", lambda: {"--num-cpus", "--labels"})
    message, _ = refused(Lab(variables={"ray_cluster_extra_start_args": ["--no-such-flag=1"]}))
    assert "`ray start` has no flag --no-such-flag" in message
    assert check(Lab(variables={"ray_cluster_extra_start_args": ["--labels={}"]}))["checked"] > 0
    monkeypatch.setattr(settings_check, "ray_start_flags", lambda: None)  # no Ray on the control node
    assert check(Lab(variables={"ray_cluster_extra_start_args": ["--no-such-flag=1"]}))["checked"] > 0


def test_without_rays_cli_on_the_control_node_the_flags_are_unknown(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray.scripts.scripts", None)  # import fails
    assert settings_check.ray_start_flags() is None


def test_only_the_plays_first_host_checks_the_inventory():
    lab = Lab(heads=["a", "b"])
    message, result = refused(lab, "a")
    assert message == ("The inventory does not describe one Ray cluster: Inventory problem: group ray_head must hold "
                       "exactly one host (found: a, b). Nothing was changed.")
    assert "ansible_facts" not in result
    assert check(lab, "b")["ansible_facts"]["preflight_settings"]["ray_cluster_name"] == "ray"


def test_host_networking_with_several_nodes_per_host_is_an_inventory_problem():
    lab = Lab(heads=["head"], workers=["w1"], host_variables={"w1": {"ray_node_count": 2}})
    message, _ = refused(lab)
    assert "host w1: ray_node_count=2, but with host networking each host runs exactly one Ray node" in message
    lab = Lab(heads=["head"], host_variables={"head": {"ray_node_count": 3}})
    assert check(lab)["checked"] > 0, "one host: bridge networking, several nodes"
    message, _ = refused(Lab(heads=["head"], workers=["w1"], variables={"ray_network_mode": "bridge"}))
    assert "ray_network_mode=bridge only works with one host" in message


@pytest.fixture
def pc_lab(home):
    (home / ".ssh").mkdir()
    (home / ".ssh" / "id_ed25519.pub").write_text("ssh-ed25519 AAAA me\n")

    def make(distro_host, distro_port=2222, ssh_port=None):
        variables = {"wsl2_distro_host": distro_host}
        if ssh_port:
            variables["wsl2_ssh_port"] = ssh_port
        return Lab(heads=["head"], workers=["d1"], groups={"windows_wsl": ["pc1"]},
                   host_variables={"pc1": variables, "d1": {"ansible_port": distro_port}})
    return make


def test_a_windows_pcs_distribution_must_be_a_ray_host_reached_on_its_sshd_port(pc_lab):
    message, _ = refused(pc_lab("d9"), "pc1")
    assert "wsl2_distro_host=d9: must be one of the Ray hosts" in message
    message, _ = refused(pc_lab("d1", distro_port=22), "pc1")
    assert ("wsl2_ssh_port=2222: the distribution's sshd would listen there, but its inventory host d1 is reached on "
            "ansible_port=22: make them the same") in message
    assert check(pc_lab("d1", distro_port=2200, ssh_port=2200), "pc1")["checked"] > 0
    assert check(pc_lab("d1", distro_port="2222"), "pc1")["checked"] > 0, "an INI inventory's port is a string"
    assert check(pc_lab(""), "pc1")["checked"] > 0, "a PC whose distribution is not named yet"


def test_a_lab_with_windows_pcs_keeps_its_ports_below_windows_dynamic_range(pc_lab):
    lab = pc_lab("d1")
    lab.variables["ray_max_worker_port"] = 50000
    message, _ = refused(lab, "head")
    assert "ray_max_worker_port=50000: must be below 49152" in message


# ---------------------------------------------------------------- scope=cluster

def probed(lab, outcomes=None, typed=None):
    """Each host's probe result (registered as preflight_probe) and its checked settings, as the preflight leaves
    them before the cluster check."""
    for host in lab.hosts:
        values = lab.host_variables.setdefault(host, {})
        values["preflight_probe"] = (outcomes or {}).get(host, {"changed": False})
        values["ansible_facts"] = {"preflight_settings": dict({"ray_cluster_name": "ray", "ray_network_mode": "auto"},
                                                              **(typed or {}))}
    return lab


def test_a_cluster_that_answers_and_fits_passes_with_each_hosts_share():
    lab = probed(Lab(heads=["head"], workers=["w1"], facts={"w1": host_facts("10.0.0.12", cpus=4, mem_total=16 * GIB)}))
    result = check(lab, args={"scope": "cluster"})
    assert result["skipped_hosts"] == [] and result["platforms"] == {}
    assert result["ansible_facts"] == {"preflight_unreachable": []}
    assert [node["node_name"] for node in result["resources"]["head"]] == ["ray-head@head"]
    assert result["resources"]["w1"][0]["num_cpus"] == 4 and result["resources"]["head"][0]["num_cpus"] == 8


def test_a_worker_that_does_not_answer_is_skipped_and_named():
    lab = probed(Lab(heads=["head"], workers=["w1", "w2"]), {"w2": {"unreachable": True, "msg": "timed out"}})
    result = check(lab, args={"scope": "cluster"})
    assert result["skipped_hosts"] == ["w2"] and result["ansible_facts"] == {"preflight_unreachable": ["w2"]}
    assert "w2" not in result["resources"]


def test_the_head_not_answering_a_failed_probe_or_require_all_hosts_stops_the_run():
    lab = probed(Lab(heads=["head"], workers=["w1"]), {"head": {"unreachable": True}})
    message, result = refused(lab, args={"scope": "cluster"})
    assert "The head head does not answer" in message and message.endswith("Nothing was changed.")
    assert result["failed"] is True and result["errors"] and "ansible_facts" not in result
    lab = probed(Lab(heads=["head"], workers=["w1"]), {"w1": {"failed": True, "msg": "boom"}})
    assert "Hosts that failed the probe: w1." in refused(lab, args={"scope": "cluster"})[0]
    lab = probed(Lab(heads=["head"], workers=["w1"]), {"w1": {"unreachable": True}}, {"ray_require_all_hosts": True})
    assert "Hosts that do not answer: w1 (ray_require_all_hosts is true)." in refused(lab, args={"scope": "cluster"})[0]


def test_a_distribution_still_being_set_up_is_not_skipped_nor_required():
    lab = probed(Lab(heads=["head"], workers=["d1"]), {"d1": {"unreachable": True}}, {"ray_require_all_hosts": True})
    result = check(lab, args={"scope": "cluster", "pending": ["d1"]})
    assert result["skipped_hosts"] == [] and result["ansible_facts"] == {"preflight_unreachable": []}


def test_the_probe_is_read_under_the_name_given():
    lab = probed(Lab(heads=["head"], workers=["w1"]))
    lab.host_variables["w1"]["my_probe"] = {"unreachable": True}
    assert check(lab, args={"scope": "cluster", "probe": "my_probe"})["skipped_hosts"] == ["w1"]


def test_a_host_too_small_for_its_nodes_or_two_hosts_with_one_address_are_refused():
    lab = probed(Lab(heads=["head"], workers=["w1"], facts={"w1": host_facts("10.0.0.12", cpus=1, mem_total=GIB)}))
    message, result = refused(lab, args={"scope": "cluster"})
    assert "host w1:" in message and "w1" in result["resources"]
    lab = probed(Lab(heads=["head"], workers=["w1"], facts={"w1": host_facts("10.0.0.11")}))
    assert "Hosts share a Ray node address: 10.0.0.11 is claimed by head and w1" in refused(lab, args={"scope": "cluster"})[0]


def test_docker_desktop_and_wsl_hosts_are_named_for_the_recap():
    wsl = host_facts("10.0.0.12", wsl=True, wsl_version=2)
    lab = probed(Lab(heads=["head"], workers=["w1"], facts={"w1": wsl}))
    assert check(lab, args={"scope": "cluster"})["platforms"] == {"w1": "WSL2, Docker Engine in the distribution"}
    desktop = host_facts("10.0.0.12", wsl=True, wsl_version=2, engine_os="Docker Desktop")
    lab = probed(Lab(heads=["head"], workers=["w1"], facts={"w1": desktop}))
    message, result = refused(lab, args={"scope": "cluster"})
    assert "w1 runs Docker Desktop" in message and result["platforms"] == {"w1": "WSL2, Docker Desktop"}


def test_an_unknown_scope_is_refused():
    with pytest.raises(AnsibleActionFail, match="value of scope must be one of: host, cluster"):
        check(Lab(), args={"scope": "everything"})
