"""A Windows PC of a lab: its refusals, changes and way back (plugins/module_utils/windows_pc.py), on real output samples
where they exist (samples/README.md next to this file says where each is from)."""

import base64
import json
from pathlib import Path

import pytest

from ansible_collections.ray_docker.cluster.plugins.module_utils import windows_pc, wsl

SAMPLES = Path(__file__).parent / "samples"


def sample(name):
    return (SAMPLES / name).read_bytes()


@pytest.mark.parametrize("name, expected", [
    ("netsh_excludedportrange_en.txt", [(80, 80, False), (5986, 5986, False), (47001, 47001, False), (55679, 55679, True)]),
    ("netsh_excludedportrange_de.txt", [(28380, 28380, False), (28385, 28385, False), (49708, 49807, False),
                                        (49808, 49907, False), (50000, 50000, True), (50001, 50100, False)]),
])
def test_excluded_port_ranges_in_any_language(name, expected):
    assert windows_pc.parse_excluded_port_ranges(sample(name).decode("utf-8")) == expected


def test_pinned_ports_inside_an_excluded_range_are_named():
    ranges = windows_pc.parse_excluded_port_ranges(sample("netsh_excludedportrange_de.txt").decode("utf-8"))
    problems = windows_pc.excluded_port_conflicts(ranges, {"ray_gcs_port": 6379, "ray_dashboard_port": 49800},
                                           (50050, 50060))
    assert problems[0].startswith("ray_dashboard_port=49800 lies in a range reserved by Windows")
    assert "49708-49807" in problems[0]
    assert "overlaps 50001-50100" in problems[1]
    assert windows_pc.excluded_port_conflicts(ranges, {"ray_gcs_port": 6379}, (10002, 19999)) == []


@pytest.mark.parametrize("version, build", [("10.0.22631.0", 22631), ("10.0.19045.0", 19045), ("22621", 22621), ("", 0)])
def test_windows_build(version, build):
    assert windows_pc.windows_build(version) == build


def test_windows_preflight_verdicts():
    assert windows_pc.windows_problems(26100, True, True, "S-1-5-21-1-2-3-1001", []) == []
    assert "this PC is arm64" in windows_pc.windows_problems(26100, True, True, "S-1-5-21-1", [], "arm64")[0]
    assert "the session is not elevated" in windows_pc.windows_problems(26100, True, True, "S-1-5-21-1", [], elevated=False)[0]
    assert "no mirrored networking" in windows_pc.windows_problems(19045, True, True, "S-1-5-21-1", [])[0]
    assert windows_pc.windows_problems(19045, False, True, "S-1-5-21-1", []) == [], "a single-PC cluster is fine on Windows 10"
    assert "virtualization is off" in windows_pc.windows_problems(22631, True, False, "S-1-5-21-1", [])[0]
    assert "connects as SYSTEM" in windows_pc.windows_problems(22631, True, True, "S-1-5-18", [])[0]
    assert "too old" in windows_pc.windows_problems(17763, False, True, "S-1-5-21-1", [])[0]


def test_firewall_rules_cover_every_port_and_the_worker_range_for_the_lab_only():
    rules = windows_pc.firewall_rules({"ray_gcs_port": 6379, "ray_dashboard_port": 8265}, (10002, 19999), 2222,
                               ["10.0.0.12", "10.0.0.11", "10.0.0.12"])
    assert [rule["localport"] for rule in rules] == ["8265", "6379", "10002-19999", "2222"]
    assert len({rule["name"] for rule in rules}) == len(rules)
    assert all(rule["profiles"] == ["domain", "private"] for rule in rules), "never the Public profile"
    assert all(rule["remoteip"] == "10.0.0.11,10.0.0.12" for rule in rules), "from the inventory's hosts only"


# ---- Windows PCs for real (the behaviour each test relies on is quoted from its source) ----

