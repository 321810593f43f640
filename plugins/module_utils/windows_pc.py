"""A Windows PC of a lab (journey 2): what the wsl2 role decides from its one read-only look at the PC.

Pure functions, unit-tested (tests/unit/plugins/module_utils/test_windows_pc.py): the PC's refusals (build,
architecture, rights, the network's firewall profile, what makes mirrored networking fall back to NAT, the
ports Windows keeps), its changes (features, WSL, private folders, .wslconfig, firewall rules, the keep-alive
task, sleep on AC power) and the way back (`down -e wsl2_remove=true`). Everything read here reads the same in
every language: numbers, enums, registry values, XML, raw bytes.
"""

import base64
import json
import math
import re
import xml.etree.ElementTree as ET

from ansible_collections.ray_docker.cluster.plugins.module_utils import wsl

# Windows builds (microsoft/WSL src/windows/common/helpers.hpp).
WINDOWS_10_22H2 = 19045
WINDOWS_11_22H2 = 22621   # mirrored networking, the Hyper-V firewall
# The Hyper-V firewall's id for WSL (Get-NetFirewallHyperVVMCreator).
WSL_VM_CREATOR_ID = "{40E0AC32-46A5-438A-A0B2-2B479E8F2E90}"
SYSTEM_SID = "S-1-5-18"
ADMINISTRATORS_SID = "S-1-5-32-544"
# Groups that must never be able to write where the project stages what an administrator then installs.
BROAD_SIDS = {"S-1-1-0": "Everyone", "S-1-5-11": "Authenticated Users", "S-1-5-32-545": "Users",
              "S-1-5-4": "INTERACTIVE"}
# The Windows features WSL2 needs: the Virtual Machine Platform, and the WSL component (harmless on WSL2).
FEATURES = ("VirtualMachinePlatform", "Microsoft-Windows-Subsystem-Linux")
# .NET's RuntimeInformation.OSArchitecture, as ansible.windows.setup's ansible_architecture2 names them.
ARCHITECTURES = {"X64": "x86_64", "Arm64": "arm64", "X86": "i386", "Arm": "arm"}
# Every rule, task and record the role makes carries this prefix: the way back finds them by it.
PREFIX = "ray-docker"
# The WSL package's wsl.exe: the System32 stub fails in SSH and WinRM sessions (microsoft/WSL#9231).
WSL_EXE = r"C:\Program Files\WSL\wsl.exe"
# MSFT_NetConnectionProfile.NetworkCategory (NLM_NETWORK_CATEGORY): the firewall profile a network is in.
NETWORK_CATEGORIES = {0: "public", 1: "private", 2: "domain"}
# HKLM\SOFTWARE\Policies\WSL DefaultNetworkingMode (microsoft/WSL src/windows/inc/wslpolicies.h).
POLICY_NETWORKING_MODES = {0: "none", 1: "nat", 3: "mirrored", 4: "virtioproxy"}
# wslinfo --networking-mode's words for the mode in effect (microsoft/WSL src/linux/init/wslinfo.cpp).
NETWORKING_MODES = ("nat", "bridged", "mirrored", "none", "wsl1", "virtioproxy", "consomme")
# The keep-alive task: started at boot and every 5 minutes from its registration on (a boot trigger's own
# repetition would wait for the next boot), never ended by the 72 h default limit.
KEEP_ALIVE_INTERVAL = "PT5M"
TASK_NAMESPACE = "http://schemas.microsoft.com/windows/2004/02/mit/task"
# TASK_LOGON_TYPE (taskschd.h): what the registration passes for each wsl2_task_logon_type.
TASK_LOGON_TYPES = {"password": 1, "s4u": 2}
TASK_LOGON_NAMES = {"password": "Password", "s4u": "S4U"}
# Power settings (GUIDs of powrprof's SUB_SLEEP): idle time before sleep and before hibernation, on AC power.
POWER_SETTINGS = {"standby": "standby-timeout-ac", "hibernate": "hibernate-timeout-ac"}


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
                        "over OpenSSH, whose sessions are elevated (docs/windows.md, the one-time set-up of a PC)")
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


def msi_outdated(installed, pinned):
    """Whether the WSL MSI recorded in the registry (HKLM\\...\\Lxss\\MSI Version, '2.7.14.0'; none: '') is older than
    the pinned version ('2.7.14')."""
    def parts(version):
        return [int(part) for part in re.findall(r"\d+", str(version or ""))][:4] + [0] * 4

    return parts(installed)[:4] < parts(pinned)[:4]


