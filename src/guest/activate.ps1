<#
.SYNOPSIS
    Activates Windows against a KMS host and reports what happened in one machine-readable line.
.DESCRIPTION
    Rendered and shipped by azure-kms-activation (CustomScriptExtension or managed Run Command).
    Safe to run again: every step checks the current state first. Bounded in time: every external
    call has a timeout, and their sum stays under the extension's patience.
    The last line printed is always: KMS_ACTIVATION_RESULT <compact JSON>.
    Exit codes: 0 done (or only pending, KMS retries by itself); 1 configuration failed (/ipk, /skms,
    firewall); 2 not activated and FailOnActivationError is true.
#>
[CmdletBinding()]
param(
    # KMS host name or IPv4 address for slmgr /skms.
    [Parameter(Mandatory = $true)][string]$KmsHost,
    # KMS TCP port.
    [int]$KmsPort = 1688,
    # Comma-separated IPv4 addresses or CIDR prefixes of the KMS: the guest firewall's allowed destinations.
    [string]$KmsAddresses = '',
    # KMS client setup key chosen outside the guest; empty to detect it here.
    [string]$ProductKey = '',
    # Where ProductKey came from: explicit or imageSku. Empty when the guest detects the key.
    [ValidateSet('', 'explicit', 'imageSku')][string]$KeySource = '',
    # Semicolon-separated build:edition:key entries used to detect the key from the running OS.
    [string]$DetectionTable = '',
    [ValidateSet('true', 'false')][string]$ConfigureFirewall = 'true',
    [ValidateSet('true', 'false')][string]$FailOnActivationError = 'false',
    # Identifies the run (changing it re-runs the extension); echoed in the result.
    [string]$RunTag = ''
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 2.0

# Every wait below is bounded; the worst case is their sum (see test/guest-script.test.ts).
$SlmgrTimeoutSeconds = 17
$NetshTimeoutSeconds = 10
# How long a timed-out process may take to die after Kill.
$KillGraceSeconds = 5
$DnsTimeoutMilliseconds = 3000
$ProbeTimeoutMilliseconds = 3000
$AtoAttempts = 3
$AtoBackoffSeconds = @(10, 20)
# Caps that bound the result line (see test/guest-script.test.ts).
$MaxDiagnoses = 6
$MaxDiagnosisLength = 200
$MaxCodes = 8
$MaxEvents = 6

$WindowsApplicationId = '55c92734-d682-4d71-983e-d6ec3f16059f'
$FirewallRuleName = 'azure-kms-activation-tcp-1688-out'
$SlmgrPath = Join-Path $env:SystemRoot 'System32\slmgr.vbs'
$CscriptPath = Join-Path $env:SystemRoot 'System32\cscript.exe'
$StartedAt = Get-Date

$Result = [ordered]@{
    v         = 1
    tag       = $RunTag
    os        = $null
    before    = $null
    key       = 'none'
    endpoint  = ('{0}:{1}' -f $KmsHost, $KmsPort)
    firewall  = 'skipped'
    probe     = $null
    attempts  = 0
    after     = $null
    codes     = @()
    events    = @()
    diagnosis = @()
    status    = 'unknown'
}

function Write-Result([int]$ExitCode) {
    $Result.seconds = [int]((Get-Date) - $StartedAt).TotalSeconds
    Write-Output ('KMS_ACTIVATION_RESULT ' + (ConvertTo-Json -InputObject $Result -Compress -Depth 4))
    exit $ExitCode
}

# Plain ASCII that JSON does not escape, cut to a length: with the caps above this bounds the result line
# far inside the 4,096 bytes of output Azure keeps.
function Get-SafeText([string]$Text, [int]$Length) {
    $Text = $Text -replace '[^A-Za-z0-9 .,:;/()=+_-]', ' '
    if ($Text.Length -le $Length) { return $Text }
    return $Text.Substring(0, $Length)
}

function Add-Diagnosis([string]$Text) {
    $Text = Get-SafeText $Text $MaxDiagnosisLength
    if ($Result.diagnosis.Count -lt $MaxDiagnoses -and $Result.diagnosis -notcontains $Text) { $Result.diagnosis += $Text }
}

function Add-Code([string]$Code) {
    if ($Code -ne '' -and $Code -ne '0x00000000' -and $Result.codes.Count -lt $MaxCodes -and $Result.codes -notcontains $Code) {
        $Result.codes += $Code
    }
}

function Get-LicenseState {
    $query = "SELECT LicenseStatus, ProductKeyChannel, PartialProductKey FROM SoftwareLicensingProduct " +
        "WHERE ApplicationID = '$WindowsApplicationId' AND PartialProductKey IS NOT NULL"
    $product = @(Get-WmiObject -Query $query) | Select-Object -First 1
    $service = Get-WmiObject -Class SoftwareLicensingService
    if ($null -eq $product) {
        return [ordered]@{ status = -1; channel = ''; partialKey = ''; kms = (Get-SafeText ([string]$service.KeyManagementServiceMachine) 255) }
    }
    return [ordered]@{
        status     = [int]$product.LicenseStatus
        channel    = Get-SafeText ([string]$product.ProductKeyChannel) 40
        partialKey = Get-SafeText ([string]$product.PartialProductKey) 5
        kms        = Get-SafeText ([string]$service.KeyManagementServiceMachine) 255
    }
}

function Get-OsEdition {
    $os = Get-WmiObject -Class Win32_OperatingSystem
    $editionId = Get-SafeText ([string](Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion' -Name EditionID).EditionID) 40
    $sku = [int]$os.OperatingSystemSKU
    # EditionID is the clearer signal; the SKU number backs it up on images that lack it.
    $edition = switch -Regex ($editionId) {
        '^ServerRdsh$' { 'MultiSession'; break }
        '^ServerTurbine' { 'DatacenterAzureEdition'; break }
        '^ServerDatacenter' { 'Datacenter'; break }
        '^ServerStandard' { 'Standard'; break }
        '^ServerSolution' { 'Essentials'; break }
        '^ServerEnterprise' { 'Enterprise'; break }
        default {
            switch ($sku) {
                { $_ -in 7, 13 } { 'Standard'; break }
                { $_ -in 8, 12 } { 'Datacenter'; break }
                { $_ -in 407, 408 } { 'DatacenterAzureEdition'; break }
                50 { 'Essentials'; break }
                { $_ -in 10, 14 } { 'Enterprise'; break }
                175 { 'MultiSession'; break }
                default { if ([int]$os.ProductType -eq 1) { 'Client' } else { 'Unknown' } }
            }
        }
    }
    return [ordered]@{ build = [int]$os.BuildNumber; sku = $sku; editionId = $editionId; edition = $edition }
}

function Find-DetectedKey([int]$Build, [string]$Edition) {
    foreach ($entry in $DetectionTable.Split(';')) {
        $fields = $entry.Split(':')
        if ($fields.Count -eq 3 -and [int]$fields[0] -eq $Build -and $fields[1] -eq $Edition) { return $fields[2] }
    }
    return ''
}

# Which key to install, if any. Explicit or image-SKU key beats detection; a multi-session edition is never
# re-keyed (it cannot be undone), nor a client edition on a guess. Mirrors guestKeyAction in src/guest/decision.ts,
# whose tests hold the decision table.
function Select-KeyAction([string]$Edition, [int]$Build, [string]$Channel, [string]$PartialKey) {
    $key = $ProductKey
    $source = $KeySource
    if ($Edition -eq 'MultiSession') { return [ordered]@{ action = 'skipped-multisession'; key = '' } }
    if ($Edition -eq 'Client' -and $source -ne 'explicit') { return [ordered]@{ action = 'skipped-client'; key = '' } }
    if ($key -eq '') {
        $source = 'detected'
        $key = Find-DetectedKey $Build $Edition
        if ($key -eq '') { return [ordered]@{ action = 'unknown-edition'; key = '' } }
    }
    if ($Channel -eq 'Volume:GVLK' -and $PartialKey -ne '' -and $key.EndsWith($PartialKey)) {
        return [ordered]@{ action = 'kept-' + $source; key = '' }
    }
    return [ordered]@{ action = 'install-' + $source; key = $key }
}

function Invoke-Bounded([string]$FilePath, [string[]]$Arguments, [int]$TimeoutSeconds) {
    $outFile = [IO.Path]::GetTempFileName()
    try {
        $process = Start-Process -FilePath $FilePath -ArgumentList $Arguments -NoNewWindow -PassThru `
            -RedirectStandardOutput $outFile
        # Touching Handle keeps ExitCode readable after WaitForExit (a known Start-Process quirk).
        $null = $process.Handle
        if (-not $process.WaitForExit($TimeoutSeconds * 1000)) {
            # Kill throws when the process ended in between; either way it is gone or going.
            try { $process.Kill(); $null = $process.WaitForExit($KillGraceSeconds * 1000) } catch { }
            # No error code: a timed-out /ipk or /skms never talked to KMS, and /ato's real code comes from the events.
            return [ordered]@{ exit = -1; text = "timed out after $TimeoutSeconds s"; code = '' }
        }
        $text = [string](Get-Content -Path $outFile -Raw -ErrorAction SilentlyContinue)
        $code = ''
        if ($text -match '0x[0-9A-Fa-f]{8}') { $code = $Matches[0].ToUpper().Replace('0X', '0x') }
        return [ordered]@{ exit = $process.ExitCode; text = $text.Trim(); code = $code }
    } finally {
        Remove-Item -Path $outFile -Force -ErrorAction SilentlyContinue
    }
}

# The key may be a MAK or retail key, and the extension's output is readable by anyone who can read the VM.
function Hide-Key([string]$Text) {
    if ($ProductKey -eq '') { return $Text }
    return $Text.Replace($ProductKey, '<key>')
}

function Invoke-Slmgr([string[]]$Arguments) {
    $run = Invoke-Bounded $CscriptPath (@('//nologo', "`"$SlmgrPath`"") + $Arguments) $SlmgrTimeoutSeconds
    Write-Host (Hide-Key ("slmgr {0}: {1}" -f ($Arguments -join ' '), $run.text))
    Add-Code $run.code
    return $run
}

function Test-KmsPort {
    $probe = [ordered]@{ dns = 'skipped'; tcp = 'untested'; address = '' }
    $address = $null
    if (-not [Net.IPAddress]::TryParse($KmsHost, [ref]$address)) {
        $lookup = [Net.Dns]::BeginGetHostAddresses($KmsHost, $null, $null)
        if (-not $lookup.AsyncWaitHandle.WaitOne($DnsTimeoutMilliseconds)) {
            $probe.dns = 'timeout'
            return $probe
        }
        try {
            $address = @([Net.Dns]::EndGetHostAddresses($lookup) | Where-Object { $_.AddressFamily -eq 'InterNetwork' })[0]
            if ($null -eq $address) { throw 'no IPv4 address' }
            $probe.dns = 'ok'
        } catch {
            $probe.dns = 'failed'
            return $probe
        }
    }
    $probe.address = [string]$address
    $client = New-Object Net.Sockets.TcpClient
    try {
        $connect = $client.BeginConnect($address, $KmsPort, $null, $null)
        if (-not $connect.AsyncWaitHandle.WaitOne($ProbeTimeoutMilliseconds)) {
            $probe.tcp = 'timeout'
        } else {
            $client.EndConnect($connect)
            $probe.tcp = 'open'
        }
    } catch {
        $probe.tcp = 'refused'
    } finally {
        $client.Close()
    }
    return $probe
}

function Get-SppEventCodes {
    $filter = @{ LogName = 'Application'; ProviderName = 'Microsoft-Windows-Security-SPP'; Id = 12288, 12289, 8198; StartTime = $StartedAt }
    $events = @(Get-WinEvent -FilterHashtable $filter -MaxEvents $MaxEvents -ErrorAction SilentlyContinue)
    $summary = @()
    foreach ($event in $events) {
        $code = ''
        if ($event.Message -match '0x[0-9A-Fa-f]{8}') { $code = $Matches[0].ToUpper().Replace('0X', '0x') }
        $summary += ('{0}:{1}' -f $event.Id, $code)
    }
    return $summary
}

# The plain cause of a failed slmgr call: its code's meaning, else what slmgr said.
function Get-FailureReason($Run) {
    $why = Get-CodeDiagnosis $Run.code
    if ($why -eq '') { $why = Hide-Key $Run.text }
    return $why
}

function Get-CodeDiagnosis([string]$Code) {
    switch ($Code) {
        '0xC004F074' { 'no KMS host answered: check the /32 Internet routes, the NSG allow for TCP 1688, and any firewall or NVA on the path (it needs a network rule, not an application rule)' }
        '0x8007232B' { 'the KMS DNS name does not resolve: fix the custom DNS servers or use kmsHostForm IpAddress' }
        '0xC004F06C' { 'the guest clock is too far from the KMS host clock: fix time sync' }
        '0xC004F050' { 'the product key is not valid for this edition: give the KMS client setup key of this edition' }
        '0xC004F039' { 'the KMS host has too few clients or KMS is not enabled on it (custom KMS server)' }
        '0xC004F038' { 'the KMS host count is too low (custom KMS server)' }
        '0x800705B4' { 'the KMS request timed out: the host is unreachable or overloaded; Windows retries every two hours' }
        '0xC004FD01' { 'AVMA is not supported on Azure: install the KMS client setup key' }
        '0xC004FD02' { 'AVMA is not supported on Azure: install the KMS client setup key' }
        default { '' }
    }
}

try {
    $os = Get-OsEdition
    $Result.os = $os
    $Result.before = Get-LicenseState
    Write-Output ("OS build {0}, edition {1} (EditionID {2}, SKU {3}); licence status {4}, channel {5}" -f
        $os.build, $os.edition, $os.editionId, $os.sku, $Result.before.status, $Result.before.channel)

    $choice = Select-KeyAction $os.edition $os.build $Result.before.channel $Result.before.partialKey
    $Result.key = $choice.action
    if ($choice.action -like 'install-*') {
        $source = $choice.action.Substring(8)
        $run = Invoke-Slmgr @('/ipk', $choice.key)
        if ($run.exit -ne 0 -or $run.code -ne '') {
            $Result.key = 'failed-' + $source
            Add-Diagnosis ('slmgr /ipk failed: ' + (Get-FailureReason $run))
            $Result.status = 'error'
            Write-Result 1
        }
        $Result.key = 'installed-' + $source
    }

    if ($ConfigureFirewall -eq 'true' -and $KmsAddresses -ne '') {
        $null = Invoke-Bounded 'netsh.exe' @('advfirewall', 'firewall', 'delete', 'rule', "name=$FirewallRuleName") $NetshTimeoutSeconds
        $add = Invoke-Bounded 'netsh.exe' @('advfirewall', 'firewall', 'add', 'rule', "name=$FirewallRuleName", 'dir=out',
            'action=allow', 'protocol=TCP', "remoteport=$KmsPort", "remoteip=$KmsAddresses", 'enable=yes') $NetshTimeoutSeconds
        if ($add.exit -ne 0) {
            $Result.firewall = 'failed'
            Add-Diagnosis ('guest firewall rule not added: ' + $add.text)
            $Result.status = 'error'
            Write-Result 1
        }
        $Result.firewall = 'allowed'
    }

    $run = Invoke-Slmgr @('/skms', ('{0}:{1}' -f $KmsHost, $KmsPort))
    if ($run.exit -ne 0 -or $run.code -ne '') {
        Add-Diagnosis ('slmgr /skms failed: ' + (Get-FailureReason $run))
        $Result.status = 'error'
        Write-Result 1
    }

    $Result.probe = Test-KmsPort
    if ($Result.probe.dns -in 'failed', 'timeout') {
        Add-Diagnosis ('the KMS name does not resolve: custom DNS servers that cannot resolve it; use kmsHostForm IpAddress or forward the zone')
    } elseif ($Result.probe.tcp -ne 'open') {
        # Short enough for the diagnosis cap with any port and probe result: the address is in probe.address.
        Add-Diagnosis ("TCP $KmsPort $($Result.probe.tcp): forced tunnel (add /32 Internet routes), NSG or guest firewall deny, " +
            'NVA or Azure Firewall without a network rule, or private subnet without explicit outbound (NAT gateway)')
    }

    $state = Get-LicenseState
    if ($state.status -eq 1 -and $Result.key -notlike 'installed-*') {
        $Result.status = 'licensed'
    } else {
        for ($attempt = 1; $attempt -le $AtoAttempts; $attempt++) {
            $Result.attempts = $attempt
            $run = Invoke-Slmgr @('/ato')
            $state = Get-LicenseState
            if ($state.status -eq 1) { break }
            if ($attempt -lt $AtoAttempts) { Start-Sleep -Seconds $AtoBackoffSeconds[$attempt - 1] }
        }
        $Result.status = if ($state.status -eq 1) { 'activated' } else { 'pending' }
    }
    $Result.after = $state
    $Result.events = @(Get-SppEventCodes)
    # Parenthesised: tree-sitter-powershell misreads a method call with an index in argument mode.
    foreach ($entry in $Result.events) { Add-Code ($entry.Split(':')[1]) }
    foreach ($code in $Result.codes) {
        $text = Get-CodeDiagnosis $code
        if ($text -ne '') { Add-Diagnosis ("${code}: $text") }
    }

    if ($Result.status -eq 'pending') {
        Write-Output 'WARNING: not activated yet; Windows retries every two hours and the licence grace lasts 180 days.'
        if ($FailOnActivationError -eq 'true') { Write-Result 2 }
    }
    Write-Result 0
} catch {
    # Anything unforeseen still ends in a result line, so the caller never has to guess.
    Add-Diagnosis ('unexpected error: ' + $_.Exception.Message)
    $Result.status = 'error'
    Write-Result 1
}
