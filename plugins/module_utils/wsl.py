"""Windows PCs and WSL2: parsing what Windows and wsl.exe print, merging their INI files, planning.

Pure functions, unit-tested on real output samples (tests/unit/samples/): the wsl2 role (Windows side),
the wsl_distro role (inside a distro) and the docker role (Docker Desktop) call them through filters.
Nothing here parses localized text: wsl.exe's `--list --quiet`, netsh's table rows and the registry's
build number read the same in every language.
"""

import re

# Windows builds (microsoft/WSL src/windows/common/helpers.hpp).
WINDOWS_10_22H2 = 19045
WINDOWS_11_22H2 = 22621   # mirrored networking, the Hyper-V firewall
# The Hyper-V firewall's id for WSL (Get-NetFirewallHyperVVMCreator).
WSL_VM_CREATOR_ID = "{40E0AC32-46A5-438A-A0B2-2B479E8F2E90}"
SIZE_UNITS = {"": 1, "B": 1, "K": 1024, "KB": 1024, "M": 1024 ** 2, "MB": 1024 ** 2, "G": 1024 ** 3, "GB": 1024 ** 3,
              "T": 1024 ** 4, "TB": 1024 ** 4}


def decode_wsl_output(raw):
    """wsl.exe's output as text, whatever it came as.

    wsl.exe writes UTF-16LE without a BOM when its output is redirected (UTF-8 with WSL_UTF8=1, WSL
    0.64+). Read as UTF-8 by a caller that assumed UTF-8, UTF-16 leaves a NUL after each ASCII
    character. Line ends are CRLF, and multi-line messages end lines with CR CR LF.
    """
    if isinstance(raw, (bytes, bytearray)):
        data = bytes(raw)
        if data[:2] == b"\xff\xfe" or (len(data) >= 2 and data[1:2] == b"\x00"):
            text = data.decode("utf-16-le", "replace")
        else:
            text = data.decode("utf-8", "replace")
    else:
        text = str(raw or "")
    return text.replace("\x00", "").replace("\ufeff", "").replace("\r", "")


def parse_wsl_list_quiet(raw):
    """Distribution names from `wsl --list --quiet` (one per line; nothing when there is none)."""
    return [line.strip() for line in decode_wsl_output(raw).split("\n") if line.strip()]


def parse_excluded_port_ranges(text):
    """[(start, end, administered)] from `netsh int ipv4 show excludedportrange protocol=tcp`.

    Headers and footers are localized; the rows are two right-aligned numbers, and a trailing *
    marks an administered (persistent) exclusion. Parsed by shape only.
    """
    ranges = []
    for line in str(text or "").replace("\r", "").split("\n"):
        match = re.match(r"^\s*(\d+)\s+(\d+)\s*(\*)?\s*$", line)
        if match:
            ranges.append((int(match.group(1)), int(match.group(2)), bool(match.group(3))))
    return ranges


def excluded_port_conflicts(ranges, ports, worker_range=None):
    """Messages for the pinned ports (and the worker range) that Windows keeps for itself."""
    problems = []
    for name, port in sorted((ports or {}).items()):
        for start, end, administered in ranges or []:
            if start <= int(port) <= end:
                kind = "an administered exclusion" if administered else "a range reserved by Windows (Hyper-V, WinNAT)"
                problems.append(f"{name}={port} lies in {kind}, {start}-{end} (netsh int ipv4 show excludedportrange "
                                f"protocol=tcp): pick another port")
    if worker_range:
        low, high = int(worker_range[0]), int(worker_range[1])
        for start, end, _ in ranges or []:
            if start <= high and end >= low:
                problems.append(f"ray_min_worker_port..ray_max_worker_port ({low}-{high}) overlaps {start}-{end}, which "
                                "Windows keeps for itself: move the worker range")
                break
    return problems


def windows_build(version):
    """The build number from '10.0.22631.0' (ansible_distribution_version) or '22631' (CurrentBuildNumber)."""
    parts = str(version or "").split(".")
    try:
        return int(parts[2] if len(parts) >= 3 else parts[0])
    except (ValueError, IndexError):
        return 0


SYSTEM_SID = "S-1-5-18"


