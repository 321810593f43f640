<#
.SYNOPSIS
  One-time set-up of a Windows PC for ray-docker's wsl2 role: OpenSSH Server, PowerShell as its shell, and the
  control node's key for an administrator. Run it once per PC in an administrator PowerShell:

    powershell -ExecutionPolicy Bypass -File setup-pc.ps1 -PublicKey 'ssh-ed25519 AAAA... you@control-node'

  Afterwards the control node reaches the PC as in inventory/example-windows-lab.yml (ansible_connection: ssh,
  ansible_shell_type: powershell, ansible_user: an administrator of the PC). Its last lines are the PC's host key as
  a known_hosts line: add it to the control node's ~/.ssh/known_hosts. Run it again any time: it changes only what
  is not yet so.
.NOTES
  Sources: Microsoft's "Get started with OpenSSH for Windows" (Add-WindowsCapability OpenSSH.Server~~~~0.0.1.0, the
  OpenSSH-Server-In-TCP rule), "OpenSSH Server configuration" (HKLM:\SOFTWARE\OpenSSH DefaultShell;
  administrators_authorized_keys readable only by Administrators and SYSTEM, granted by SID on localized Windows),
  Ansible's "Windows SSH" guide (PowerShell as the default shell, ansible_shell_type powershell).
#>
param(
    [Parameter(Mandatory = $true)][string]$PublicKey
)
$ErrorActionPreference = 'Stop'

$principal = [Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    throw 'Run this in an administrator PowerShell (right-click PowerShell, Run as administrator).'
}
if ($PublicKey -notmatch '^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp\d+) [A-Za-z0-9+/=]+') {
    throw 'PublicKey must be one line of the control node''s ~/.ssh/id_ed25519.pub (ssh-ed25519 AAAA...).'
}

# 1. OpenSSH Server: an optional capability, off by default. Installing it adds the inbound rule OpenSSH-Server-In-TCP.
$capability = Get-WindowsCapability -Online -Name 'OpenSSH.Server*' | Select-Object -First 1
if ($capability.State -ne 'Installed') {
    Add-WindowsCapability -Online -Name $capability.Name | Out-Null
    Write-Host "Installed $($capability.Name)"
}
Set-Service -Name sshd -StartupType Automatic
Start-Service -Name sshd

# 2. PowerShell as sshd's default shell: Ansible's powershell shell type needs it (the default is cmd.exe).
$shell = Join-Path $env:SystemRoot 'System32\WindowsPowerShell\v1.0\powershell.exe'
New-Item -Path 'HKLM:\SOFTWARE\OpenSSH' -Force | Out-Null
New-ItemProperty -Path 'HKLM:\SOFTWARE\OpenSSH' -Name DefaultShell -Value $shell -PropertyType String -Force | Out-Null

# 3. The control node's key for administrators: sshd reads administrators_authorized_keys for members of
#    Administrators (their own ~/.ssh/authorized_keys is ignored), and only if Administrators and SYSTEM alone
#    may read it. Granted by SID, so that it works on Windows in any language.
$keys = Join-Path $env:ProgramData 'ssh\administrators_authorized_keys'
if (-not (Test-Path -Path $keys)) { New-Item -Path $keys -ItemType File -Force | Out-Null }
$present = Get-Content -Path $keys -ErrorAction SilentlyContinue
if ($present -notcontains $PublicKey) {
    Add-Content -Path $keys -Value $PublicKey -Encoding ascii
    Write-Host "Added the key to $keys"
}
& icacls.exe $keys /inheritance:r /grant '*S-1-5-32-544:F' /grant '*S-1-5-18:F' | Out-Null
if ($LASTEXITCODE -ne 0) { throw "icacls could not restrict $keys" }

# 4. The firewall rule the capability adds, in case an earlier removal took it away.
if (-not (Get-NetFirewallRule -Name 'OpenSSH-Server-In-TCP' -ErrorAction SilentlyContinue)) {
    New-NetFirewallRule -Name 'OpenSSH-Server-In-TCP' -DisplayName 'OpenSSH Server (sshd)' -Enabled True `
        -Direction Inbound -Protocol TCP -Action Allow -LocalPort 22 -Profile Domain, Private | Out-Null
}
# 5. This PC's own host key, for the control node's known_hosts: ansible-core cannot ask about an unknown key, and
#    host-key checking stays on. Printed here, over the console you trust, rather than learnt over the network.
$hostKey = Join-Path $env:ProgramData 'ssh\ssh_host_ed25519_key.pub'
for ($i = 0; $i -lt 30 -and -not (Test-Path -Path $hostKey); $i++) { Start-Sleep -Seconds 1 }  # sshd makes it at first start
$key = ((Get-Content -Path $hostKey -TotalCount 1) -split ' ')[0..1] -join ' '
$addresses = @($env:COMPUTERNAME.ToLower()) + @(Get-NetIPAddress -AddressFamily IPv4 -ErrorAction SilentlyContinue |
    Where-Object { $_.IPAddress -notlike '127.*' -and $_.IPAddress -notlike '169.254.*' } | ForEach-Object { $_.IPAddress })
Write-Host ''
Write-Host 'Add this line to ~/.ssh/known_hosts on the control node (keep only the names and addresses you use in the inventory):'
Write-Host "$($addresses -join ',') $key"
Write-Host "Its fingerprint: $(& (Join-Path $env:SystemRoot 'System32\OpenSSH\ssh-keygen.exe') -lf $hostKey)"
Write-Host ''
Write-Host "Done: $env:COMPUTERNAME answers SSH on port 22 with PowerShell; connect as $env:USERNAME (an administrator)."
