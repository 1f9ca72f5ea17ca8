package certs_test

import (
	"testing"

	"github.com/tenantapps/tenantapps/certs"
)

// BenchmarkInspect measures opening OpenSSL 3 default files (PBES2 AES-256, HMAC-SHA256 MAC, RSA
// 2048) at two iteration counts; the cost is the three key derivations (MAC, certificate bag,
// key bag), each done once. keytool-default is read by go-pkcs12 (its key comes first).
// BENCHMARKS.md puts these next to `openssl pkcs12` on the same files.
func BenchmarkInspect(b *testing.B) {
	for _, tc := range []struct{ name, file string }{
		{"iter-2048", "iter-2048.pfx"},
		{"iter-100000", "iter-100000.pfx"},
		{"nss-pk12util-600000-BER", "nss-pk12util.pfx"},
		{"keytool-default-10000-go-pkcs12", "keytool-default.pfx"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			data := readCorpus(b, tc.file)
			b.ReportAllocs()
			start := cpuTime()
			for b.Loop() {
				if _, err := certs.Inspect(data, "Pa55-word"); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime()-start).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}
