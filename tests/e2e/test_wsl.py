"""Windows PCs, as far as this machine can run them: the Linux side of both journeys, on lab hosts.

No Windows runs here, so three things are stand-ins, set up by this module and said so:
- Docker Desktop's engine: a real dockerd in a lab host that reports itself as "Docker Desktop" (dockerd
  takes its OperatingSystem from /etc/os-release, and adds " (containerized)" inside a container), reads the Windows user's daemon.json under a
  /mnt/c tree (as Desktop reads %USERPROFILE%\\.docker\\daemon.json), next to Desktop's WSL integration
  folder (/mnt/wsl/docker-desktop) and its proxy's pid file (/var/run/docker-desktop-proxy.pid);
- Windows interop: /mnt/c/Windows/System32/cmd.exe is a script that answers `cmd.exe /u /c echo %USERPROFILE%`
  as cmd.exe does (C:\\Users\\lab in UTF-16LE, CRLF), reg.exe one that keeps the Run key's values in a file and
  prints them as reg.exe does, and wslg.exe an empty file;
- Desktop's restart through interop: the Windows-side CLI (/mnt/c/Program Files/Docker/Docker/resources/bin/
  docker.exe) and powershell.exe are scripts that restart that dockerd, or do nothing (as a restart that fails
  would), as each test sets them;
- on the second journey, the PC's read of the distribution's host key (wsl.exe ... cat) is a `docker exec`.
What is not stand-in: the project's detection, the daemon.json merge, the restart rule (the file changed, or
the engine does not use the mirrors), the judgement by the engine's mirrors, the pull through the mirror, the
cluster and its check, the refusal of Desktop in a multi-host cluster, the keep-alive files written through
/mnt/c, and on the second journey /etc/wsl.conf's merge, sshd moving to the distribution's own port, its host
key recorded by the wsl2 role's own task files and the wait for that port, then the cluster deployed through
it with strict host-key checking. The rest of the Windows side (the wsl2 role) is covered by lint, syntax
checks and the unit tests of its logic only.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests import lab

from .conftest import ROOT, run_runner

DESKTOP = "raylab-host-0"
PROFILE = "/mnt/c/Users/lab"
WINDOWS_DAEMON_JSON = f"{PROFILE}/.docker/daemon.json"
# What Docker Desktop writes by default (Settings > Docker Engine).
DESKTOP_DEFAULTS = {"builder": {"gc": {"defaultKeepStorage": "20GB", "enabled": True}}, "experimental": False}
STANDIN_DOCKERD = ["dockerd", "--pidfile", "/var/run/docker.pid", "--config-file", WINDOWS_DAEMON_JSON]
DOCKER_EXE = "/mnt/c/Program Files/Docker/Docker/resources/bin/docker.exe"
POWERSHELL = "/mnt/c/Windows/System32/WindowsPowerShell/v1.0/powershell.exe"
# Whether each stand-in really restarts the engine: "restart" or "nothing".
MODES = "/mnt/c/standin-modes"
RESTART = ("start-stop-daemon --stop --retry TERM/30/KILL/5 --pidfile /var/run/docker.pid\n"
           "start-stop-daemon --start --background --pidfile /var/run/docker.pid --output /var/log/dockerd.log "
           f"--exec /usr/sbin/dockerd -- {' '.join(STANDIN_DOCKERD[1:])}\n")


def sh(host, script, check=True):
    return lab.host_exec(host, "sh", "-c", script, check=check)


def write(host, path, content, mode="644"):
    """A file in a lab host, its content taken literally (a quoted heredoc: no shell expansion)."""
    sh(host, f"mkdir -p \"$(dirname '{path}')\" && cat > '{path}' <<'RAYLAB_EOF'\n{content}RAYLAB_EOF\nchmod {mode} '{path}'")


def dockerd_pid(host):
    return sh(host, "cat /var/run/docker.pid", check=False).stdout.strip()


def start_standin_engine(host):
    sh(host, "start-stop-daemon --start --background --oknodo --pidfile /var/run/docker.pid "
             f"--output /var/log/dockerd.log --exec /usr/sbin/dockerd -- {' '.join(STANDIN_DOCKERD[1:])}")
    lab.wait_until(lambda: sh(host, "docker info >/dev/null 2>&1", check=False).returncode == 0, 60,
                   f"the stand-in Desktop engine on {host} did not answer")


def make_desktop_host(host):
    """A lab host that looks, from inside, like a WSL distribution with Docker Desktop's integration."""
    sh(host, "sed -i 's/^PRETTY_NAME=.*/PRETTY_NAME=\"Docker Desktop\"/' /etc/os-release")
    # Desktop's proxy serves the integrated distribution's docker.sock and leaves its pid file there (the stand-in
    # dockerd serves the socket itself).
    sh(host, "mkdir -p /mnt/wsl/docker-desktop && echo 1 > /var/run/docker-desktop-proxy.pid")
    make_interop(host)
    write(host, WINDOWS_DAEMON_JSON, json.dumps(DESKTOP_DEFAULTS, indent=2) + "\n")
    # The Windows-side `docker.exe desktop restart --timeout N` and PowerShell's Stop-Process/Start-Process.
    write(host, DOCKER_EXE, "#!/bin/sh\n[ \"$1 $2\" = 'desktop restart' ] || exit 2\n"
                            f"grep -q '^docker.exe restart' {MODES} || exit 0\n" + RESTART, "755")
    write(host, POWERSHELL, f"#!/bin/sh\ngrep -q '^powershell.exe restart' {MODES} || exit 0\n" + RESTART, "755")
    set_modes(host, docker_exe="restart", powershell="restart")
    start_standin_engine(host)


