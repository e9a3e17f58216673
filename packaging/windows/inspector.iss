; Inno Setup script (UTF-8 with BOM: Inno Setup reads the Chinese texts correctly only then): the inspector desktop app for the inspectors' Windows laptops.
;
; Built by packaging/build.py on Windows when ISCC.exe is found:
;   ISCC /DAppVersion=0.1.0 /DSourceDir=dist\inspector-0.1.0-windows-x86_64 /DOutputDir=dist packaging\windows\inspector.iss
; Output: dist\inspector-<version>-setup.exe
;
; - Per-machine install into Program Files (needs administrator rights; silent roll-out: see packaging/README.md).
; - Start-menu folder and a desktop shortcut (task "desktopicon", on by default).
; - Chinese (Simplified) wizard when the compiler has ChineseSimplified.isl (Inno Setup 6.5+ ships it officially;
;   older versions: put the translation into the compiler's Languages folder), else English with Chinese custom texts.
; - The program folder holds code only. Each user's data (database, photos, keys, documents) is in
;   %LOCALAPPDATA%\inspector, written by the app, never by the installer: uninstalling keeps it, and an upgrade
;   installs over the old version without touching it.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\inspector-" + AppVersion + "-windows-x86_64"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif
#define AppName "现场检查"
#define AppExe "inspector-gui.exe"

[Setup]
; Never change AppId: upgrades and the uninstaller find the installed copy through it.
AppId={{6F1B7C3E-2D4A-4E8B-9C51-7A0E3F2B8D64}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=人力资源社会保障部门
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\inspector
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=admin
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir={#OutputDir}
OutputBaseFilename=inspector-{#AppVersion}-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
UninstallDisplayName={#AppName} {#AppVersion}
UninstallDisplayIcon={app}\{#AppExe}
; Close a running copy before replacing its files (upgrade while the app is open).
CloseApplications=yes
RestartApplications=no
SetupLogging=yes
#ifdef IconFile
SetupIconFile={#IconFile}
#endif

[Languages]
#if FileExists(AddBackslash(CompilerPath) + "Languages\ChineseSimplified.isl")
Name: "zh"; MessagesFile: "compiler:Languages\ChineseSimplified.isl"
#else
Name: "zh"; MessagesFile: "compiler:Default.isl"
#endif

[CustomMessages]
zh.DesktopIcon=在桌面创建快捷方式
zh.Shortcuts=快捷方式：
zh.Launch=立即启动“现场检查”
zh.SelfTest=安装自检
zh.CommandLine=命令行工具（管理员）
zh.Uninstall=卸载“现场检查”
zh.KeepData=卸载只删除程序文件。检查数据（数据库、照片、签名密钥和文书）保存在每位用户的 %LOCALAPPDATA%\inspector 文件夹中，不会被删除；如需彻底清除，请在备份后手动删除该文件夹。

[Tasks]
Name: "desktopicon"; Description: "{cm:DesktopIcon}"; GroupDescription: "{cm:Shortcuts}"

[Files]
; The whole PyInstaller one-folder bundle (inspector-gui.exe, inspector.exe, _internal\...).
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; An upgrade must not leave modules of the previous version behind.
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{app}"
Name: "{group}\{cm:SelfTest}"; Filename: "{cmd}"; Parameters: "/k ""{app}\inspector.exe"" --self-test"; WorkingDir: "{app}"
Name: "{group}\{cm:CommandLine}"; Filename: "{cmd}"; Parameters: "/k inspector.exe --version"; WorkingDir: "{app}"
Name: "{group}\{cm:Uninstall}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{app}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:Launch}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Only what the installer put there; %LOCALAPPDATA%\inspector (user data) is deliberately not listed.
Type: filesandordirs; Name: "{app}\_internal"

[Code]
procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if (CurUninstallStep = usPostUninstall) and not UninstallSilent then
    MsgBox(CustomMessage('KeepData'), mbInformation, MB_OK);
end;
