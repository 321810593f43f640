"""wsl2_plan: a Windows PC's plan from what the PC said about itself (`state`, read_pc.ps1's result), its way back
(`remove`), and its distribution's known_hosts entry (`host_key`); and the control node's own WSL detection
(`control_node_machine_guid`), which reads /proc/sys/kernel/osrelease and runs reg.exe. That detection is tested
with the module's `open` and `subprocess.run` replaced (monkeypatch of module-level names only; the product is
unchanged), so no test depends on the machine it runs on. The plan's own rules are in module_utils/test_windows_pc.py;
here, what the action feeds them (settings, inventory, decoded state) and what it does with their answer."""

import base64
import builtins
import io
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from ansible.errors import AnsibleActionFail

from tests.unit.plugins.action.harness import Lab, plugin, run

wsl2_plan = plugin("wsl2_plan")
SAMPLES = Path(__file__).resolve().parents[1] / "module_utils" / "samples"
OSRELEASE = "/proc/sys/kernel/osrelease"
REG_ARGV = ["/mnt/c/Windows/System32/reg.exe", "query", r"HKLM\SOFTWARE\Microsoft\Cryptography", "/v", "MachineGuid"]
GUID = "8E2B1C3D-4F5A-4B6C-9D7E-0F1A2B3C4D5E"
REG_OUTPUT = (b"\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography\r\n    MachineGuid    REG_SZ    "
              + GUID.encode() + b"\r\n\r\n")


# ---------------------------------------------------------------- the control node's WSL

class Machine:
    """The control node as control_node_machine_guid sees it: its kernel release (None: the file cannot be read)
    and what reg.exe prints (an exception instance: what running it raises)."""

    def __init__(self, monkeypatch, osrelease, reg=REG_OUTPUT):
        self.osrelease, self.reg, self.runs, self.reads = osrelease, reg, [], []
        real_open = builtins.open

        def fake_open(path, *args, **kwargs):
            if path != OSRELEASE:
                return real_open(path, *args, **kwargs)
            self.reads.append(kwargs.get("encoding"))
            if self.osrelease is None:
                raise FileNotFoundError(2, "No such file or directory", OSRELEASE)
            return io.StringIO(self.osrelease)

        def fake_run(argv, **kwargs):
            self.runs.append((list(argv), kwargs))
            if isinstance(self.reg, BaseException):
                raise self.reg
            return SimpleNamespace(returncode=0, stdout=self.reg, stderr=b"")

        # The function looks `open` up in its module first: a module attribute shadows the builtin for it alone.
        monkeypatch.setattr(wsl2_plan, "open", fake_open, raising=False)
        monkeypatch.setattr(wsl2_plan.subprocess, "run", fake_run)


def test_a_control_node_in_wsl2_reads_its_pcs_machine_guid_lower_cased(monkeypatch):
    machine = Machine(monkeypatch, "5.15.167.4-microsoft-standard-WSL2\n")
    assert wsl2_plan.control_node_machine_guid() == GUID.lower()
    assert machine.reads == ["utf-8"]
    assert machine.runs == [(REG_ARGV, {"capture_output": True, "timeout": 20})]


def test_a_wsl1_kernel_says_microsoft_with_a_capital_m_and_counts_too(monkeypatch):
    Machine(monkeypatch, "4.4.0-22621-Microsoft\n")
    assert wsl2_plan.control_node_machine_guid() == GUID.lower()


def test_a_plain_linux_control_node_is_not_in_wsl_and_never_runs_reg_exe(monkeypatch):
    machine = Machine(monkeypatch, "6.12.48+deb13-amd64\n")
    assert wsl2_plan.control_node_machine_guid() == ""
    assert machine.runs == [], "reg.exe is not run outside WSL"


def test_a_kernel_release_that_cannot_be_read_is_not_wsl(monkeypatch):
    machine = Machine(monkeypatch, None)
    assert wsl2_plan.control_node_machine_guid() == "" and machine.runs == []


@pytest.mark.parametrize("reg", [FileNotFoundError(2, "No such file", REG_ARGV[0]), PermissionError(13, "denied"),
                                 subprocess.TimeoutExpired(REG_ARGV, 20)])
def test_reg_exe_missing_denied_or_hanging_means_unknown(monkeypatch, reg):
    machine = Machine(monkeypatch, "5.15.167.4-microsoft-standard-WSL2", reg)
    assert wsl2_plan.control_node_machine_guid() == "" and len(machine.runs) == 1