def firewall_rules(ports, worker_range, ssh_port=None, remote_addresses=None, profiles=("domain", "private")):
    """Inbound TCP rules for the pinned Ray ports, the worker range and the distro's sshd, one per port or range:
    [{name, localport, remoteip, profiles}] (the same plan for the Windows Defender and the Hyper-V firewall), open
    on `profiles` (wsl2_firewall_profiles) to `remote_addresses` only (the inventory's hosts; 'any' when none)."""
    remote = ",".join(sorted(set(remote_addresses or []))) or "any"
    rules = [{"name": f"{PREFIX} {name} {port}", "localport": str(port)} for name, port in sorted((ports or {}).items())]
    if worker_range:
        rules.append({"name": f"{PREFIX} ray worker ports {worker_range[0]}-{worker_range[1]}",
                      "localport": f"{worker_range[0]}-{worker_range[1]}"})
    if ssh_port:
        rules.append({"name": f"{PREFIX} WSL distro SSH {ssh_port}", "localport": str(ssh_port)})
    for rule in rules:
        rule.update(remoteip=remote, profiles=sorted(set(profiles)))
    return rules


def hyperv_rule_name(rule):
    """The Hyper-V firewall rule's Name (its id) for a planned rule (roles/wsl2/files/hyperv_firewall.ps1)."""
    return f"{PREFIX}-{rule['localport']}"


def network_problems(network, profiles):
    """Why the PC's network would drop Ray's traffic: the interface the control node reached it on (the server
    address of $env:SSH_CONNECTION; every connected interface when unknown) is in a firewall profile the rules do not
    cover. Windows puts a new network that is not a domain's on Public, and the only symptom would be a node that
    never answers."""
    network = network or {}
    interfaces = [item for item in network.get("interfaces") or [] if item.get("category") is not None]
    address = str(network.get("server_address") or "")
    reached = [item for item in interfaces if address and address in (item.get("addresses") or [])] or interfaces
    problems = []
    for item in reached:
        category = NETWORK_CATEGORIES.get(int(item["category"]), "public")
        if category in profiles:
            continue
        where = f"interface {item.get('alias') or item.get('index')} (index {item.get('index')})"
        fix = (f"Set-NetConnectionProfile -InterfaceIndex {item.get('index')} -NetworkCategory Private"
               if category == "public" else "")
        problems.append(
            f"the network on {where} is in the {category.capitalize()} firewall profile, which the rules do not cover "
            f"(wsl2_firewall_profiles: {', '.join(sorted(profiles))}): Ray's traffic would be dropped. On the PC, in an "
            f"administrator PowerShell: `{fix}`" if fix else
            f"the network on {where} is in the {category.capitalize()} profile: add {category} to wsl2_firewall_profiles")
        if fix:
            problems[-1] += f", or add {category} to wsl2_firewall_profiles"
    return problems