def windows_problems(build, multi_host, virtualization, account_sid, excluded_conflicts, architecture="x86_64",
                     elevated=True):
    """Why this Windows PC cannot host its Ray node as planned: [] when it can.

    `architecture`: as ansible.windows.setup's ansible_architecture2 names it (not localized: x86_64, arm64, ...);
    `elevated`: whether the session holds the Administrators group enabled (an administrator's OpenSSH session
    always does: "All admin user network connections are elevated", PowerShell/Win32-OpenSSH#1713)."""
    problems = []
    if build and build < 19041:
        problems.append(f"Windows build {build} is too old for WSL2 here: Windows 10 2004 (19041) or later is needed, "
                        "Windows 11 22H2 (22621) for a multi-host cluster")
    elif multi_host and build < WINDOWS_11_22H2:
        problems.append(f"Windows build {build} has no mirrored networking (Windows 11 22H2, build 22621, or later): "
                        "its WSL distro would sit behind NAT where other nodes cannot reach it. Use this PC for a "
                        "single-host cluster only, or upgrade it")
    if architecture and architecture != "x86_64":
        problems.append(f"this PC is {architecture}: the pinned WSL package (x64 MSI) and Ray image are for x86_64 only")
    if virtualization is False:
        problems.append("virtualization is off in the firmware (VirtualizationFirmwareEnabled is false): turn on "
                        "Intel VT-x / AMD-V in the BIOS/UEFI settings")
    if account_sid == SYSTEM_SID:
        problems.append("Ansible connects as SYSTEM, but WSL distributions and .wslconfig belong to a user: connect "
                        "as the Windows user who will own the distribution")
    elif not elevated:
        problems.append("the session is not elevated (no Administrators rights): connect as a member of Administrators "
                        "over OpenSSH, whose sessions are elevated (README, the one-time set-up of a Windows PC)")
    return problems + list(excluded_conflicts or [])


def pending_feature_reboot(states):
    """Whether a Windows feature of ours waits for a reboot. `states`: {feature: State} as
    Get-WindowsOptionalFeature reports it. ansible.windows.win_optional_feature counts "EnablePending" as
    enabled (its test is -notlike "Enabled*"), so a re-run after a skipped reboot reports reboot_required
    false: the state itself says so."""
    return sorted(name for name, state in (states or {}).items() if str(state).endswith("Pending"))


def distribution_registered(names, wanted):
    """Whether `wanted` is among the registered distributions: WSL compares names case-insensitively
    (LxssUserSession.cpp GetDistributionId: IsEqual(..., true))."""
    return str(wanted).casefold() in {str(name).casefold() for name in names or []}


def known_hosts_entry(host, port, public_key):
    """(name, line) for ansible.builtin.known_hosts: `[host]:port keytype key` for a port other than 22, as
    ssh-keyscan writes it (host lower-cased), from an sshd public key file's `keytype key [comment]`."""
    parts = str(public_key or "").split()
    if len(parts) < 2 or not parts[0].startswith(("ssh-", "ecdsa-", "sk-")):
        raise ValueError(f"not an SSH public key: {str(public_key)[:40]!r}")
    name = str(host).lower() if int(port) == 22 else f"[{str(host).lower()}]:{int(port)}"
    return name, f"{name} {parts[0]} {parts[1]}"


# What keeps a distribution and its VM running with no terminal open (microsoft/WSL#9667: "things launched by
# systemd don't count"): negative idle timeouts mean never stop (LxssUserSession.cpp: "A value of less than zero
# indicates that the instance should never be idle-terminated"; "A negative timeout means that the VM will
# continue running until it is terminated via wsl.exe --shutdown").
KEEP_ALIVE = {"general": {"instanceIdleTimeout": -1}, "wsl2": {"vmIdleTimeout": -1}}


