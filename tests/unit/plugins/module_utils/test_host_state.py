"""Reading what a host holds: config files in any encoding never crash the read (plugins/module_utils/host_state.py)."""

import pytest

from ansible_collections.ray_docker.cluster.plugins.module_utils import host_state


@pytest.mark.parametrize("data, text, encoding", [
    (b'{"a": 1}', '{"a": 1}', "utf-8"),
    ('{"user": "张三"}'.encode("utf-8"), '{"user": "张三"}', "utf-8"),
    (b"\xef\xbb\xbf[wsl2]\nmemory=8GB\n", "[wsl2]\nmemory=8GB\n", "utf-8-sig"),
    ("[wsl2]\r\nmemory=8GB\r\n".encode("utf-16"), "[wsl2]\r\nmemory=8GB\r\n", "utf-16"),  # Notepad's "Unicode"
    ("[wsl2]\nmemory=8GB # für Docker\n".encode("cp1252"), None, "unknown"),  # "ANSI": not guessed, not replaced
])
def test_config_files_are_read_in_the_encodings_windows_saves(tmp_path, data, text, encoding):
    path = tmp_path / "file"
    path.write_bytes(data)
    read = host_state.read_text(str(path))
    assert read["exists"] and read["content"] == text and read["encoding"] == encoding


def test_a_missing_file_reads_as_empty(tmp_path):
    assert host_state.read_text(str(tmp_path / "none")) == {"path": str(tmp_path / "none"), "exists": False,
                                                             "content": "", "encoding": "utf-8"}


def test_files_are_described_as_a_plan_compares_them(tmp_path):
    path = tmp_path / "token"
    path.write_text("secret")
    path.chmod(0o600)
    described = host_state.describe_file(str(path))
    assert described["mode"] == "0600" and described["directory"] is False
    assert described["sha256"] == "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"
    assert host_state.describe_file(str(tmp_path))["directory"] is True
    assert host_state.describe_file(str(tmp_path / "none")) == {"exists": False}


def test_the_snapshot_keeps_only_what_the_roles_read_of_docker_info():
    info = {"ServerVersion": "20.10.24", "OperatingSystem": "Docker Desktop", "Name": "h", "LiveRestoreEnabled": False,
            "DockerRootDir": "/var/lib/docker",
            "RegistryConfig": {"Mirrors": ["http://m:5000/"], "IndexConfigs": {"docker.io": {}}}, "Plugins": {"Volume": []}}
    assert host_state.trimmed_info(info) == {
        "ServerVersion": "20.10.24", "OperatingSystem": "Docker Desktop", "Name": "h", "LiveRestoreEnabled": False,
        "DockerRootDir": "/var/lib/docker",
        "RegistryConfig": {"Mirrors": ["http://m:5000/"], "InsecureRegistryCIDRs": None}}
