; AdCopy Desktop installer for Windows (NSIS 3, Unicode). Built by packaging/windows/build.ps1:
;   makensis /DEDITION=lite /DVERSION=0.1.0 /DBUNDLE=..\..\dist\lite\adcopy [/DMODEL_DIR=...] adcopy.nsi
; CI also builds it on Linux against a stub payload to check the script:
;   makensis -NOCONFIG -DSTUB -DOUTFILE=/tmp/stub.exe packaging/windows/adcopy.nsi
; Per-user install (no administrator rights): %LOCALAPPDATA%\Programs\AdCopy Desktop.
; The uninstaller removes the program only; the user's data (library, settings, models, plugins
; in %LOCALAPPDATA%\adcopy and %APPDATA%\adcopy) stays, and it says so.

Unicode true
SetCompressor /SOLID lzma
RequestExecutionLevel user

!ifndef VERSION
  !define VERSION "0.1.0"
!endif
!ifndef EDITION
  !define EDITION "lite"
!endif
!if "${EDITION}" == "full"
  !define PRODUCT "AdCopy Desktop Full"
  !define OTHER_KEY "AdCopyDesktop"
!else
  !define PRODUCT "AdCopy Desktop"
  !define OTHER_KEY "AdCopyDesktopFull"
!endif
!define APP_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\AdCopyDesktop"
!ifndef OUTFILE
  !define OUTFILE "AdCopy-${EDITION}-${VERSION}-setup.exe"
!endif

!include "MUI2.nsh"
!include "LogicLib.nsh"

Name "${PRODUCT} ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\AdCopy Desktop"
InstallDirRegKey HKCU "${APP_KEY}" "InstallLocation"
BrandingText "${PRODUCT} ${VERSION}"
!ifndef STUB
  !define MUI_ICON "..\..\resources\icons\adcopy.ico"
  !define MUI_UNICON "..\..\resources\icons\adcopy.ico"
!endif

!define MUI_FINISHPAGE_RUN "$INSTDIR\adcopy-gui.exe"
!define MUI_FINISHPAGE_RUN_TEXT "$(RunNow)"
!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!define MUI_UNCONFIRMPAGE_TEXT_TOP "$(KeepData)"
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!define MUI_FINISHPAGE_TEXT "$(KeptData)"
!insertmacro MUI_UNPAGE_FINISH

!insertmacro MUI_LANGUAGE "English"
!insertmacro MUI_LANGUAGE "SimpChinese"

LangString RunNow ${LANG_ENGLISH} "Open AdCopy Desktop"
LangString RunNow ${LANG_SIMPCHINESE} "打开 AdCopy Desktop"
LangString KeepData ${LANG_ENGLISH} "This removes the program. Your library, settings, models and plugins stay in place (%LOCALAPPDATA%\adcopy, %APPDATA%\adcopy); delete those folders yourself if you no longer want them."
LangString KeepData ${LANG_SIMPCHINESE} "此操作只删除程序。您的文案库、设置、模型和插件会保留（%LOCALAPPDATA%\adcopy、%APPDATA%\adcopy）；如不再需要，请自行删除这些文件夹。"
LangString KeptData ${LANG_ENGLISH} "AdCopy Desktop was removed. Your data was left in place: %LOCALAPPDATA%\adcopy and %APPDATA%\adcopy."
LangString KeptData ${LANG_SIMPCHINESE} "AdCopy Desktop 已删除。您的数据已保留：%LOCALAPPDATA%\adcopy 和 %APPDATA%\adcopy。"

Section "AdCopy Desktop" SecApp
  SectionIn RO
  SetOutPath "$INSTDIR"
  ; an earlier version's program files (never user data, which lives outside $INSTDIR)
  RMDir /r "$INSTDIR\_internal"
!ifdef STUB
  ; CI's script check: a stub payload instead of the PyInstaller bundle
  File "/oname=adcopy.exe" "${__FILE__}"
  File "/oname=adcopy-gui.exe" "${__FILE__}"
!else
  File /r "${BUNDLE}\*.*"
!endif
  WriteUninstaller "$INSTDIR\uninstall.exe"
  CreateDirectory "$SMPROGRAMS\AdCopy Desktop"
  CreateShortcut "$SMPROGRAMS\AdCopy Desktop\${PRODUCT}.lnk" "$INSTDIR\adcopy-gui.exe"
  CreateShortcut "$DESKTOP\${PRODUCT}.lnk" "$INSTDIR\adcopy-gui.exe"
  WriteRegStr HKCU "${APP_KEY}" "DisplayName" "${PRODUCT}"
  WriteRegStr HKCU "${APP_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${APP_KEY}" "Publisher" "AdCopy"
  WriteRegStr HKCU "${APP_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${APP_KEY}" "DisplayIcon" "$INSTDIR\adcopy-gui.exe"
  WriteRegStr HKCU "${APP_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegDWORD HKCU "${APP_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${APP_KEY}" "NoRepair" 1
SectionEnd

!ifdef MODEL_DIR
; the prebuilt default model (the lite edition cannot build it): copied into the user's model
; folder on first start (adcopy_desktop/paths.py, bundled_models_dirs: <install folder>\models)
Section "Default model" SecModel
  SetOutPath "$INSTDIR\models\${MODEL_ID}"
  File /r "${MODEL_DIR}\*.*"
SectionEnd
!endif

Section "Uninstall"
  Delete "$SMPROGRAMS\AdCopy Desktop\${PRODUCT}.lnk"
  RMDir "$SMPROGRAMS\AdCopy Desktop"
  Delete "$DESKTOP\${PRODUCT}.lnk"
  ; program files only: user data is in %LOCALAPPDATA%\adcopy and %APPDATA%\adcopy, never here
  RMDir /r "$INSTDIR\_internal"
  RMDir /r "$INSTDIR\models"
  Delete "$INSTDIR\adcopy.exe"
  Delete "$INSTDIR\adcopy-gui.exe"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKCU "${APP_KEY}"
  DetailPrint "$(KeptData)"
SectionEnd
