"""Windows and WSL2 logic on real output samples (samples/README.md next to this file says where each is from)."""

import json
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


def test_wslconfig_memory_advice_names_the_key():
    advice = wsl.wslconfig_memory_advice(4 * 1024 ** 3, 9 * 1024 ** 3, WSLCONFIG)
    assert "set memory=9GB or more under [wsl2] in %UserProfile%\\.wslconfig (it has memory=4GB)" in advice
    assert "wsl --shutdown" in advice


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


FACTS = {"wsl": True, "wsl_conf": "[user]\ndefault=ann\n", "windows_profile": "/mnt/c/Users/ann",
         "wslconfig": "[wsl2]\nmemory=8GB\n", "wslconfig_encoding": "utf-8", "wslconfig_exists": True,
         "engine_os": "Ubuntu 24.04.1 LTS", "windows_run": {"OneDrive": '"C:\\Program Files\\OneDrive.exe" /background'},
         "startup_entries": [], "windows_records": {}, "wslg_exe": True}
DISTRO = {"wsl_distro_applies": True, "wsl_distro_conf": {"boot": {"systemd": True}}, "wsl_distro_keep_alive": True}


def test_a_pc_of_its_own_keeps_its_distribution_running_with_no_terminal_open():
    """microsoft/WSL#9667 (benhillis): the VM idle-terminates when "There are no open terminal windows and No background
    processes were launched by the user explicitly (things launched by systemd don't count)"."""
    result = wsl.distro_plan(FACTS, DISTRO, "Ubuntu-24.04")
    keep = result["keep_alive"]
    assert keep["wslconfig"] == "/mnt/c/Users/ann/.wslconfig" and "memory=8GB" in keep["text"]
    assert sorted(keep["updates"]) == ["general.instanceidletimeout", "wsl2.vmidletimeout"]
    assert keep["run"] == {"key": "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run", "name": "ray-docker Ubuntu-24.04",
                           "command": '"C:\\Program Files\\WSL\\wslg.exe" -d Ubuntu-24.04 --exec /bin/sleep infinity',
                           "reg": "/mnt/c/Windows/System32/reg.exe", "write": True}
    assert keep["record"]["path"] == "/mnt/c/Users/ann/AppData/Local/ray-docker/Ubuntu-24.04.json" and keep["record"]["write"]
    assert json.loads(keep["record"]["text"]) == {"wslconfig_existed": True, "wslconfig": {
        "general.instanceidletimeout": {"before": None, "set": "-1"}, "wsl2.vmidletimeout": {"before": None, "set": "-1"}}}
    assert any("run `wsl --shutdown` in Windows once" in note for note in result["notes"])
    assert result["conf"]["updates"] == ["boot.systemd"]


def applied(plan, facts=FACTS):
    keep = plan["keep_alive"]
    return {**facts, "wslconfig": keep["text"], "windows_records": {"Ubuntu-24.04.json": keep["record"]["text"]},
            "windows_run": {**facts["windows_run"], keep["run"]["name"]: keep["run"]["command"]}}


def test_a_second_run_writes_nothing_and_an_old_vbs_entry_goes():
    again = wsl.distro_plan(applied(wsl.distro_plan(FACTS, DISTRO, "Ubuntu-24.04")), DISTRO, "Ubuntu-24.04")["keep_alive"]
    assert again["updates"] == [] and not again["run"]["write"] and not again["record"]["write"]
    old = wsl.distro_plan({**FACTS, "startup_entries": ["ray-docker Ubuntu-24.04.vbs", "ray-docker Other.vbs"]}, DISTRO,
                          "Ubuntu-24.04")["keep_alive"]
    assert old["old_startup"] == ["/mnt/c/Users/ann/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/Startup/"
                                  "ray-docker Ubuntu-24.04.vbs"], "only this distribution's entry"


def test_without_wslg_nothing_is_started_at_logon_and_the_user_is_told():
    result = wsl.distro_plan({**FACTS, "wslg_exe": False}, DISTRO, "Ubuntu-24.04")
    assert not result["keep_alive"]["run"]["write"] and any("wslg.exe is missing" in note for note in result["notes"])


def test_reg_query_rows_are_read_by_their_shape():
    """reg.exe query prints the key's path, then one row per value: four spaces, the name, the type (REG_SZ, never
    localized), the data, separated by runs of spaces (Microsoft's reg query documentation, examples)."""
    text = ("\r\nHKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\r\n"
            "    OneDrive    REG_SZ    \"C:\\Program Files\\OneDrive.exe\" /background\r\n"
            "    ray-docker Ubuntu-24.04    REG_SZ    \"C:\\Program Files\\WSL\\wslg.exe\" -d Ubuntu-24.04 --exec /bin/sleep infinity\r\n"
            "    Empty    REG_SZ\r\n\r\n")
    assert wsl.parse_reg_query(text) == {
        "OneDrive": '"C:\\Program Files\\OneDrive.exe" /background',
        "ray-docker Ubuntu-24.04": '"C:\\Program Files\\WSL\\wslg.exe" -d Ubuntu-24.04 --exec /bin/sleep infinity',
        "Empty": ""}


