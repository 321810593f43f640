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


def desktop_tree(tmp_path, monkeypatch):
    """A distribution's view: /mnt/wsl/docker-desktop (shared by every distribution of the user), a docker CLI, a socket
    path and the proxy's pid file, all under tmp_path."""
    integration = tmp_path / "mnt" / "wsl" / "docker-desktop"
    (integration / "cli-tools" / "usr" / "bin").mkdir(parents=True)
    (integration / "cli-tools" / "usr" / "bin" / "docker").write_text("#!/bin/sh\n")
    (integration / "cli-tools" / "usr" / "bin" / "docker").chmod(0o755)
    (tmp_path / "bin").mkdir()
    monkeypatch.setattr(ray_host_facts, "DESKTOP_INTEGRATION", str(integration))
    monkeypatch.setattr(ray_host_facts, "DOCKER_SOCKET", str(tmp_path / "docker.sock"))
    monkeypatch.setattr(ray_host_facts, "DESKTOP_PROXY_PID", str(tmp_path / "docker-desktop-proxy.pid"))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    return integration


def test_desktop_running_for_another_distribution_is_not_this_ones(tmp_path, monkeypatch):
    """/mnt/wsl is shared by every distribution of the Windows user (microsoft/WSL: the cross-distro mount), so the
    folder alone says nothing about this distribution."""
    desktop_tree(tmp_path, monkeypatch)
    (tmp_path / "bin" / "docker").write_text("#!/bin/sh\n")  # Docker Engine's own CLI
    (tmp_path / "bin" / "docker").chmod(0o755)
    assert ray_host_facts.desktop_integration() is False


@pytest.mark.parametrize("how", ["cli link", "socket link", "proxy pid"])
def test_desktop_integrated_into_this_distribution_is_seen(tmp_path, monkeypatch, how):
    """An integrated distribution's docker CLI links into cli-tools, and Desktop's proxy serves its docker.sock and
    leaves docker-desktop-proxy.pid in its /var/run (docker/for-win#14686)."""
    integration = desktop_tree(tmp_path, monkeypatch)
    if how == "cli link":
        (tmp_path / "bin" / "docker").symlink_to(integration / "cli-tools" / "usr" / "bin" / "docker")
    elif how == "socket link":
        (tmp_path / "docker.sock").symlink_to(integration / "shared-sockets" / "docker.proxy.sock")
    else:
        (tmp_path / "docker-desktop-proxy.pid").write_text("42\n")
    assert ray_host_facts.desktop_integration() is True


def test_the_keep_alive_as_windows_holds_it(tmp_path, monkeypatch):
    """reg.exe query through interop (a stand-in script answering as reg.exe prints), the Startup folder and the
    records folder of the profile, wslg.exe under the automount root."""
    root = tmp_path / "mnt"
    profile = root / "c" / "Users" / "ann"
    (root / "c" / "Windows" / "System32").mkdir(parents=True)
    reg = root / "c" / "Windows" / "System32" / "reg.exe"
    reg.write_text("#!/bin/sh\n[ \"$1\" = query ] || exit 2\nprintf '\\r\\nHKEY_CURRENT_USER\\\\Software\\r\\n"
                   "    ray-docker Ubuntu    REG_SZ    x y\\r\\n'\n")
    reg.chmod(0o755)
    startup = profile / "AppData/Roaming/Microsoft/Windows/Start Menu/Programs/Startup"
    startup.mkdir(parents=True)
    (startup / "ray-docker Ubuntu.vbs").write_text("")
    (startup / "Other.lnk").write_text("")
    (profile / "AppData/Local/ray-docker").mkdir(parents=True)
    (profile / "AppData/Local/ray-docker/Ubuntu.json").write_text("{}")
    (root / "c" / "Program Files" / "WSL").mkdir(parents=True)
    (root / "c" / "Program Files" / "WSL" / "wslg.exe").write_text("")
    state = ray_host_facts.keep_alive_state(str(profile), str(root) + "/")
    assert state == {"windows_run": {"ray-docker Ubuntu": "x y"}, "startup_entries": ["ray-docker Ubuntu.vbs"],
                     "windows_records": {"Ubuntu.json": "{}"}, "wslg_exe": True}