def mirrored_risks(state, wslconfig):
    """Why WSL would run this PC's distribution in NAT (or no) networking although .wslconfig asks for mirrored,
    read before anything changes (microsoft/WSL WslCoreConfig.cpp Config::Initialize, WslCoreVm.cpp
    ValidateNetworkingMode, MirroredNetworking.cpp IsHyperVFirewallSupported). Each message says how to fix it."""
    risks = []
    policy = state.get("wsl_policy") or {}
    if policy.get("AllowNetworkingModeUserSetting") == 0:
        default = POLICY_NETWORKING_MODES.get(policy.get("DefaultNetworkingMode"), "nat")
        if default != "mirrored":
            risks.append(f"a computer policy (HKLM\\SOFTWARE\\Policies\\WSL AllowNetworkingModeUserSetting=0, "
                         f"DefaultNetworkingMode={default}) overrides .wslconfig's networkingMode: ask whoever manages "
                         "the PC's policies to allow mirrored networking")
    if state.get("ipv6_disabled_components") == 0xFF:
        risks.append("IPv6 is disabled in a way WSL does not support (HKLM\\SYSTEM\\CurrentControlSet\\Services\\Tcpip6\\"
                     "Parameters DisabledComponents=0xff): set it to 0x20 (prefer IPv4) instead, in an administrator "
                     "PowerShell: `Set-ItemProperty -Path HKLM:\\SYSTEM\\CurrentControlSet\\Services\\Tcpip6\\Parameters "
                     "-Name DisabledComponents -Value 0x20 -Type DWord`, then reboot")
    hyperv = state.get("hyperv_firewall_state") or {}
    if hyperv.get("disabled_by_registry"):
        risks.append("the Hyper-V firewall is turned off in the registry (HKLM\\SYSTEM\\CurrentControlSet\\Services\\"
                     "MpsSvc\\Parameters HyperVFirewallDisable=1), and mirrored networking needs it: remove that value")
    elif state.get("build", 0) >= WINDOWS_11_22H2 and hyperv.get("supported") is False:
        risks.append("this Windows has no usable Hyper-V firewall (MSFT_NetFirewallHyperVVMCreator or "
                     "MSFT_NetFirewallHyperVProfile missing), which mirrored networking needs: install the latest "
                     "Windows updates")
    if state.get("flow_steering") is False:
        risks.append("this Windows lacks the host networking features mirrored mode needs (ComputeNetwork.dll without "
                     "HcnReserveGuestNetworkServicePortRange): install the latest Windows updates")
    if str((wslconfig.get("wsl2") or {}).get("safemode", "")).lower() == "true":
        risks.append(".wslconfig sets [wsl2] safeMode=true, which turns networking off: remove it")
    return risks


def wslconfig_wanted(settings):
    """{section: {key: value}} the project sets in .wslconfig; None deletes a key (an old [experimental]
    networkingMode would win over [wsl2]'s when it comes first: microsoft/WSL configfile.cpp, first one wins)."""
    wanted = {"wsl2": {"networkingMode": settings["wsl2_networking_mode"], **wsl.KEEP_ALIVE["wsl2"]},
              "general": dict(wsl.KEEP_ALIVE["general"]), "experimental": {"networkingMode": None}}
    for key, name in (("memory", "wsl2_memory"), ("swap", "wsl2_swap")):
        if settings.get(name):
            wanted["wsl2"][key] = settings[name]
    if int(settings.get("wsl2_processors") or 0) > 0:
        wanted["wsl2"]["processors"] = int(settings["wsl2_processors"])
    for section, keys in (settings.get("wsl2_wslconfig_extra") or {}).items():
        wanted.setdefault(section, {}).update(keys)
    return wanted


def power_plan(power, prevent_sleep):
    """Sleep and hibernation on AC power: a sleeping PC takes its Ray node (or, as the head, the cluster) with it,
    and Windows 11 sleeps an idle PC by default. `power`: {standby, hibernate} idle seconds of the active plan on AC
    (Win32_PowerSettingDataIndex; 0 = never; None = unknown). Returns (changes [{setting, option, before}], problems)."""
    on = {name: int(seconds) for name, seconds in (power or {}).items() if name in POWER_SETTINGS and seconds}
    if not on:
        return [], []
    if prevent_sleep:
        return [{"setting": name, "option": POWER_SETTINGS[name], "before": seconds} for name, seconds in sorted(on.items())], []
    commands = "; ".join(f"powercfg /change {POWER_SETTINGS[name]} 0" for name in sorted(on))
    return [], [f"the PC goes to {' and '.join(sorted(on))} after {min(on.values()) // 60} idle minutes on AC power, "
                f"taking its Ray node with it: run `{commands}` on it, or leave wsl2_prevent_sleep on"]


def power_restore(record):
    """The powercfg options that put back the AC timeouts the role changed (their minutes before)."""
    return [{"setting": name, "option": POWER_SETTINGS[name], "minutes": math.ceil(int(seconds) / 60)}
            for name, seconds in sorted(((record or {}).get("power") or {}).items()) if name in POWER_SETTINGS]


def private_dirs(settings, local_app_data):
    """Where the distribution is imported and the downloads are staged: the connecting administrator's own
    %LOCALAPPDATA%\\ray-docker (no other user may write there, unlike a folder under C:\\, where every
    authenticated user may create one) unless set."""
    base = f"{str(local_app_data).rstrip(chr(92))}\\{PREFIX}"
    return {"install": settings.get("wsl2_install_dir") or f"{base}\\{settings['wsl2_distribution']}",
            "download": settings.get("wsl2_download_dir") or f"{base}\\downloads",
            "record": f"{base}\\{settings['wsl2_distribution']}.json"}