def test_a_pending_feature_reboot_is_seen_from_the_features_state():
    """ansible.windows win_optional_feature.ps1@a1e2a842 l.44-45: `if ($state -eq "present" -and
    $feature_state_start.State -notlike "Enabled*")` / `# Matches for "Enabled" and "EnablePending"`: a feature
    enabled by an earlier run whose reboot never happened reports reboot_required false."""
    assert windows_pc.pending_feature_reboot({"VirtualMachinePlatform": "EnablePending",
                                       "Microsoft-Windows-Subsystem-Linux": "Enabled"}) == ["VirtualMachinePlatform"]
    assert windows_pc.pending_feature_reboot({"VirtualMachinePlatform": "Enabled", "Microsoft-Windows-Subsystem-Linux": "Disabled"}) == []


def test_distribution_names_match_case_insensitively_as_wsl_compares_them():
    """microsoft/WSL LxssUserSession.cpp l.1289 (GetDistributionId): `IsEqual(DistributionName,
    registration.Read(Property::Name), true)`, the third argument being CaseInsensitive."""
    assert windows_pc.distribution_registered(["Ubuntu-24.04", "RAY-NODE"], "ray-node")
    assert not windows_pc.distribution_registered(["Ubuntu-24.04"], "ray-node"), "the user's own Ubuntu is never adopted"


@pytest.mark.parametrize("host, port, name", [("PC-1", 2222, "[pc-1]:2222"), ("10.0.0.21", 22, "10.0.0.21")])
def test_the_distributions_host_key_is_recorded_as_ssh_keyscan_writes_it(host, port, name):
    """openssh-portable misc.c l.789-798 (put_host_port): the plain host for port 22, else `[%s]:%d`; ssh-keyscan.c
    l.324-325 lower-cases it. ansible.builtin.known_hosts: "For custom SSH port, name needs to specify port as well"."""
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl root@ray-node"
    entry_name, line = windows_pc.known_hosts_entry(host, port, key)
    assert entry_name == name and line == f"{name} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
    with pytest.raises(ValueError):
        windows_pc.known_hosts_entry(host, port, "cat: /etc/ssh/ssh_host_ed25519_key.pub: No such file or directory")


@pytest.mark.parametrize("installed, outdated", [("", True), ("2.6.1.0", True), ("2.7.14.0", False), ("2.8.0.0", False)])
def test_the_msi_is_installed_only_over_an_older_one(installed, outdated):
    """microsoft/WSL msipackage: the MSI records HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Lxss\\MSI Version."""
    assert windows_pc.msi_outdated(installed, "2.7.14") is outdated


SETTINGS = {"wsl2_msi_version": "2.7.14", "wsl2_distribution": "ray-node", "wsl2_networking_mode": "mirrored",
            "wsl2_memory": "16GB", "wsl2_swap": "", "wsl2_processors": 0, "wsl2_wslconfig_extra": {}, "wsl2_ssh_port": 2222,
            "wsl2_install_dir": "", "wsl2_download_dir": "", "wsl2_firewall": True, "wsl2_firewall_profiles": ["domain", "private"],
            "wsl2_prevent_sleep": True, "wsl2_task_logon_type": "s4u", "wsl2_task_password": ""}
SID = "S-1-5-21-3623811015-3361044348-30300820-1013"
STATE = {"build": 26100, "architecture": "X64", "virtualization": True, "account": "PC-1\\raylab", "account_sid": SID,
         "elevated": True, "features": {"VirtualMachinePlatform": "Enabled", "Microsoft-Windows-Subsystem-Linux": "Enabled"},
         "wsl_msi_version": "2.7.14.0", "machine_guid": "a", "excluded_ports": "", "hyperv_firewall": True,
         "hyperv_firewall_state": {"disabled_by_registry": False, "supported": True}, "flow_steering": True,
         "reboot_pending": False, "profile": "C:\\Users\\raylab", "local_app_data": "C:\\Users\\raylab\\AppData\\Local",
         "distributions": ["Ubuntu-24.04"], "wslconfig_text": "", "wslconfig_encoding": "utf-8", "wslconfig_exists": False,
         "network": {"server_address": "10.0.0.21", "interfaces": [
             {"index": 12, "alias": "Ethernet", "category": 1, "addresses": ["10.0.0.21"]},
             {"index": 19, "alias": "Wi-Fi", "category": 0, "addresses": ["192.168.1.7"]}]},
         "power": {"standby": 0, "hibernate": 0}, "task": {"exists": False}, "firewall_rules": [], "hyperv_rules": []}


