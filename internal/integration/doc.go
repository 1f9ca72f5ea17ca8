// Package integration holds tests that run the appprofile Manager against the real Graph driver
// (consent/graph) and the local Entra + Graph emulator (consent/graphtest) over TLS. They live
// here, not in appprofile, so that `go test ./appprofile` never compiles msgraph-sdk-go.
package integration