def dir_problems(dirs_state, account_sid):
    """A staging or install folder (or, while it does not exist, the folder it will be made in) that another user
    could write to or owns: what is staged there is then installed or imported as an administrator, so a swapped
    MSI or image would run with the administrator's rights. `dirs_state`: {path: {exists, owner_sid, writers:
    [SIDs with write, delete-child or ownership rights], checked (the path examined)}}."""
    problems = []
    trusted = {ADMINISTRATORS_SID, SYSTEM_SID, str(account_sid or "")}
    for path, item in sorted((dirs_state or {}).items()):
        checked = item.get("checked") or path
        owner = str(item.get("owner_sid") or "")
        broad = [BROAD_SIDS[sid] for sid in item.get("writers") or [] if sid in BROAD_SIDS]
        others = [sid for sid in item.get("writers") or [] if sid not in trusted and sid not in BROAD_SIDS]
        if item.get("exists") and owner and owner not in trusted:
            problems.append(f"{path} already exists and is owned by another account ({owner}): whoever made it can "
                            "change what is staged there. Delete it, or set wsl2_install_dir/wsl2_download_dir elsewhere")
        elif broad or (item.get("exists") and others):
            who = ", ".join(broad + others)
            problems.append(f"{checked} lets {who} write into it, and what is staged in {path} is installed as an "
                            "administrator: leave wsl2_install_dir and wsl2_download_dir empty (your own "
                            "%LOCALAPPDATA%\\ray-docker) or pick a folder only administrators can write to")
    return problems


def keep_alive_task(distribution, wsl_exe, user_sid, logon_type):
    """The keep-alive task as Task Scheduler XML (schema 1.2): at boot, and every 5 minutes from its registration
    on, it starts the distribution and keeps one process running in it (IgnoreNew: a copy still running is left
    alone; PT0S: no 72-hour limit; on battery too), as the connecting account with the least rights, S4U (no
    password stored) or Password. Returns {xml, logon_type (TASK_LOGON_TYPE), fields (what a re-run compares)}."""
    fields = {
        "command": wsl_exe,
        "arguments": f"-d {distribution} -u root --exec /bin/sleep infinity",
        "user_id": user_sid,
        "logon_type": TASK_LOGON_NAMES[logon_type],
        "run_level": "LeastPrivilege",
        "triggers": ["BootTrigger", f"TimeTrigger/{KEEP_ALIVE_INTERVAL}"],
        "MultipleInstancesPolicy": "IgnoreNew",
        "DisallowStartIfOnBatteries": "false",
        "StopIfGoingOnBatteries": "false",
        "ExecutionTimeLimit": "PT0S",
        "AllowStartOnDemand": "true",
        "StartWhenAvailable": "true",
        "Enabled": "true",
    }
    task = ET.Element("Task", {"version": "1.2", "xmlns": TASK_NAMESPACE})
    info = ET.SubElement(task, "RegistrationInfo")
    ET.SubElement(info, "Description").text = ("Starts the WSL distribution of the Ray node at boot and whenever it "
                                                "stopped, and keeps it running (ray-docker).")
    triggers = ET.SubElement(task, "Triggers")
    ET.SubElement(ET.SubElement(triggers, "BootTrigger"), "Enabled").text = "true"
    time_trigger = ET.SubElement(triggers, "TimeTrigger")
    repetition = ET.SubElement(time_trigger, "Repetition")
    ET.SubElement(repetition, "Interval").text = KEEP_ALIVE_INTERVAL
    ET.SubElement(repetition, "StopAtDurationEnd").text = "false"
    # Registration fills in the start (roles/wsl2/files/register_task.ps1): now, so the repetition starts at once.
    ET.SubElement(time_trigger, "StartBoundary").text = "START_BOUNDARY"
    ET.SubElement(time_trigger, "Enabled").text = "true"
    principal = ET.SubElement(ET.SubElement(task, "Principals"), "Principal", {"id": "Author"})
    ET.SubElement(principal, "UserId").text = user_sid
    ET.SubElement(principal, "LogonType").text = fields["logon_type"]
    ET.SubElement(principal, "RunLevel").text = fields["run_level"]
    settings = ET.SubElement(task, "Settings")
    for key in ("MultipleInstancesPolicy", "DisallowStartIfOnBatteries", "StopIfGoingOnBatteries", "AllowStartOnDemand",
                "StartWhenAvailable", "Enabled", "ExecutionTimeLimit"):
        ET.SubElement(settings, key).text = fields[key]
    execute = ET.SubElement(ET.SubElement(task, "Actions", {"Context": "Author"}), "Exec")
    ET.SubElement(execute, "Command").text = wsl_exe
    ET.SubElement(execute, "Arguments").text = fields["arguments"]
    return {"xml": ET.tostring(task, encoding="unicode"), "logon_type": TASK_LOGON_TYPES[logon_type], "fields": fields}


