<#
.SYNOPSIS
Installs msp and its two Claude Code hooks on Windows, then runs `msp setup`.

.DESCRIPTION
Builds release binaries with cargo (or takes prebuilt ones with -From), copies
msp.exe, msp-recall.exe and msp-save.exe to -BinDir (default
%LOCALAPPDATA%\Programs\msp\bin), puts that directory on the user's PATH, and
runs `msp setup`, which creates or migrates the store, registers this machine
and wires the hooks into Claude Code's settings.json. Safe to run again: it
says what did not change.

.EXAMPLE
.\install.ps1
.EXAMPLE
.\install.ps1 -From \\fileserver\tools\msp
#>
[CmdletBinding()]
param(
    # A directory holding prebuilt msp.exe, msp-recall.exe and msp-save.exe.
    [string]$From = "",
    # Where the binaries go. Keep it free of spaces: Claude Code may run hook
    # commands through PowerShell, which needs a bare path.
    [string]$BinDir = $(if ($env:MSP_BIN_DIR) { $env:MSP_BIN_DIR } else { Join-Path $env:LOCALAPPDATA "Programs\msp\bin" })
)
$ErrorActionPreference = "Stop"
Set-Location -LiteralPath $PSScriptRoot
$names = @("msp.exe", "msp-recall.exe", "msp-save.exe")

if ($From) {
    $src = (Resolve-Path -LiteralPath $From).Path
    foreach ($n in $names) {
        if (-not (Test-Path -LiteralPath (Join-Path $src $n) -PathType Leaf)) {
            Write-Error "install.ps1: $(Join-Path $src $n) is missing; -From needs all three binaries"
        }
    }
} else {
    if (-not (Get-Command cargo -ErrorAction SilentlyContinue)) {
        Write-Error "install.ps1: cargo is required (the Rust toolchain: https://rustup.rs), or pass -From DIR with prebuilt binaries"
    }
    Write-Host "building release binaries (first build takes a few minutes)..."
    & cargo build --release --locked --bins --quiet
    if ($LASTEXITCODE -ne 0) { Write-Error "install.ps1: cargo build failed" }
    $src = Join-Path $PSScriptRoot "target\release"
}

New-Item -ItemType Directory -Force -Path $BinDir | Out-Null
foreach ($n in $names) {
    $from = Join-Path $src $n
    $dest = Join-Path $BinDir $n
    if ((Test-Path -LiteralPath $dest) -and
        ((Get-FileHash -LiteralPath $from).Hash -eq (Get-FileHash -LiteralPath $dest).Hash)) {
        Write-Host "binary   unchanged $dest"
        continue
    }
    # Copy beside, then swap: a running hook keeps its (renamed) old file,
    # since Windows lets a running program be renamed but not replaced.
    $new = "$dest.new"
    Copy-Item -LiteralPath $from -Destination $new -Force
    if (Test-Path -LiteralPath $dest) {
        $old = "$dest.old"
        Remove-Item -LiteralPath $old -Force -ErrorAction SilentlyContinue
        Move-Item -LiteralPath $dest -Destination $old -Force
        Remove-Item -LiteralPath $old -Force -ErrorAction SilentlyContinue
    }
    Move-Item -LiteralPath $new -Destination $dest -Force
    Write-Host "binary   installed $dest"
}

# The user's PATH (not the machine's: no administrator needed), once.
$userPath = [Environment]::GetEnvironmentVariable("Path", "User")
$parts = @($userPath -split ";" | Where-Object { $_ })
if ($parts -notcontains $BinDir) {
    [Environment]::SetEnvironmentVariable("Path", (($parts + $BinDir) -join ";"), "User")
    Write-Host "path     added $BinDir to your PATH (new terminals see it)"
} else {
    Write-Host "path     unchanged ($BinDir is on your PATH)"
}
if (($env:Path -split ";") -notcontains $BinDir) { $env:Path = "$env:Path;$BinDir" }

& (Join-Path $BinDir "msp.exe") setup
exit $LASTEXITCODE