def make_interop(host):
    """cmd.exe /u answers `echo %USERPROFILE%` as cmd.exe does through interop: UTF-16LE, CRLF. reg.exe keeps the
    user's Run values in a file and answers `query` in reg.exe's row format; wslg.exe is there (an empty file)."""
    write(host, "/mnt/c/Windows/System32/cmd.exe",
          "#!/bin/sh\n[ \"$1\" = /u ] || exit 2\nprintf 'C:\\\\Users\\\\lab\\r\\n' | iconv -f UTF-8 -t UTF-16LE\n", "755")
    write(host, REG_EXE, REG_STANDIN, "755")
    write(host, "/mnt/c/Program Files/WSL/wslg.exe", "")


# reg.exe query/add/delete of one key's values, stored as name<TAB>data lines (argv as the wsl_distro role passes it:
# add KEY /v NAME /t REG_SZ /d DATA /f; delete KEY /v NAME /f).
REG_EXE = "/mnt/c/Windows/System32/reg.exe"
RUN_VALUES = "/mnt/c/standin-registry/run"
REG_STANDIN = f"""#!/bin/sh
store={RUN_VALUES}; mkdir -p "$(dirname "$store")"; touch "$store"; tab="$(printf '\\t')"
case "$1" in
  query) printf '\\r\\nHKEY_CURRENT_USER\\\\Software\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Run\\r\\n'
         while IFS="$tab" read -r name data; do printf '    %s    REG_SZ    %s\\r\\n' "$name" "$data"; done < "$store" ;;
  add) grep -v "^$4$tab" "$store" > "$store.new"; printf '%s\\t%s\\n' "$4" "$8" >> "$store.new"; mv "$store.new" "$store" ;;
  delete) grep -v "^$4$tab" "$store" > "$store.new"; mv "$store.new" "$store" ;;
  *) exit 2 ;;
esac
"""


def set_modes(host, docker_exe, powershell):
    write(host, MODES, f"docker.exe {docker_exe}\npowershell.exe {powershell}\n")


def windows_daemon_json(host):
    return sh(host, f"cat {WINDOWS_DAEMON_JSON}").stdout


@pytest.fixture(scope="module")
def hosts():
    lab.remove_hosts()
    inventory = lab.ensure_hosts(3)
    yield yaml.safe_load(inventory.read_text())
    lab.remove_hosts()


def inventory_file(tmp_path, lab_inventory, head, workers=(), host_vars=None, name="inventory.yml"):
    """An inventory of some lab hosts (the lab's connection settings and mirror), with extra host vars."""
    children = lab_inventory["all"]["children"]
    every = {**children["ray_head"]["hosts"], **(children["ray_workers"].get("hosts") or {})}
    entry = lambda host: {**every[host], **(host_vars or {}).get(host, {})}  # noqa: E731
    data = {"all": {"vars": lab_inventory["all"]["vars"], "children": {
        "ray_head": {"hosts": {head: entry(head)}},
        "ray_workers": {"hosts": {host: entry(host) for host in workers}}}}}
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return str(path)


