"""Windows and WSL2 logic on real output samples (samples/README.md next to this file says where each is from)."""

from pathlib import Path

import pytest

from ansible_collections.ray_docker.cluster.plugins.module_utils import wsl

SAMPLES = Path(__file__).parent / "samples"


def sample(name):
    return (SAMPLES / name).read_bytes()


@pytest.mark.parametrize("name", ["wsl_list_quiet_utf16le.bin", "wsl_list_quiet_utf8.bin"])
def test_distribution_names_from_utf16_or_utf8(name):
    assert wsl.parse_wsl_list_quiet(sample(name)) == ["Ubuntu-24.04", "ray-node"]


def test_utf16_read_as_utf8_by_the_caller_still_parses():
    """win_command decoded the UTF-16 bytes as UTF-8: a NUL after every character."""
    text = sample("wsl_list_quiet_utf16le.bin").decode("utf-8")
    assert "\x00" in text
    assert wsl.parse_wsl_list_quiet(text) == ["Ubuntu-24.04", "ray-node"]


def test_no_distribution_is_an_empty_list():
    assert wsl.parse_wsl_list_quiet(sample("wsl_list_quiet_empty.bin")) == []


def test_utf16_without_bom_and_cr_cr_lf_line_ends_of_multi_line_messages():
    assert wsl.decode_wsl_output(sample("wsl_help_utf16le_0x00.bin")) == "Copyrigh"
    assert wsl.decode_wsl_output(sample("wsl_help_utf16le_0x70.bin")) == ".\n\nU"


@pytest.mark.parametrize("name, expected", [
    ("netsh_excludedportrange_en.txt", [(80, 80, False), (5986, 5986, False), (47001, 47001, False), (55679, 55679, True)]),
    ("netsh_excludedportrange_de.txt", [(28380, 28380, False), (28385, 28385, False), (49708, 49807, False),
                                        (49808, 49907, False), (50000, 50000, True), (50001, 50100, False)]),
])
def test_excluded_port_ranges_in_any_language(name, expected):
    assert wsl.parse_excluded_port_ranges(sample(name).decode("utf-8")) == expected


def test_pinned_ports_inside_an_excluded_range_are_named():
    ranges = wsl.parse_excluded_port_ranges(sample("netsh_excludedportrange_de.txt").decode("utf-8"))
    problems = wsl.excluded_port_conflicts(ranges, {"ray_gcs_port": 6379, "ray_dashboard_port": 49800},
                                           (50050, 50060))
    assert problems[0].startswith("ray_dashboard_port=49800 lies in a range reserved by Windows")
    assert "49708-49807" in problems[0]
    assert "overlaps 50001-50100" in problems[1]
    assert wsl.excluded_port_conflicts(ranges, {"ray_gcs_port": 6379}, (10002, 19999)) == []


@pytest.mark.parametrize("version, build", [("10.0.22631.0", 22631), ("10.0.19045.0", 19045), ("22621", 22621), ("", 0)])
def test_windows_build(version, build):
    assert wsl.windows_build(version) == build


def test_windows_preflight_verdicts():
    assert wsl.windows_problems(26100, True, True, "S-1-5-21-1-2-3-1001", []) == []
    assert "this PC is arm64" in wsl.windows_problems(26100, True, True, "S-1-5-21-1", [], "arm64")[0]
    assert "the session is not elevated" in wsl.windows_problems(26100, True, True, "S-1-5-21-1", [], elevated=False)[0]
    assert "no mirrored networking" in wsl.windows_problems(19045, True, True, "S-1-5-21-1", [])[0]
    assert wsl.windows_problems(19045, False, True, "S-1-5-21-1", []) == [], "a single-PC cluster is fine on Windows 10"
    assert "virtualization is off" in wsl.windows_problems(22631, True, False, "S-1-5-21-1", [])[0]
    assert "connects as SYSTEM" in wsl.windows_problems(22631, True, True, "S-1-5-18", [])[0]
    assert "too old" in wsl.windows_problems(17763, False, True, "S-1-5-21-1", [])[0]