@pytest.mark.parametrize("output, guid", [
    (b"ERROR: The system was unable to find the specified registry key or value.\r\n", ""),
    (b"", ""),
    (b"\xff\xfe garbage \x81 MachineGuid REG_SZ " + GUID.encode() + b" \x80", GUID.lower()),
    (b"MachineGuid REG_SZ 8e2b1c3d-4f5a-4b6c-9d7e-0f1a2b3c4d5", ""),  # one digit short
])
def test_only_a_whole_guid_in_reg_exes_output_counts(monkeypatch, output, guid):
    Machine(monkeypatch, "5.15.167.4-microsoft-standard-WSL2", output)
    assert wsl2_plan.control_node_machine_guid() == guid


def test_the_open_replacement_leaves_every_other_file_alone(monkeypatch, tmp_path):
    Machine(monkeypatch, "x")
    (tmp_path / "f").write_text("real")
    with wsl2_plan.open(tmp_path / "f") as handle:
        assert handle.read() == "real"


def test_source_address_and_ip_of_answer_without_dns(monkeypatch):
    assert wsl2_plan.source_address("127.0.0.1") == "127.0.0.1"
    assert wsl2_plan.ip_of("10.1.2.3") == "10.1.2.3"

    def unknown(name):
        raise OSError("Name or service not known")

    monkeypatch.setattr(wsl2_plan.socket, "gethostbyname", unknown)
    assert wsl2_plan.ip_of("pc9.lan") == ""


# ---------------------------------------------------------------- the PC's plan

SID = "S-1-5-21-3623811015-3361044348-30300820-1013"
STATE = {"build": 26100, "architecture": "X64", "virtualization": True, "account": "PC-1\\raylab", "account_sid": SID,
         "elevated": True, "features": {"VirtualMachinePlatform": "Enabled", "Microsoft-Windows-Subsystem-Linux": "Enabled"},
         "wsl_msi_version": "2.7.14.0", "machine_guid": "0b7c1e7e-1111-4222-8333-944455556666", "excluded_ports": "",
         "hyperv_firewall": True, "hyperv_firewall_state": {"disabled_by_registry": False, "supported": True},
         "flow_steering": True, "reboot_pending": False, "profile": "C:\\Users\\raylab",
         "local_app_data": "C:\\Users\\raylab\\AppData\\Local", "wslconfig_b64": "", "wsl_list_b64": "",
         "network": {"server_address": "10.0.0.21", "interfaces": [
             {"index": 12, "alias": "Ethernet", "category": 1, "addresses": ["10.0.0.21"]}]},
         "power": {"standby": 0, "hibernate": 0}, "task": {"exists": False}, "firewall_rules": [], "hyperv_rules": []}


@pytest.fixture
def pc(home, monkeypatch):
    """A lab: the head, and PC pc1 whose distribution pc1-distro is a worker reached at the PC's address on 2222.
    The control node is not in WSL and sees itself as 10.0.0.5 towards the PC."""
    (home / ".ssh").mkdir()
    (home / ".ssh" / "id_ed25519.pub").write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample me@control\n")
    monkeypatch.setattr(wsl2_plan, "control_node_machine_guid", lambda: "")
    monkeypatch.setattr(wsl2_plan, "source_address", lambda target: "10.0.0.5" if target == "10.0.0.21" else "")
    return Lab(heads=["head"], workers=["pc1-distro"], groups={"windows_wsl": ["pc1"]},
               host_variables={"pc1": {"ansible_host": "10.0.0.21", "wsl2_distro_host": "pc1-distro",
                                       "ansible_connection": "ssh", "ansible_shell_type": "powershell"},
                               "pc1-distro": {"ansible_host": "10.0.0.21", "ansible_port": 2222}})


def plan(lab, state=None, args=None, **task_vars):
    arguments = {"state": dict(STATE, **(state or {}))} if args is None else args
    result, calls = run("wsl2_plan", lab.task_vars("pc1", **task_vars), arguments)
    assert calls == []
    return result


