package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/tenantapps/tenantapps/examples/internal/envconfig"
)

// TestHelpListsEveryEnvVar: the portal started for real tenants with an incomplete environment
// reads its variables and stops; every variable it read is in its --help.
func TestHelpListsEveryEnvVar(t *testing.T) {
	var mu sync.Mutex
	var read []string
	getenv := func(k string) string {
		mu.Lock()
		defer mu.Unlock()
		read = append(read, k)
		if k == envconfig.ReaderAppID {
			return "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b"
		}
		return ""
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-addr", "127.0.0.1:0"}, getenv, &out); err == nil {
		t.Fatal("the portal started for real tenants without its configuration")
	}
	var help bytes.Buffer
	_ = run(context.Background(), []string{"-h"}, getenv, &help)
	if len(read) < 5 {
		t.Fatalf("the portal read only %v; the test no longer exercises the real-tenant configuration", read)
	}
	for _, k := range read {
		if !strings.Contains(help.String(), "$"+k) {
			t.Errorf("the portal reads $%s but its --help does not name it:\n%s", k, help.String())
		}
	}
}
