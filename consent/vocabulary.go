package consent

import (
	"fmt"
	"slices"
	"strings"
)

// License is a Microsoft product licence a consenting account may need.
type License string

const (
	// LicenseVivaEngage: the Viva Engage product licence (seed 003: consenting to the Viva Engage app
	// profile used by Cloud Backup for Microsoft 365).
	LicenseVivaEngage License = "viva-engage"
	// LicensePowerBI: a Power BI licence (seed 003: user consent for profiles that scan Power BI
	// objects).
	LicensePowerBI License = "power-bi"
)

// Name returns the licence's product name.
func (l License) Name() string {
	switch l {
	case LicenseVivaEngage:
		return "Viva Engage"
	case LicensePowerBI:
		return "Power BI"
	}
	return string(l)
}

// ScanObject is a kind of Power Platform or Power BI object an app profile scans. Seed 003 ties
// user-consent preconditions to them.
type ScanObject string

const (
	ScanEnvironments  ScanObject = "environments"
	ScanConnections   ScanObject = "connections"
	ScanPowerApps     ScanObject = "power-apps"
	ScanSolutions     ScanObject = "solutions"
	ScanPowerAutomate ScanObject = "power-automate"
	ScanCopilotStudio ScanObject = "copilot-studio"
	ScanPowerBI       ScanObject = "power-bi"
)

// powerPlatformScans are the objects whose scanning needs a Power Platform Administrator (seed 003).
var powerPlatformScans = [...]ScanObject{ScanEnvironments, ScanConnections, ScanPowerApps, ScanSolutions, ScanPowerAutomate, ScanCopilotStudio}

// Valid reports whether s is one of the defined scan objects.
func (s ScanObject) Valid() bool { return s.Name() != string(s) }

// ScanObjects returns every scan object, Power Platform objects first, then Power BI.
func ScanObjects() []ScanObject {
	return append(powerPlatformScans[:len(powerPlatformScans):len(powerPlatformScans)], ScanPowerBI)
}

// ParseScanObject accepts a scan object's identifier or its name ("Power Automate"),
// case-insensitively.
func ParseScanObject(s string) (ScanObject, error) {
	key := normalizeName(s)
	for _, o := range ScanObjects() {
		if key == string(o) || key == normalizeName(o.Name()) {
			return o, nil
		}
	}
	names := make([]string, 0, len(powerPlatformScans)+1)
	for _, o := range ScanObjects() {
		names = append(names, o.Name())
	}
	return "", fmt.Errorf("%w %q; use one of: %s", ErrUnknownScanObject, s, strings.Join(names, ", "))
}

// Name returns the objects' name as the product documents write it.
func (s ScanObject) Name() string {
	switch s {
	case ScanEnvironments:
		return "Environments"
	case ScanConnections:
		return "Connections"
	case ScanPowerApps:
		return "Power Apps"
	case ScanSolutions:
		return "Solutions"
	case ScanPowerAutomate:
		return "Power Automate"
	case ScanCopilotStudio:
		return "Copilot Studio"
	case ScanPowerBI:
		return "Power BI"
	}
	return string(s)
}

// BackupFunction is a Cloud Backup for Microsoft 365 function that uses the Delegated App. Seed 003:
// consenting to the delegated app means choosing the functions that will use it.
type BackupFunction string

const (
	FunctionRestoreTeamsConversationsAsPosts BackupFunction = "restore-teams-channel-conversations-as-posts"
	FunctionProtectPowerBI                   BackupFunction = "protect-power-bi"
	FunctionProtectPowerAutomateApps         BackupFunction = "protect-power-automate-power-apps"
	FunctionRestorePlannerTaskComments       BackupFunction = "restore-planner-task-comments"
)

var backupFunctions = [...]BackupFunction{
	FunctionRestoreTeamsConversationsAsPosts,
	FunctionProtectPowerBI,
	FunctionProtectPowerAutomateApps,
	FunctionRestorePlannerTaskComments,
}

// BackupFunctions returns the functions the Delegated App supports, in the seed's order. The slice
// is a fresh copy.
func BackupFunctions() []BackupFunction { return slices.Clone(backupFunctions[:]) }

// Name returns the function as seed 003 names it, e.g. "Protect Power BI".
func (f BackupFunction) Name() string {
	switch f {
	case FunctionRestoreTeamsConversationsAsPosts:
		return "Restore Teams channel conversations as posts"
	case FunctionProtectPowerBI:
		return "Protect Power BI"
	case FunctionProtectPowerAutomateApps:
		return "Protect Power Automate / Power Apps"
	case FunctionRestorePlannerTaskComments:
		return "Restore Planner task comments"
	}
	return string(f)
}

// Valid reports whether f is one of BackupFunctions.
func (f BackupFunction) Valid() bool { return f.Name() != string(f) }

// ParseBackupFunction accepts a function's identifier or its name from seed 003, case-insensitively.
func ParseBackupFunction(s string) (BackupFunction, error) {
	key := normalizeName(s)
	for _, f := range backupFunctions {
		if key == string(f) || key == normalizeName(f.Name()) {
			return f, nil
		}
	}
	return "", fmt.Errorf("%w %q; choose from: %s", ErrUnknownFunction, s, functionNames(backupFunctions[:]))
}

func functionNames(fs []BackupFunction) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.Name()
	}
	return strings.Join(names, ", ")
}
