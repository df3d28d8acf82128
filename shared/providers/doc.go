// Package providers is what a connected-app provider is: its catalog data
// (Provider), the one interface each provider implements for everything it
// does its own way (Dialect), and the one place the service makes provider
// calls that are not token requests (Caller: requests built, answers read
// up to MaxAnswer, URLs kept out of errors).
//
// Each provider is one package beside this one (microsoft, google,
// salesforce), in the manner of golang.org/x/oauth2/endpoints and
// oauth2-proxy's providers: data where it is data (New returns the
// provider's Provider value, endpoints included as a function of the org's
// settings, like endpoints.AzureAD(tenant)), and a method where the
// provider needs settings, tokens or answers. Package catalog is the
// explicit registry of those packages (no init-time registration), and
// nothing outside shared/providers compares provider ids.
//
// Why the types live here and not in catalog: every provider package needs
// them, and the registry needs every provider package; with the types in
// the registry's package they would import each other. catalog re-exports
// them under the names the rest of the service uses.
//
// The Dialect holds, per provider:
//   - catalog functions of settings: Endpoints, ValidateSettings,
//     ValidateClientID, NormalizeScope, AuthCodeOptions (Google's hd),
//     CredentialCheck, SetupSteps;
//   - after the code exchange: Identify, TokenExtras (Salesforce's
//     instance_url), AccessExpiry (whose whole rule, for the callback and
//     the refresh job alike, is Provider.AccessExpiry), Revoke and
//     AccountSettings (Revocation says what a revocation ends);
//   - the provider's answers in package oauthfail's one vocabulary:
//     ClassifyToken, ClassifyAuthorize, ClassifyAPI;
//   - probes: InstanceURL (the {instance} of probe URLs), ItemID,
//     FileMeta.
//
// Nothing here keeps package-level state that is built when a function
// starts: checks are small hand-written functions rather than regular
// expressions, and error tables are switches rather than maps (issue 13).
package providers