def plan(settings=None, multi_host=True, control_pc=False, **changes):
    return windows_pc.pc_plan({**STATE, **changes}, {**SETTINGS, **(settings or {})}, multi_host, control_pc,
                              ["10.0.0.11"], {"ray_gcs_port": 6379}, (10002, 19999))


def applied(result, state=None):
    """The PC's state once a run applied `result`: its .wslconfig and record written, its task registered."""
    state = dict(state or STATE)
    exported = (SAMPLES / "task_export_keep_alive.xml").read_text()
    return {**state, "wslconfig_text": result["wslconfig"]["text"], "wslconfig_exists": True,
            "record_b64": base64.b64encode(result["record"]["text"].encode()).decode(),
            "distributions": state["distributions"] + ["ray-node"], "power": {"standby": 0, "hibernate": 0},
            "task": {"exists": True, "xml": exported}, "firewall_rules": [rule["name"] for rule in result["firewall"]],
            "hyperv_rules": [windows_pc.hyperv_rule_name(rule) for rule in result["firewall"]]}


def test_a_healthy_pc_plans_its_distribution_and_wslconfig():
    result = plan()
    assert result["problems"] == [] and result["features_to_enable"] == [] and not result["msi"]
    assert result["distribution"] == {"name": "ray-node", "registered": False, "others": ["Ubuntu-24.04"]}
    assert result["wslconfig"]["shutdown"] and "wsl2.networkingmode" in result["wslconfig"]["updates"]
    assert [rule["localport"] for rule in result["firewall"]] == ["6379", "10002-19999", "2222"]
    assert result["task"]["drift"] == ["the task does not exist"] and result["record"]["write"]


def test_a_second_run_on_the_pc_it_set_up_changes_nothing():
    first = plan()
    again = windows_pc.pc_plan(applied(first), SETTINGS, True, False, ["10.0.0.11"], {"ray_gcs_port": 6379}, (10002, 19999))
    assert again["problems"] == [] and again["wslconfig"]["updates"] == [] and not again["wslconfig"]["shutdown"]
    assert not again["record"]["write"] and again["task"]["drift"] == [] and again["power"] == []
    assert again["firewall_stale"] == [] and again["hyperv_stale"] == [] and again["distribution"]["registered"]


def test_an_unrelated_pending_reboot_is_reported_never_acted_on():
    """ansible/ansible#63595: ansible_reboot_pending "always returns true"; PendingFileRenameOperations is set by
    browsers and updaters (PR #16161: "Chrome kept putting things in the PendingFileRenameOperations key")."""
    result = plan(reboot_pending=True)
    assert result["reboot_for"] == [] and any("did not cause" in note for note in result["notes"])
    pending = plan(features={"VirtualMachinePlatform": "EnablePending", "Microsoft-Windows-Subsystem-Linux": "Enabled"})
    assert pending["reboot_for"] == ["VirtualMachinePlatform"]


def test_the_control_nodes_own_pc_is_never_made_to_stop_its_wsl():
    """microsoft/WSL package.wix.in l.291-294: the service "is stopped on uninstall and upgrade"; ServiceMain.cpp
    l.249-250 stopping it terminates all user sessions. `wsl --shutdown` stops the calling user's VM."""
    upgrade = plan(control_pc=True, wsl_msi_version="2.6.1.0")
    assert any("the control node runs in this PC's WSL" in problem for problem in upgrade["problems"])
    same = plan(control_pc=True)
    assert same["problems"] == [] and not same["wslconfig"]["shutdown"]
    assert same["wslconfig"]["stop_here"], "the run stops with its note instead of waiting for an unreachable distribution"
    assert any("run `wsl --shutdown` in Windows, then run this again" in note for note in same["notes"])
    assert not plan(control_pc=True, wslconfig_text=plan()["wslconfig"]["text"])["wslconfig"]["stop_here"]


