package roles_test

import (
	"fmt"

	"github.com/tenantapps/tenantapps/roles"
)

func ExampleLookupDirectoryRole() {
	r, ok := roles.LookupDirectoryRole("Engage Administrator")
	fmt.Println(ok, r.Name, r.TemplateID)
	// Output: true Yammer Administrator 810a2642-a034-447f-a5e8-41beaa378541
}

func ExampleAzureSecurityManagementRequirements() {
	for _, r := range roles.AzureSecurityManagementRequirements() {
		fmt.Println("-", r.Describe())
	}
	// Output:
	// - assign the Contributor role on each subscription to manage (after consent, before the profile is saved)
	// - add the app to the group with admin access within the cluster on each AKS cluster using entra-id-authentication-with-kubernetes-rbac (after consent, before the profile is saved)
	// - assign the Azure Kubernetes Service RBAC Cluster Admin role on each AKS cluster using entra-id-authentication-with-azure-rbac (after consent, before the profile is saved)
	// - assign the Key Vault Administrator role on each key vault using azure-rbac (after consent, before the profile is saved)
	// - grant an access policy with [keys/get keys/list secrets/get secrets/list] on each key vault using vault-access-policy (after consent, before the profile is saved)
}
