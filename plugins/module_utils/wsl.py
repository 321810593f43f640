"""Windows PCs and WSL2: parsing what Windows and wsl.exe print, merging their INI files, planning.

Pure functions, unit-tested on real output samples (tests/unit/samples/): the wsl2 role (Windows side),
the wsl_distro role (inside a distro) and the docker role (Docker Desktop) call them through filters.
Nothing here parses localized text: wsl.exe's `--list --quiet`, netsh's table rows and the registry's
build number read the same in every language.
"""

import json
import re

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
    new section at the end; a key whose value is None is deleted. Values are written as given
    (true/false for booleans).
    """
    lines = str(text or "").replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    wanted = {section.lower(): {key.lower(): (key, None if value is None else _ini_value(value))
                                for key, value in keys.items()}
              for section, keys in (settings or {}).items()}
    changed, seen, section, last_line, deleted = [], {}, "", {}, set()
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
        if value is None:
            deleted.add(index)
            changed.append(f"{section}.{key}")
        elif current != value:
            lines[index] = f"{line.split('=', 1)[0].rstrip()}={value}"
            changed.append(f"{section}.{key}")
    inserts = []
    for section, keys in wanted.items():
        missing = [(key, name, value) for key, (name, value) in keys.items()
                   if key not in seen.get(section, set()) and value is not None]
        if not missing:
            continue
        changed += [f"{section}.{key}" for key, _, _ in missing]
        new_lines = [f"{name}={value}" for _, name, value in missing]
        if section in last_line:
            inserts.append((last_line[section] + 1, new_lines))
        else:
            original = next(name for name in settings if name.lower() == section)
            inserts.append((len(lines) + 1000, ([""] if lines else []) + [f"[{original}]"] + new_lines))
    lines = [None if index in deleted else line for index, line in enumerate(lines)]
    _drop_emptied_sections(lines, deleted)
    for position, new_lines in sorted(inserts, key=lambda item: item[0], reverse=True):
        position = min(position, len(lines))
        lines[position:position] = new_lines
    return "\n".join(line for line in lines if line is not None) + "\n", changed


def _drop_emptied_sections(lines, deleted):
    """A section whose every line was a deleted key goes too (its header and the blank line before it): restoring a
    file takes back a section the project added. `lines`: deleted lines already None; changed in place."""
    starts = [index for index, line in enumerate(lines) if line is not None and re.match(r"^\s*\[[^\]]+\]\s*$", line)]
    for number, start in enumerate(starts):
        end = starts[number + 1] if number + 1 < len(starts) else len(lines)
        body = range(start + 1, end)
        if any(index in deleted for index in body) and all(lines[index] is None or not lines[index].strip()
                                                             for index in body):
            for index in body:
                lines[index] = None
            lines[start] = None
            if start > 0 and lines[start - 1] is not None and not lines[start - 1].strip():
                lines[start - 1] = None


def ini_value(text, dotted):
    """The value of 'section.key' (lower-case) in an INI text, None when it is not set."""
    section, _, key = dotted.partition(".")
    return parse_ini(text).get(section, {}).get(key)


def remember_before(record, old_text, new_text, updates):
    """The way-back record after a merge: for each key the merge changed ('section.key'), the user's value from
    before the project first set it ('before', None when it was not set) and what the project set ('set'). A key
    recorded by an earlier run keeps its first 'before'. Returns a new record; `record` is left as it is."""
    entries = {key: dict(value) for key, value in ((record or {}).get("wslconfig") or {}).items()}
    for key in updates:
        entry = entries.setdefault(key, {"before": ini_value(old_text, key)})
        entry["set"] = ini_value(new_text, key)
    new = {name: value for name, value in (record or {}).items() if name != "wslconfig"}
    if entries:
        new["wslconfig"] = entries
    return new


def restore_ini(text, entries):
    """(text, [restored keys], [kept keys]): each key the project set put back as it was before ('before' of the
    way-back record: the value, or no key at all); a key whose value is no longer what the project set (the user
    changed it since) is kept as it is."""
    settings, restored, kept = {}, [], []
    for dotted, entry in sorted((entries or {}).items()):
        if ini_value(text, dotted) != entry.get("set"):
            kept.append(dotted)
            continue
        if ini_value(text, dotted) == entry.get("before"):
            continue
        section, _, key = dotted.partition(".")
        settings.setdefault(section, {})[key] = entry.get("before")
        restored.append(dotted)
    new_text, _ = merge_ini(text, settings)
    return (new_text if restored else text), restored, kept


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


def wslconfig_memory_advice(mem_total, needed, wslconfig_text):
    """The sentence telling a WSL2 user which .wslconfig key gives the VM more memory."""
    current = parse_ini(wslconfig_text).get("wsl2", {}).get("memory")
    now = f"memory={current}" if current else "no memory= (WSL2 then takes half of the PC's RAM)"
    want = -(-int(needed) // 1024 ** 3)
    return (f"On WSL2 this is the WSL VM's memory ({int(mem_total) // 1024 ** 2} MiB): set memory={want}GB or more under "
            f"[wsl2] in %UserProfile%\\.wslconfig (it has {now}), then run `wsl --shutdown` in Windows and start the "
            "distribution again")


STARTUP_FOLDER = "AppData/Roaming/Microsoft/Windows/Start Menu/Programs/Startup"
RUN_KEY = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run"
WSLG_EXE = r"C:\Program Files\WSL\wslg.exe"
RECORDS_FOLDER = "AppData/Local/ray-docker"


def run_entry(distribution):
    """(name, command) of the HKCU Run value that starts the distribution at the user's logon and keeps a process in
    it, so that its Docker engine and Ray containers come back after a reboot and stay up with no terminal open.
    wslg.exe is WSL's launcher without a console window (a Run value with wsl.exe would keep a console open); no
    administrator rights, and no VBScript (which Windows is retiring). Logging off still stops WSL
    (LxssUserSessionFactory.cpp terminates a user's sessions at logoff); the next logon starts it again."""
    return f"ray-docker {distribution}", f'"{WSLG_EXE}" -d {distribution} --exec /bin/sleep infinity'


def parse_reg_query(text):
    """{value name: data} from `reg.exe query <key>`: rows of `    name    REG_TYPE    data` (the type names are not
    localized; the header line, the key's path, is skipped)."""
    values = {}
    for line in str(text or "").replace("\r", "").split("\n"):
        match = re.match(r"^\s{2,}(.+?)\s{2,}(REG_[A-Z_]+)(?:\s{2,}(.*))?$", line)
        if match:
            values[match.group(1)] = (match.group(3) or "").strip()
    return values


def distro_plan(facts, settings, distribution, managed_by_pc=False):
    """What the wsl_distro role does inside a distribution, from the probe's facts (ray_host): /etc/wsl.conf's merge,
    and for a distribution whose own Docker Engine runs the cluster on a PC of its own (journey 1), the keep-alive:
    the Windows user's .wslconfig idle timeouts and a Run entry at logon, both through Windows interop, with a record
    of the user's values before (the way back puts them back). A distribution a Windows PC of the inventory manages
    gets those from the wsl2 role instead (its boot task)."""
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
    name, command = run_entry(distribution)
    record_path = f"{profile}/{RECORDS_FOLDER}/{distribution}.json"
    record = _json_record((facts.get("windows_records") or {}).get(f"{distribution}.json"))
    keep = {"wslconfig": f"{profile}/.wslconfig", "distribution": distribution, "text": "", "updates": [],
            "run": {"key": RUN_KEY, "name": name, "command": command, "reg": reg_exe(facts),
                    "write": facts.get("wslg_exe", True) and (facts.get("windows_run") or {}).get(name) != command},
            "old_startup": [f"{profile}/{STARTUP_FOLDER}/{entry}" for entry in facts.get("startup_entries") or []
                            if entry == f"ray-docker {distribution}.vbs"],
            "record": {"path": record_path, "text": "", "write": False}}
    if not facts.get("wslg_exe", True):
        plan["notes"].append(f"{WSLG_EXE} is missing (an old WSL): nothing starts the distribution at logon; update WSL "
                             "(`wsl --update` in Windows) and re-run")
    if encoding in ("utf-8", "utf-8-sig"):
        keep["text"], keep["updates"] = merge_ini(facts.get("wslconfig", ""), KEEP_ALIVE)
        new_record = remember_before(record, facts.get("wslconfig", ""), keep["text"], keep["updates"])
        new_record.setdefault("wslconfig_existed", bool(facts.get("wslconfig_exists", facts.get("wslconfig"))))
        keep["record"].update(text=json.dumps(new_record, indent=2, sort_keys=True) + "\n", write=new_record != record)
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


def distro_removal_plan(facts, distribution):
    """The way back of journey 1 (`down -e wsl_distro_remove=true`): the Run entry (and an old .vbs Startup entry), the
    .wslconfig keys put back as the record says they were (unless changed since), the record itself."""
    facts = facts or {}
    profile = facts.get("windows_profile") or ""
    if not profile or not distribution:
        return {"applies": False}
    name, _ = run_entry(distribution)
    record = _json_record((facts.get("windows_records") or {}).get(f"{distribution}.json"))
    text = facts.get("wslconfig", "") if (facts.get("wslconfig_encoding") or "utf-8") in ("utf-8", "utf-8-sig") else None
    restored, keys, kept = restore_ini(text or "", record.get("wslconfig") or {}) if text is not None else ("", [], [])
    delete_file = bool(keys) and not record.get("wslconfig_existed", True) and not restored.strip()
    return {
        "applies": True,
        "run": {"key": RUN_KEY, "name": name, "reg": reg_exe(facts), "remove": name in (facts.get("windows_run") or {})},
        "old_startup": [f"{profile}/{STARTUP_FOLDER}/{entry}" for entry in facts.get("startup_entries") or []
                        if entry == f"ray-docker {distribution}.vbs"],
        "wslconfig": {"path": f"{profile}/.wslconfig", "text": restored, "restored": keys, "delete": delete_file},
        "record": f"{profile}/{RECORDS_FOLDER}/{distribution}.json"
        if f"{distribution}.json" in (facts.get("windows_records") or {}) else "",
        "notes": [f".wslconfig's {key} was changed since the project set it: left as it is" for key in kept],
    }


def reg_exe(facts):
    """reg.exe as this distribution reaches it (its automount root)."""
    return windows_to_wsl_path(r"C:\Windows\System32\reg.exe", automount_root((facts or {}).get("wsl_conf", "")))


def _json_record(text):
    try:
        record = json.loads(text) if text else {}
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}