def test_a_wslconfig_windows_cannot_read_as_utf8_is_left_alone():
    assert any(".wslconfig in C:\\Users\\raylab is not UTF-8 (unknown)" in problem
               for problem in plan(wslconfig_encoding="unknown")["problems"])
    utf16 = plan(wslconfig_text="[wsl2]\r\nmemory=8GB\r\n", wslconfig_encoding="utf-16")
    assert any("is not UTF-8 (utf-16)" in problem for problem in utf16["problems"]), "rewritten as UTF-8 it would change"


def test_windows_10_has_no_hyper_v_firewall_and_says_so():
    """windows-itpro-docs hyper-v-firewall.md: "Starting in Windows 11, version 22H2, Hyper-V firewall is a network
    firewall solution..."."""
    result = plan(multi_host=False, build=19045, hyperv_firewall=False,
                  hyperv_firewall_state={"disabled_by_registry": False, "supported": False})
    assert result["problems"] == [] and not result["hyperv_firewall"]
    assert any("has no Hyper-V firewall" in note for note in result["notes"])


def test_an_unelevated_session_is_refused_for_that_alone():
    """read_pc.ps1 stops after the account when the token is not elevated (Get-WindowsOptionalFeature would throw):
    the plan must say why with only that much read."""
    state = {key: STATE[key] for key in ("build", "architecture", "virtualization", "account", "account_sid", "profile")}
    result = windows_pc.pc_plan({**state, "elevated": False}, SETTINGS, True)
    assert len(result["problems"]) == 1 and "the session is not elevated" in result["problems"][0]


# ---- B2, M5: the keep-alive task ----

def test_the_keep_alive_task_runs_as_s4u_with_no_password_from_its_registration_on():
    task = windows_pc.keep_alive_task("ray-node", windows_pc.WSL_EXE, SID, "s4u")
    assert task["logon_type"] == 2, "TASK_LOGON_S4U"
    fields = windows_pc.task_fields(task["xml"].replace("START_BOUNDARY", "2026-12-07T12:00:00"))
    assert fields["triggers"] == ["BootTrigger", "TimeTrigger/PT5M"], "the repetition must not wait for the next boot"
    assert fields["logon_type"] == "S4U" and fields["user_id"] == SID and fields["run_level"] == "LeastPrivilege"
    assert fields["arguments"] == "-d ray-node -u root --exec /bin/sleep infinity", "no shell between wsl.exe and sleep"
    assert fields["ExecutionTimeLimit"] == "PT0S" and fields["MultipleInstancesPolicy"] == "IgnoreNew"
    assert fields["DisallowStartIfOnBatteries"] == "false" and fields["StopIfGoingOnBatteries"] == "false"
    assert windows_pc.keep_alive_task("ray-node", windows_pc.WSL_EXE, SID, "password")["logon_type"] == 1


def test_a_registered_task_as_exported_is_seen_as_right_and_the_old_one_as_drifted():
    desired = windows_pc.keep_alive_task("ray-node", windows_pc.WSL_EXE, SID, "s4u")
    assert windows_pc.task_drift((SAMPLES / "task_export_keep_alive.xml").read_text(), desired) == []
    old = windows_pc.task_drift((SAMPLES / "task_export_boot_only.xml").read_text(), desired, account_name="PC-1\\raylab")
    assert any(line.startswith("triggers:") for line in old) and any(line.startswith("arguments:") for line in old)
    assert not any(line.startswith("user_id:") for line in old), "the user by name is the same account"
    assert windows_pc.task_drift("", desired) == ["the task does not exist"]


