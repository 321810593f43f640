# Read-only: everything the wsl2 role decides from, in one run (plugins/module_utils/windows_pc.py, pc_plan).
# Only values that read the same in every language: numbers, enums, registry values, XML, raw bytes.
# Run unelevated it still answers (the plan then refuses, naming the reason): what needs elevation is read last.
param(
    [string]$Distribution = 'ray-node',
    [string]$TaskName = '',
    [string[]]$Dirs = @(),
    [int]$WslTimeoutSeconds = 60
)
$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false
$state = [ordered]@{}
$identity = [Security.Principal.WindowsIdentity]::GetCurrent()
$state.account = $identity.Name
$state.account_sid = $identity.User.Value
# True only with the Administrators group enabled, i.e. an elevated token.
$state.elevated = ([Security.Principal.WindowsPrincipal]$identity).IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
$os = Get-CimInstance -ClassName Win32_OperatingSystem
$state.build = [int]$os.BuildNumber
$state.architecture = [string][System.Runtime.InteropServices.RuntimeInformation]::OSArchitecture
$cpu = Get-CimInstance -ClassName Win32_Processor | Select-Object -First 1
$system = Get-CimInstance -ClassName Win32_ComputerSystem
# With a hypervisor already running, the firmware flag reads false: either one means it is on.
$state.virtualization = [bool]$cpu.VirtualizationFirmwareEnabled -or [bool]$system.HypervisorPresent
$state.profile = $env:USERPROFILE
$state.local_app_data = $env:LOCALAPPDATA
if (-not $state.elevated) {
    $Ansible.Result = $state
    return
}

function Get-RegistryValue([string]$Path, [string]$Name) {
    $item = Get-ItemProperty -Path $Path -Name $Name -ErrorAction SilentlyContinue
    if ($item) { return $item.$Name }
    return $null
}

