# Build AdCopy Desktop for Windows: the PyInstaller one-folder bundle and the NSIS installer.
#   powershell -ExecutionPolicy Bypass -File packaging\windows\build.ps1 [-Edition lite|full] [-SkipBundle] [-ModelDir DIR]
# Needs: a venv (.venv) with the edition's packages and pyinstaller (pip install -e ".[packaging]"),
# NSIS 3 (makensis on PATH; choco install nsis). The lite build uses onnxruntime-directml when it is
# installed in the venv (CI installs it instead of onnxruntime). Outputs go to dist\ (git-ignored).
param(
    [ValidateSet("lite", "full")] [string] $Edition = "lite",
    [switch] $SkipBundle,
    [string] $ModelDir = ""
)
$ErrorActionPreference = "Stop"
$Root = Resolve-Path (Join-Path $PSScriptRoot "..\..")
Set-Location $Root
$Python = if ($env:PYTHON) { $env:PYTHON } else { Join-Path $Root ".venv\Scripts\python.exe" }
$Version = & $Python -c "import adcopy_desktop; print(adcopy_desktop.__version__)"
$Bundle = Join-Path $Root "dist\$Edition\adcopy"

if (-not $SkipBundle) {
    Write-Host "==> PyInstaller ($Edition)"
    $env:ADCOPY_EDITION = $Edition
    & $Python -m PyInstaller packaging\adcopy.spec --noconfirm --distpath "dist\$Edition" --workpath "build\pyinstaller-$Edition"
    if ($LASTEXITCODE -ne 0) { throw "PyInstaller failed" }
}
if (-not (Test-Path (Join-Path $Bundle "adcopy.exe"))) { throw "no bundle at $Bundle" }
$SizeMB = [math]::Round(((Get-ChildItem $Bundle -Recurse -File | Measure-Object Length -Sum).Sum) / 1MB)
Write-Host "bundle: $SizeMB MB unpacked"

$OutFile = Join-Path $Root "dist\AdCopy-$Edition-$Version-setup.exe"
$NsisArgs = @("/DEDITION=$Edition", "/DVERSION=$Version", "/DBUNDLE=$Bundle", "/DOUTFILE=$OutFile")
if ($ModelDir) {
    $NsisArgs += @("/DMODEL_DIR=$(Resolve-Path $ModelDir)", "/DMODEL_ID=$(Split-Path $ModelDir -Leaf)")
}
& makensis @NsisArgs packaging\windows\adcopy.nsi
if ($LASTEXITCODE -ne 0) { throw "makensis failed" }
Write-Host "installer: $OutFile $([math]::Round((Get-Item $OutFile).Length / 1MB)) MB"
