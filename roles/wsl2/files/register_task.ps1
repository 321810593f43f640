# Registers the keep-alive task from the plan's XML (plugins/module_utils/windows_pc.py, keep_alive_task) through
# Task Scheduler's own API: S4U with no password (community.windows.win_scheduled_task refuses s4u without one,
# win_scheduled_task.ps1 l.739-741, and fails to register S4U with one, community.windows#307), or Password. The time
# trigger starts now, so its 5-minute repetition runs from this registration on, not from the next boot. Only run
# when the plan found the task missing or different; in check mode Task Scheduler validates it and registers nothing.
[CmdletBinding(SupportsShouldProcess)]
param([string]$Name, [string]$Xml, [string]$User, [int]$LogonType, [SecureString]$Password)
$ErrorActionPreference = 'Stop'
$service = New-Object -ComObject Schedule.Service
$service.Connect()
$xmlNow = $Xml.Replace('START_BOUNDARY', (Get-Date).ToString('s'))
$secret = $null
if ($LogonType -eq 1 -and $Password) {  # TASK_LOGON_PASSWORD
    $secret = [Runtime.InteropServices.Marshal]::PtrToStringBSTR([Runtime.InteropServices.Marshal]::SecureStringToBSTR($Password))
}
$flags = if ($Ansible.CheckMode) { 1 } else { 6 }  # TASK_VALIDATE_ONLY, TASK_CREATE_OR_UPDATE
$null = $service.GetFolder('\').RegisterTask($Name, $xmlNow, $flags, $User, $secret, $LogonType)
$Ansible.Changed = $true