@pytest.fixture(scope="module")
def desktop(hosts):
    make_desktop_host(DESKTOP)
    return {"ray_node_count": 2, "docker_desktop_ready_timeout": 20}


def test_docker_desktop_gets_the_mirror_in_its_windows_daemon_json_and_runs_the_cluster(hosts, desktop, tmp_path):
    pid = dockerd_pid(DESKTOP)
    inventory = inventory_file(tmp_path, hosts, DESKTOP, host_vars={DESKTOP: desktop})
    result = run_runner("site", "-i", inventory)
    assert result.rc == 0, result.stderr[-4000:]
    assert result.summary["platforms"] == {DESKTOP: "Docker Desktop"}
    assert f"{DESKTOP}: Docker Desktop" in result.stderr
    merged = json.loads(windows_daemon_json(DESKTOP))
    assert merged["registry-mirrors"] == hosts["all"]["vars"]["docker_registry_mirrors"]
    assert {key: merged[key] for key in DESKTOP_DEFAULTS} == DESKTOP_DEFAULTS, "Desktop's own keys stay"
    assert sh(DESKTOP, "test -e /etc/docker/daemon.json", check=False).returncode != 0, "no daemon.json beside Desktop"
    assert dockerd_pid(DESKTOP) != pid, "Desktop was restarted to read its changed daemon.json"
    mirrors = sh(DESKTOP, "docker info --format '{{json .RegistryConfig.Mirrors}}'").stdout
    assert hosts["all"]["vars"]["docker_registry_mirrors"][0] in mirrors
    check = result.summary["check"]
    assert check["passed"] and check["nodes_alive"] == 2, "a single-PC cluster on a bridge network"


def test_a_second_run_on_docker_desktop_restarts_nothing(hosts, desktop, tmp_path):
    pid, content = dockerd_pid(DESKTOP), windows_daemon_json(DESKTOP)
    result = run_runner("site", "-i", inventory_file(tmp_path, hosts, DESKTOP, host_vars={DESKTOP: desktop}))
    assert result.rc == 0 and result.summary["changed"] == 0, result.stderr[-3000:]
    assert dockerd_pid(DESKTOP) == pid and windows_daemon_json(DESKTOP) == content


def with_mirrors(hosts, *extra):
    return json.dumps({"docker_registry_mirrors": hosts["all"]["vars"]["docker_registry_mirrors"] + list(extra)})


def engine_mirrors(host):
    return sh(host, "docker info --format '{{json .RegistryConfig.Mirrors}}'").stdout


def test_desktop_is_restarted_through_powershell_when_its_cli_does_not(hosts, desktop, tmp_path):
    """docker.exe answers but Desktop does not restart (as from a WSL session it may not): the engine, judged by its
    mirrors, still lacks the new one, so the run stops Desktop and starts it again through PowerShell."""
    set_modes(DESKTOP, docker_exe="nothing", powershell="restart")
    pid = dockerd_pid(DESKTOP)
    inventory = inventory_file(tmp_path, hosts, DESKTOP, host_vars={DESKTOP: desktop})
    try:
        result = run_runner("docker", "-i", inventory, "-e", with_mirrors(hosts, "http://mirror-b.invalid:5000"))
    finally:
        set_modes(DESKTOP, docker_exe="restart", powershell="restart")
    assert result.rc == 0, result.stderr[-4000:]
    assert "powershell.exe Stop-Process / Start-Process" in result.stderr
    assert dockerd_pid(DESKTOP) != pid and "mirror-b.invalid" in engine_mirrors(DESKTOP)


