package postgres_test

import (
	"context"
	"log"
	"os"

	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/postgres"
)

// Opening the PostgreSQL store that several portal replicas share. (Compiled, not run: it needs
// a server.)
func ExampleOpen() {
	ctx := context.Background()
	st, err := postgres.Open(ctx, os.Getenv("TENANTAPPS_POSTGRES_DSN"), postgres.WithSchema("tenantapps"))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	// Each replica may run this; exactly one consumes the consent callback's nonce.
	var ns store.NonceStore = st
	_ = ns
}
