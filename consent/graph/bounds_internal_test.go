package graph

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/consent"
)

// boundsDriver is a Driver that is never asked to do I/O: the tests below only make reading
// clients (MSAL does no I/O until a token is asked for) and take concurrency slots.
func boundsDriver(t *testing.T, cfg Config) *Driver {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bounds"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ReaderAppID = "11111111-1111-4111-8111-111111111111"
	cfg.ReaderCredential = consent.CertificateCredential{Chain: []*x509.Certificate{cert}, Key: key}
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func boundsTenant(i int) string { return fmt.Sprintf("20000000-0000-4000-8000-%012d", i) }

// A tenant's concurrency slots are kept only while a call holds or waits for them: a driver that
// has read many tenants keeps no entry for any of them, and the limit still holds while they are
// in use.
func TestTenantSlotsForgottenWhenFree(t *testing.T) {
	d := boundsDriver(t, Config{MaxConcurrentPerTenant: 2})
	ctx := context.Background()
	for i := range 100 {
		release, err := d.acquire(ctx, boundsTenant(i))
		if err != nil {
			t.Fatal(err)
		}
		got, releaseExtra := d.tryAcquire(boundsTenant(i), 3)
		if got != 1 {
			t.Errorf("tenant %d: tryAcquire(3) with one of two slots held got %d, want 1", i, got)
		}
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := d.acquire(cancelled, boundsTenant(i)); err == nil {
			t.Errorf("tenant %d: a third call took a slot while both were held", i)
		}
		releaseExtra()
		release()
	}
	d.semMu.Lock()
	n := len(d.sems)
	d.semMu.Unlock()
	if n != 0 {
		t.Errorf("after every call returned the driver keeps slots for %d tenants, want 0", n)
	}
}

// Reading clients (with the tenants' resource lookups) are bounded by Config.MaxReaders however
// many tenants were read, least recently used dropped first.
func TestReadersBoundedByMaxReaders(t *testing.T) {
	const limit = 8
	d := boundsDriver(t, Config{MaxReaders: limit})
	for i := range 100 {
		d.resMu.Lock()
		d.resources[boundsTenant(i)] = map[string]string{"sp": "app"}
		d.resMu.Unlock()
		if _, err := d.readerFor(boundsTenant(i)); err != nil {
			t.Fatal(err)
		}
	}
	d.readersMu.Lock()
	defer d.readersMu.Unlock()
	if len(d.readers) > limit {
		t.Errorf("%d reading clients kept, want at most %d", len(d.readers), limit)
	}
	if _, ok := d.readers[boundsTenant(99)]; !ok {
		t.Error("the client made last was dropped")
	}
	d.resMu.Lock()
	defer d.resMu.Unlock()
	for tenant := range d.resources {
		if _, ok := d.readers[tenant]; !ok {
			t.Errorf("resource lookups of %s kept after its client was dropped", tenant)
		}
	}
}

// Clients unused for longer than Config.ReaderIdle go at the next creation once an eighth of
// ReaderIdle has passed since the last sweep.
func TestIdleReadersDropped(t *testing.T) {
	d := boundsDriver(t, Config{ReaderIdle: time.Hour})
	old, err := d.readerFor(boundsTenant(1))
	if err != nil {
		t.Fatal(err)
	}
	recent, err := d.readerFor(boundsTenant(2))
	if err != nil {
		t.Fatal(err)
	}
	old.lastUsed.Store(time.Now().Add(-2 * time.Hour).UnixNano())
	recent.lastUsed.Store(time.Now().Add(-30 * time.Minute).UnixNano())
	d.readersMu.Lock()
	d.swept = time.Now().Add(-10 * time.Minute) // more than ReaderIdle/8 ago
	d.readersMu.Unlock()
	if _, err := d.readerFor(boundsTenant(3)); err != nil {
		t.Fatal(err)
	}
	d.readersMu.Lock()
	defer d.readersMu.Unlock()
	for tenant, want := range map[string]bool{boundsTenant(1): false, boundsTenant(2): true, boundsTenant(3): true} {
		if _, got := d.readers[tenant]; got != want {
			t.Errorf("client of %s kept = %v, want %v", tenant, got, want)
		}
	}
}

// ReleaseTenant drops the tenant's reading client and resource lookups at once (whatever the
// case of the ID), and nothing of other tenants.
func TestReleaseTenantDropsItsState(t *testing.T) {
	d := boundsDriver(t, Config{ReaderIdle: time.Hour})
	for i := range 2 {
		if _, err := d.readerFor(boundsTenant(i)); err != nil {
			t.Fatal(err)
		}
		d.resMu.Lock()
		d.resources[boundsTenant(i)] = map[string]string{"sp": "app"}
		d.resMu.Unlock()
	}
	d.ReleaseTenant(strings.ToUpper(boundsTenant(0)))
	d.readersMu.Lock()
	_, kept0 := d.readers[boundsTenant(0)]
	_, kept1 := d.readers[boundsTenant(1)]
	d.readersMu.Unlock()
	d.resMu.Lock()
	_, res0 := d.resources[boundsTenant(0)]
	_, res1 := d.resources[boundsTenant(1)]
	d.resMu.Unlock()
	if kept0 || res0 {
		t.Errorf("released tenant: client kept %v, resource lookups kept %v; want both dropped", kept0, res0)
	}
	if !kept1 || !res1 {
		t.Errorf("other tenant: client kept %v, resource lookups kept %v; want both kept", kept1, res1)
	}
}
