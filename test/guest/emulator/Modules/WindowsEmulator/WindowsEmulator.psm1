# Windows cmdlets for pwsh on Linux, answered by the emulated machine (../../windows.js, served by ../../network.js).
# Autoloaded from PSModulePath at the script's first WMI call, so the script under test is the shipped one unchanged.
# Get-ItemProperty (HKLM:) and Start-Process shadow the real cmdlets for what Linux cannot give: a registry, and the
# 32-bit exit codes Windows keeps (Linux keeps 8 bits; the emulated programs leave their full code for ExitCode).

# One connection to the emulated machine's management server (network.js), kept for the session.
$script:Connection = $null

function Invoke-Emulator([string]$What, $Argument, [int]$TimeoutSeconds = 0) {
    if ($null -eq $script:Connection) {
        $client = New-Object Net.Sockets.TcpClient('127.0.0.1', 47001)
        $stream = $client.GetStream()
        $script:Connection = @{ Client = $client; Reader = New-Object IO.StreamReader($stream); Writer = New-Object IO.StreamWriter($stream) }
        $script:Connection.Writer.AutoFlush = $true
    }
    # -OperationTimeoutSec: the CIM client gives up after that long (the service may still finish the call). Without it,
    # as Get-WmiObject and Get-WinEvent, the read waits for as long as the service takes.
    $script:Connection.Client.ReceiveTimeout = $TimeoutSeconds * 1000
    $script:Connection.Writer.WriteLine((ConvertTo-Json -InputObject @{ what = $What; argument = $Argument } -Compress -Depth 5))
    try {
        $line = $script:Connection.Reader.ReadLine()
    } catch {
        $script:Connection.Client.Close()
        $script:Connection = $null
        throw "The operation has timed out (OperationTimeoutSec $TimeoutSeconds)."
    }
    $answer = $line | ConvertFrom-Json
    if ($null -ne $answer.PSObject.Properties['error']) {
        $exception = New-Object Exception($answer.error)
        # A failed WMI method: CIM's error carries the HRESULT in ErrorData.error_Code (MSFT_WmiError).
        if ($null -ne $answer.PSObject.Properties['hr']) {
            $exception | Add-Member -MemberType NoteProperty -Name ErrorData -Value ([pscustomobject]@{ error_Code = [uint32]([Convert]::ToUInt32($answer.hr.Substring(2), 16)) })
        }
        throw $exception
    }
    return $answer.ok
}

function Get-WmiObject {
    [CmdletBinding(DefaultParameterSetName = 'Class')]
    param(
        [Parameter(ParameterSetName = 'Class', Position = 0)][string]$Class,
        [Parameter(ParameterSetName = 'Query', Mandatory = $true)][string]$Query,
        [Parameter(ParameterSetName = 'Class')][string]$Filter,
        [string]$Namespace = 'root\cimv2'
    )
    $objects = if ($PSCmdlet.ParameterSetName -eq 'Query') { Invoke-Emulator 'wmi' @{ query = $Query } } else { Invoke-Emulator 'wmi' @{ class = $Class; filter = $Filter } }
    foreach ($o in @($objects)) { if ($null -ne $o) { $o } }
}

function Get-CimInstance {
    [CmdletBinding(DefaultParameterSetName = 'Class')]
    param(
        [Parameter(ParameterSetName = 'Class', Position = 0)][string]$ClassName,
        [Parameter(ParameterSetName = 'Query', Mandatory = $true)][string]$Query,
        [Parameter(ParameterSetName = 'Class')][string]$Filter,
        [string]$Namespace = 'root/cimv2',
        [uint32]$OperationTimeoutSec
    )
    $objects = if ($PSCmdlet.ParameterSetName -eq 'Query') { Invoke-Emulator 'wmi' @{ query = $Query } $OperationTimeoutSec } else { Invoke-Emulator 'wmi' @{ class = $ClassName; filter = $Filter } $OperationTimeoutSec }
    $class = if ($PSCmdlet.ParameterSetName -eq 'Query') { [regex]::Match($Query, '(?i)\bFROM\s+(\w+)').Groups[1].Value } else { $ClassName }
    foreach ($o in @($objects)) {
        if ($null -ne $o) {
            # A CimInstance knows its class (CimSystemProperties.ClassName): Invoke-CimMethod needs it.
            $o | Add-Member -MemberType NoteProperty -Name CimSystemProperties -Value ([pscustomobject]@{ ClassName = $class }) -PassThru
        }
    }
}

