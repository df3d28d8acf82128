// Package templatetest checks template.yaml against the code it deploys:
// every function's build target and command exist; the HttpApi routes of
// each function are exactly its router's routes (app.Routes), with the
// authorizer on every route but the OAuth callback; each function gets
// exactly the environment variables it reads (config.Vars); each function's
// IAM policy grants exactly what its code calls (app.Permissions); the table
// is the one the DynamoDB adapter needs (dynamostore.TableSpec); every route
// has a sample event in events/; and the README documents every variable
// and parameter. It has tests only.
package templatetest
