package consent

import "strings"

// GraphEndpointFor returns the Microsoft Graph endpoint of the cloud whose Microsoft Entra
// authority host is given: PublicCloudGraph for PublicCloudAuthority, USGovernmentGraph for
// USGovernmentAuthority (US Government L4, GCC High; a DoD tenant uses USGovDoDGraph and must say
// so explicitly), ChinaGraph for ChinaAuthority. The host is compared ignoring case and a trailing
// slash; any other authority (an emulator, an unknown cloud) yields "" and false.
//
// The pairs are Microsoft's: "Microsoft Graph national cloud deployments",
// https://learn.microsoft.com/graph/deployments (App registration and token service root
// endpoints; Microsoft Graph and Graph Explorer service root endpoints).
func GraphEndpointFor(authority string) (string, bool) {
	switch strings.ToLower(strings.TrimRight(strings.TrimSpace(authority), "/")) {
	case "", PublicCloudAuthority:
		return PublicCloudGraph, true
	case USGovernmentAuthority:
		return USGovernmentGraph, true
	case ChinaAuthority:
		return ChinaGraph, true
	}
	return "", false
}