def test_when_desktop_cannot_be_restarted_the_user_is_told_and_a_rerun_tries_again(hosts, desktop, tmp_path):
    """Neither way restarts Desktop: the run names the Windows-side file and Settings > Docker Engine, never
    /etc/docker/daemon.json. The file now has the mirror, so a re-run sees no change to write, but the engine does
    not use the mirror yet: it restarts Desktop again."""
    inventory = inventory_file(tmp_path, hosts, DESKTOP, host_vars={DESKTOP: {**desktop, "docker_desktop_ready_timeout": 10}})
    set_modes(DESKTOP, docker_exe="nothing", powershell="nothing")
    try:
        failed = run_runner("docker", "-i", inventory, "-e", with_mirrors(hosts, "http://mirror-c.invalid:5000"))
    finally:
        set_modes(DESKTOP, docker_exe="restart", powershell="restart")
    assert failed.rc == 1
    assert "C:\\Users\\lab\\.docker\\daemon.json has the mirrors" in failed.stderr
    assert "Settings > Docker Engine > Apply & restart" in failed.stderr and "/etc/docker/daemon.json" not in failed.stderr
    assert "mirror-c.invalid" in windows_daemon_json(DESKTOP) and "mirror-c.invalid" not in engine_mirrors(DESKTOP)
    again = run_runner("docker", "-i", inventory, "-e", with_mirrors(hosts, "http://mirror-c.invalid:5000"))
    assert again.rc == 0, again.stderr[-3000:]
    assert "Restart Docker Desktop with the Windows-side CLI" in again.stderr and "mirror-c.invalid" in engine_mirrors(DESKTOP)


def test_an_invalid_windows_daemon_json_is_never_overwritten(hosts, desktop, tmp_path):
    original = windows_daemon_json(DESKTOP)
    broken = '{"registry-mirrors": ["http://x:5000"],\n'
    sh(DESKTOP, f"printf '%s' '{broken}' > {WINDOWS_DAEMON_JSON}")
    try:
        result = run_runner("docker", "-i", inventory_file(tmp_path, hosts, DESKTOP, host_vars={DESKTOP: desktop}))
        assert result.rc == 1
        assert f"{WINDOWS_DAEMON_JSON} is not valid JSON" in result.stderr and "Nothing was changed" in result.stderr
        assert windows_daemon_json(DESKTOP) == broken
    finally:
        write(DESKTOP, WINDOWS_DAEMON_JSON, original)


def test_docker_desktop_in_a_cluster_of_several_hosts_is_refused(hosts, desktop, tmp_path):
    one_node = {key: value for key, value in desktop.items() if key != "ray_node_count"}
    inventory = inventory_file(tmp_path, hosts, "raylab-host-1", [DESKTOP], host_vars={DESKTOP: one_node})
    before = sh("raylab-host-1", "pgrep -x dockerd", check=False).returncode
    result = run_runner("site", "-i", inventory)
    assert result.rc == 1
    assert f"{DESKTOP} runs Docker Desktop, whose host network is Desktop's own VM" in result.stderr
    assert "Nothing was changed" in result.stderr
    assert sh("raylab-host-1", "pgrep -x dockerd", check=False).returncode == before, "the other host was not touched"


def without_engine_package(host):
    """The distribution as Docker Desktop's integration leaves it: no docker.io package (its files kept in a tarball
    to put back), the docker CLI a link into Desktop's cli-tools. An install by the role would then show."""
    sh(host, "dpkg -L docker.io | while read -r f; do [ -f \"$f\" ] && echo \"$f\"; done > /root/docker.io.files "
             "&& tar -cf /root/docker.io.tar -T /root/docker.io.files "
             "&& mkdir -p /mnt/wsl/docker-desktop/cli-tools/usr/bin && cp /usr/bin/docker /mnt/wsl/docker-desktop/cli-tools/usr/bin/ "
             "&& dpkg --purge --force-depends docker.io >/dev/null "
             "&& ln -sf /mnt/wsl/docker-desktop/cli-tools/usr/bin/docker /usr/bin/docker")


def engine_package_state(host):
    installed = sh(host, "dpkg-query -W -f '${Status}' docker.io", check=False).stdout
    return installed, sh(host, "cat /var/log/apt/history.log /var/log/dpkg.log 2>/dev/null | wc -l").stdout.strip()


