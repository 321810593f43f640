"""The probe module's Windows interop (plugins/modules/ray_host_facts.py): the profile read from `cmd.exe /u` in any
code page. cmd.exe is a stand-in script on PATH here (no Windows), answering as cmd.exe documents /u: UTF-16LE."""

import os

import pytest

from ansible_collections.ray_docker.cluster.plugins.modules import ray_host_facts


def fake_cmd(tmp_path, monkeypatch, output: bytes):
    script = tmp_path / "cmd.exe"
    data = tmp_path / "out.bin"
    data.write_bytes(output)
    script.write_text(f"#!/bin/sh\n[ \"$1\" = /u ] || exit 2\ncat '{data}'\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")


@pytest.mark.parametrize("name", ["ann", "张三", "José Müller"])
def test_the_windows_profile_survives_any_user_name(tmp_path, monkeypatch, name):
    fake_cmd(tmp_path, monkeypatch, f"C:\\Users\\{name}\r\n".encode("utf-16-le"))
    assert ray_host_facts.windows_profile("") == (f"C:\\Users\\{name}", f"/mnt/c/Users/{name}")
    assert ray_host_facts.windows_profile("[automount]\nroot = /win/\n")[1] == f"/win/c/Users/{name}"


def test_output_in_the_oem_code_page_gives_no_profile_and_no_crash(tmp_path, monkeypatch):
    fake_cmd(tmp_path, monkeypatch, "C:\\Users\\张三\r\n".encode("cp936"))
    assert ray_host_facts.windows_profile("") == ("", "")


def test_without_interop_there_is_no_profile(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert ray_host_facts.windows_profile("") == ("", "")