def test_a_password_task_without_a_password_is_refused():
    result = plan({"wsl2_task_logon_type": "password", "wsl2_task_password": ""})
    assert any("wsl2_task_password is empty" in problem for problem in result["problems"])
    assert not any("wsl2_task_password" in problem
                   for problem in plan({"wsl2_task_logon_type": "password", "wsl2_task_password": "s3cret"})["problems"])


# ---- M1: the network's firewall profile ----

def test_a_network_on_the_public_profile_is_refused_with_the_command_that_fixes_it():
    public = {"server_address": "10.0.0.21", "interfaces": [{"index": 12, "alias": "Ethernet", "category": 0,
                                                             "addresses": ["10.0.0.21"]}]}
    problems = plan(network=public)["problems"]
    assert len(problems) == 1 and "Set-NetConnectionProfile -InterfaceIndex 12 -NetworkCategory Private" in problems[0]
    assert "add public to wsl2_firewall_profiles" in problems[0]
    assert plan({"wsl2_firewall_profiles": ["domain", "private", "public"]}, network=public)["problems"] == []
    assert plan({"wsl2_firewall": False}, network=public)["problems"] == [], "no rules, nothing to refuse"


def test_only_the_interface_the_control_node_reached_counts():
    """STATE has a Public Wi-Fi beside the Private Ethernet the control node reached (SSH_CONNECTION's server address):
    openssh-portable session.c l.1159-1170 sets SSH_CONNECTION, w32-doexec.c l.273-289 passes it on Windows."""
    assert plan()["problems"] == []
    unknown = {**STATE["network"], "server_address": ""}
    assert any("index 19" in problem for problem in plan(network=unknown)["problems"]), "unknown: every interface counts"
    domain = {"server_address": "10.0.0.21", "interfaces": [{"index": 3, "alias": "Lab", "category": 2,
                                                             "addresses": ["10.0.0.21"]}]}
    assert plan(network=domain)["problems"] == []


# ---- M2: what makes mirrored networking fall back to NAT ----

@pytest.mark.parametrize("changes, needle", [
    ({"wsl_policy": {"AllowNetworkingModeUserSetting": 0}}, "AllowNetworkingModeUserSetting=0, DefaultNetworkingMode=nat"),
    ({"wsl_policy": {"AllowNetworkingModeUserSetting": 0, "DefaultNetworkingMode": 0}}, "DefaultNetworkingMode=none"),
    ({"ipv6_disabled_components": 0xFF}, "DisabledComponents=0xff"),
    ({"hyperv_firewall_state": {"disabled_by_registry": True, "supported": True}}, "HyperVFirewallDisable=1"),
    ({"hyperv_firewall_state": {"disabled_by_registry": False, "supported": False}}, "no usable Hyper-V firewall"),
    ({"flow_steering": False}, "HcnReserveGuestNetworkServicePortRange"),
    ({"wslconfig_text": "[wsl2]\nsafeMode=true\n"}, "safeMode=true"),
])
def test_what_would_make_mirrored_networking_fall_back_is_refused_in_a_lab(changes, needle):
    """microsoft/WSL@3e27a6a WslCoreConfig.cpp l.333-403 (the policy overrides the user's mode; only 0 denies),
    WslCoreVm.cpp l.2929-2939 (DisabledComponents compared with 0xFF exactly), l.2907-2921 and l.2951 (no Hyper-V
    firewall or no flow steering: NAT), MirroredNetworking.cpp l.66-120, WslCoreConfig.cpp l.436 (safeMode: none)."""
    problems = plan(**changes)["problems"]
    assert len(problems) == 1 and needle in problems[0], problems
    single = plan(multi_host=False, **changes)
    assert single["problems"] == [] and any(needle in note for note in single["notes"]), "a PC of its own only hears of it"