WSLCONFIG = """# my own settings
[wsl2]
Memory=4GB   # enough for my builds
guiApplications=false

[experimental]
autoMemoryReclaim=gradual
"""


def test_wslconfig_merge_keeps_the_users_keys_and_comments():
    text, changed = wsl.merge_ini(WSLCONFIG, {"wsl2": {"memory": "16GB", "networkingMode": "mirrored", "vmIdleTimeout": -1},
                                              "general": {"instanceIdleTimeout": -1}})
    assert changed == ["wsl2.memory", "wsl2.networkingmode", "wsl2.vmidletimeout", "general.instanceidletimeout"]
    assert "# my own settings" in text and "guiApplications=false" in text and "autoMemoryReclaim=gradual" in text
    parsed = wsl.parse_ini(text)
    assert parsed["wsl2"] == {"memory": "16GB", "guiapplications": "false", "networkingmode": "mirrored", "vmidletimeout": "-1"}
    assert parsed["general"] == {"instanceidletimeout": "-1"}
    assert text.index("networkingMode=mirrored") < text.index("[experimental]"), "added inside its own section"
    again, changed_again = wsl.merge_ini(text, {"wsl2": {"memory": "16GB", "networkingMode": "mirrored", "vmIdleTimeout": -1},
                                                "general": {"instanceIdleTimeout": -1}})
    assert changed_again == [] and again == text, "a second merge changes nothing"


def test_merge_into_an_empty_or_crlf_file():
    text, changed = wsl.merge_ini("", {"boot": {"systemd": True}})
    assert text == "[boot]\nsystemd=true\n" and changed == ["boot.systemd"]
    text, changed = wsl.merge_ini("[boot]\r\nsystemd=false\r\n[user]\r\ndefault=ann\r\n", {"boot": {"systemd": True}})
    assert text == "[boot]\nsystemd=true\n[user]\ndefault=ann\n" and changed == ["boot.systemd"]


def test_windows_paths_seen_from_the_distro():
    assert wsl.windows_to_wsl_path("C:\\Users\\ann") == "/mnt/c/Users/ann"
    assert wsl.windows_to_wsl_path("D:\\", "/") == "/d"
    assert wsl.windows_to_wsl_path("not a path") == ""


def test_docker_desktop_is_told_apart_from_an_engine_in_the_distro():
    desktop = {"OperatingSystem": "Docker Desktop", "Name": "docker-desktop",
               "KernelVersion": "5.15.153.1-microsoft-standard-WSL2"}
    assert wsl.docker_engine_kind(desktop) == "desktop"
    assert wsl.docker_engine_kind({"OperatingSystem": "Ubuntu 24.04.1 LTS"}) == "engine"
    assert wsl.docker_engine_kind({"OperatingSystem": "Docker Desktop (containerized)"}) == "desktop"
    assert wsl.docker_engine_kind(None, desktop_integration=True) == "desktop", "Desktop installed but not running"
    assert wsl.docker_engine_kind(None) == "engine"


def test_firewall_rules_cover_every_port_and_the_worker_range_for_the_lab_only():
    rules = wsl.firewall_rules({"ray_gcs_port": 6379, "ray_dashboard_port": 8265}, (10002, 19999), 2222,
                               ["10.0.0.12", "10.0.0.11", "10.0.0.12"])
    assert [rule["localport"] for rule in rules] == ["8265", "6379", "10002-19999", "2222"]
    assert len({rule["name"] for rule in rules}) == len(rules)
    assert all(rule["profiles"] == ["domain", "private"] for rule in rules), "never the Public profile"
    assert all(rule["remoteip"] == "10.0.0.11,10.0.0.12" for rule in rules), "from the inventory's hosts only"


