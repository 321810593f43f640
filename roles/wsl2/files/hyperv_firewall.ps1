# One Hyper-V firewall rule per planned rule, keyed by its Name (ray-docker-<port>), on the planned profiles and remote
# addresses; a rule of the project that the plan no longer has (a port changed since) is removed. A rule that is
# already right is left alone: a re-run changes nothing, in check mode too.
[CmdletBinding(SupportsShouldProcess)]
param([string]$Rules, [string]$VMCreatorId, [string[]]$Stale = @())
$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false
$profileNames = @{ domain = 'Domain'; private = 'Private'; public = 'Public' }
foreach ($name in $Stale) {
    $Ansible.Changed = $true
    if (-not $Ansible.CheckMode) { Remove-NetFirewallHyperVRule -Name $name -ErrorAction SilentlyContinue }
}
foreach ($rule in ($Rules | ConvertFrom-Json)) {
    $id = 'ray-docker-' + $rule.localport
    $profiles = @($rule.profiles | ForEach-Object { $profileNames[$_] })
    $remote = @($rule.remoteip -split ',')
    $existing = Get-NetFirewallHyperVRule -Name $id -ErrorAction SilentlyContinue
    if ($existing -and ($existing.LocalPorts -join ',') -eq $rule.localport -and $existing.Action -eq 'Allow' -and
        (@($existing.RemoteAddresses) -join ',') -eq ($remote -join ',') -and
        ([string]$existing.Profiles -replace ' ', '') -eq ($profiles -join ',')) {
        continue
    }
    $Ansible.Changed = $true
    if ($Ansible.CheckMode) { continue }
    if ($existing) { Remove-NetFirewallHyperVRule -Name $id }
    New-NetFirewallHyperVRule -Name $id -DisplayName $rule.name -Direction Inbound -VMCreatorId $VMCreatorId `
        -Protocol TCP -LocalPorts $rule.localport -RemoteAddresses $remote -Profiles $profiles -Action Allow | Out-Null
}