def test_harmless_values_near_those_are_not_refused():
    """Only 0 denies a policy (WslCoreConfig.cpp IsFeatureAllowed l.65-83); DisabledComponents=0x20 (prefer IPv4)
    passes ValidateNetworkingMode; a policy whose default is mirrored changes nothing."""
    assert plan(wsl_policy={"AllowNetworkingModeUserSetting": 1}, ipv6_disabled_components=0x20)["problems"] == []
    assert plan(wsl_policy={"AllowNetworkingModeUserSetting": 0, "DefaultNetworkingMode": 3})["problems"] == []


def test_an_old_experimental_networking_mode_key_is_taken_out_and_recorded():
    """microsoft/WSL configfile.cpp l.187-198: of [experimental] networkingMode and [wsl2] networkingMode the first in
    the file wins, the other is ignored with a warning."""
    text = "[experimental]\nnetworkingMode=nat\nautoMemoryReclaim=gradual\n\n[wsl2]\nmemory=8GB\n"
    result = plan(wslconfig_text=text, wslconfig_exists=True)
    merged = wsl.parse_ini(result["wslconfig"]["text"])
    assert "networkingmode" not in merged["experimental"] and merged["experimental"]["automemoryreclaim"] == "gradual"
    assert merged["wsl2"]["networkingmode"] == "mirrored"
    record = json.loads(result["record"]["text"])
    assert record["wslconfig"]["experimental.networkingmode"] == {"before": "nat", "set": None}


# ---- M3: private folders ----

def test_the_downloads_and_the_distribution_go_in_the_users_own_local_app_data():
    dirs = plan()["dirs"]
    assert dirs == {"install": "C:\\Users\\raylab\\AppData\\Local\\ray-docker\\ray-node",
                    "download": "C:\\Users\\raylab\\AppData\\Local\\ray-docker\\downloads",
                    "record": "C:\\Users\\raylab\\AppData\\Local\\ray-docker\\ray-node.json"}
    assert plan({"wsl2_install_dir": "D:\\WSL\\ray"})["dirs"]["install"] == "D:\\WSL\\ray"


def test_a_chosen_folder_others_can_write_to_or_own_is_refused():
    writable = {"C:\\WSL\\downloads": {"exists": False, "checked": "C:\\", "owner_sid": "S-1-5-18",
                                       "writers": ["S-1-5-11", "S-1-5-32-544"]}}
    problems = plan({"wsl2_download_dir": "C:\\WSL\\downloads"}, dirs=writable)["problems"]
    assert len(problems) == 1 and "C:\\ lets Authenticated Users write into it" in problems[0]
    owned = {"D:\\ray": {"exists": True, "checked": "D:\\ray", "owner_sid": "S-1-5-21-9-9-9-1001", "writers": []}}
    assert "owned by another account (S-1-5-21-9-9-9-1001)" in plan(dirs=owned)["problems"][0]
    mine = {"D:\\ray": {"exists": True, "checked": "D:\\ray", "owner_sid": "S-1-5-32-544",
                        "writers": ["S-1-5-32-544", "S-1-5-18", SID]}}
    assert plan(dirs=mine)["problems"] == []


# ---- M6: sleep ----

def test_sleep_on_ac_power_is_turned_off_and_remembered_or_refused():
    result = plan(power={"standby": 1800, "hibernate": 0})
    assert result["power"] == [{"setting": "standby", "option": "standby-timeout-ac", "before": 1800}]
    assert json.loads(result["record"]["text"])["power"] == {"standby": 1800}
    refused = plan({"wsl2_prevent_sleep": False}, power={"standby": 1800, "hibernate": 7200})
    assert refused["power"] == [] and any("powercfg /change hibernate-timeout-ac 0; powercfg /change standby-timeout-ac 0"
                                          in problem for problem in refused["problems"])