def windows_paths(automount_root="/mnt/"):
    """Docker Desktop's and Windows' programs as a distribution reaches them through interop."""
    return {
        "docker_cli": windows_to_wsl_path(r"C:\Program Files\Docker\Docker\resources\bin\docker.exe", automount_root),
        "desktop": r"C:\Program Files\Docker\Docker\Docker Desktop.exe",
        "powershell": windows_to_wsl_path(r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe", automount_root),
        "schtasks": windows_to_wsl_path(r"C:\Windows\System32\schtasks.exe", automount_root),
    }


def desktop_restart_commands(paths, timeout):
    """The ways to restart Docker Desktop from inside WSL, first to last: the Windows-side CLI's `docker desktop
    restart` through interop (the Linux CLI's plugin cannot reach Desktop from WSL: docker/desktop-feedback#495),
    then stopping Desktop's process and starting it again through PowerShell."""
    script = ("$ErrorActionPreference='Stop'; Get-Process -Name 'Docker Desktop' -ErrorAction SilentlyContinue | "
              f"Stop-Process -Force; Start-Sleep -Seconds 3; Start-Process -FilePath '{paths['desktop']}'")
    return [
        {"name": "docker.exe desktop restart", "argv": [paths["docker_cli"], "desktop", "restart", "--timeout", str(int(timeout))]},
        {"name": "powershell.exe Stop-Process / Start-Process", "argv": [paths["powershell"], "-NoProfile",
                                                                          "-NonInteractive", "-Command", script]},
    ]


def _ini_key(line):
    match = re.match(r"^\s*([^=;#\[\s][^=]*?)\s*=", line)
    return match.group(1).strip().lower() if match else None


def parse_ini(text):
    """{section: {key: value}} with lower-case section and key names (WSL reads them case-insensitively)."""
    sections, current = {}, ""
    for line in str(text or "").replace("\r", "").split("\n"):
        header = re.match(r"^\s*\[([^\]]+)\]\s*$", line)
        if header:
            current = header.group(1).strip().lower()
            sections.setdefault(current, {})
            continue
        key = _ini_key(line)
        if key is not None:
            sections.setdefault(current, {})[key] = line.split("=", 1)[1].split("#", 1)[0].strip()
    return sections


def merge_ini(text, settings):
    """(new text, [changed 'section.key']) with `settings` ({section: {key: value}}) set in `text`.

    The user's other keys, comments and order stay as they are; a key the project sets is changed in
    place (keys and sections match case-insensitively), or added at the end of its section, or in a
    new section at the end. Values are written as given (true/false for booleans).
    """
    lines = str(text or "").replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    wanted = {section.lower(): {key.lower(): (key, _ini_value(value)) for key, value in keys.items()}
              for section, keys in (settings or {}).items()}
    changed, seen, section, last_line = [], {}, "", {}
    for index, line in enumerate(lines):
        header = re.match(r"^\s*\[([^\]]+)\]\s*$", line)
        if header:
            section = header.group(1).strip().lower()
            last_line[section] = index
            continue
        if section:
            last_line[section] = index if line.strip() else last_line.get(section, index)
        key = _ini_key(line)
        if key is None or key not in wanted.get(section, {}):
            continue
        seen.setdefault(section, set()).add(key)
        name, value = wanted[section][key]
        current = line.split("=", 1)[1].split("#", 1)[0].strip()
        if current != value:
            lines[index] = f"{line.split('=', 1)[0].rstrip()}={value}"
            changed.append(f"{section}.{key}")
    inserts = []
    for section, keys in wanted.items():
        missing = [(key, name, value) for key, (name, value) in keys.items() if key not in seen.get(section, set())]
        if not missing:
            continue
        changed += [f"{section}.{key}" for key, _, _ in missing]
        new_lines = [f"{name}={value}" for _, name, value in missing]
        if section in last_line:
            inserts.append((last_line[section] + 1, new_lines))
        else:
            original = next(name for name in settings if name.lower() == section)
            inserts.append((len(lines) + 1000, ([""] if lines else []) + [f"[{original}]"] + new_lines))
    for position, new_lines in sorted(inserts, key=lambda item: item[0], reverse=True):
        position = min(position, len(lines))
        lines[position:position] = new_lines
    return "\n".join(lines) + "\n", changed


def _ini_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def windows_to_wsl_path(path, automount_root="/mnt/"):
    """'C:\\Users\\ann' -> '/mnt/c/Users/ann' (wslpath's mapping, with /etc/wsl.conf's automount root)."""
    match = re.match(r"^([A-Za-z]):[\\/]*(.*)$", str(path or "").strip())
    if not match:
        return ""
    rest = match.group(2).replace("\\", "/").rstrip("/")
    stripped = str(automount_root or "/mnt/").strip("/")
    root = f"/{stripped}/" if stripped else "/"
    return f"{root}{match.group(1).lower()}" + (f"/{rest}" if rest else "")


def automount_root(wsl_conf):
    """Where Windows drives are mounted in a distribution: /etc/wsl.conf's [automount] root, else /mnt/."""
    return parse_ini(wsl_conf).get("automount", {}).get("root") or "/mnt/"


def wsl_version(kernel_release):
    """2 for WSL2 (`...-microsoft-standard-WSL2`), 1 for WSL1 (`...-Microsoft`), 0 elsewhere."""
    release = str(kernel_release or "").lower()
    if "microsoft" not in release:
        return 0
    return 2 if ("wsl2" in release or "microsoft-standard" in release) else 1


def decode_cmd_unicode(raw):
    """The text `cmd.exe /u /c echo ...` wrote to a pipe: UTF-16LE (cmd's /u switch, "Formats internal command
    output to a pipe or a file as Unicode"), so a profile such as C:\\Users\\张三 survives whatever the PC's
    OEM code page is. '' when the bytes are not UTF-16LE (an older cmd, or something else answered)."""
    data = bytes(raw or b"")
    if data[:2] == b"\xff\xfe":
        data = data[2:]
    # UTF-16LE of anything with an ASCII character in it (a drive letter, a backslash) has NUL bytes; 8-bit
    # code pages have none.
    if len(data) % 2 or b"\x00" not in data:
        return ""
    try:
        text = data.decode("utf-16-le")
    except UnicodeDecodeError:
        return ""
    return text.replace("\r", "").strip()


def docker_engine_kind(host_info, desktop_integration=False):
    """'desktop' when the engine is Docker Desktop's (it says so in `docker info`), or when it is not
    answering but Desktop's WSL integration is there; else 'engine'."""
    info = host_info or {}
    # Desktop says exactly "Docker Desktop"; an engine in a container appends " (containerized)".
    if str(info.get("OperatingSystem") or "").startswith("Docker Desktop") or (not info and desktop_integration):
        return "desktop"
    return "engine"


# Firewall profiles a lab's rules cover: a lab is a domain or a private network, never a café's Wi-Fi.
FIREWALL_PROFILES = ["domain", "private"]


def firewall_rules(ports, worker_range, ssh_port=None, remote_addresses=None, prefix="ray-docker"):
    """Inbound TCP rules for the pinned Ray ports, the worker range and the distro's sshd, one per port or range:
    [{name, localport, remoteip}] (the same plan for the Windows Defender and the Hyper-V firewall), open on the
    Domain and Private profiles to `remote_addresses` only (the inventory's hosts; 'any' when none is known)."""
    remote = ",".join(sorted(set(remote_addresses or []))) or "any"
    rules = [{"name": f"{prefix} {name} {port}", "localport": str(port)} for name, port in sorted((ports or {}).items())]
    if worker_range:
        rules.append({"name": f"{prefix} ray worker ports {worker_range[0]}-{worker_range[1]}",
                      "localport": f"{worker_range[0]}-{worker_range[1]}"})
    if ssh_port:
        rules.append({"name": f"{prefix} WSL distro SSH {ssh_port}", "localport": str(ssh_port)})
    for rule in rules:
        rule.update(remoteip=remote, profiles=list(FIREWALL_PROFILES))
    return rules


def wslconfig_memory_advice(mem_total, needed, wslconfig_text):
    """The sentence telling a WSL2 user which .wslconfig key gives the VM more memory."""
    current = parse_ini(wslconfig_text).get("wsl2", {}).get("memory")
    now = f"memory={current}" if current else "no memory= (WSL2 then takes half of the PC's RAM)"
    want = -(-int(needed) // 1024 ** 3)
    return (f"On WSL2 this is the WSL VM's memory ({int(mem_total) // 1024 ** 2} MiB): set memory={want}GB or more under "
            f"[wsl2] in %UserProfile%\\.wslconfig (it has {now}), then run `wsl --shutdown` in Windows and start the "
            "distribution again")


# The Windows features WSL2 needs: the Virtual Machine Platform, and the WSL component (harmless on WSL2).
FEATURES = ("VirtualMachinePlatform", "Microsoft-Windows-Subsystem-Linux")
# .NET's RuntimeInformation.OSArchitecture, as ansible.windows.setup's ansible_architecture2 names them.
ARCHITECTURES = {"X64": "x86_64", "Arm64": "arm64", "X86": "i386", "Arm": "arm"}


def msi_outdated(installed, pinned):
    """Whether the WSL MSI recorded in the registry (HKLM\\...\\Lxss\\MSI Version, '2.7.14.0'; none: '') is older than
    the pinned version ('2.7.14')."""
    def parts(version):
        return [int(part) for part in re.findall(r"\d+", str(version or ""))][:4] + [0] * 4

    return parts(installed)[:4] < parts(pinned)[:4]


def pc_plan(state, settings, multi_host, control_pc=False, remote_addresses=(), ports=None, worker_range=None):
    """What the wsl2 role does on one PC, from one read-only look at it (`state`, see roles/wsl2/tasks/main.yml)
    and its settings. Returns {problems, refusals, features, reboot, unrelated_reboot, msi, distribution,
    wslconfig, firewall, notes}; problems and refusals stop the run before any change."""
    build = windows_build(state.get("build"))
    architecture = ARCHITECTURES.get(str(state.get("architecture") or "X64"), str(state.get("architecture")))
    excluded = excluded_port_conflicts(parse_excluded_port_ranges(state.get("excluded_ports")), ports or {}, worker_range)
    problems = windows_problems(build, multi_host, state.get("virtualization"), state.get("account_sid"), excluded,
                                architecture, bool(state.get("elevated", True)))
    features = {name: str((state.get("features") or {}).get(name) or "Disabled") for name in FEATURES}
    pending = pending_feature_reboot(features)
    msi = msi_outdated(state.get("wsl_msi_version"), settings["wsl2_msi_version"])
    distribution = settings["wsl2_distribution"]
    wslconfig_text, wslconfig_encoding = state.get("wslconfig_text") or "", state.get("wslconfig_encoding") or "utf-8"
    wanted = {"wsl2": {"networkingMode": settings["wsl2_networking_mode"], **KEEP_ALIVE["wsl2"]},
              "general": dict(KEEP_ALIVE["general"])}
    for key, name in (("memory", "wsl2_memory"), ("swap", "wsl2_swap")):
        if settings.get(name):
            wanted["wsl2"][key] = settings[name]
    if int(settings.get("wsl2_processors") or 0) > 0:
        wanted["wsl2"]["processors"] = int(settings["wsl2_processors"])
    for section, keys in (settings.get("wsl2_wslconfig_extra") or {}).items():
        wanted.setdefault(section, {}).update(keys)
    refusals, notes = [], []
    if wslconfig_encoding not in ("utf-8", "utf-8-sig"):
        refusals.append(f".wslconfig in {state.get('profile', '%USERPROFILE%')} is not UTF-8 ({wslconfig_encoding}): it is left "
                        "as it is. Save it as UTF-8 (Notepad: Save as, Encoding UTF-8), then re-run")
    merged, updates = merge_ini(wslconfig_text, wanted)
    if control_pc and msi:
        refusals.append(f"the control node runs in this PC's WSL, and installing WSL {settings['wsl2_msi_version']} (it has "
                        f"{state.get('wsl_msi_version') or 'none'}) stops every distribution, this run included. Update WSL "
                        "from Windows yourself (wsl --update, or the MSI), then re-run")
    if control_pc and updates:
        notes.append(f"{', '.join(updates)} merged into .wslconfig; WSL reads it when its VM starts, and this run's own "
                     "distribution cannot stop WSL under itself: run `wsl --shutdown` in Windows when the run is done, "
                     "then run it again")
    if state.get("reboot_pending") and not pending:
        notes.append("Windows has a reboot pending that this run did not cause (an update or an installer); nothing "
                     "here needs it, so the PC is not rebooted")
    if not state.get("hyperv_firewall"):
        notes.append(f"Windows build {build} has no Hyper-V firewall (it came with Windows 11 22H2): only the Windows "
                     "Defender firewall rules are set")
    return {
        "problems": problems + refusals,
        "features": features,
        "features_to_enable": [name for name, value in features.items() if not value.startswith("Enabled")],
        "reboot_for": pending,
        "msi": msi,
        "distribution": {"name": distribution,
                         "registered": distribution_registered(state.get("distributions"), distribution),
                         "others": [name for name in state.get("distributions") or []
                                    if str(name).casefold() != distribution.casefold()]},
        "wslconfig": {"text": merged, "updates": updates, "shutdown": bool(updates) and not control_pc},
        "firewall": firewall_rules(ports or {}, worker_range, settings.get("wsl2_ssh_port"), remote_addresses),
        "hyperv_firewall": bool(state.get("hyperv_firewall")),
        "control_pc": control_pc,
        "notes": notes,
    }


STARTUP_FOLDER = "AppData/Roaming/Microsoft/Windows/Start Menu/Programs/Startup"


def startup_script(distribution):
    """A Windows Startup entry (a .vbs, run at the user's logon with no window and no administrator rights) that
    starts the distribution and keeps a process in it, so its Docker engine and Ray containers come back after a
    reboot and stay up with no terminal open. Logging off still stops WSL (LxssUserSessionFactory.cpp terminates
    a user's sessions at logoff); the next logon starts it again."""
    return ("' Written by ray-docker (role wsl_distro): starts the WSL distribution at logon, hidden, and keeps a\r\n"
            "' process running in it, so that its Docker engine and Ray containers stay up with no terminal open.\r\n"
            f"CreateObject(\"WScript.Shell\").Run \"wsl.exe -d {distribution} --exec sleep infinity\", 0, False\r\n")


def distro_plan(facts, settings, distribution, managed_by_pc=False):
    """What the wsl_distro role does inside a distribution, from the probe's facts (ray_host): /etc/wsl.conf's merge,
    and for a distribution whose own Docker Engine runs the cluster on a PC of its own (journey 1), the keep-alive:
    the Windows user's .wslconfig idle timeouts and a Startup entry, both through Windows interop. A distribution a
    Windows PC of the inventory manages gets those from the wsl2 role instead (its boot task)."""
    facts = facts or {}
    applies = settings["wsl_distro_applies"]
    conf_text, conf_updates = merge_ini(facts.get("wsl_conf", ""), settings["wsl_distro_conf"])
    plan = {"applies": bool(applies), "conf": {"text": conf_text, "updates": conf_updates}, "keep_alive": None,
            "notes": []}
    profile = facts.get("windows_profile") or ""
    engine_os = str(facts.get("engine_os") or "")
    desktop = engine_os.startswith("Docker Desktop") or (facts.get("docker_desktop_integration") and not engine_os)
    if not (applies and settings["wsl_distro_keep_alive"]) or managed_by_pc or desktop:
        return plan
    if not profile or not distribution:
        plan["notes"].append("Windows interop is off (or the distribution's name unknown): the keep-alive is not set up, "
                             "so WSL stops this distribution, and the cluster with it, shortly after its last terminal "
                             "closes. Set [general] instanceIdleTimeout=-1 and [wsl2] vmIdleTimeout=-1 in "
                             "%UserProfile%\\.wslconfig yourself")
        return plan
    encoding = facts.get("wslconfig_encoding") or "utf-8"
    keep = {"wslconfig": f"{profile}/.wslconfig", "startup": f"{profile}/{STARTUP_FOLDER}/ray-docker {distribution}.vbs",
            "startup_content": startup_script(distribution), "distribution": distribution, "text": "", "updates": []}
    if encoding in ("utf-8", "utf-8-sig"):
        keep["text"], keep["updates"] = merge_ini(facts.get("wslconfig", ""), KEEP_ALIVE)
    else:
        plan["notes"].append(f"{profile}/.wslconfig is {encoding}, not UTF-8: it is left as it is; set [general] "
                             "instanceIdleTimeout=-1 and [wsl2] vmIdleTimeout=-1 in it yourself, or save it as UTF-8 and "
                             "re-run")
    if keep["updates"]:
        plan["notes"].append(f"{', '.join(keep['updates'])} merged into .wslconfig so that WSL never stops this "
                             "distribution for being idle (microsoft/WSL#9667); WSL reads it when its VM starts: run "
                             "`wsl --shutdown` in Windows once, then open the distribution again")
    plan["keep_alive"] = keep
    return plan
