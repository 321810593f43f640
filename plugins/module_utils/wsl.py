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


def parse_wsl_list_verbose(raw):
    """[{name, state, version, default}] from `wsl --list --verbose` (its header is English in every
    language: NAME STATE VERSION, the default marked with *)."""
    rows = []
    for line in decode_wsl_output(raw).split("\n"):
        match = re.match(r"^\s*(\*)?\s*(\S+)\s+(Running|Stopped|Installing|Uninstalling|Converting|Exporting)\s+(\d+)\s*$", line)
        if match:
            rows.append({"name": match.group(2), "state": match.group(3), "version": int(match.group(4)),
                         "default": bool(match.group(1))})
    return rows


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


def windows_problems(build, multi_host, virtualization, account_sid, excluded_conflicts):
    """Why this Windows PC cannot host its Ray node as planned: [] when it can."""
    problems = []
    if build and build < 19041:
        problems.append(f"Windows build {build} is too old for WSL2 here: Windows 10 2004 (19041) or later is needed, "
                        "Windows 11 22H2 (22621) for a multi-host cluster")
    elif multi_host and build < WINDOWS_11_22H2:
        problems.append(f"Windows build {build} has no mirrored networking (Windows 11 22H2, build 22621, or later): "
                        "its WSL distro would sit behind NAT where other nodes cannot reach it. Use this PC for a "
                        "single-host cluster only, or upgrade it")
    if virtualization is False:
        problems.append("virtualization is off in the firmware (VirtualizationFirmwareEnabled is false): turn on "
                        "Intel VT-x / AMD-V in the BIOS/UEFI settings")
    if account_sid == "S-1-5-18":
        problems.append("Ansible connects as SYSTEM, but WSL distributions and .wslconfig belong to a user: connect "
                        "as the Windows user who will own the distribution")
    return problems + list(excluded_conflicts or [])


def parse_size(text):
    """'8GB', '4096MB', '512m' -> bytes (as .wslconfig writes them); None when unreadable."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?B?)\s*", str(text or ""), re.IGNORECASE)
    if not match:
        return None
    return int(float(match.group(1)) * SIZE_UNITS[match.group(2).upper()])


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
    if len(data) % 2:
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


def firewall_rules(ports, worker_range, ssh_port=None, prefix="ray-docker"):
    """Inbound TCP rules for the pinned Ray ports, the worker range and the distro's sshd, one per port
    or range: [{name, localport}] (the same plan for the Windows Defender and the Hyper-V firewall)."""
    rules = [{"name": f"{prefix} {name} {port}", "localport": str(port)} for name, port in sorted((ports or {}).items())]
    if worker_range:
        rules.append({"name": f"{prefix} ray worker ports {worker_range[0]}-{worker_range[1]}",
                      "localport": f"{worker_range[0]}-{worker_range[1]}"})
    if ssh_port:
        rules.append({"name": f"{prefix} WSL distro SSH {ssh_port}", "localport": str(ssh_port)})
    return rules


def wslconfig_memory_advice(mem_total, needed, wslconfig_text):
    """The sentence telling a WSL2 user which .wslconfig key gives the VM more memory."""
    current = parse_ini(wslconfig_text).get("wsl2", {}).get("memory")
    now = f"memory={current}" if current else "no memory= (WSL2 then takes half of the PC's RAM)"
    want = -(-int(needed) // 1024 ** 3)
    return (f"On WSL2 this is the WSL VM's memory ({int(mem_total) // 1024 ** 2} MiB): set memory={want}GB or more under "
            f"[wsl2] in %UserProfile%\\.wslconfig (it has {now}), then run `wsl --shutdown` in Windows and start the "
            "distribution again")
