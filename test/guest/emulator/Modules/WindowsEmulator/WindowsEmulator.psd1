@{
    RootModule        = 'WindowsEmulator.psm1'
    ModuleVersion     = '1.0.0'
    GUID              = '8d3c1f0e-6a51-4c1e-9a43-2f4d1f6b7c10'
    Description       = 'Windows cmdlets that pwsh on Linux lacks, answered by the emulated licensing stack (test only).'
    FunctionsToExport = @('Get-WmiObject', 'Get-CimInstance', 'Invoke-CimMethod', 'Get-WinEvent', 'Get-ItemProperty', 'Start-Process')
    CmdletsToExport   = @()
    AliasesToExport   = @()
}
