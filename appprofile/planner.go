package appprofile

import "fmt"

// PlannerAdvice says what a profile needs to back up Planner data with Cloud Backup for
// Microsoft 365 (seed 003).
type PlannerAdvice struct {
	Mode Mode
	// AppType is the app type to create or re-authorize.
	AppType string
	// RequiredPermission, when set, must be granted to the app (Microsoft Graph
	// Tasks.ReadWrite.All, Application).
	RequiredPermission *Permission
	// Steps are the remaining steps, in order.
	Steps []string
}

// TasksReadWriteAll is the Microsoft Graph application permission Planner backup needs with classic
// and custom apps.
var TasksReadWriteAll = Permission{ResourceAppID: "00000003-0000-0000-c000-000000000000", ResourceName: "Microsoft Graph", Value: "Tasks.ReadWrite.All", Kind: Application}

// PlannerRequirement tells what a profile in mode needs for Planner backup: classic — a Microsoft
// 365 (All permissions) profile whose app has Tasks.ReadWrite.All; modern — a Cloud Backup for
// Microsoft 365 (All permissions) profile; custom — a Custom Azure app profile whose app has
// Tasks.ReadWrite.All. Other modes are an error naming the valid ones.
func PlannerRequirement(mode Mode) (PlannerAdvice, error) {
	tail := []string{
		"edit the scan profile and save it (even without changes) so its authentication method becomes the app profile",
		"in Cloud Backup for Microsoft 365, check that Planner data backup is enabled in the backup settings",
	}
	perm := TasksReadWriteAll
	switch mode {
	case Classic:
		return PlannerAdvice{Mode: mode, AppType: "Microsoft 365 (All permissions)", RequiredPermission: &perm,
			Steps: append([]string{"create or re-authorize an app profile of the Microsoft 365 (All permissions) app type", "ensure the Microsoft Graph permission Tasks.ReadWrite.All has been added to the app"}, tail...)}, nil
	case Modern:
		return PlannerAdvice{Mode: mode, AppType: "Cloud Backup for Microsoft 365 (All permissions)",
			Steps: append([]string{"create an app profile of the Cloud Backup for Microsoft 365 (All permissions) app type"}, tail...)}, nil
	case Custom:
		return PlannerAdvice{Mode: mode, AppType: "Custom Azure app", RequiredPermission: &perm,
			Steps: append([]string{"create an app profile of the Custom Azure app type", "ensure the Microsoft Graph permission Tasks.ReadWrite.All has been added to the custom app"}, tail...)}, nil
	}
	return PlannerAdvice{}, fmt.Errorf("appprofile: Planner backup has no setup for mode %q; use %q, %q or %q", mode, Classic, Modern, Custom)
}
