<#
msp agent as a Windows scheduled task: runs the signed commands queued for
this machine (`msp agent exec THIS-MACHINE -- ...` on any machine of the team).

    .\examples\msp-agent-task.ps1              # register and start the task
    .\examples\msp-agent-task.ps1 -Remove      # stop and remove it
    Get-ScheduledTaskInfo -TaskName msp-agent  # last run, last result

It starts at logon and runs as you, in your home directory unless a command
says --cwd, without a window. Commands run with --shell pwsh, --shell cmd or
as a plain argv; each runs in a job object, so a timeout ends the command
and everything it started. The team store comes from
%APPDATA%\msp\config.toml, MSP_SYNC_URL or `msp sync init --url`.

Ending the task ends the agent at once (a scheduled task gets no Ctrl+C); a
command it was running is ended with it, through its job object, and stays
`running` in the queue until the agent's next start records it interrupted.
For a machine nobody logs on to, register the task with -User SYSTEM from an
elevated prompt instead (it then uses SYSTEM's profile and data directory).
#>
param(
    [switch]$Remove,
    [string]$Msp = $(Join-Path $env:LOCALAPPDATA "Programs\msp\bin\msp.exe"),
    [string]$Interval = "5s"
)
$ErrorActionPreference = "Stop"
$name = "msp-agent"
if ($Remove) {
    Stop-ScheduledTask -TaskName $name -ErrorAction SilentlyContinue
    Unregister-ScheduledTask -TaskName $name -Confirm:$false
    return
}
if (-not (Test-Path -LiteralPath $Msp)) { Write-Error "$Msp not found; run install.ps1 or pass -Msp" }
$action = New-ScheduledTaskAction -Execute $Msp -Argument "agent run --interval $Interval" -WorkingDirectory $env:USERPROFILE
$trigger = New-ScheduledTaskTrigger -AtLogOn -User "$env:USERDOMAIN\$env:USERNAME"
# No time limit, restart after a failure, one instance only.
$settings = New-ScheduledTaskSettingsSet -ExecutionTimeLimit ([TimeSpan]::Zero) `
    -RestartCount 999 -RestartInterval (New-TimeSpan -Minutes 1) `
    -MultipleInstances IgnoreNew -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries -Hidden
Register-ScheduledTask -TaskName $name -Action $action -Trigger $trigger -Settings $settings `
    -Description "msp agent: signed commands for this machine" -Force | Out-Null
Start-ScheduledTask -TaskName $name
Write-Host "task     $name registered and started ($Msp agent run --interval $Interval)"