def test_wslconfig_memory_advice_names_the_key():
    advice = wsl.wslconfig_memory_advice(4 * 1024 ** 3, 9 * 1024 ** 3, WSLCONFIG)
    assert "set memory=9GB or more under [wsl2] in %UserProfile%\\.wslconfig (it has memory=4GB)" in advice
    assert "wsl --shutdown" in advice


# ---- Windows PCs for real (the behaviour each test relies on is quoted from its source) ----

def test_a_pending_feature_reboot_is_seen_from_the_features_state():
    """ansible.windows win_optional_feature.ps1@a1e2a842 l.44-45: `if ($state -eq "present" -and
    $feature_state_start.State -notlike "Enabled*")` / `# Matches for "Enabled" and "EnablePending"`: a feature
    enabled by an earlier run whose reboot never happened reports reboot_required false."""
    assert wsl.pending_feature_reboot({"VirtualMachinePlatform": "EnablePending",
                                       "Microsoft-Windows-Subsystem-Linux": "Enabled"}) == ["VirtualMachinePlatform"]
    assert wsl.pending_feature_reboot({"VirtualMachinePlatform": "Enabled", "Microsoft-Windows-Subsystem-Linux": "Disabled"}) == []


def test_distribution_names_match_case_insensitively_as_wsl_compares_them():
    """microsoft/WSL LxssUserSession.cpp l.1289 (GetDistributionId): `IsEqual(DistributionName,
    registration.Read(Property::Name), true)`, the third argument being CaseInsensitive."""
    assert wsl.distribution_registered(["Ubuntu-24.04", "RAY-NODE"], "ray-node")
    assert not wsl.distribution_registered(["Ubuntu-24.04"], "ray-node"), "the user's own Ubuntu is never adopted"


@pytest.mark.parametrize("host, port, name", [("PC-1", 2222, "[pc-1]:2222"), ("10.0.0.21", 22, "10.0.0.21")])
def test_the_distributions_host_key_is_recorded_as_ssh_keyscan_writes_it(host, port, name):
    """openssh-portable misc.c l.789-798 (put_host_port): the plain host for port 22, else `[%s]:%d`; ssh-keyscan.c
    l.324-325 lower-cases it. ansible.builtin.known_hosts: "For custom SSH port, name needs to specify port as well"."""
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl root@ray-node"
    entry_name, line = wsl.known_hosts_entry(host, port, key)
    assert entry_name == name and line == f"{name} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
    with pytest.raises(ValueError):
        wsl.known_hosts_entry(host, port, "cat: /etc/ssh/ssh_host_ed25519_key.pub: No such file or directory")


@pytest.mark.parametrize("installed, outdated", [("", True), ("2.6.1.0", True), ("2.7.14.0", False), ("2.8.0.0", False)])
def test_the_msi_is_installed_only_over_an_older_one(installed, outdated):
    """microsoft/WSL msipackage: the MSI records HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Lxss\\MSI Version."""
    assert wsl.msi_outdated(installed, "2.7.14") is outdated


def test_the_idle_timeouts_keep_the_distribution_and_its_vm_running():
    """microsoft/WSL LxssUserSession.cpp l.2704-2706: "A value of less than zero indicates that the instance should
    never be idle-terminated"; l.3914-3916: "A negative timeout means that the VM will continue running until it is
    terminated via wsl.exe --shutdown". Keys: WslCoreConfig.h l.255 "wsl2.vmIdleTimeout", l.275
    "general.instanceIdleTimeout"."""
    text, changed = wsl.merge_ini(WSLCONFIG, wsl.KEEP_ALIVE)
    assert sorted(changed) == ["general.instanceidletimeout", "wsl2.vmidletimeout"]
    assert wsl.parse_ini(text)["general"]["instanceidletimeout"] == "-1" and wsl.parse_ini(text)["wsl2"]["memory"] == "4GB"


