# Read-only: everything the wsl2 role decides from, in one run (see plugins/module_utils/wsl.py, pc_plan).
# Only values that read the same in every language: numbers, states, registry values, raw bytes.
$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false
$state = [ordered]@{}
$os = Get-CimInstance -ClassName Win32_OperatingSystem
$state.build = [int]$os.BuildNumber
$state.architecture = [string][System.Runtime.InteropServices.RuntimeInformation]::OSArchitecture
$cpu = Get-CimInstance -ClassName Win32_Processor | Select-Object -First 1
$system = Get-CimInstance -ClassName Win32_ComputerSystem
# With a hypervisor already running, the firmware flag reads false: either one means it is on.
$state.virtualization = [bool]$cpu.VirtualizationFirmwareEnabled -or [bool]$system.HypervisorPresent
$identity = [Security.Principal.WindowsIdentity]::GetCurrent()
$state.account = $identity.Name
$state.account_sid = $identity.User.Value
# True only with the Administrators group enabled, i.e. an elevated token.
$state.elevated = ([Security.Principal.WindowsPrincipal]$identity).IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
$state.features = [ordered]@{}
foreach ($name in 'VirtualMachinePlatform', 'Microsoft-Windows-Subsystem-Linux') {
    $state.features[$name] = [string](Get-WindowsOptionalFeature -Online -FeatureName $name).State
}
$msi = Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Lxss\MSI' -Name Version -ErrorAction SilentlyContinue
$state.wsl_msi_version = if ($msi) { [string]$msi.Version } else { '' }
$state.machine_guid = [string](Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Cryptography' -Name MachineGuid).MachineGuid
# Native programs below: their stderr must not stop the script (Windows PowerShell 5.1 turns it into errors).
$ErrorActionPreference = 'Continue'
$state.excluded_ports = (& netsh.exe int ipv4 show excludedportrange protocol=tcp) -join "`n"
$state.hyperv_firewall = [bool](Get-Command -Name New-NetFirewallHyperVRule -ErrorAction SilentlyContinue)
# A reboot Windows waits for that this run did not cause (updates, installers): reported, never acted on.
$renames = (Get-ItemProperty -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager' -Name PendingFileRenameOperations -ErrorAction SilentlyContinue).PendingFileRenameOperations
$state.reboot_pending = [bool]$renames -or (Test-Path -Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending')
$state.profile = $env:USERPROFILE
$wslconfig = Join-Path -Path $env:USERPROFILE -ChildPath '.wslconfig'
# Raw bytes: the control node reads UTF-8, UTF-8 with a BOM or UTF-16 and refuses to rewrite anything else.
$state.wslconfig_b64 = if (Test-Path -Path $wslconfig) { [Convert]::ToBase64String([IO.File]::ReadAllBytes($wslconfig)) } else { '' }
# `wsl --list --quiet`'s raw bytes: UTF-8 with WSL_UTF8 (WSL 0.64+), UTF-16LE from older ones; the control node
# decodes either (plugins/module_utils/wsl.py, decode_wsl_output).
$state.wsl_list_b64 = ''
$wsl = 'C:\Program Files\WSL\wsl.exe'  # the System32 stub fails in SSH and WinRM sessions (microsoft/WSL#9231)
if (Test-Path -Path $wsl) {
    $info = New-Object -TypeName System.Diagnostics.ProcessStartInfo
    $info.FileName = $wsl
    $info.Arguments = '--list --quiet'
    $info.UseShellExecute = $false
    $info.RedirectStandardOutput = $true
    $info.EnvironmentVariables['WSL_UTF8'] = '1'
    $process = [System.Diagnostics.Process]::Start($info)
    $bytes = New-Object -TypeName System.IO.MemoryStream
    $process.StandardOutput.BaseStream.CopyTo($bytes)
    $process.WaitForExit()
    $state.wsl_list_b64 = [Convert]::ToBase64String($bytes.ToArray())
}
$Ansible.Result = $state
