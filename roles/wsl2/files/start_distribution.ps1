# Starts the distribution through its keep-alive task and waits until WSL lists it running. A copy of the task that
# still counts as running (after `wsl --shutdown` its wsl.exe may not have exited yet) would make Task Scheduler
# ignore the start (IgnoreNew): it is ended first.
[CmdletBinding(SupportsShouldProcess)]
param([string]$TaskName, [string]$Wsl, [string]$Distribution, [int]$TimeoutSeconds = 60)
$ErrorActionPreference = 'Stop'
$Ansible.Changed = $true
if ($Ansible.CheckMode) { return }
function Test-Running {
    $env:WSL_UTF8 = '1'
    $names = @(& $Wsl --list --running --quiet 2>$null) | ForEach-Object { ($_ -replace "`0", '').Trim() }
    return [bool]($names | Where-Object { $_ -ieq $Distribution })
}
$deadline = (Get-Date).AddSeconds($TimeoutSeconds)
if ((Get-ScheduledTask -TaskName $TaskName).State -eq 'Running') {
    Stop-ScheduledTask -TaskName $TaskName
    while ((Get-ScheduledTask -TaskName $TaskName).State -eq 'Running' -and (Get-Date) -lt $deadline) { Start-Sleep -Milliseconds 500 }
}
Start-ScheduledTask -TaskName $TaskName
while (-not (Test-Running)) {
    if ((Get-Date) -gt $deadline) {
        throw "the task '$TaskName' did not start $Distribution within $TimeoutSeconds s (Task Scheduler's history of the task says why)"
    }
    Start-Sleep -Seconds 1
}
