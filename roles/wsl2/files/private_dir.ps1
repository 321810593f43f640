# A folder only Administrators, SYSTEM and the connecting user may touch, owned by Administrators, with no rule
# inherited or left from before: what is staged in it (the WSL MSI, the distribution's image) is then installed or
# imported as an administrator, and its disk holds a distribution whose root can run Windows programs as that user.
# Idempotent (a folder already so is left alone) and safe in check mode.
[CmdletBinding(SupportsShouldProcess)]
param([string[]]$Paths, [string]$UserSid)
$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false
$administrators = New-Object -TypeName Security.Principal.SecurityIdentifier -ArgumentList 'S-1-5-32-544'
$wanted = @('S-1-5-32-544', 'S-1-5-18', $UserSid) | Select-Object -Unique
foreach ($path in $Paths) {
    $exists = Test-Path -LiteralPath $path
    if ($exists) {
        $acl = Get-Acl -LiteralPath $path
        $rules = @($acl.GetAccessRules($true, $true, [Security.Principal.SecurityIdentifier]))
        $granted = @($rules | Where-Object { $_.AccessControlType -eq 'Allow' -and $_.FileSystemRights -eq 'FullControl' } |
            ForEach-Object { $_.IdentityReference.Value } | Sort-Object -Unique)
        $right = $acl.AreAccessRulesProtected -and $acl.GetOwner([Security.Principal.SecurityIdentifier]).Value -eq 'S-1-5-32-544' -and
            $rules.Count -eq $wanted.Count -and -not (Compare-Object -ReferenceObject $granted -DifferenceObject ($wanted | Sort-Object))
        if ($right) { continue }
    }
    $Ansible.Changed = $true
    if ($Ansible.CheckMode) { continue }
    if (-not $exists) { New-Item -Path $path -ItemType Directory -Force | Out-Null }
    $acl = New-Object -TypeName Security.AccessControl.DirectorySecurity
    $acl.SetOwner($administrators)
    $acl.SetAccessRuleProtection($true, $false)
    foreach ($sid in $wanted) {
        $acl.AddAccessRule((New-Object -TypeName Security.AccessControl.FileSystemAccessRule -ArgumentList @(
                    (New-Object -TypeName Security.Principal.SecurityIdentifier -ArgumentList $sid), 'FullControl',
                    'ContainerInherit, ObjectInherit', 'None', 'Allow')))
    }
    Set-Acl -LiteralPath $path -AclObject $acl
}
