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


def test_verbose_list_with_the_default_marker():
    rows = wsl.parse_wsl_list_verbose(sample("wsl_list_verbose_en.txt"))
    assert rows == [{"name": "Ubuntu-22.04", "state": "Running", "version": 2, "default": True},
                    {"name": "podman-machine-default", "state": "Stopped", "version": 2, "default": False}]


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


def test_sizes_as_wslconfig_writes_them():
    assert wsl.parse_size("8GB") == 8 * 1024 ** 3 and wsl.parse_size("4096MB") == 4 * 1024 ** 3
    assert wsl.parse_size("512m") == 512 * 1024 ** 2 and wsl.parse_size("lots") is None


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


def test_firewall_rules_cover_every_port_and_the_worker_range():
    rules = wsl.firewall_rules({"ray_gcs_port": 6379, "ray_dashboard_port": 8265}, (10002, 19999), 2222)
    assert [rule["localport"] for rule in rules] == ["8265", "6379", "10002-19999", "2222"]
    assert len({rule["name"] for rule in rules}) == len(rules)


def test_wslconfig_memory_advice_names_the_key():
    advice = wsl.wslconfig_memory_advice(4 * 1024 ** 3, 9 * 1024 ** 3, WSLCONFIG)
    assert "set memory=9GB or more under [wsl2] in %UserProfile%\\.wslconfig (it has memory=4GB)" in advice
    assert "wsl --shutdown" in advice