def test_docker_desktop_not_running_is_said_and_nothing_is_installed(hosts, desktop, tmp_path):
    sh(DESKTOP, "start-stop-daemon --stop --retry TERM/30/KILL/5 --pidfile /var/run/docker.pid")
    without_engine_package(DESKTOP)
    before = engine_package_state(DESKTOP)
    assert "install ok installed" not in before[0]
    try:
        result = run_runner("docker", "-i", inventory_file(tmp_path, hosts, DESKTOP, host_vars={DESKTOP: desktop}))
        assert result.rc == 1
        assert "Docker Desktop is installed" in result.stderr and "start Docker Desktop on Windows" in result.stderr
        assert sh(DESKTOP, "pgrep -x dockerd", check=False).returncode != 0, "no engine was started beside Desktop"
        assert engine_package_state(DESKTOP) == before, "an engine package was installed beside Docker Desktop"
    finally:
        sh(DESKTOP, "tar -xf /root/docker.io.tar -C /")
        start_standin_engine(DESKTOP)


def test_a_pc_of_its_own_keeps_its_distribution_running_with_no_terminal_open_and_has_a_way_back(hosts, tmp_path):
    """Journey 1 with Docker Engine in the distribution: through interop the Windows user's .wslconfig gets the idle
    timeouts (the user's keys kept, the values before recorded) and the user's Run key a value that starts the
    distribution at logon with wslg.exe (an old .vbs Startup entry goes); the recap says `wsl --shutdown` is needed
    once. A second run writes nothing. The way back, checked first, puts .wslconfig back as it was and removes the
    Run value and the record."""
    pc = "raylab-host-1"
    make_interop(pc)
    users_wslconfig = "[wsl2]\nmemory=6GB  # mine\n"
    write(pc, f"{PROFILE}/.wslconfig", users_wslconfig)
    old_vbs = f"{PROFILE}/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/Startup/ray-docker Ubuntu-24.04.vbs"
    write(pc, old_vbs, "' an earlier version's entry\r\n")
    host_vars = {pc: {"wsl_distro_applies": True, "wsl_distro_name": "Ubuntu-24.04"}}
    inventory = inventory_file(tmp_path, hosts, pc, host_vars=host_vars)
    result = run_runner("wsl", "-i", inventory)
    assert result.rc == 0, result.stderr[-4000:]
    wslconfig = sh(pc, f"cat {PROFILE}/.wslconfig").stdout
    assert "memory=6GB  # mine" in wslconfig and "vmIdleTimeout=-1" in wslconfig and "instanceIdleTimeout=-1" in wslconfig
    run_values = sh(pc, f"cat {RUN_VALUES}").stdout
    assert run_values == 'ray-docker Ubuntu-24.04\t"C:\\Program Files\\WSL\\wslg.exe" -d Ubuntu-24.04 --exec /bin/sleep infinity\n'
    assert sh(pc, f"test -e '{old_vbs}'", check=False).returncode != 0, "the .vbs of an earlier version is gone"
    record = json.loads(sh(pc, f"cat {PROFILE}/AppData/Local/ray-docker/Ubuntu-24.04.json").stdout)
    assert record["wslconfig"]["wsl2.vmidletimeout"] == {"before": None, "set": "-1"}
    assert f"NOTE {pc}: general.instanceidletimeout, wsl2.vmidletimeout merged into .wslconfig" in result.stderr
    assert "run `wsl --shutdown` in Windows once" in result.stderr
    again = run_runner("wsl", "-i", inventory)
    assert again.rc == 0 and again.summary["changed"] == 0, again.stderr[-3000:]

    checked = run_runner("down", "-i", inventory, "--check", "-e", "wsl_distro_remove=true")
    assert checked.rc == 0 and checked.summary["changed"] > 0, checked.stderr[-3000:]
    assert sh(pc, f"cat {PROFILE}/.wslconfig").stdout == wslconfig and sh(pc, f"cat {RUN_VALUES}").stdout == run_values
    back = run_runner("down", "-i", inventory, "-e", "wsl_distro_remove=true")
    assert back.rc == 0, back.stderr[-3000:]
    assert sh(pc, f"cat {PROFILE}/.wslconfig").stdout == users_wslconfig, "the user's file, as it was"
    assert sh(pc, f"cat {RUN_VALUES}").stdout == "" and \
        sh(pc, f"test -e {PROFILE}/AppData/Local/ray-docker/Ubuntu-24.04.json", check=False).returncode != 0


