"""How the wsl2_plan action recognises the PC whose WSL runs the control node (plugins/action/wsl2_plan.py): its
MachineGuid as reg.exe prints it (in capitals), compared with the PC's own (read_pc.ps1 reports it in lower case), so
that a WSL upgrade never stops the run's own distribution. Only a control node in WSL asks reg.exe.

(Here rather than in tests/unit/plugins/action/, whose harness is being written separately.)"""

import io
import subprocess

import pytest

from ansible_collections.ray_docker.cluster.plugins.action import wsl2_plan

REG_OUTPUT = (b"\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography\r\n"
              b"    MachineGuid    REG_SZ    4C4C4544-0042-3510-8052-B4C04F4A4E32\r\n\r\n")


@pytest.fixture
def machine(monkeypatch):
    """A control node whose kernel release is `machine["osrelease"]`; records the commands it runs."""
    state = {"osrelease": "", "commands": []}

    def fake_open(path, *args, **kwargs):
        assert path == "/proc/sys/kernel/osrelease"
        return io.StringIO(state["osrelease"])

    def fake_run(argv, **kwargs):
        state["commands"].append(argv)
        return subprocess.CompletedProcess(argv, 0, stdout=REG_OUTPUT, stderr=b"")

    monkeypatch.setattr(wsl2_plan, "open", fake_open, raising=False)
    monkeypatch.setattr(wsl2_plan.subprocess, "run", fake_run)
    return state


def test_a_control_node_in_wsl_gets_its_pcs_machine_guid_in_lower_case(machine):
    machine["osrelease"] = "6.6.87.2-microsoft-standard-WSL2\n"
    assert wsl2_plan.control_node_machine_guid() == "4c4c4544-0042-3510-8052-b4c04f4a4e32"
    assert machine["commands"] and machine["commands"][0][0] == "/mnt/c/Windows/System32/reg.exe"


def test_a_control_node_outside_wsl_has_no_pc_and_runs_no_reg_exe(machine):
    machine["osrelease"] = "6.1.0-41-amd64\n"
    assert wsl2_plan.control_node_machine_guid() == ""
    assert machine["commands"] == []
