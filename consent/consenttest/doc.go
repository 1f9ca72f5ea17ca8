// Package consenttest is the test kit for consent.Driver, in the style of net/http/httptest and
// client-go's fake clientsets:
//
//   - Fake, an in-memory directory of tenants, applications, service principals, grants,
//     directory and Azure roles, users and sign-ins that implements consent.Driver and every
//     optional driver interface, records every call (Actions) and lets tests inject errors and
//     latency per method (OnCall). Safe for concurrent use.
//   - Directory, the interface of tenant changes tests make (register an app, grant a permission,
//     reset a user's password, delete a service principal...), implemented by Fake and by the
//     Entra/Graph emulator in consent/graphtest.
//   - RunDriverConformance(t, newEnv), the driver conformance suite: every consent.Driver
//     implementation must pass it against a Directory it reads (the Fake against itself, the
//     Graph driver against the emulator).
package consenttest