def test_a_healthy_pc_of_a_lab_is_planned_with_its_distributions_address(pc, home):
    result = plan(pc)
    assert result["changed"] is False and result["problems"] == [] and "failed" not in result
    assert (result["distro_host"], result["address"], result["port"]) == ("pc1-distro", "10.0.0.21", 2222)
    assert result["control_pc"] is False
    assert result["networking_mode"] == "mirrored" and result["networking_required"] is True, "two Ray hosts: a lab"
    assert result["distribution"] == {"name": "ray-node", "registered": False, "others": []}
    assert result["dirs"]["install"] == "C:\\Users\\raylab\\AppData\\Local\\ray-docker\\ray-node"
    assert result["wslconfig"]["shutdown"] is True and result["wslconfig"]["stop_here"] is False
    assert "networkingMode=mirrored" in result["wslconfig"]["text"]
    rules = {rule["name"]: rule for rule in result["firewall"]}
    assert rules["ray-docker WSL distro SSH 2222"]["localport"] == "2222"
    assert rules["ray-docker ray_gcs_port 6379"]["remoteip"] == "10.0.0.11,10.0.0.21,10.0.0.5", \
        "the Ray hosts and the control node, nobody else"
    assert "ray-docker ray_gcs_redis_port 6390" not in rules, "the GCS store is reached from its own host only"
    assert rules["ray-docker ray worker ports 10002-19999"]["localport"] == "10002-19999"
    assert result["task"]["name"] == "ray-docker WSL ray-node" and "C:\\Program Files\\WSL\\wsl.exe" in result["task"]["xml"]


def test_the_users_ports_addresses_and_wsl_exe_are_planned(pc):
    result = plan(pc, wsl2_exe="D:\\WSL\\wsl.exe",
                  **{"ray_min_worker_port": 20000, "ray_max_worker_port": 20999, "ray_dashboard_port": 18265,
                     "wsl2_firewall_remote_addresses": ["192.168.0.0/24"]})
    rules = {rule["name"]: rule for rule in result["firewall"]}
    assert rules["ray-docker ray worker ports 20000-20999"]["remoteip"] == "192.168.0.0/24"
    assert rules["ray-docker ray_dashboard_port 18265"]["localport"] == "18265"
    assert "D:\\WSL\\wsl.exe" in result["task"]["xml"]


def test_a_loopback_or_unknown_address_is_left_out_of_the_firewall(pc, monkeypatch):
    monkeypatch.setattr(wsl2_plan, "source_address", lambda target: "127.0.1.1")
    pc.host_variables["head"] = {"ray_node_ip_address": "192.168.9.1"}
    result = plan(pc)
    assert result["firewall"][0]["remoteip"] == "10.0.0.21,192.168.9.1", "the node address; no loopback"


def test_the_distributions_and_wslconfig_are_decoded_from_the_pcs_bytes(pc):
    wslconfig = "[wsl2]\nmemory=8GB\n"
    result = plan(pc, {"wsl_list_b64": base64.b64encode((SAMPLES / "wsl_list_quiet_utf16le.bin").read_bytes()).decode(),
                       "wslconfig_b64": base64.b64encode(wslconfig.encode("utf-8")).decode()})
    assert result["distribution"] == {"name": "ray-node", "registered": True, "others": ["Ubuntu-24.04"]}
    assert result["wslconfig"]["text"].startswith("[wsl2]\nmemory=8GB\n"), "the user's keys kept"
    with pytest.raises(AnsibleActionFail, match=r"\.wslconfig in C:\\Users\\raylab is not UTF-8 \(utf-16\)"):
        plan(pc, {"wslconfig_b64": base64.b64encode(wslconfig.encode("utf-16")).decode()})


def test_a_pc_that_cannot_host_the_node_fails_naming_it_and_keeps_the_plan(pc):
    with pytest.raises(AnsibleActionFail) as failure:
        plan(pc, {"build": 19045, "virtualization": False})
    assert str(failure.value).startswith("pc1: Windows build 19045 has no mirrored networking")
    assert str(failure.value).endswith(". Nothing was changed.")
    assert "virtualization is off" in str(failure.value)
    assert failure.value.result["problems"] and failure.value.result["address"] == "10.0.0.21"


def test_the_control_nodes_own_pc_is_told_by_its_machine_guid(pc, monkeypatch):
    monkeypatch.setattr(wsl2_plan, "control_node_machine_guid", lambda: STATE["machine_guid"])
    result = plan(pc, {"machine_guid": STATE["machine_guid"].upper()})
    assert result["control_pc"] is True, "Windows' MachineGuid compared without case"
    assert result["wslconfig"]["stop_here"] is True and result["wslconfig"]["shutdown"] is False
    with pytest.raises(AnsibleActionFail, match="the control node runs in this PC's WSL, and installing WSL 2.7.14"):
        plan(pc, {"wsl_msi_version": "2.6.1.0"})
    assert plan(pc, {"machine_guid": "0b7c1e7e-1111-4222-8333-000000000000"})["control_pc"] is False