def test_docker_desktop_is_restarted_through_interop_with_the_windows_side_cli_first():
    """From WSL the Linux CLI's `docker desktop start` fails ("you can't start from WSL", docker/desktop-feedback#495);
    the Windows CLI plugin is C:\\Program Files\\Docker\\cli-plugins\\docker-desktop.exe (for-win#14448), and
    `restart` takes `--timeout` (docs.docker.com/reference/cli/docker/desktop/restart)."""
    paths = wsl.windows_paths("/win/")
    commands = wsl.desktop_restart_commands(paths, 300)
    assert commands[0]["argv"] == ["/win/c/Program Files/Docker/Docker/resources/bin/docker.exe", "desktop", "restart",
                                   "--timeout", "300"]
    assert commands[1]["argv"][0] == "/win/c/Windows/System32/WindowsPowerShell/v1.0/powershell.exe"
    assert "Stop-Process" in commands[1]["argv"][-1] and "C:\\Program Files\\Docker\\Docker\\Docker Desktop.exe" in commands[1]["argv"][-1]


def test_cmd_unicode_output_keeps_a_non_ascii_user_name_and_never_crashes():
    """cmd.exe /u: "Formats internal command output to a pipe or a file as Unicode" (windows-commands cmd.md). The
    same name in the OEM code page (cp936 on a Chinese PC) is not UTF-16: no profile, no crash."""
    assert wsl.decode_cmd_unicode("C:\\Users\\张三\r\n".encode("utf-16-le")) == "C:\\Users\\张三"
    assert wsl.decode_cmd_unicode(b"\xff\xfe" + "C:\\Users\\ann\r\n".encode("utf-16-le")) == "C:\\Users\\ann"
    assert wsl.decode_cmd_unicode("C:\\Users\\张三\r\n".encode("cp936")) == ""
    assert wsl.decode_cmd_unicode(b"C:\\Users\\ann\r\n") == ""


SETTINGS = {"wsl2_msi_version": "2.7.14", "wsl2_distribution": "ray-node", "wsl2_networking_mode": "mirrored",
            "wsl2_memory": "16GB", "wsl2_swap": "", "wsl2_processors": 0, "wsl2_wslconfig_extra": {}, "wsl2_ssh_port": 2222}
STATE = {"build": 26100, "architecture": "X64", "virtualization": True, "account": "PC-1\\raylab", "account_sid": "S-1-5-21-1",
         "elevated": True, "features": {"VirtualMachinePlatform": "Enabled", "Microsoft-Windows-Subsystem-Linux": "Enabled"},
         "wsl_msi_version": "2.7.14.0", "machine_guid": "a", "excluded_ports": "", "hyperv_firewall": True,
         "reboot_pending": False, "profile": "C:\\Users\\raylab", "distributions": ["Ubuntu-24.04"],
         "wslconfig_text": "", "wslconfig_encoding": "utf-8"}


def plan(**changes):
    state = {**STATE, **changes}
    return wsl.pc_plan(state, SETTINGS, True, changes.pop("control_pc", False) if "control_pc" in changes else False,
                       ["10.0.0.11"], {"ray_gcs_port": 6379}, (10002, 19999))


def test_a_healthy_pc_plans_its_distribution_and_wslconfig():
    result = plan()
    assert result["problems"] == [] and result["features_to_enable"] == [] and not result["msi"]
    assert result["distribution"] == {"name": "ray-node", "registered": False, "others": ["Ubuntu-24.04"]}
    assert result["wslconfig"]["shutdown"] and "wsl2.networkingmode" in result["wslconfig"]["updates"]
    assert [rule["localport"] for rule in result["firewall"]] == ["6379", "10002-19999", "2222"]


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
    def control(**changes):
        return wsl.pc_plan({**STATE, **changes}, SETTINGS, True, True, [], {}, None)

    upgrade = control(wsl_msi_version="2.6.1.0")
    assert any("the control node runs in this PC's WSL" in problem for problem in upgrade["problems"])
    same = control()
    assert same["problems"] == [] and not same["wslconfig"]["shutdown"]
    assert any("run `wsl --shutdown` in Windows when the run is done" in note for note in same["notes"])


