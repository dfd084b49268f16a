# Build the MEDITWIN Desktop bundle on Windows (x64) - UNTRIED: written from the Linux build,
# never run on Windows (docs/bundle.md lists what to check). From the repository root:
#   powershell -ExecutionPolicy Bypass -File installers\build_windows.ps1
# Needs Python 3.11 (python.org installer, "py" launcher). Output: dist\meditwin\ with
# meditwin.exe (console: the command line) and meditwin-gui.exe (no console: the Start menu
# shortcut), and dist\meditwin-<version>-windows-x64.zip.
$ErrorActionPreference = "Stop"
Set-Location (Split-Path -Parent $PSScriptRoot)

$venv = "build\venv-bundle"
if (-not (Test-Path "$venv\Scripts\python.exe")) { py -3.11 -m venv $venv }
$python = "$venv\Scripts\python.exe"
& $python -m pip install -q --upgrade pip
# a regular install, not editable (-e): PyInstaller must see meditwin_twins
& $python -m pip install -q . "pyinstaller>=6.10,<7"
& $python -m pip install -q --no-deps --force-reinstall .
if ($LASTEXITCODE -ne 0) { throw "pip install failed" }

# icon: installers\windows\meditwin.ico, made once from resources\icons\meditwin.svg
# (e.g. with ImageMagick: magick -background none meditwin.svg -define icon:auto-resize=256,64,48,32,16 meditwin.ico)
& "$venv\Scripts\pyinstaller.exe" --noconfirm --log-level WARN --workpath build\pyinstaller `
    --distpath dist installers\meditwin.spec
if ($LASTEXITCODE -ne 0) { throw "pyinstaller failed" }

& dist\meditwin\meditwin.exe --version
& dist\meditwin\meditwin.exe twins
if ($LASTEXITCODE -ne 0) { throw "the bundle does not list its twins" }

$version = ((& dist\meditwin\meditwin.exe --version) -split " ")[-1]
$zip = "dist\meditwin-$version-windows-x64.zip"
if (Test-Path $zip) { Remove-Item $zip }
Compress-Archive -Path dist\meditwin -DestinationPath $zip
Write-Host "bundle: dist\meditwin  release: $zip"
Write-Host "Install: unzip anywhere (e.g. %LOCALAPPDATA%\Programs\MEDITWIN), create a shortcut to meditwin-gui.exe."