def test_a_pc_that_says_no_guid_is_not_the_control_nodes_when_the_control_node_is_not_in_wsl(pc):
    assert plan(pc, {"machine_guid": ""})["control_pc"] is False
    assert plan(pc, {"machine_guid": None})["control_pc"] is False


def test_the_way_back_plans_what_the_pc_holds_and_the_known_hosts_entry(pc, home):
    record = base64.b64encode(b'{"wslconfig": {}, "power": {"standby": 1800}}').decode()
    result = plan(pc, args={"remove": True, "state": dict(STATE, firewall_rules=["ray-docker old 1"],
                                                          task={"exists": True}, record_b64=record)})
    assert result["task"] is True and result["task_name"] == "ray-docker WSL ray-node"
    assert result["firewall"] == ["ray-docker old 1"]
    assert result["power"] == [{"setting": "standby", "option": "standby-timeout-ac", "minutes": 30}]
    assert result["known_hosts"] == {"name": "[10.0.0.21]:2222", "path": f"{home}/.ssh/known_hosts"}
    assert result["distribution"]["unregister"] is False and "problems" not in result
    result = plan(pc, args={"remove": True, "state": STATE}, wsl2_remove_distribution=True,
                  wsl2_known_hosts_file="/etc/ssh/ssh_known_hosts")
    assert result["distribution"]["dirs"] == ["C:\\Users\\raylab\\AppData\\Local\\ray-docker\\ray-node",
                                              "C:\\Users\\raylab\\AppData\\Local\\ray-docker\\downloads"]
    assert result["known_hosts"]["path"] == "/etc/ssh/ssh_known_hosts"


def test_the_way_back_on_port_22_names_the_bare_host(pc):
    pc.host_variables["pc1-distro"] = {"ansible_host": "PC1.lan", "ansible_port": 22}
    result = plan(pc, args={"remove": True, "state": STATE}, wsl2_ssh_port=22)
    assert result["known_hosts"]["name"] == "pc1.lan" and result["address"] == "PC1.lan" and result["port"] == 22


def test_the_distributions_host_key_becomes_the_known_hosts_entry(pc, home):
    result = plan(pc, args={"host_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKey root@pc1\n"})
    assert result == {"changed": False, "distro_host": "pc1-distro", "address": "10.0.0.21", "port": 2222,
                      "known_hosts": {"name": "[10.0.0.21]:2222",
                                      "key": "[10.0.0.21]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKey",
                                      "path": f"{home}/.ssh/known_hosts"}}
    with pytest.raises(AnsibleActionFail, match="the distribution's sshd host key could not be read: not an SSH public key"):
        plan(pc, args={"host_key": "Permission denied"})


def test_recording_the_key_reads_only_the_settings_it_needs(pc):
    """A host key is recorded even when a setting the plan would refuse is wrong (the PC's own settings were
    checked by the preflight; this step needs the address and the file only)."""
    result = plan(pc, args={"host_key": "ssh-rsa AAAAB3Nza key"}, wsl2_processors=-1)
    assert result["known_hosts"]["name"] == "[10.0.0.21]:2222"
    with pytest.raises(AnsibleActionFail, match="Settings refused for host pc1: wsl2_processors=-1"):
        plan(pc, wsl2_processors=-1)


def test_the_distributions_inventory_port_is_the_one_recorded(pc):
    pc.host_variables["pc1-distro"]["ansible_port"] = 2022
    result = plan(pc, args={"host_key": "ssh-ed25519 AAAA k"})
    assert result["port"] == 2022 and result["known_hosts"]["name"] == "[10.0.0.21]:2022"


def test_a_pc_that_is_its_own_cluster_needs_no_mirrored_networking(pc):
    alone = Lab(heads=["pc1-distro"], groups={"windows_wsl": ["pc1"]}, host_variables=pc.host_variables)
    result = plan(alone, {"build": 19045, "hyperv_firewall": False})
    assert result["problems"] == [] and result["networking_required"] is False
    assert result["firewall"][0]["remoteip"] == "10.0.0.21,10.0.0.5"


def test_without_an_inventory_host_for_the_distribution_the_pcs_own_address_and_the_port_setting_are_used(pc):
    del pc.host_variables["pc1-distro"]["ansible_port"]
    pc.host_variables["pc1-distro"]["ansible_host"] = ""
    result = plan(pc, args={"host_key": "ssh-ed25519 AAAA k"}, wsl2_ssh_port=2200)
    assert (result["address"], result["port"]) == ("10.0.0.21", 2200)
