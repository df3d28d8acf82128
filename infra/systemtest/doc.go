// Package systemtest holds the suites that prove the whole service under
// faults, bad input and hostile callers, end to end through the local server
// (the same code as make run: template routes, the JWT authorizer, API
// Gateway v2 events, each function's own Lambda handler) with the fake
// provider; the fault and leak suites on the AWS adapters (DynamoDB and
// Secrets Manager on moto_server), the matrix and the fuzz targets on the
// embedded store, for speed:
//
//   - faults_test.go: provider 5xx, 429 with Retry-After, timeouts and
//     malformed JSON, and DynamoDB throttling and conditional-check failures
//     injected at the wire (infra/testenv/moto.Inject) during refresh, the
//     OAuth callback and admin saves. Each case reads back what was stored:
//     nothing lost or half-written, and the right status recorded.
//   - fuzz_test.go: fuzz targets for every write route's body, the OAuth
//     callback's state and whole query, and the provider configuration
//     fields, through the API; the catalog's field checks and the
//     secret-hygiene checker are fuzzed in their own packages
//     (shared/catalog FuzzSettings, shared/hygiene FuzzCheck). make
//     test-fuzz runs each target briefly; go test runs the seeds.
//   - authz_test.go: the authorization matrix, every template route ×
//     caller × organization.
//   - leak_test.go: one whole run with planted credentials, searched for in
//     everything the run produced.
//   - basepath_test.go: the API behind a custom domain's API mapping key.
//   - secretdeletion_test.go: a client secret set right after its removal,
//     against Secrets Manager's asynchronous deletion simulated at the wire.
//   - warm_test.go: warm requests make no AWS calls, counted at the SDK on
//     the AWS adapters.
//
// The feature suites live in its packages, one per area, each a test-only
// package run end to end the same way: admin (the enablement API),
// connections (connect, complete, list, disconnect), diagnostics (the
// checklist and the test after changes), refresh (the scheduled and
// on-demand refresh, on the embedded store and on moto_server), soak (issue
// 14's proof: 1,000 connections and three warm containers through a
// sequence of admin actions and provider events, on moto_server). Unit
// tests stay beside the code in shared/.
//
// It has tests only.
package systemtest