def task_fields(xml_text):
    """What keep_alive_task compares, read from an existing task's XML (Export-ScheduledTask: UTF-16 declared,
    every default written out); {} when there is no task or it cannot be read."""
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", str(xml_text or "")).strip()
    if not text:
        return {}
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return {}
    ns = {"t": TASK_NAMESPACE}

    def value(path, default=""):
        found = root.find(path, ns)
        return (found.text or "").strip() if found is not None and found.text is not None else default

    triggers = []
    for trigger in list(root.find("t:Triggers", ns) or []):
        kind = trigger.tag.split("}")[-1]
        if (trigger.findtext("t:Enabled", "true", ns) or "true").strip() == "false":
            continue
        interval = trigger.findtext("t:Repetition/t:Interval", "", ns).strip()
        triggers.append(f"{kind}/{interval}" if interval else kind)
    fields = {
        "command": value("t:Actions/t:Exec/t:Command"),
        "arguments": value("t:Actions/t:Exec/t:Arguments"),
        "user_id": value("t:Principals/t:Principal/t:UserId"),
        "logon_type": value("t:Principals/t:Principal/t:LogonType"),
        "run_level": value("t:Principals/t:Principal/t:RunLevel", "LeastPrivilege"),
        "triggers": sorted(triggers),
    }
    # Task Scheduler writes out its defaults; these are the schema's defaults when a key is missing.
    defaults = {"MultipleInstancesPolicy": "IgnoreNew", "DisallowStartIfOnBatteries": "true",
                "StopIfGoingOnBatteries": "true", "ExecutionTimeLimit": "PT72H", "AllowStartOnDemand": "true",
                "StartWhenAvailable": "false", "Enabled": "true"}
    for key, default in defaults.items():
        fields[key] = value(f"t:Settings/t:{key}", default)
    return fields


def task_drift(existing_xml, desired, account_name=""):
    """What differs between the registered keep-alive task and the planned one: [] when it is already right (a
    re-run registers nothing). The user is compared as SID or as the account's name, whichever the task holds."""
    current = task_fields(existing_xml)
    if not current:
        return ["the task does not exist"]
    wanted = dict(desired["fields"], triggers=sorted(desired["fields"]["triggers"]))
    drift = []
    for key, value in wanted.items():
        have = current.get(key)
        if key == "user_id" and str(have).casefold() in {str(value).casefold(), str(account_name).casefold()}:
            continue
        if have != value:
            drift.append(f"{key}: {have!r} -> {value!r}")
    return drift