def test_a_wslconfig_windows_cannot_read_as_utf8_is_left_alone():
    assert any(".wslconfig in C:\\Users\\raylab is not UTF-8 (unknown)" in problem
               for problem in plan(wslconfig_encoding="unknown")["problems"])
    utf16 = plan(wslconfig_text="[wsl2]\r\nmemory=8GB\r\n", wslconfig_encoding="utf-16")
    assert any("is not UTF-8 (utf-16)" in problem for problem in utf16["problems"]), "rewritten as UTF-8 it would change"


def test_windows_10_has_no_hyper_v_firewall_and_says_so():
    """windows-itpro-docs hyper-v-firewall.md: "Starting in Windows 11, version 22H2, Hyper-V firewall is a network
    firewall solution..."."""
    result = wsl.pc_plan({**STATE, "build": 19045, "hyperv_firewall": False}, SETTINGS, False, False, [], {}, None)
    assert result["problems"] == [] and not result["hyperv_firewall"]
    assert any("has no Hyper-V firewall" in note for note in result["notes"])


FACTS = {"wsl": True, "wsl_conf": "[user]\ndefault=ann\n", "windows_profile": "/mnt/c/Users/ann",
         "wslconfig": "[wsl2]\nmemory=8GB\n", "wslconfig_encoding": "utf-8", "engine_os": "Ubuntu 24.04.1 LTS"}
DISTRO = {"wsl_distro_applies": True, "wsl_distro_conf": {"boot": {"systemd": True}}, "wsl_distro_keep_alive": True}


def test_a_pc_of_its_own_keeps_its_distribution_running_with_no_terminal_open():
    """microsoft/WSL#9667 (benhillis): the VM idle-terminates when "There are no open terminal windows and No background
    processes were launched by the user explicitly (things launched by systemd don't count)"."""
    result = wsl.distro_plan(FACTS, DISTRO, "Ubuntu-24.04")
    keep = result["keep_alive"]
    assert keep["wslconfig"] == "/mnt/c/Users/ann/.wslconfig" and "memory=8GB" in keep["text"]
    assert sorted(keep["updates"]) == ["general.instanceidletimeout", "wsl2.vmidletimeout"]
    assert keep["startup"].endswith("/Start Menu/Programs/Startup/ray-docker Ubuntu-24.04.vbs")
    assert 'wsl.exe -d Ubuntu-24.04 --exec sleep infinity", 0, False' in keep["startup_content"], "hidden window"
    assert any("run `wsl --shutdown` in Windows once" in note for note in result["notes"])
    assert result["conf"]["updates"] == ["boot.systemd"]


def test_no_keep_alive_beside_docker_desktop_or_for_a_pcs_managed_distribution():
    assert wsl.distro_plan({**FACTS, "engine_os": "Docker Desktop"}, DISTRO, "Ubuntu-24.04")["keep_alive"] is None
    assert wsl.distro_plan(FACTS, DISTRO, "ray-node", managed_by_pc=True)["keep_alive"] is None
    assert wsl.distro_plan(FACTS, {**DISTRO, "wsl_distro_keep_alive": False}, "x")["keep_alive"] is None


def test_without_interop_or_with_an_ansi_wslconfig_the_user_is_told():
    no_interop = wsl.distro_plan({**FACTS, "windows_profile": ""}, DISTRO, "Ubuntu-24.04")
    assert no_interop["keep_alive"] is None and "Windows interop is off" in no_interop["notes"][0]
    ansi = wsl.distro_plan({**FACTS, "wslconfig_encoding": "unknown"}, DISTRO, "Ubuntu-24.04")
    assert ansi["keep_alive"]["updates"] == [] and "is unknown, not UTF-8" in ansi["notes"][0]