def test_a_second_change_of_sleep_keeps_the_users_first_value():
    first = plan(power={"standby": 1800, "hibernate": 0})
    state = applied(first)
    again = windows_pc.pc_plan({**state, "power": {"standby": 600, "hibernate": 0}}, SETTINGS, True, False,
                               ["10.0.0.11"], {"ray_gcs_port": 6379}, (10002, 19999))
    assert json.loads(again["record"]["text"])["power"] == {"standby": 1800}, "the user's own value, not ours"


# ---- minor points ----

def test_a_wsl_that_does_not_answer_is_refused_unless_it_is_about_to_be_replaced():
    assert any("`wsl.exe --list --quiet` failed (no answer within 60 s)" in problem
               for problem in plan(wsl_list_error="no answer within 60 s")["problems"])
    assert plan(wsl_list_error="exit code 1", wsl_msi_version="")["problems"] == []


def test_rules_of_the_project_the_plan_no_longer_has_are_removed():
    result = plan(firewall_rules=["ray-docker ray_gcs_port 6379", "ray-docker ray_gcs_port 7000"],
                  hyperv_rules=["ray-docker-6379", "ray-docker-7000"])
    assert result["firewall_stale"] == ["ray-docker ray_gcs_port 7000"] and result["hyperv_stale"] == ["ray-docker-7000"]


# ---- the way back ----

USERS_WSLCONFIG = "# mine\n[wsl2]\nmemory=8GB\nnetworkingMode=nat\n"


def test_the_way_back_puts_the_users_values_back_and_removes_what_the_role_made():
    first = plan(wslconfig_text=USERS_WSLCONFIG, wslconfig_exists=True, power={"standby": 1800, "hibernate": 0})
    state = applied(first, {**STATE, "wslconfig_text": USERS_WSLCONFIG, "wslconfig_exists": True})
    state["distribution_paths"] = {"ray-node": "C:\\WSL\\ray-node"}
    back = windows_pc.removal_plan(state, SETTINGS)
    assert back["wslconfig"]["text"] == USERS_WSLCONFIG and back["wslconfig"]["restore"] and not back["wslconfig"]["delete"]
    assert back["task"] and back["firewall"] == sorted(rule["name"] for rule in first["firewall"])
    assert back["hyperv"] == sorted(windows_pc.hyperv_rule_name(rule) for rule in first["firewall"])
    assert back["power"] == [{"setting": "standby", "option": "standby-timeout-ac", "minutes": 30}]
    assert back["record"].endswith("\\ray-docker\\ray-node.json")
    assert not back["distribution"]["unregister"] and back["distribution"]["dirs"] == []
    assert any("wsl2_remove_distribution=true" in note for note in back["notes"])
    gone = windows_pc.removal_plan(state, SETTINGS, remove_distribution=True)
    assert gone["distribution"]["unregister"] and gone["distribution"]["dirs"] == [
        "C:\\WSL\\ray-node", "C:\\Users\\raylab\\AppData\\Local\\ray-docker\\downloads"]


def test_the_way_back_leaves_a_key_the_user_changed_since_and_deletes_a_wslconfig_it_made():
    first = plan()
    state = applied(first)
    changed = state["wslconfig_text"].replace("vmIdleTimeout=-1", "vmIdleTimeout=60000")
    back = windows_pc.removal_plan({**state, "wslconfig_text": changed}, SETTINGS)
    assert "vmIdleTimeout=60000" in back["wslconfig"]["text"] and "networkingMode" not in back["wslconfig"]["text"]
    assert any("wsl2.vmidletimeout was changed since" in note for note in back["notes"])
    made = windows_pc.removal_plan(state, SETTINGS)
    assert made["wslconfig"]["delete"], "the file did not exist before the role made it"


def test_the_way_back_on_a_pc_the_role_never_touched_has_nothing_to_do():
    back = windows_pc.removal_plan(STATE, SETTINGS, remove_distribution=True)
    assert not back["task"] and back["firewall"] == [] and back["power"] == [] and not back["wslconfig"]["restore"]
    assert not back["distribution"]["unregister"] and back["record"] == ""