def test_the_way_back_of_a_pc_of_its_own_restores_wslconfig_and_removes_the_run_entry():
    facts = applied(wsl.distro_plan(FACTS, DISTRO, "Ubuntu-24.04"))
    back = wsl.distro_removal_plan({**facts, "startup_entries": ["ray-docker Ubuntu-24.04.vbs"]}, "Ubuntu-24.04")
    assert back["wslconfig"]["text"] == FACTS["wslconfig"] and back["wslconfig"]["restored"] and not back["wslconfig"]["delete"]
    assert back["run"]["remove"] and back["run"]["name"] == "ray-docker Ubuntu-24.04"
    assert back["record"] == "/mnt/c/Users/ann/AppData/Local/ray-docker/Ubuntu-24.04.json" and len(back["old_startup"]) == 1
    made = applied(wsl.distro_plan({**FACTS, "wslconfig": "", "wslconfig_exists": False}, DISTRO, "Ubuntu-24.04"))
    assert wsl.distro_removal_plan(made, "Ubuntu-24.04")["wslconfig"]["delete"], "a file the project made goes"
    nothing = wsl.distro_removal_plan(FACTS, "Ubuntu-24.04")
    assert not nothing["run"]["remove"] and nothing["wslconfig"]["restored"] == [] and nothing["record"] == ""


def test_no_keep_alive_beside_docker_desktop_or_for_a_pcs_managed_distribution():
    assert wsl.distro_plan({**FACTS, "engine_os": "Docker Desktop"}, DISTRO, "Ubuntu-24.04")["keep_alive"] is None
    assert wsl.distro_plan(FACTS, DISTRO, "ray-node", managed_by_pc=True)["keep_alive"] is None
    assert wsl.distro_plan(FACTS, {**DISTRO, "wsl_distro_keep_alive": False}, "x")["keep_alive"] is None


def test_without_interop_or_with_an_ansi_wslconfig_the_user_is_told():
    no_interop = wsl.distro_plan({**FACTS, "windows_profile": ""}, DISTRO, "Ubuntu-24.04")
    assert no_interop["keep_alive"] is None and "Windows interop is off" in no_interop["notes"][0]
    ansi = wsl.distro_plan({**FACTS, "wslconfig_encoding": "unknown"}, DISTRO, "Ubuntu-24.04")
    assert ansi["keep_alive"]["updates"] == [] and "is unknown, not UTF-8" in ansi["notes"][0]


def test_a_key_set_to_none_is_deleted_and_a_section_left_empty_goes_with_it():
    text, changed = wsl.merge_ini("[wsl2]\nmemory=8GB\n\n[experimental]\nnetworkingMode=nat\n", {"experimental": {"networkingMode": None}})
    assert text == "[wsl2]\nmemory=8GB\n" and changed == ["experimental.networkingmode"]
    same, nothing = wsl.merge_ini("[wsl2]\nmemory=8GB\n", {"experimental": {"networkingMode": None}})
    assert same == "[wsl2]\nmemory=8GB\n" and nothing == [], "deleting a key that is not there changes nothing"
    kept, _ = wsl.merge_ini("[x]\n# my note\na=1\n", {"x": {"a": None}})
    assert kept == "[x]\n# my note\n", "a section with the user's comment in it stays"


def test_the_record_keeps_the_users_first_value_and_restoring_gives_the_file_back():
    original = "# mine\n[wsl2]\nmemory=8GB\nnetworkingMode=nat\n"
    first, updates = wsl.merge_ini(original, {"wsl2": {"networkingMode": "mirrored", "vmIdleTimeout": -1}})
    record = wsl.remember_before({}, original, first, updates)
    assert record["wslconfig"]["wsl2.networkingmode"] == {"before": "nat", "set": "mirrored"}
    second, updates = wsl.merge_ini(first, {"wsl2": {"networkingMode": "bridged"}})
    record = wsl.remember_before(record, first, second, updates)
    assert record["wslconfig"]["wsl2.networkingmode"] == {"before": "nat", "set": "bridged"}, "the user's value, not ours"
    restored, keys, kept = wsl.restore_ini(second, record["wslconfig"])
    assert restored == original and sorted(keys) == ["wsl2.networkingmode", "wsl2.vmidletimeout"] and kept == []