function Invoke-CimMethod {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)]$InputObject,
        [Parameter(Mandatory = $true)][string]$MethodName,
        [System.Collections.IDictionary]$Arguments = @{},
        [uint32]$OperationTimeoutSec
    )
    $id = $null
    if ($null -ne $InputObject.PSObject.Properties['ID']) { $id = $InputObject.ID }
    $request = @{ class = $InputObject.CimSystemProperties.ClassName; id = $id; method = $MethodName; arguments = $Arguments }
    Invoke-Emulator 'method' $request $OperationTimeoutSec
}

function Get-WinEvent {
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][hashtable]$FilterHashtable, [long]$MaxEvents = 1000)
    if ($FilterHashtable['ProviderName'] -and $FilterHashtable['ProviderName'] -ne 'Microsoft-Windows-Security-SPP') {
        Write-Error -Message 'No events were found that match the specified selection criteria.' -Category ObjectNotFound -ErrorId 'NoMatchingEventsFound'
        return
    }
    $start = $null
    if ($FilterHashtable['StartTime']) { $start = ([datetime]$FilterHashtable['StartTime']).ToUniversalTime().ToString('o') }
    $events = @(Invoke-Emulator 'events' @{ ids = @($FilterHashtable['Id']); startTime = $start; maxEvents = $MaxEvents } | Where-Object { $null -ne $_ })
    if ($events.Count -eq 0) {
        Write-Error -Message 'No events were found that match the specified selection criteria.' -Category ObjectNotFound -ErrorId 'NoMatchingEventsFound'
        return
    }
    foreach ($e in $events) {
        $e | Add-Member -MemberType ScriptMethod -Name ToXml -Value { $this.Xml } -PassThru
    }
}

function Get-ItemProperty {
    [CmdletBinding()]
    param([Parameter(Mandatory = $true, Position = 0)][string[]]$Path, [Parameter(Position = 1)][string[]]$Name)
    if ($Path[0] -match '^(HKLM:|Registry::HKEY_LOCAL_MACHINE)') {
        $key = Invoke-Emulator 'registry' @{ path = $Path[0] }
        if ($null -eq $key) { throw "Cannot find path '$($Path[0])' because it does not exist." }
        if ($Name) {
            foreach ($n in $Name) { if ($null -eq $key.PSObject.Properties[$n]) { throw "Property $n does not exist at path $($Path[0])." } }
        }
        return $key
    }
    Microsoft.PowerShell.Management\Get-ItemProperty @PSBoundParameters
}

function Start-Process {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true, Position = 0)][string]$FilePath,
        [Parameter(Position = 1)][string[]]$ArgumentList,
        [switch]$NoNewWindow, [switch]$PassThru, [switch]$Wait,
        [string]$RedirectStandardOutput, [string]$RedirectStandardError, [string]$RedirectStandardInput, [string]$WorkingDirectory
    )
    $process = Microsoft.PowerShell.Management\Start-Process @PSBoundParameters
    if ($null -ne $process) {
        $process | Add-Member -Force -MemberType ScriptProperty -Name ExitCode -Value {
            # Reflection: through PowerShell the base object would find this very property again.
            $process = $this.PSObject.BaseObject
            $real = [System.Diagnostics.Process].GetProperty('ExitCode').GetValue($process)
            $file = Join-Path $env:KMS_EMU_EXIT_DIR ([string][System.Diagnostics.Process].GetProperty('Id').GetValue($process))
            if (Test-Path -LiteralPath $file) { return [int](Get-Content -LiteralPath $file -Raw) }
            return $real
        }
    }
    return $process
}
