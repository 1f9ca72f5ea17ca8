package roles

import (
	"fmt"
	"slices"
)

// AzureRoleID is the ID of an Azure RBAC built-in role definition (the last segment of
// /providers/Microsoft.Authorization/roleDefinitions/{id}); the same in every subscription.
type AzureRoleID string

// Azure built-in roles named by seed 000 for Azure security management.
const (
	Contributor                            AzureRoleID = "b24988ac-6180-42a0-ab88-20f7382dd24c"
	AzureKubernetesServiceRBACClusterAdmin AzureRoleID = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
	KeyVaultAdministrator                  AzureRoleID = "00482a5a-887f-4fb3-b363-3b7fe8e74483"
)

var azureRoleNames = map[AzureRoleID]string{
	Contributor:                            "Contributor",
	AzureKubernetesServiceRBACClusterAdmin: "Azure Kubernetes Service RBAC Cluster Admin",
	KeyVaultAdministrator:                  "Key Vault Administrator",
}

// Name returns the role's name, or the ID when the role is not one this package knows.
func (id AzureRoleID) Name() string {
	if n, ok := azureRoleNames[id]; ok {
		return n
	}
	return string(id)
}

// AzureResource is the kind of Azure resource an Azure requirement applies to.
type AzureResource string

const (
	Subscription AzureResource = "subscription"
	AKSCluster   AzureResource = "aks-cluster"
	KeyVault     AzureResource = "key-vault"
)

// AzureCondition selects the requirement that applies to a resource, by how the resource is
// configured. The empty condition means "always".
type AzureCondition string

const (
	// AKS clusters: "Authentication and Authorization" setting.
	AKSEntraKubernetesRBAC AzureCondition = "entra-id-authentication-with-kubernetes-rbac"
	AKSEntraAzureRBAC      AzureCondition = "entra-id-authentication-with-azure-rbac"
	// Key vaults: "Permission model" setting.
	KeyVaultAzureRBAC    AzureCondition = "azure-rbac"
	KeyVaultAccessPolicy AzureCondition = "vault-access-policy"
)

// AzureGrant is how the app is given access.
type AzureGrant string

const (
	// RoleAssignment: an Azure RBAC role assignment at the resource's scope.
	RoleAssignment AzureGrant = "role-assignment"
	// ClusterAdminGroup: membership of the group that has admin access within the AKS cluster.
	ClusterAdminGroup AzureGrant = "cluster-admin-group-membership"
	// AccessPolicy: a Key Vault access policy granting the listed permissions.
	AccessPolicy AzureGrant = "access-policy"
)

// AzureTiming says when Azure requirements must be in place.
type AzureTiming string

// AfterConsentBeforeSave: seed 000, "The roles must be added after you consent the app and before
// you save the app profile in Elements."
const AfterConsentBeforeSave AzureTiming = "after-consent-before-save"

// AzureRequirement is one entry of the Azure RBAC checklist of an app type.
type AzureRequirement struct {
	Resource  AzureResource  `json:"resource"`
	Condition AzureCondition `json:"condition,omitempty"`
	Grant     AzureGrant     `json:"grant"`
	// Role is set when Grant is RoleAssignment.
	Role AzureRoleID `json:"roleDefinitionId,omitempty"`
	// Permissions is set when Grant is AccessPolicy, e.g. "keys/get".
	Permissions []string    `json:"permissions,omitempty"`
	Timing      AzureTiming `json:"timing"`
}

// Describe renders the requirement as a checklist line.
func (r AzureRequirement) Describe() string {
	var what string
	switch r.Grant {
	case RoleAssignment:
		what = fmt.Sprintf("assign the %s role", r.Role.Name())
	case ClusterAdminGroup:
		what = "add the app to the group with admin access within the cluster"
	case AccessPolicy:
		what = fmt.Sprintf("grant an access policy with %v", r.Permissions)
	default:
		what = string(r.Grant)
	}
	scope := map[AzureResource]string{
		Subscription: "on each subscription to manage",
		AKSCluster:   "on each AKS cluster",
		KeyVault:     "on each key vault",
	}[r.Resource]
	if r.Condition != "" {
		scope += " using " + string(r.Condition)
	}
	return what + " " + scope + " (after consent, before the profile is saved)"
}

// AzureSecurityManagementRequirements returns the Azure RBAC checklist seed 000 gives for the
// APElements Azure Security Management app: Contributor on every managed subscription; for AKS,
// membership of the cluster admin group (Entra ID authentication with Kubernetes RBAC) or the Azure
// Kubernetes Service RBAC Cluster Admin role (Entra ID authentication with Azure RBAC); for Key
// Vault, Key Vault Administrator (Azure RBAC permission model) or Get and List on keys and secrets
// (vault access policy model). All after consent and before the profile is saved.
func AzureSecurityManagementRequirements() []AzureRequirement {
	return []AzureRequirement{
		{Resource: Subscription, Grant: RoleAssignment, Role: Contributor, Timing: AfterConsentBeforeSave},
		{Resource: AKSCluster, Condition: AKSEntraKubernetesRBAC, Grant: ClusterAdminGroup, Timing: AfterConsentBeforeSave},
		{Resource: AKSCluster, Condition: AKSEntraAzureRBAC, Grant: RoleAssignment, Role: AzureKubernetesServiceRBACClusterAdmin, Timing: AfterConsentBeforeSave},
		{Resource: KeyVault, Condition: KeyVaultAzureRBAC, Grant: RoleAssignment, Role: KeyVaultAdministrator, Timing: AfterConsentBeforeSave},
		{Resource: KeyVault, Condition: KeyVaultAccessPolicy, Grant: AccessPolicy, Permissions: []string{"keys/get", "keys/list", "secrets/get", "secrets/list"}, Timing: AfterConsentBeforeSave},
	}
}

// AzureRequirementFor returns the requirements that apply to one resource configured with the given
// condition (use "" for subscriptions). It returns an error naming the valid conditions when the
// condition does not apply to that resource.
func AzureRequirementFor(reqs []AzureRequirement, resource AzureResource, condition AzureCondition) ([]AzureRequirement, error) {
	var out []AzureRequirement
	var valid []string
	for _, r := range reqs {
		if r.Resource != resource {
			continue
		}
		valid = append(valid, string(r.Condition))
		if r.Condition == condition {
			r.Permissions = slices.Clone(r.Permissions)
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("roles: no Azure requirement for %s with condition %q; valid conditions: %q", resource, condition, valid)
	}
	return out, nil
}
