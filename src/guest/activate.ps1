<#
.SYNOPSIS
    Activates Windows against a KMS host and reports what happened in one machine-readable line.
.DESCRIPTION
    Rendered and shipped by azure-kms-activation (CustomScriptExtension or managed Run Command).
    Safe to run again: every step checks the current state first. Bounded in time: every external
    call has a timeout (the README states the worst case, measured by test/guest/behaviour.test.ts).
    The last line printed is always: KMS_ACTIVATION_RESULT <compact JSON>.
    Exit codes: 0 activated, licensed, skipped, pending (KMS retries by itself) or a report; 1 error (a step
    failed, or activation failed with a code that never fixes itself); 2 pending and FailOnActivationError.
    Windows PowerShell 5.1 syntax and cmdlets only (test/guest-ps51.test.ts checks it); render.ts wraps it in a
    bootstrap that parses in PowerShell 2.0 and stops there with a result line. No word PowerShell calls suspicious
    (test/guest-logging.test.ts): a block that holds the key must never be logged to event 4104.
#>
[CmdletBinding()]
param(
    # Everything but the key, as hex of UTF-8 JSON: digits and a-f survive any command line quoting.
    # Fields: kmsHosts (KMS names or addresses to try, in order), kmsPort, kmsAddresses (guest firewall
    # destinations), keySource (explicit, imageSku or empty), detectionTable (build:edition:key entries),
    # configureFirewall, failOnActivationError, runTag, reportOnly (read and report only: change nothing).
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
# WMI and event reads have no timeout of their own: a stuck licensing service or event log would hang the run.
$WmiTimeoutSeconds = 60
$EventTimeoutSeconds = 30
$AtoAttempts = 3
$AtoBackoffSeconds = @(10, 20)
# Caps that bound the result line (see test/guest-script.test.ts).
$MaxDiagnoses = 6
$MaxDiagnosisLength = 200
$MaxCodes = 8
$MaxEvents = 6
$MaxTried = 4
$MaxDrift = 3

# Only these never fix themselves (facts section 7); every other code is transient: Windows retries every two hours.
# slui's own event 8198 never makes a run permanent: its codes say nothing about the KMS call.
$PermanentCodes = @('0xC004F050', '0xC004F06C', '0xC004FD01', '0xC004FD02', '0xC004F035', '0xC004F069')
$WindowsApplicationId = '55c92734-d682-4d71-983e-d6ec3f16059f'
$FirewallRuleName = 'azure-kms-activation-tcp-1688-out'
$SlmgrPath = Join-Path $env:SystemRoot 'System32\slmgr.vbs'
$CscriptPath = Join-Path $env:SystemRoot 'System32\cscript.exe'
$StartedAt = Get-Date


function Get-Milliseconds([double]$Seconds) {
    return [int][Math]::Ceiling($Seconds * 1000 * $TimeScalePercent / 100)
}

# Whole seconds for -OperationTimeoutSec.
function Get-Seconds([double]$Seconds) {
    return [Math]::Max(1, [int][Math]::Ceiling($Seconds * $TimeScalePercent / 100))
}

$Result = [ordered]@{ v = 2; tag = ''; os = $null; before = $null; key = 'none'; via = 'slmgr'; endpoint = ''; firewall = 'skipped'
    firewallRule = ''; imds = 'skipped'; probe = $null; drift = @(); attempts = 0; after = $null; codes = @(); events = @(); diagnosis = @()
    status = 'unknown' }
# What functions learn along the way. A container, not $script: variables: the body runs inside the bootstrap, so
# "script" scope is not this one.
$Seen = @{ permanent = $false; ips = @(); abandoned = $false }

function Write-Result([int]$ExitCode) {
    $Result.seconds = [int]((Get-Date) - $StartedAt).TotalSeconds
    $line = 'KMS_ACTIVATION_RESULT ' + (ConvertTo-Json -InputObject $Result -Compress -Depth 4)
    if ($Seen.abandoned) {
        # A read left hanging in a runspace would keep the process alive after exit: end it here, output flushed.
        [Console]::Out.WriteLine($line)
        [Console]::Out.Flush()
        [Environment]::Exit($ExitCode)
    }
    Write-Output $line
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

# $Lasting: whether the code may count as permanent (not for slui's event 8198).
function Add-Code([string]$Code, [bool]$Lasting = $true) {
    if ($Code -eq '' -or $Code -eq '0x00000000') { return }
    if ($Lasting -and $PermanentCodes -contains $Code) { $Seen.permanent = $true }
    if ($Result.codes.Count -lt $MaxCodes -and $Result.codes -notcontains $Code) { $Result.codes += $Code }
}

# Every WMI read is bounded; one that does not answer ends the run with its result line.
function Get-Wmi([string]$Query) {
    try { return @(Get-CimInstance -Query $Query -OperationTimeoutSec (Get-Seconds $WmiTimeoutSeconds)) }
    catch {
        throw (New-Object TimeoutException("WMI did not answer in $WmiTimeoutSeconds s ($($Query.Split(' ')[3])): the licensing service " +
            "(sppsvc) is stuck or starting; restart it or the VM and run again"))
    }
}

# The channel as slmgr.vbs reads it: ProductKeyChannel, or on 2008 R2 / Windows 7 (which lack it) from Description.
function Get-Channel($Product) {
    if (@($Product | Get-Member -Name ProductKeyChannel).Count) { return Get-SafeText ([string]$Product.ProductKeyChannel) 40 }
    switch -Regex ([string]$Product.Description) {
        'VOLUME_KMSCLIENT' { return 'Volume:GVLK' }
        'VOLUME_KMS' { return 'Volume:CSVLK' }
        'VOLUME_MAK' { return 'Volume:MAK' }
        'OEM_([A-Z_]+)' { return 'OEM:' + $Matches[1] }
        'RETAIL' { return 'Retail' }
    }
    return ''
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
    $product = @(Get-Wmi $query) | Select-Object -First 1
    $state = [ordered]@{ status = -1; channel = ''; partialKey = ''; grace = 0; kms = (Get-KmsText (@(Get-Wmi 'SELECT * FROM SoftwareLicensingService')[0])); productKms = '' }
    $script:ProductId = ''
    if ($null -ne $product) {
        $script:ProductId = Get-SafeText ([string]$product.ID) 40
        $state.status = [int]$product.LicenseStatus
        $state.channel = Get-Channel $product
        $state.partialKey = Get-SafeText ([string]$product.PartialProductKey) 5
        $state.grace = [int]$product.GracePeriodRemaining
        $state.productKms = Get-KmsText $product
        if ($state.productKms -ne '') { $state.kms = $state.productKms }
    }
    return $state
}

function Get-OsEdition {
    $os = @(Get-Wmi 'SELECT * FROM Win32_OperatingSystem')[0]
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
# a client edition only with an explicit key; keep a matching KMS client key; a licensed product of any channel is
# re-keyed only by an explicit key (an open TCP port is not a KMS: a probe never decides a key change).
# The key to install is left in $KeyToInstall.
function Select-KeyAction([string]$Edition, [int]$Build, $State) {
    $script:KeyToInstall = $ProductKey
    $source = [string]$Config.keySource
    if ($Edition -eq 'MultiSession') { return 'skipped-multisession' }
    if ($Edition -eq 'Evaluation') { return 'skipped-evaluation' }
    if ($State.channel -eq 'Volume:CSVLK') { return 'skipped-kmshost' }
    if ($Edition -eq 'Client' -and $source -ne 'explicit') { return 'skipped-client' }
    $licensed = $State.status -eq 1 -and $source -ne 'explicit'
    if ($licensed -and $State.channel -ne 'Volume:GVLK') { return 'skipped-licensed' }
    if ($KeyToInstall -eq '') {
        $source = 'detected'
        # detectionTable entries are build:edition:key.
        $entry = @($Config.detectionTable) -like "${Build}:${Edition}:*" | Select-Object -First 1
        if ($null -eq $entry) { return 'unknown-edition' }
        $script:KeyToInstall = $entry.Split(':')[2]
    }
    if ($State.channel -eq 'Volume:GVLK' -and $State.partialKey -ne '' -and $KeyToInstall.EndsWith($State.partialKey)) { return 'kept-' + $source }
    if ($licensed) { return 'skipped-licensed' }
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
        # .NET: after WaitForExit(ms) returns true, WaitForExit() without a limit waits for redirected output to be
        # written (Process.WaitForExit docs); the process has ended, so it returns at once.
        $process.WaitForExit()
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

function Write-Log([string]$Text) {
    Write-Host (Hide-Key ($Text))
}

function Invoke-Slmgr([string[]]$Arguments, [double]$TimeoutSeconds) {
    try { $run = Invoke-Bounded $CscriptPath (@('//nologo', "`"$SlmgrPath`"") + $Arguments) $TimeoutSeconds }
    catch { $run = @{ exit = -1; text = $_.Exception.Message; code = ''; timedOut = $false } }
    Write-Log "slmgr $Arguments`: $($run.text)"
    # cscript that cannot start, or cannot find its VBScript engine (an optional feature, off by default later).
    $run.noScript = $run.exit -eq -1 -and -not $run.timedOut -or $run.text -match 'script engine.{0,3}VBScript'
    if (!$run.noScript) { Add-Code $run.code }
    return $run
}

# The code of a failed WMI method: CIM's error_Code (the HRESULT, as slmgr.vbs's Err.Number), else one in the text.
function Get-ErrorCode($Exception) {
    try { return '0x{0:X8}' -f [uint32]$Exception.ErrorData.error_Code } catch { }
    if ($Exception.Message -match '0x[0-9A-F]{8}') { return $Matches[0].ToUpper().Replace('0X', '0x') }
    return ''
}

# The same steps as slmgr.vbs, through the WMI calls it makes (facts section 7): for when cscript cannot run.
function Invoke-WmiStep([string]$Step, [string]$Value, [string]$Id) {
    $service = (Get-Wmi 'SELECT * FROM SoftwareLicensingService')[0]
    $target = $service
    if ($Id) { $target = (Get-Wmi "SELECT * FROM SoftwareLicensingProduct WHERE ID = '$Id'")[0] }
    $calls = @(switch ($Step) {
        'ipk' { , @('InstallProductKey', @{ ProductKey = $Value }) }
        'ato' { , @('Activate', @{}) }
        'skms' { @('SetKeyManagementServiceMachine', @{ MachineName = $Value -replace ':\d+$' }), @('SetKeyManagementServicePort', @{ PortNumber = [uint32]($Value -replace '.*:') }) }
    })
    $run = @{ exit = 0; text = 'done'; code = ''; timedOut = $false }
    try {
        foreach ($call in $calls) { $null = Invoke-CimMethod -InputObject $target -MethodName $call[0] -Arguments $call[1] -OperationTimeoutSec (Get-Seconds $SlmgrTimeoutSeconds) }
        $null = Invoke-CimMethod -InputObject $service -MethodName RefreshLicenseStatus -OperationTimeoutSec (Get-Seconds $SlmgrTimeoutSeconds)
    } catch {
        $run = @{ exit = 1; text = $_.Exception.Message; code = (Get-ErrorCode $_.Exception); timedOut = $_.Exception.Message -match 'timed out' }
    }
    Write-Log "wmi $Step`: $($run.text)"
    Add-Code $run.code
    return $run
}

# slmgr is the documented path; where cscript cannot run slmgr.vbs, the same step through WMI ("via":"wmi").
function Invoke-Step([string]$Step, [string]$Value, [string]$Id, [double]$TimeoutSeconds) {
    if ($Result.via -eq 'slmgr') {
        $run = Invoke-Slmgr (@("/$Step", $Value, $Id) -ne '') $TimeoutSeconds
        if (!$run.noScript) { return $run }
        $Result.via = 'wmi'
        Add-Diagnosis 'cscript cannot run slmgr.vbs (VBScript not installed or disabled): the steps went through the licensing service (WMI)'
    }
    if ($Step -eq 'ato') { $Id = $ProductId }
    return Invoke-WmiStep $Step $Value $Id
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
            # WSAEACCES: Windows Firewall blocked the connect.
            'AccessDenied' { return 'blocked' }
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
    $allowed = @($Config.kmsAddresses) -join ','
    foreach ($candidate in $hosts) {
        $address = $null
        if (-not [Net.IPAddress]::TryParse([string]$candidate, [ref]$address)) {
            $lookup = [Net.Dns]::BeginGetHostAddresses([string]$candidate, $null, $null)
            if (-not $lookup.AsyncWaitHandle.WaitOne((Get-Milliseconds $DnsTimeoutSeconds))) {
                $probe.dns = 'timeout'
                continue
            }
            try {
                $all = @([Net.Dns]::EndGetHostAddresses($lookup) | Where-Object { $_.AddressFamily -eq 'InterNetwork' })
                $address = $all[0]
                if ($null -eq $address) { throw 'no IPv4 address' }
                $probe.dns = 'ok'
                # Drift: the name resolves outside the addresses the package routes and allows (Microsoft moved them).
                foreach ($ip in $all) {
                    $text = [string]$ip
                    $Seen.ips += $text
                    if ($allowed -ne '' -and -not (Test-IpIn $text $allowed) -and $Result.drift.Count -lt $MaxDrift -and $Result.drift -notcontains $text) { $Result.drift += $text }
                }
            } catch {
                $probe.dns = 'failed'
                if ((Get-SocketError $_.Exception) -in 'HostNotFound', 'NoData') { $probe.dns = 'nxdomain' }
                continue
            }
        }
        $probe.address = [string]$address
        $Seen.ips += [string]$address
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
# The event log read has no timeout of its own: it runs in a runspace this script waits for, at most $EventTimeoutSeconds.
function Get-SppEventCodes([datetime]$Since) {
    $reader = [PowerShell]::Create().AddScript('param($f) Get-WinEvent -FilterHashtable $f -MaxEvents 6 -ErrorAction SilentlyContinue | % { $_.ToXml() }').AddArgument(
        @{ LogName = 'Application'; ProviderName = 'Microsoft-Windows-Security-SPP'; Id = @(12288, 12289, 8198); StartTime = $Since })
    $pending = $reader.BeginInvoke()
    if (!$pending.AsyncWaitHandle.WaitOne((Get-Milliseconds $EventTimeoutSeconds))) {
        Add-Diagnosis "the event log did not answer in $EventTimeoutSeconds s: Security-SPP events not read"
        $Seen.abandoned = $true
        return @()
    }
    foreach ($xml in $reader.EndInvoke($pending)) {
        $event = ([xml]$xml).Event
        $code = ''
        if (@($event.EventData.Data)[0] -match '^\s*(hr\s*=\s*)?0x([0-9A-F]{1,8})\b') { $code = '0x{0:X8}' -f [Convert]::ToUInt32($Matches[2], 16) }
        "$($event.System.EventID.'#text'):$code"
    }
}

function Get-IpNumber([string]$Ip) {
    $b = ([Net.IPAddress]$Ip).GetAddressBytes()
    return (($b[0] * 256 + $b[1]) * 256 + $b[2]) * 256.0 + $b[3]
}

# Whether an IPv4 address is in a list of addresses, prefixes and ranges (as netsh prints RemoteIP); Any covers all.
function Test-IpIn([string]$Ip, [string]$List) {
    $n = Get-IpNumber $Ip
    foreach ($part in $List.Split(',')) {
        if ($part -eq 'Any') { return $true }
        if ($part -match '^([0-9.]+)-([0-9.]+)$' -and $n -ge (Get-IpNumber $Matches[1]) -and $n -le (Get-IpNumber $Matches[2])) { return $true }
        if ($part -match '^([0-9.]+)(/([0-9]+))?$') {
            $size = [Math]::Pow(2, 32 - [int]("0$($Matches[3])" -replace '^0$', '32'))
            if ([Math]::Floor($n / $size) -eq [Math]::Floor((Get-IpNumber $Matches[1]) / $size)) { return $true }
        }
    }
    return $false
}


# An enabled outbound block rule that covers a KMS address and port wins over every allow rule (Windows Firewall):
# read the rules (netsh prints RemoteIP, RemotePort, Protocol, Enabled, Action per rule) and name the first such.
function Find-BlockRule {
    $run = Invoke-Bounded 'netsh.exe' @('advfirewall', 'firewall', 'show', 'rule', 'name=all', 'dir=out') $NetshTimeoutSeconds
    foreach ($block in ($run.text -split 'Rule Name:')) {
        $f = @{ name = ($block -split '\n')[0].Trim() }
        foreach ($line in ($block -split '\r?\n')) { if ($line -match '^(\w+):\s*(.*?)\s*$') { $f[$Matches[1]] = $Matches[2] } }
        # RemotePort: Any, or a list with the port itself (a range is not read: then the rule goes unnamed).
        if ($run.exit -or "$($f['Enabled'])$($f['Direction'])$($f['Action'])" -ne 'YesOutBlock' -or $f['Protocol'] -notmatch '^(Any|TCP)$' -or
            ",$($f['RemotePort'])," -notmatch ",(Any|$($Config.kmsPort)),") { continue }
        foreach ($ip in @($Seen.ips) + @($Config.kmsAddresses -replace '/.*')) {
            if (Test-IpIn $ip ([string]$f['RemoteIP'])) {
                $Result.firewall = 'blocked'
                $Result.firewallRule = Get-SafeText $f['name'] 60
                Add-Diagnosis ("guest firewall: the outbound block rule $($Result.firewallRule) covers $ip port $($Config.kmsPort) and wins over any allow " +
                    'rule: delete or narrow it (netsh advfirewall firewall delete rule name=...)')
                return
            }
        }
    }
}

# What slmgr said when it failed: its code (explained by parseActivationResult, see src/guest/result.ts), else its text.
function Get-FailureReason($Run) {
    if ($Run.code -ne '') { return $Run.code }
    return Hide-Key $Run.text
}

function Complete-Run([datetime]$Since = $StartedAt) {
    $Result.after = Get-LicenseState
    $Result.events = @(Get-SppEventCodes $Since)
    # Parenthesised: tree-sitter-powershell misreads a method call with an index in argument mode.
    foreach ($entry in $Result.events) { Add-Code ($entry.Split(':')[1]) (!$entry.StartsWith('8198')) }
}

try {
    $bytes = New-Object byte[] ($Settings.Length / 2)
    for ($i = 0; $i -lt $bytes.Length; $i++) { $bytes[$i] = [Convert]::ToByte($Settings.Substring(2 * $i, 2), 16) }
    $Config = [Text.Encoding]::UTF8.GetString($bytes) | ConvertFrom-Json
    $ReportOnly = @($Config | Get-Member -Name reportOnly).Count -gt 0 -and [string]$Config.reportOnly -eq 'True'
    $Result.tag = Get-SafeText ([string]$Config.runTag) 64
    $os = Get-OsEdition
    $Result.os = $os
    $before = Get-LicenseState
    $Result.before = $before

    $addresses = @($Config.kmsAddresses) -join ','
    if ([string]$Config.configureFirewall -eq 'True' -and $addresses -ne '' -and -not $ReportOnly) {
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
    if ($Result.firewall -ne 'failed') { Find-BlockRule }
    # The probe, firewall, drift and IMDS results are explained by parseActivationResult (src/guest/result.ts).

    if ($ReportOnly) {
        # fleet --probe: what is, and nothing changed. The events of the last day (KMS clients retry every two hours).
        Add-Diagnosis 'report only: nothing was changed'
        Complete-Run $StartedAt.AddDays(-1)
        $Result.status = 'unlicensed'
        if ($Result.after.status -eq 1) { $Result.status = 'licensed' }
        Write-Result 0
    }

    $action = Select-KeyAction $os.edition $os.build $before
    $Result.key = $action
    if ($action -like 'install-*') {
        $source = $action.Substring(8)
        $run = Invoke-Step 'ipk' $KeyToInstall '' $IpkTimeoutSeconds
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
        'skipped-licensed' = "licensed ($($before.channel)): left as it is; only an explicit productKey replaces a licensed key"
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

    $run = Invoke-Step 'skms' $Result.endpoint '' $SlmgrTimeoutSeconds
    if ($run.exit -ne 0 -or $run.code -ne '') {
        # A timed-out /skms is a WMI call that may still have landed: what counts is the setting.
        if ($run.timedOut -and (Get-LicenseState).kms -eq $Result.endpoint) {
            Add-Diagnosis 'slmgr /skms timed out but the setting landed'
        } else {
            Add-Diagnosis ('slmgr /skms failed: ' + (Get-FailureReason $run))
            $Result.status = 'error'
            Complete-Run
            Write-Result 1
        }
    }
    # A per-product KMS host (left by an on-premises setup) wins over the machine-wide one: point it here too.
    if ($before.productKms -ne '' -and $keyProductId -ne '') {
        $run = Invoke-Step 'skms' $Result.endpoint $keyProductId $SlmgrTimeoutSeconds
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
            $run = Invoke-Step 'ato' '' '' $SlmgrTimeoutSeconds
            # A timed-out /ato is Activate() still running in the service: it may land; the state says.
            $state = Get-LicenseState
            if ($state.status -eq 1) { break }
            # A code that never fixes itself will not change on a retry.
            if ($PermanentCodes -contains $run.code) { break }
            if ($attempt -lt $AtoAttempts) { Start-Sleep -Milliseconds (Get-Milliseconds $AtoBackoffSeconds[$attempt - 1]) }
        }
        $Result.status = 'activated'
        if ($state.status -ne 1) { $Result.status = 'pending' }
    }
    Complete-Run
    # pending unless a code that never fixes itself was seen, or nothing said why (no code at all).
    if ($Result.status -eq 'pending' -and ($Seen.permanent -or $Result.codes.Count -eq 0)) { $Result.status = 'error' }
    if ($Result.status -eq 'error') { Write-Result 1 }
    # pending: Windows retries every two hours while after.grace (minutes) lasts.
    if ($Result.status -eq 'pending' -and [string]$Config.failOnActivationError -eq 'True') { Write-Result 2 }
    Write-Result 0
} catch {
    # Anything unforeseen still ends in a result line, so the caller never has to guess.
    if ($_.Exception -is [TimeoutException]) { Add-Diagnosis $_.Exception.Message }
    else { Add-Diagnosis ('unexpected error: ' + $_.Exception.Message) }
    $Result.status = 'error'
    Write-Result 1
}
