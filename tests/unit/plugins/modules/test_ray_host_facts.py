"""The probe module's Windows interop (plugins/modules/ray_host_facts.py): the profile read from `cmd.exe /u` in any
code page. cmd.exe is a stand-in script on PATH here (no Windows), answering as cmd.exe documents /u: UTF-16LE."""

import multiprocessing
import os
import pathlib
import tempfile

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


def test_disk_counts_what_the_data_root_holds_like_du(tmp_path):
    root = tmp_path / "data"
    (root / "node" / "logs").mkdir(parents=True)
    (root / "node" / "logs" / "raylet.out").write_bytes(b"x" * 300_000)
    (root / "node" / "hard").write_bytes(b"y" * 100_000)
    os.link(root / "node" / "hard", root / "node" / "hard-again")  # one inode, counted once as du does
    (root / "node" / "link").symlink_to("/usr")  # not followed
    found = ray_host_facts.disk(str(root), measure=True)
    assert found["path"] == found["checked"] == str(root)
    assert 400_000 <= found["used"] < 400_000 + 8 * 8192  # the files plus a few folder blocks
    assert found["total"] >= found["free"] > 0


def test_disk_of_a_folder_not_made_yet_reads_its_nearest_parent_and_uses_nothing(tmp_path):
    found = ray_host_facts.disk(str(tmp_path / "a" / "b"), measure=True)
    assert found["checked"] == str(tmp_path) and found["used"] == 0
    assert "used" not in ray_host_facts.disk(str(tmp_path))


def become_nobody():
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)


def test_an_unreadable_folder_gives_no_number_rather_than_a_small_one(tmp_path_factory):
    """Walked as a user who may read the root but not one folder in it (the unit layer runs as root, who reads all)."""
    root = tmp_path_factory.mktemp("open")
    root.chmod(0o755)
    for parent in root.parents:  # pytest's own base folder is private
        if parent == pathlib.Path(tempfile.gettempdir()):
            break
        parent.chmod(parent.stat().st_mode | 0o005)
    (root / "shared").mkdir(mode=0o755)
    (root / "shared" / "file").write_bytes(b"s" * 10_000)
    (root / "closed").mkdir(mode=0o700)
    (root / "closed" / "file").write_bytes(b"z" * 10_000)
    if os.geteuid() != 0:  # a user's own run: a folder closed to its owner will do
        (root / "closed").chmod(0)
        try:
            assert ray_host_facts.used_bytes(str(root / "shared")) > 0 and ray_host_facts.used_bytes(str(root)) is None
        finally:
            (root / "closed").chmod(0o700)
        return
    with multiprocessing.get_context("fork").Pool(1, initializer=become_nobody) as pool:
        assert pool.apply(ray_host_facts.used_bytes, (str(root / "shared"),)) > 0
        assert pool.apply(ray_host_facts.used_bytes, (str(root),)) is None


@pytest.mark.parametrize("measure", [False, True])
def test_the_data_roots_files_are_counted_only_when_asked(tmp_path, measure):
    """A deployment reads the free space only; `status` (measure_data_dir) also walks every file the nodes keep."""
    (tmp_path / "node").mkdir()
    (tmp_path / "node" / "log").write_bytes(b"x" * 50_000)
    params = {"files": [], "registry_cache": None, "daemon_json": None, "desktop_daemon_json": "", "images": [],
              "image_references": [], "networks": [], "volumes": [], "container_label": None,
              "docker_host": f"unix://{tmp_path}/no-engine.sock", "data_dir": str(tmp_path), "measure_data_dir": measure}
    facts = {"docker_desktop_integration": False, "windows_profile": ""}
    snapshot = ray_host_facts.engine_snapshot(params, facts, run_command=None)
    assert snapshot["engine_answers"] is False
    data_root = facts["disk"]["data_root"]
    assert data_root["free"] > 0
    assert ("used" in data_root) is measure
    if measure:
        assert data_root["used"] >= 50_000
