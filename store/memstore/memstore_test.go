package memstore_test

import (
	"testing"

	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/memstore"
	"github.com/tenantapps/tenantapps/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return memstore.New() })
}