def read_record(record_b64):
    """The PC's record of what the role changed that was the user's before (.wslconfig keys, power timeouts)."""
    if not record_b64:
        return {}
    try:
        record = json.loads(base64.b64decode(record_b64).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return {}
    return record if isinstance(record, dict) else {}


def pc_plan(state, settings, multi_host, control_pc=False, remote_addresses=(), ports=None, worker_range=None,
            wsl_exe=WSL_EXE):
    """What the wsl2 role does on one PC, from one read-only look at it (`state`, roles/wsl2/files/read_pc.ps1) and
    its settings. `problems` stop the run before any change; the rest is the work, each part empty when there is
    none, so that a re-run with nothing to do changes nothing."""
    build = windows_build(state.get("build"))
    architecture = ARCHITECTURES.get(str(state.get("architecture") or "X64"), str(state.get("architecture")))
    excluded = excluded_port_conflicts(parse_excluded_port_ranges(state.get("excluded_ports")), ports or {}, worker_range)
    elevated = bool(state.get("elevated", True))
    problems = windows_problems(build, multi_host, state.get("virtualization"), state.get("account_sid"), excluded,
                                architecture, elevated)
    if not elevated:  # nothing else could be read: say only that
        return {"problems": problems, "notes": []}
    features = {name: str((state.get("features") or {}).get(name) or "Disabled") for name in FEATURES}
    pending = pending_feature_reboot(features)
    msi = msi_outdated(state.get("wsl_msi_version"), settings["wsl2_msi_version"])
    distribution = settings["wsl2_distribution"]
    if state.get("wsl_list_error") and not msi:
        problems.append(f"`wsl.exe --list --quiet` failed ({state['wsl_list_error']}): repair WSL on the PC "
                        "(`wsl --update`, or reinstall it), then re-run")
    wslconfig_text, wslconfig_encoding = state.get("wslconfig_text") or "", state.get("wslconfig_encoding") or "utf-8"
    if wslconfig_encoding not in ("utf-8", "utf-8-sig"):
        problems.append(f".wslconfig in {state.get('profile', '%USERPROFILE%')} is not UTF-8 ({wslconfig_encoding}): it is "
                        "left as it is. Save it as UTF-8 (Notepad: Save as, Encoding UTF-8), then re-run")
    merged, updates = wsl.merge_ini(wslconfig_text, wslconfig_wanted(settings))
    record = read_record(state.get("record_b64"))
    new_record = wsl.remember_before(record, wslconfig_text, merged, updates)
    mirrored = settings["wsl2_networking_mode"] == "mirrored"
    risks = mirrored_risks(state, wsl.parse_ini(merged)) if mirrored else []
    if multi_host:
        problems += risks
    profiles = list(settings.get("wsl2_firewall_profiles") or ["domain", "private"])
    if settings.get("wsl2_firewall", True):
        problems += network_problems(state.get("network"), profiles)
    power_changes, power_problems = power_plan(state.get("power"), settings.get("wsl2_prevent_sleep", True))
    problems += power_problems
    for change in power_changes:
        new_record.setdefault("power", {}).setdefault(change["setting"], change["before"])
    if new_record != record:
        new_record.setdefault("wslconfig_existed", bool(state.get("wslconfig_exists", wslconfig_text)))
    if settings.get("wsl2_task_logon_type") == "password" and not settings.get("wsl2_task_password"):
        problems.append("wsl2_task_logon_type is password but wsl2_task_password is empty: give the connecting "
                        "account's password (from a vault), or use s4u")
    if control_pc and msi:
        problems.append(f"the control node runs in this PC's WSL, and installing WSL {settings['wsl2_msi_version']} (it has "
                        f"{state.get('wsl_msi_version') or 'none'}) stops every distribution, this run included. Update "
                        "WSL from Windows yourself (wsl --update, or the MSI), then re-run")
    dirs = private_dirs(settings, state.get("local_app_data") or f"{state.get('profile', '')}\\AppData\\Local")
    problems += dir_problems(state.get("dirs"), state.get("account_sid"))
    notes = []
    if control_pc and updates:
        notes.append(f"{', '.join(updates)} merged into .wslconfig; WSL reads it when its VM starts, and this run's own "
                     "distribution cannot stop WSL under itself: run `wsl --shutdown` in Windows, then run this again")
    if state.get("reboot_pending") and not pending:
        notes.append("Windows has a reboot pending that this run did not cause (an update or an installer); nothing "
                     "here needs it, so the PC is not rebooted")
    if not state.get("hyperv_firewall"):
        notes.append(f"Windows build {build} has no Hyper-V firewall (it came with Windows 11 22H2): only the Windows "
                     "Defender firewall rules are set")
    if risks and not multi_host:
        notes.append("mirrored networking will not work on this PC (" + "; ".join(risks) + "); a single-PC cluster "
                     "runs in NAT mode all the same")
    for change in power_changes:
        notes.append(f"{change['setting']} on AC power turned off (it was {change['before'] // 60} min) so that the PC "
                     "keeps its Ray node up; `down -e wsl2_remove=true` puts it back")
    rules = firewall_rules(ports or {}, worker_range, settings.get("wsl2_ssh_port"), remote_addresses, profiles)
    planned_names = {rule["name"] for rule in rules}
    planned_hyperv = {hyperv_rule_name(rule) for rule in rules}
    task = keep_alive_task(distribution, wsl_exe, str(state.get("account_sid") or ""),
                           settings.get("wsl2_task_logon_type") or "s4u")
    task_state = state.get("task") or {}
    registered = distribution_registered(state.get("distributions"), distribution)
    return {
        "problems": problems,
        "features": features,
        "features_to_enable": [name for name, value in features.items() if not value.startswith("Enabled")],
        "reboot_for": pending,
        "msi": msi,
        "dirs": dirs,
        "distribution": {"name": distribution, "registered": registered,
                         "others": [name for name in state.get("distributions") or []
                                    if str(name).casefold() != distribution.casefold()]},
        "wslconfig": {"text": merged, "updates": updates, "shutdown": bool(updates) and not control_pc,
                      # On the control node's own PC the new .wslconfig waits for the user's `wsl --shutdown`: a
                      # networking mode that has not taken effect would leave the distribution unreachable.
                      "stop_here": bool(updates) and control_pc},
        "record": {"text": json.dumps(new_record, indent=2, sort_keys=True) + "\n", "write": new_record != record,
                   "path": dirs["record"]},
        "networking_mode": settings["wsl2_networking_mode"],
        # Only a lab needs the mode it asked for: a PC that is its own cluster works in NAT too.
        "networking_required": bool(multi_host),
        "mirrored_risks": risks,
        "firewall": rules,
        "firewall_stale": sorted(name for name in state.get("firewall_rules") or [] if name not in planned_names),
        "hyperv_firewall": bool(state.get("hyperv_firewall")),
        "hyperv_stale": sorted(name for name in state.get("hyperv_rules") or [] if name not in planned_hyperv),
        "power": power_changes,
        "task": {"name": task_name(distribution), "xml": task["xml"], "logon_type": task["logon_type"],
                 "drift": task_drift(task_state.get("xml"), task, state.get("account")) if task_state.get("exists")
                 else ["the task does not exist"]},
        "control_pc": control_pc,
        "notes": notes,
    }


def task_name(distribution):
    return f"{PREFIX} WSL {distribution}"


def installed_at(state, distribution):
    """Where WSL keeps the distribution's disk (HKCU Lxss BasePath), '' when it is not registered."""
    return next((path for name, path in (state.get("distribution_paths") or {}).items()
                 if str(name).casefold() == str(distribution).casefold()), "")


def removal_plan(state, settings, remove_distribution=False):
    """The way back (`runner.py down -e wsl2_remove=true`): everything the wsl2 role made on the PC, found by what the
    PC holds, not by today's settings (a port changed since still has its old rule): the keep-alive task, the firewall
    rules, the .wslconfig keys it set (each put back as it was, unless changed since), the AC sleep timeouts, and,
    only with `remove_distribution`, the distribution and its disk and the downloads."""
    distribution = settings["wsl2_distribution"]
    record = read_record(state.get("record_b64"))
    text = state.get("wslconfig_text") or ""
    restored, restored_keys, kept = wsl.restore_ini(text, record.get("wslconfig") or {})
    dirs = private_dirs(settings, state.get("local_app_data") or f"{state.get('profile', '')}\\AppData\\Local")
    registered = distribution_registered(state.get("distributions"), distribution)
    notes = [f".wslconfig's {key} was changed since the role set it: left as it is" for key in kept]
    if restored_keys:
        notes.append(f"{', '.join(restored_keys)} put back in .wslconfig; WSL reads it when its VM starts (`wsl --shutdown` "
                     "or a reboot)")
    if registered and not remove_distribution:
        notes.append(f"the distribution {distribution} and its disk are kept; -e wsl2_remove_distribution=true removes "
                     "them")
    encoding = state.get("wslconfig_encoding") or "utf-8"
    return {
        "task": bool((state.get("task") or {}).get("exists")),
        "task_name": task_name(distribution),
        "firewall": sorted(state.get("firewall_rules") or []),
        "hyperv": sorted(state.get("hyperv_rules") or []),
        "wslconfig": {"text": restored, "restore": bool(restored_keys) and encoding in ("utf-8", "utf-8-sig"),
                      "restored": restored_keys,
                      # a .wslconfig the role made, with nothing of the user's in it, goes as a whole
                      "delete": bool(restored_keys) and not restored.strip() and not record.get("wslconfig_existed", True)},
        "power": power_restore(record),
        "record": dirs["record"] if record or state.get("record_b64") else "",
        "distribution": {"name": distribution, "unregister": bool(remove_distribution and registered),
                         "dirs": [installed_at(state, distribution) or dirs["install"], dirs["download"]]
                         if remove_distribution else []},
        "notes": notes,
    }