$state.features = [ordered]@{}
foreach ($name in 'VirtualMachinePlatform', 'Microsoft-Windows-Subsystem-Linux') {
    $state.features[$name] = [string](Get-WindowsOptionalFeature -Online -FeatureName $name).State
}
$state.wsl_msi_version = [string](Get-RegistryValue 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Lxss\MSI' 'Version')
$state.machine_guid = [string](Get-RegistryValue 'HKLM:\SOFTWARE\Microsoft\Cryptography' 'MachineGuid')
# A reboot Windows waits for that this run did not cause (updates, installers): reported, never acted on.
$renames = Get-RegistryValue 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager' 'PendingFileRenameOperations'
$state.reboot_pending = [bool]$renames -or (Test-Path -Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending')

# What makes WSL fall back from mirrored networking to NAT (microsoft/WSL WslCoreConfig.cpp, WslCoreVm.cpp
# ValidateNetworkingMode, MirroredNetworking.cpp IsHyperVFirewallSupported).
$state.wsl_policy = [ordered]@{}
foreach ($name in 'AllowNetworkingModeUserSetting', 'DefaultNetworkingMode') {
    $value = Get-RegistryValue 'HKLM:\SOFTWARE\Policies\WSL' $name
    if ($null -ne $value) { $state.wsl_policy[$name] = [int]$value }
}
$disabled = Get-RegistryValue 'HKLM:\SYSTEM\CurrentControlSet\Services\Tcpip6\Parameters' 'DisabledComponents'
$state.ipv6_disabled_components = if ($null -ne $disabled) { [int64]$disabled } else { $null }
$hyperv = [ordered]@{ disabled_by_registry = ((Get-RegistryValue 'HKLM:\SYSTEM\CurrentControlSet\Services\MpsSvc\Parameters' 'HyperVFirewallDisable') -eq 1) }
try {
    $null = Get-CimClass -Namespace root/StandardCimv2 -ClassName MSFT_NetFirewallHyperVVMCreator
    $null = Get-CimInstance -Namespace root/StandardCimv2 -ClassName MSFT_NetFirewallHyperVProfile
    $hyperv.supported = $true
}
catch { $hyperv.supported = $false }
$state.hyperv_firewall_state = $hyperv
$state.hyperv_firewall = [bool](Get-Command -Name New-NetFirewallHyperVRule -ErrorAction SilentlyContinue)
$state.flow_steering = $null
try {
    Add-Type -Namespace RayDocker -Name Native -MemberDefinition @'
[DllImport("kernel32.dll", CharSet = CharSet.Unicode)] public static extern IntPtr LoadLibraryW(string name);
[DllImport("kernel32.dll", CharSet = CharSet.Ansi)] public static extern IntPtr GetProcAddress(IntPtr module, string name);
'@
    $module = [RayDocker.Native]::LoadLibraryW('ComputeNetwork.dll')
    $state.flow_steering = ($module -ne [IntPtr]::Zero) -and
        ([RayDocker.Native]::GetProcAddress($module, 'HcnReserveGuestNetworkServicePortRange') -ne [IntPtr]::Zero)
}
catch { $state.flow_steering = $null }

# The network the control node reached the PC on, and its firewall profile (0 Public, 1 Private, 2 Domain).
$network = [ordered]@{ server_address = ''; interfaces = @() }
if ($env:SSH_CONNECTION) { $network.server_address = ($env:SSH_CONNECTION -split ' ')[2] }
foreach ($connection in @(Get-CimInstance -Namespace root/StandardCimv2 -ClassName MSFT_NetConnectionProfile)) {
    $addresses = @(Get-NetIPAddress -InterfaceIndex $connection.InterfaceIndex -AddressFamily IPv4 -ErrorAction SilentlyContinue |
        ForEach-Object { $_.IPAddress })
    $network.interfaces += [ordered]@{ index = [int]$connection.InterfaceIndex; alias = [string]$connection.InterfaceAlias
        category = [int]$connection.NetworkCategory; addresses = $addresses }
}
$state.network = $network

# Sleep and hibernation after so many idle seconds on AC power, in the active power plan (0: never).
$state.power = [ordered]@{}
$plan = Get-CimInstance -Namespace root/cimv2/power -ClassName Win32_PowerPlan -Filter 'IsActive=TRUE' -ErrorAction SilentlyContinue
if ($plan) {
    $planId = ($plan.InstanceID -split '\\')[-1]
    foreach ($setting in @(@('standby', '{29f6c1db-86da-48c5-9fdb-f2b67b1f44da}'), @('hibernate', '{9d7815a6-7ee4-497e-8888-515a05f02364}'))) {
        $index = Get-CimInstance -Namespace root/cimv2/power -ClassName Win32_PowerSettingDataIndex -ErrorAction SilentlyContinue |
            Where-Object { $_.InstanceID -eq "Microsoft:PowerSettingDataIndex\$planId\AC\$($setting[1])" }
        if ($index) { $state.power[$setting[0]] = [int]$index.SettingIndexValue }
    }
}

# What the role made, found by its prefix (the way back and stale rules): firewall rules, the task, the record.
$state.firewall_rules = @(Get-NetFirewallRule -DisplayName 'ray-docker *' -ErrorAction SilentlyContinue | ForEach-Object { $_.DisplayName })
$state.hyperv_rules = @()
if ($state.hyperv_firewall) {
    $state.hyperv_rules = @(Get-NetFirewallHyperVRule -Name 'ray-docker-*' -ErrorAction SilentlyContinue | ForEach-Object { $_.Name })
}
$state.task = [ordered]@{ exists = $false; xml = ''; state = '' }
if ($TaskName) {
    $task = Get-ScheduledTask -TaskName $TaskName -ErrorAction SilentlyContinue
    if ($task) {
        $state.task = [ordered]@{ exists = $true; xml = [string](Export-ScheduledTask -TaskName $TaskName); state = [string]$task.State }
    }
}
$wslconfig = Join-Path -Path $env:USERPROFILE -ChildPath '.wslconfig'
# Raw bytes: the control node reads UTF-8, UTF-8 with a BOM or UTF-16 and refuses to rewrite anything else.
$state.wslconfig_b64 = if (Test-Path -LiteralPath $wslconfig) { [Convert]::ToBase64String([IO.File]::ReadAllBytes($wslconfig)) } else { '' }
$state.wslconfig_exists = Test-Path -LiteralPath $wslconfig
# Where each of the user's distributions lives (HKCU Lxss: not localized), for the way back.
$state.distribution_paths = [ordered]@{}
foreach ($key in @(Get-ChildItem -Path 'HKCU:\Software\Microsoft\Windows\CurrentVersion\Lxss' -ErrorAction SilentlyContinue)) {
    $entry = Get-ItemProperty -Path $key.PSPath
    if ($entry.DistributionName) { $state.distribution_paths[[string]$entry.DistributionName] = [string]$entry.BasePath }
}
$record = Join-Path -Path $env:LOCALAPPDATA -ChildPath "ray-docker\$Distribution.json"
$state.record_b64 = if (Test-Path -LiteralPath $record) { [Convert]::ToBase64String([IO.File]::ReadAllBytes($record)) } else { '' }

# Folders the user chose for the distribution and the downloads: who owns them, and who else may write into them
# (an existing one, or the folder it would be made in).
$state.dirs = [ordered]@{}
$writeRights = [Security.AccessControl.FileSystemRights]'WriteData, AppendData, Delete, DeleteSubdirectoriesAndFiles, ChangePermissions, TakeOwnership'
foreach ($dir in $Dirs) {
    $checked = $dir
    while ($checked -and -not (Test-Path -LiteralPath $checked)) { $checked = Split-Path -Path $checked -Parent }
    $item = [ordered]@{ exists = (Test-Path -LiteralPath $dir); checked = $checked; owner_sid = ''; writers = @() }
    if ($checked) {
        $acl = Get-Acl -LiteralPath $checked
        $item.owner_sid = [string]$acl.GetOwner([Security.Principal.SecurityIdentifier]).Value
        $item.writers = @($acl.GetAccessRules($true, $true, [Security.Principal.SecurityIdentifier]) |
            Where-Object { $_.AccessControlType -eq 'Allow' -and ($_.FileSystemRights -band $writeRights) } |
            ForEach-Object { $_.IdentityReference.Value } | Select-Object -Unique)
    }
    $state.dirs[$dir] = $item
}

# Native programs below: their stderr must not stop the script (Windows PowerShell 5.1 turns it into errors).
$ErrorActionPreference = 'Continue'
$state.excluded_ports = (& netsh.exe int ipv4 show excludedportrange protocol=tcp) -join "`n"
# `wsl --list --quiet`'s raw bytes: UTF-8 with WSL_UTF8 (WSL 0.64+), UTF-16LE from older ones; the control node
# decodes either (plugins/module_utils/wsl.py, decode_wsl_output). Bounded: a hung WSL service fails the read.
$state.wsl_list_b64 = ''
$state.wsl_list_error = ''
$wsl = 'C:\Program Files\WSL\wsl.exe'  # the System32 stub fails in SSH and WinRM sessions (microsoft/WSL#9231)
if (Test-Path -Path $wsl) {
    $info = New-Object -TypeName System.Diagnostics.ProcessStartInfo
    $info.FileName = $wsl
    $info.Arguments = '--list --quiet'
    $info.UseShellExecute = $false
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $info.EnvironmentVariables['WSL_UTF8'] = '1'
    $process = [System.Diagnostics.Process]::Start($info)
    $stdout = $process.StandardOutput.BaseStream.CopyToAsync(($bytes = New-Object -TypeName System.IO.MemoryStream))
    $stderr = $process.StandardError.ReadToEndAsync()
    if (-not $process.WaitForExit($WslTimeoutSeconds * 1000)) {
        $process.Kill()
        $state.wsl_list_error = "no answer within $WslTimeoutSeconds s"
    }
    else {
        $null = $stdout.Wait(5000)
        $state.wsl_list_b64 = [Convert]::ToBase64String($bytes.ToArray())
        if ($process.ExitCode -ne 0) { $state.wsl_list_error = "exit code $($process.ExitCode): $($stderr.Result.Trim())" }
    }
}
$Ansible.Result = $state