DISTRO = "raylab-host-2"
RECORD_KEY = str(ROOT / "tests" / "e2e" / "playbooks" / "record_distro_host_key.yml")
USERS_WSL_CONF = "[user]\ndefault=ann\n\n[network]\nhostname=pc2-ubuntu  # my PC\n"


def test_a_windows_pcs_distribution_joins_through_its_own_ssh_port(hosts, tmp_path):
    """Journey 2's Linux half: the distribution's /etc/wsl.conf merged, sshd moved to port 2222, then the
    cluster deployed through that port. The first step reaches it on port 22, standing in for the Windows
    side's bootstrap through wsl.exe."""
    write(DISTRO, "/etc/wsl.conf", USERS_WSL_CONF)
    # The user also runs Docker Desktop for another distribution: /mnt/wsl is shared by all of them, so its folder is
    # seen here too; this distribution is not integrated and keeps its own Docker Engine.
    sh(DISTRO, "mkdir -p /mnt/wsl/docker-desktop/cli-tools")
    distro_vars = {"wsl_distro_applies": True, "wsl_distro_ssh_port": 2222}
    first = inventory_file(tmp_path, hosts, "raylab-host-1", [DISTRO], host_vars={DISTRO: distro_vars}, name="first.yml")
    result = run_runner("wsl", "-i", first)
    assert result.rc == 0, result.stderr[-4000:]
    conf = sh(DISTRO, "cat /etc/wsl.conf").stdout
    assert "default=ann" in conf and "hostname=pc2-ubuntu  # my PC" in conf, "the user's keys and comment stay"
    assert "[boot]\nsystemd=true" in conf
    assert f"NOTE {DISTRO}: /etc/wsl.conf changed (boot.systemd)" in result.stderr
    # The distribution's sshd comes back only 20 s from now (as after WSL restarted it): the role's own wait must
    # cover that, not this test.
    # (sshd is the lab host's PID 1: it is made to drop port 2222 and take it back, never killed)
    sh(DISTRO, "mv /etc/ssh/sshd_config.d/ray-docker.conf /root/ray-docker.conf.held && pkill -HUP -o -x sshd; "
               "for i in $(seq 50); do ss -ltn | grep -q ':2222 ' || break; sleep 0.1; done; "
               "setsid sh -c 'sleep 20; mv /root/ray-docker.conf.held /etc/ssh/sshd_config.d/ray-docker.conf; "
               "pkill -HUP -o -x sshd' >/dev/null 2>&1 < /dev/null &")
    assert sh(DISTRO, "ss -ltn | grep -q ':2222 '", check=False).returncode != 0
    through_2222 = {DISTRO: {**distro_vars, "ansible_port": 2222}}
    inventory = inventory_file(tmp_path, hosts, "raylab-host-1", [DISTRO], host_vars=through_2222, name="lab.yml")
    # Strict host-key checking: [address]:2222 is unknown until the wsl2 role's own task files record it (the PC's
    # read of the key stands in as `cat` over port 22), then wait for the distribution's sshd on that port.
    known_hosts = lab.cache_dir() / lab.KNOWN_HOSTS_NAME
    address = hosts["all"]["children"]["ray_workers"]["hosts"][DISTRO]["ansible_host"]
    assert f"[{address}]:2222 " not in known_hosts.read_text()
    started = time.monotonic()
    recorded = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", inventory, RECORD_KEY,
                               "-e", json.dumps({"record_distro": DISTRO, "record_known_hosts": str(known_hosts)})],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert recorded.returncode == 0, recorded.stdout[-3000:] + recorded.stderr[-2000:]
    assert time.monotonic() - started >= 18, "the role's wait did not wait for the distribution's sshd"
    assert sh(DISTRO, "ss -ltn | grep -q ':2222 '", check=False).returncode == 0, "sshd listens on 2222"
    assert f"[{address}]:2222 ssh-ed25519 " in known_hosts.read_text()
    deployed = run_runner("site", "-i", inventory)
    assert deployed.rc == 0, deployed.stderr[-4000:]
    check = deployed.summary["check"]
    assert check["passed"] and sorted(node["node_name"] for node in check["nodes"]) == \
        ["ray-head@raylab-host-1", f"ray-worker-1@{DISTRO}"]
    again = run_runner("site", "-i", inventory)
    assert again.rc == 0 and again.summary["changed"] == 0, again.stderr[-3000:]
