package app

import "github.com/sofie/integrations/shared/config"

// Secret scopes a function can be granted. Each is a set of Secrets Manager
// secrets of this deployment (names under SECRETS_PREFIX, see the README's
// "Secret names").
const (
	// SecretOrgClients are organizations' own client secrets,
	// <prefix>/orgs/*.
	SecretOrgClients = "org-client-secrets"
	// SecretDefaultClients are the platform's default OAuth clients,
	// <prefix>/default-clients/*, provisioned by operators: read-only.
	SecretDefaultClients = "default-clients"
	// SecretTokenKey is the token-encryption keyring (TOKEN_KEY_SECRET_ID):
	// read-only, and only for functions that seal or open user tokens.
	SecretTokenKey = "token-key"
)

// Permission is what one function's code calls: the DynamoDB actions on the
// service's table (and its indexes), and the Secrets Manager actions per
// secret scope; and for EventsFunction, reading the table's stream and
// putting events on the bus.
type Permission struct {
	// TableActions on the table itself.
	TableActions []string
	// Indexes the function queries (dynamodb:Query on table/index/<name>).
	Indexes []string
	// Secrets: Secrets Manager actions per secret scope.
	Secrets map[string][]string
	// StreamActions on the table's streams (<table ARN>/stream/*).
	StreamActions []string
	// EventBusActions on the EventBusName bus.
	EventBusActions []string
}

// Permissions declares each function's least privilege: exactly what its
// code calls, no more. The template test checks that template.yaml grants
// each function exactly this; a feature that calls a new action adds it
// here and in the template.
//
// DynamoDB transactions (TransactWriteItems) need the action of each item
// they contain (PutItem, UpdateItem, DeleteItem, ConditionCheckItem); there
// is no IAM action for the transaction itself. What each store method calls
// is in package dynamostore's documentation: GetIntegration and
// GetConnection GetItem; the listings Query; PutIntegration (with its audit
// entries), AppendAudit, CreateState, CreateCompletion, PutConnection and
// CompleteLease PutItem; ConsumeState, ConsumeCompletion and
// DeleteConnection DeleteItem; ClaimLease UpdateItem;
// ListProviderConnections queries index ByProvider, ListDue index
// DueRefresh and ListGrantConnections index ByGrant. The rollout records:
// PutRefreshSummary and RecordConnectAttempt PutItem, GetRefreshSummary
// GetItem, ClearConnectAttempt DeleteItem, ListConnectAttempts Query (the
// table itself). PutConnectionAudited and DeleteConnectionAudited are a
// TransactWriteItems of PutItem or DeleteItem with the audit entries'
// PutItem.
var Permissions = map[string]Permission{
	config.AdminFunction: {
		// Configs and audit entries: read, list, and versioned writes with
		// their audit entries in one transaction; clients' health (read).
		// A save writes no connection: what it changes for them is derived,
		// and what must be written back is a job for the refresh runs
		// (PutItem). The per-org credential-check counter (a conditional
		// UpdateItem). The rollout view reads the org's connections of a
		// provider (index ByProvider, the only reason AdminFunction queries
		// it; DiagnosticsFunction does for an admin's count of users who
		// still need to consent), the last refresh run's summary (GetItem) and the org's
		// connect attempts (Query on the table); the integration's test
		// account is one GetItem.
		TableActions: []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"},
		Indexes:      []string{"ByProvider"},
		Secrets: map[string][]string{
			// Write-only through the API: created on first put (restored if a
			// deletion is pending), replaced, deleted; read back only to
			// verify credentials at the provider.
			SecretOrgClients: {"secretsmanager:CreateSecret", "secretsmanager:DeleteSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:RestoreSecret"},
			// Whether the default client exists in this environment.
			SecretDefaultClients: {"secretsmanager:GetSecretValue"},
		},
	},
	config.OAuthFunction: {
		// States and pending completions (create, consume once by delete),
		// connections (write at the completion, list, disconnect), configs
		// (read), and whether another connection holds a grant before a
		// grant-wide revocation (index ByGrant). The org's test account is
		// written and deleted with its audit entry in one transaction
		// (PutItem, DeleteItem); connect attempts are put at a start and
		// deleted at the completion. An admin consent's outcome is written
		// on the integration with its audit entry (PutIntegration: PutItem).
		TableActions: []string{"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"},
		Indexes:      []string{"ByGrant"},
		Secrets: map[string][]string{
			SecretOrgClients:     {"secretsmanager:GetSecretValue"},
			SecretDefaultClients: {"secretsmanager:GetSecretValue"},
			SecretTokenKey:       {"secretsmanager:GetSecretValue"},
		},
	},
	config.RefreshFunction: {
		// The due-index, leases (claim: UpdateItem; outcome: conditional
		// PutItem), configs (read), each run's per-org summaries (PutItem).
		// Scan only for the operator's re-seal invocation
		// (ScanConnections), which must reach every connection.
		// The org-wide jobs it drains: listed and advanced (Query,
		// UpdateItem), enqueued for a provider offered again (PutItem),
		// finished (DeleteItem), over the connections off the due-index
		// (index OffIndex).
		TableActions: []string{"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:UpdateItem"},
		Indexes:      []string{"DueRefresh", "OffIndex"},
		Secrets: map[string][]string{
			SecretOrgClients:     {"secretsmanager:GetSecretValue"},
			SecretDefaultClients: {"secretsmanager:GetSecretValue"},
			SecretTokenKey:       {"secretsmanager:GetSecretValue"},
		},
	},
	config.DiagnosticsFunction: {
		// Reads, and the on-demand refresh (lease claim and outcome). An
		// admin's diagnosis counts the users who still need to consent
		// from the org's connections of the provider (index ByProvider).
		TableActions: []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"},
		Indexes:      []string{"ByProvider"},
		Secrets: map[string][]string{
			SecretOrgClients:     {"secretsmanager:GetSecretValue"},
			SecretDefaultClients: {"secretsmanager:GetSecretValue"},
			SecretTokenKey:       {"secretsmanager:GetSecretValue"},
		},
	},
	config.EventsFunction: {
		// An integration's support contact, for its connections' events.
		// No secret: the stream's images hold sealed tokens, which this
		// function never opens (it has no key) and never publishes.
		TableActions: []string{"dynamodb:GetItem"},
		// What Lambda's event source mapping does with the function's
		// role to read the stream, on the table's streams only
		// (table/<name>/stream/*, as
		// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/iam-policy-example-lamda-process-dynamodb-streams.html
		// grants it), not the managed AWSLambdaDynamoDBExecutionRole's "*".
		StreamActions:   []string{"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"},
		EventBusActions: []string{"events:PutEvents"},
	},
}
