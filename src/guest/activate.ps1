<#
.SYNOPSIS
    Activates Windows against a KMS host and reports what happened in one machine-readable line.
.DESCRIPTION
    Rendered and shipped by azure-kms-activation (CustomScriptExtension or managed Run Command).
    Safe to run again: every step checks the current state first. Bounded in time: every external
    call has a timeout (the README states the worst case, measured by test/guest/behaviour.test.ts).
    The last line printed is always: KMS_ACTIVATION_RESULT <compact JSON>.
    Exit codes: 0 activated, licensed, skipped, or only pending (KMS retries by itself); 1 error (a step
    failed, or activation failed with a code that never fixes itself); 2 pending and FailOnActivationError.
    Windows PowerShell 5.1 syntax and cmdlets only (test/guest-ps51.test.ts checks it).
#>
[CmdletBinding()]
param(
    # Everything but the key, as hex of UTF-8 JSON: digits and a-f survive any command line quoting.
    # Fields: kmsHosts (KMS names or addresses to try, in order), kmsPort, kmsAddresses (guest firewall
    # destinations), keySource (explicit, imageSku or empty), detectionTable (build:edition:key entries),
    # configureFirewall, failOnActivationError, runTag.
    [Parameter(Mandatory = $true)][string]$Settings,
    # KMS client setup key chosen outside the guest; empty to detect it here.
    [string]$ProductKey = '',
    # Percent of every wait and timeout below; 100 as shipped. Tests shrink it to run scenarios quickly.
    [ValidateRange(1, 100)][int]$TimeScalePercent = 100
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 2.0

# Every wait is bounded. /ipk on a first boot can take more than a minute (the licensing service starts late).
$IpkTimeoutSeconds = 120
$IpkSettleSeconds = 60
$SlmgrTimeoutSeconds = 90
$NetshTimeoutSeconds = 30
# How long a timed-out process may take to die after Kill.
$KillGraceSeconds = 5
# Windows gives up on an unreachable DNS server after about 10 s and on a silently dropped connect after about 21 s.
$DnsTimeoutSeconds = 12
$ProbeTimeoutSeconds = 23
$ImdsTimeoutSeconds = 5
$AtoAttempts = 3
$AtoBackoffSeconds = @(10, 20)
# Caps that bound the result line (see test/guest-script.test.ts).
$MaxDiagnoses = 6
$MaxDiagnosisLength = 200
$MaxCodes = 8
$MaxEvents = 6
$MaxTried = 4

# Only these fix themselves (Windows retries every two hours); every other code needs someone to act.
$TransientCodes = @('0xC004F074', '0x800705B4')
$WindowsApplicationId = '55c92734-d682-4d71-983e-d6ec3f16059f'
$FirewallRuleName = 'azure-kms-activation-tcp-1688-out'
$SlmgrPath = Join-Path $env:SystemRoot 'System32\slmgr.vbs'
$CscriptPath = Join-Path $env:SystemRoot 'System32\cscript.exe'
$StartedAt = Get-Date


function Get-Milliseconds([double]$Seconds) {
    return [int][Math]::Ceiling($Seconds * 1000 * $TimeScalePercent / 100)
}

$Result = [ordered]@{ v = 2; tag = ''; os = $null; before = $null; key = 'none'; endpoint = ''; firewall = 'skipped'; imds = 'skipped'
    probe = $null; attempts = 0; after = $null; codes = @(); events = @(); diagnosis = @(); status = 'unknown' }

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

function Get-KmsText($Object) {
    if ([string]$Object.KeyManagementServiceMachine -eq '') { return '' }
    $port = [int]$Object.KeyManagementServicePort
    if ($port -eq 0) { $port = 1688 }
    return Get-SafeText ('{0}:{1}' -f $Object.KeyManagementServiceMachine, $port) 260
}

# The base OS licence, chosen as slmgr.vbs chooses it: an ESU key is an add-on licence under the same ApplicationId.
# A per-product KMS host wins over the machine-wide one. 2008 R2 has no ProductKeyChannel.
function Get-LicenseState {
    $query = "SELECT * FROM SoftwareLicensingProduct WHERE ApplicationID = '$WindowsApplicationId' " +
        "AND LicenseIsAddon = FALSE AND PartialProductKey IS NOT NULL"
    $product = @(Get-WmiObject -Query $query) | Select-Object -First 1
    $state = [ordered]@{ status = -1; channel = ''; partialKey = ''; grace = 0; kms = (Get-KmsText (@(Get-WmiObject -Class SoftwareLicensingService)[0])); productKms = '' }
    $script:ProductId = ''
    if ($null -ne $product) {
        $script:ProductId = Get-SafeText ([string]$product.ID) 40
        $state.status = [int]$product.LicenseStatus
        if ($product.PSObject.Properties['ProductKeyChannel']) { $state.channel = Get-SafeText ([string]$product.ProductKeyChannel) 40 }
        $state.partialKey = Get-SafeText ([string]$product.PartialProductKey) 5
        $state.grace = [int]$product.GracePeriodRemaining
        $state.productKms = Get-KmsText $product
        if ($state.productKms -ne '') { $state.kms = $state.productKms }
    }
    return $state
}

function Get-OsEdition {
    $os = Get-WmiObject -Class Win32_OperatingSystem
    $editionId = Get-SafeText ([string](Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion' -Name EditionID).EditionID) 40
    $sku = [int]$os.OperatingSystemSKU
    # EditionID names the edition on every supported release (Core variants share it, and the key).
    $edition = switch -Regex ($editionId) {
        'Eval$' { 'Evaluation'; break }
        '^ServerRdsh$' { 'MultiSession'; break }
        '^ServerTurbine' { 'DatacenterAzureEdition'; break }
        '^ServerDatacenter' { 'Datacenter'; break }
        '^ServerStandard' { 'Standard'; break }
        '^ServerSolution' { 'Essentials'; break }
        '^ServerEnterprise' { 'Enterprise'; break }
        default { if ([int]$os.ProductType -eq 1) { 'Client' } else { 'Unknown' } }
    }
    return [ordered]@{ build = [int]$os.BuildNumber; sku = $sku; editionId = $editionId; edition = $edition }
}

# Which key to install, if any. Mirrors guestKeyAction in src/guest/decision.ts, whose tests hold the table:
# never re-key multi-session (cannot be undone), an evaluation edition (needs DISM /Set-Edition) or a KMS host;
# a client edition only with an explicit key; keep a matching KMS client key; keep an activated MAK or retail
# licence unless the key is explicit or the KMS answered. The key to install is left in $KeyToInstall.
function Select-KeyAction([string]$Edition, [int]$Build, $State, [bool]$KmsAnswered) {
    $script:KeyToInstall = $ProductKey
    $source = [string]$Config.keySource
    if ($Edition -eq 'MultiSession') { return 'skipped-multisession' }
    if ($Edition -eq 'Evaluation') { return 'skipped-evaluation' }
    if ($State.channel -eq 'Volume:CSVLK') { return 'skipped-kmshost' }
    if ($Edition -eq 'Client' -and $source -ne 'explicit') { return 'skipped-client' }
    if ($KeyToInstall -eq '') {
        $source = 'detected'
        # detectionTable entries are build:edition:key.
        $entry = @($Config.detectionTable) -like "${Build}:${Edition}:*" | Select-Object -First 1
        if ($null -eq $entry) { return 'unknown-edition' }
        $script:KeyToInstall = $entry.Split(':')[2]
    }
    if ($State.channel -eq 'Volume:GVLK' -and $State.partialKey -ne '' -and $KeyToInstall.EndsWith($State.partialKey)) { return 'kept-' + $source }
    if ($State.status -eq 1 -and $source -ne 'explicit' -and -not $KmsAnswered) { return 'skipped-activated' }
    return 'install-' + $source
}

function Invoke-Bounded([string]$FilePath, [string[]]$Arguments, [double]$TimeoutSeconds) {
    $outFile = [IO.Path]::GetTempFileName()
    $errFile = [IO.Path]::GetTempFileName()
    try {
        $process = Start-Process -FilePath $FilePath -ArgumentList $Arguments -NoNewWindow -PassThru `
            -RedirectStandardOutput $outFile -RedirectStandardError $errFile
        # Touching Handle keeps ExitCode readable after WaitForExit (a known Start-Process quirk).
        $null = $process.Handle
        if (-not $process.WaitForExit((Get-Milliseconds $TimeoutSeconds))) {
            # Kill throws when the process ended in between; either way it is gone or going.
            try { $process.Kill(); $null = $process.WaitForExit((Get-Milliseconds $KillGraceSeconds)) } catch { }
            return [ordered]@{ exit = -1; text = "timed out after $TimeoutSeconds s"; code = ''; timedOut = $true }
        }
        $text = ([string](Get-Content -Path $outFile -Raw -ErrorAction SilentlyContinue) + ' ' +
            [string](Get-Content -Path $errFile -Raw -ErrorAction SilentlyContinue)).Trim()
        $exit = [int]$process.ExitCode
        # slmgr exits with the HRESULT: the code whatever the language of its text, even when the text is cut.
        $code = ''
        if ($exit -ne 0 -and $exit -ne 1) { $code = '0x{0:X8}' -f $exit }
        elseif ($text -match '0x[0-9A-Fa-f]{8}') { $code = '0x' + $Matches[0].Substring(2).ToUpper() }
        return [ordered]@{ exit = $exit; text = $text; code = $code; timedOut = $false }
    } finally {
        Remove-Item -Path $outFile, $errFile -Force -ErrorAction SilentlyContinue
    }
}

# The key may be a MAK or retail key, and the extension's output is readable by anyone who can read the VM.
function Hide-Key([string]$Text) {
    if ($ProductKey -eq '') { return $Text }
    return $Text.Replace($ProductKey, '<key>')
}

function Invoke-Slmgr([string[]]$Arguments, [double]$TimeoutSeconds) {
    $run = Invoke-Bounded $CscriptPath (@('//nologo', "`"$SlmgrPath`"") + $Arguments) $TimeoutSeconds
    Write-Host (Hide-Key ("slmgr {0}: {1}" -f ($Arguments -join ' '), $run.text))
    Add-Code $run.code
    return $run
}

# The socket error code behind an exception ('' if none).
function Get-SocketError($Exception) {
    while ($null -ne $Exception -and -not ($Exception -is [Net.Sockets.SocketException])) { $Exception = $Exception.InnerException }
    if ($null -eq $Exception) { return '' }
    return [string]$Exception.SocketErrorCode
}

# 'open', 'refused' (RST), 'timeout' (silently dropped) or 'unreachable' (no route).
function Test-TcpPort([Net.IPAddress]$Address) {
    $client = New-Object Net.Sockets.TcpClient($Address.AddressFamily)
    try {
        $connect = $client.BeginConnect($Address, [int]$Config.kmsPort, $null, $null)
        if (-not $connect.AsyncWaitHandle.WaitOne((Get-Milliseconds $ProbeTimeoutSeconds))) { return 'timeout' }
        $client.EndConnect($connect)
        return 'open'
    } catch {
        switch (Get-SocketError $_.Exception) {
            'ConnectionRefused' { return 'refused' }
            'TimedOut' { return 'timeout' }
            { $_ -in 'NetworkUnreachable', 'HostUnreachable', 'NetworkDown', 'HostDown' } { return 'unreachable' }
            default { return 'failed' }
        }
    } finally {
        $client.Close()
    }
}

# Tries each KMS name or address in order until one accepts TCP; the guest is pointed at that one.
function Find-KmsHost {
    $hosts = @($Config.kmsHosts)
    $probe = [ordered]@{ network = 'up'; dns = 'skipped'; tcp = 'untested'; address = ''; host = [string]$hosts[0]; tried = @() }
    if (-not [Net.NetworkInformation.NetworkInterface]::GetIsNetworkAvailable()) {
        $probe.network = 'none'
        return $probe
    }
    foreach ($candidate in $hosts) {
        $address = $null
        if (-not [Net.IPAddress]::TryParse([string]$candidate, [ref]$address)) {
            $lookup = [Net.Dns]::BeginGetHostAddresses([string]$candidate, $null, $null)
            if (-not $lookup.AsyncWaitHandle.WaitOne((Get-Milliseconds $DnsTimeoutSeconds))) {
                $probe.dns = 'timeout'
                continue
            }
            try {
                $address = @([Net.Dns]::EndGetHostAddresses($lookup) | Where-Object { $_.AddressFamily -eq 'InterNetwork' })[0]
                if ($null -eq $address) { throw 'no IPv4 address' }
                $probe.dns = 'ok'
            } catch {
                $probe.dns = 'failed'
                if ((Get-SocketError $_.Exception) -in 'HostNotFound', 'NoData') { $probe.dns = 'nxdomain' }
                continue
            }
        }
        $probe.address = [string]$address
        $probe.tcp = Test-TcpPort $address
        if ($probe.tried.Count -lt $MaxTried) { $probe.tried += '{0}={1}' -f $address, $probe.tcp }
        if ($probe.tcp -eq 'open') {
            $probe.host = [string]$candidate
            return $probe
        }
    }
    return $probe
}

# Datacenter: Azure Edition shows non-genuine when the IMDS attested document cannot be fetched.
function Test-Imds {
    try {
        $request = [Net.WebRequest]::Create('http://169.254.169.254/metadata/attested/document?api-version=2020-09-01')
        $request.Headers.Add('Metadata', 'true')
        $request.Proxy = $null
        $request.Timeout = Get-Milliseconds $ImdsTimeoutSeconds
        $response = $request.GetResponse()
        $response.Close()
        return 'ok'
    } catch {
        return 'failed'
    }
}

# Codes from the events' inserted strings (the first value is the result); the message text is localized.
function Get-SppEventCodes {
    $filter = @{ LogName = 'Application'; ProviderName = 'Microsoft-Windows-Security-SPP'; Id = 12288, 12289, 8198; StartTime = $StartedAt }
    $events = @(Get-WinEvent -FilterHashtable $filter -MaxEvents $MaxEvents -ErrorAction SilentlyContinue)
    $summary = @()
    foreach ($event in $events) {
        $code = ''
        try {
            $data = @(([xml]$event.ToXml()).GetElementsByTagName('Data'))
            if ($data.Count -gt 0 -and $data[0].InnerText -match '^\s*(hr\s*=\s*)?0x([0-9A-Fa-f]{1,8})\b') {
                $code = '0x{0:X8}' -f [Convert]::ToUInt32($Matches[2], 16)
            }
        } catch { }
        $summary += ('{0}:{1}' -f $event.Id, $code)
    }
    return $summary
}

# What slmgr said when it failed: its code (explained by parseActivationResult, see src/guest/result.ts), else its text.
function Get-FailureReason($Run) {
    if ($Run.code -ne '') { return $Run.code }
    return Hide-Key $Run.text
}

function Complete-Run {
    $Result.after = Get-LicenseState
    $Result.events = @(Get-SppEventCodes)
    # Parenthesised: tree-sitter-powershell misreads a method call with an index in argument mode.
    foreach ($entry in $Result.events) { Add-Code ($entry.Split(':')[1]) }
}

try {
    $bytes = New-Object byte[] ($Settings.Length / 2)
    for ($i = 0; $i -lt $bytes.Length; $i++) { $bytes[$i] = [Convert]::ToByte($Settings.Substring(2 * $i, 2), 16) }
    $Config = [Text.Encoding]::UTF8.GetString($bytes) | ConvertFrom-Json
    $Result.tag = Get-SafeText ([string]$Config.runTag) 64
    $os = Get-OsEdition
    $Result.os = $os
    $before = Get-LicenseState
    $Result.before = $before

    $addresses = @($Config.kmsAddresses) -join ','
    if ([string]$Config.configureFirewall -eq 'True' -and $addresses -ne '') {
        $null = Invoke-Bounded 'netsh.exe' @('advfirewall', 'firewall', 'delete', 'rule', "name=$FirewallRuleName") $NetshTimeoutSeconds
        $add = Invoke-Bounded 'netsh.exe' @('advfirewall', 'firewall', 'add', 'rule', "name=$FirewallRuleName", 'dir=out',
            'action=allow', 'protocol=TCP', "remoteport=$($Config.kmsPort)", "remoteip=$addresses", 'enable=yes') $NetshTimeoutSeconds
        $Result.firewall = 'allowed'
        if ($add.exit -ne 0) {
            # A stopped firewall service blocks nothing: carry on, and say what netsh said.
            $Result.firewall = 'failed'
            Add-Diagnosis ('netsh: ' + $add.text)
        }
    }

    if ($os.edition -eq 'DatacenterAzureEdition') {
        $Result.imds = Test-Imds
    }

    $Result.probe = Find-KmsHost
    $Result.endpoint = '{0}:{1}' -f $Result.probe.host, $Config.kmsPort
    # The probe, firewall and IMDS results are explained by parseActivationResult (src/guest/result.ts).
    $action = Select-KeyAction $os.edition $os.build $before ($Result.probe.tcp -eq 'open')
    $Result.key = $action
    if ($action -like 'install-*') {
        $source = $action.Substring(8)
        $run = Invoke-Slmgr @('/ipk', $KeyToInstall) $IpkTimeoutSeconds
        # On a slow first boot the licensing service can finish the install after slmgr's timeout: what counts is
        # the key in place, so look again for a while.
        for ($waited = 0; $true; $waited += 5) {
            $installed = Get-LicenseState
            if (-not $run.timedOut -or $waited -ge $IpkSettleSeconds -or ($installed.partialKey -ne '' -and $KeyToInstall.EndsWith($installed.partialKey))) { break }
            Start-Sleep -Milliseconds (Get-Milliseconds 5)
        }
        if ($run.timedOut -and $installed.partialKey -ne '' -and $KeyToInstall.EndsWith($installed.partialKey)) {
            Add-Diagnosis 'slmgr /ipk timed out but installed the key'
        } elseif ($run.exit -ne 0 -or $run.code -ne '') {
            $Result.key = 'failed-' + $source
            Add-Diagnosis ('slmgr /ipk failed: ' + (Get-FailureReason $run))
            $Result.status = 'error'
            Complete-Run
            Write-Result 1
        }
        $Result.key = 'installed-' + $source
        $before = $installed
    }
    $keyProductId = $ProductId

    $skipped = @{
        'skipped-evaluation' = 'evaluation edition: no KMS client key; convert it with DISM /Online /Set-Edition'
        'skipped-kmshost' = 'KMS host (Volume:CSVLK): left as it is'
        'skipped-activated' = 'MAK or retail activation kept: KMS not answering'
        'skipped-client' = 'client edition: subscription activation, not KMS'
    }[$action]
    if ($null -ne $skipped) {
        Add-Diagnosis $skipped
        $state = Get-LicenseState
        if ($state.status -eq 1) { $Result.status = 'licensed' }
        elseif ($action -eq 'skipped-client') { $Result.status = 'skipped' }
        else { $Result.status = 'error' }
        Complete-Run
        if ($Result.status -eq 'error') { Write-Result 1 }
        Write-Result 0
    }

    $run = Invoke-Slmgr @('/skms', $Result.endpoint) $SlmgrTimeoutSeconds
    if ($run.exit -ne 0 -or $run.code -ne '') {
        Add-Diagnosis ('slmgr /skms failed: ' + (Get-FailureReason $run))
        $Result.status = 'error'
        Complete-Run
        Write-Result 1
    }
    # A per-product KMS host (left by an on-premises setup) wins over the machine-wide one: point it here too.
    if ($before.productKms -ne '' -and $keyProductId -ne '') {
        $run = Invoke-Slmgr @('/skms', $Result.endpoint, $keyProductId) $SlmgrTimeoutSeconds
        # slmgr says an unknown Activation ID is not found, naming it, and exits 0.
        if ($run.exit -ne 0 -or $run.code -ne '' -or $run.text -match $keyProductId) {
            Add-Diagnosis ('slmgr /skms for the product failed: ' + (Get-FailureReason $run))
        }
    }

    $state = Get-LicenseState
    if ($state.status -eq 1 -and $Result.key -notlike 'installed-*') {
        $Result.status = 'licensed'
    } else {
        for ($attempt = 1; $attempt -le $AtoAttempts; $attempt++) {
            $Result.attempts = $attempt
            $run = Invoke-Slmgr @('/ato') $SlmgrTimeoutSeconds
            $state = Get-LicenseState
            if ($state.status -eq 1) { break }
            # A code that never fixes itself will not change on a retry.
            if ($run.code -ne '' -and $TransientCodes -notcontains $run.code) { break }
            if ($attempt -lt $AtoAttempts) { Start-Sleep -Milliseconds (Get-Milliseconds $AtoBackoffSeconds[$attempt - 1]) }
        }
        $Result.status = 'activated'
        if ($state.status -ne 1) { $Result.status = 'pending' }
    }
    Complete-Run
    if ($Result.status -eq 'pending') {
        $lasting = @($Result.codes | Where-Object { $TransientCodes -notcontains $_ })
        if ($Result.codes.Count -eq 0 -or $lasting.Count -gt 0) { $Result.status = 'error' }
    }
    if ($Result.status -eq 'error') { Write-Result 1 }
    # pending: Windows retries every two hours while after.grace (minutes) lasts.
    if ($Result.status -eq 'pending' -and [string]$Config.failOnActivationError -eq 'True') { Write-Result 2 }
    Write-Result 0
} catch {
    # Anything unforeseen still ends in a result line, so the caller never has to guess.
    Add-Diagnosis ('unexpected error: ' + $_.Exception.Message)
    $Result.status = 'error'
    Write-Result 1
}
