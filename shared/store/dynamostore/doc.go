// Package dynamostore is the DynamoDB adapter of store.Store: one table
// holds org integration configs, audit entries, pending OAuth states and
// user connections.
//
// # Key design
//
// Key components are escaped ('%' → %25, '#' → %23) so '#' separates them
// unambiguously: the prefix of user "u" can never match user "u#x".
// Times in keys and conditions are fixed-width UTC strings
// (2006-01-02T15:04:05.000000000Z), so string order is time order.
//
//	item         PK                 SK                GSI1PK, GSI1SK (ByProvider)         GSI2PK, GSI2SK (DueRefresh)
//	integration  ORG#<org>          INTEG#<provider>  -                                   -
//	audit entry  ORG#<org>          AUDIT#<at>#<id>   -                                   -
//	OAuth state  STATE#<id>         STATE             -                                   -
//	connection   USER#<org>#<user>  CONN#<provider>   PROV#<org>#<provider>, USER#<user>  DUE#<shard>, <nextRefreshAt>
//	rate limit   LIMIT#<name>#<sub> WINDOW#<start>    -                                   -
//	refresh run  ORG#<org>          REFRESHRUN#<provider>  -                              -
//	attempt      ATTEMPTS#<org>#<provider>  USER#<user>  -                                -
//
// Access patterns:
//
//   - Integrations of an org: Query PK=ORG#<org>, begins_with(SK, INTEG#).
//     A write is conditional on the stored version (attribute_not_exists(PK)
//     for version 0); with audit entries it is one TransactWriteItems, each
//     audit Put conditional on attribute_not_exists(PK).
//   - Audit, newest first: Query PK=ORG#<org>, begins_with(SK, AUDIT#),
//     ScanIndexForward=false. The page cursor names the last entry returned
//     (and its org: another org's cursor is store.ErrInvalidCursor).
//   - OAuth states: the id is the SHA-256 of the state value, never the
//     value. The "ttl" attribute (epoch seconds) lets DynamoDB's TTL delete
//     expired ones; until it does, ConsumeState's conditional DeleteItem
//     (attribute_exists(PK) AND expiresAt > now, ReturnValues ALL_OLD)
//     refuses them, and it succeeds for exactly one caller.
//   - Connections of a user: Query PK=USER#<org>#<user>. Of an org and
//     provider: Query GSI ByProvider (projection ALL), paginated.
//   - Due for refresh: GSI DueRefresh, projection KEYS_ONLY. It is sparse:
//     only connections with a NextRefreshAt carry GSI2PK/GSI2SK, so
//     connections off the index cost nothing there. It is write-sharded:
//     the partition is DUE#<shard>, shard = FNV-1a(ConnKey) mod DueShards,
//     so refresh-time writes spread over DueShards partitions instead of
//     one hot one. ListDue queries each shard with GSI2SK <= before and a
//     Limit bounded by the page, so it reads only due entries (plus at most
//     one look-ahead item per page): a run costs in proportion to what is
//     due, never to the table. It never scans.
//   - Leases: ClaimLease is an UpdateItem conditional on no other owner
//     holding an unexpired lease (attribute_not_exists(leaseOwner) OR
//     leaseOwner = owner OR leaseUntil <= now), bumping the version and
//     returning ALL_NEW as the re-read; a refused claim tells ErrLeaseHeld
//     from ErrNotFound by ReturnValuesOnConditionCheckFailure=ALL_OLD.
//     CompleteLease is a PutItem conditional on leaseOwner = owner AND
//     version = the claimed version.
//   - Rate limits (limits.go): one UpdateItem per event, ADD count
//     conditional on attribute_not_exists(PK) OR count < limit, with a
//     "ttl" for DynamoDB's TTL.
//   - Rollout records (rollout.go): a refresh run's summary per org and
//     provider, one PutItem conditional on attribute_not_exists(PK) OR
//     startedAt <= the run's start; connect attempts, one partition per org
//     and provider (PutItem at a start, DeleteItem at the completion, a
//     paged Query for the rollout view, "ttl" for DynamoDB's TTL).
//   - Every connection, for the token re-seal only (scan.go): a Scan
//     filtered on type = connection, paged with a marked cursor. It is the
//     one access pattern that reads the whole table, acceptable for a
//     maintenance task an operator starts; nothing on a request path or
//     the schedule scans.
//
// Every Query is paginated (a Limit and ExclusiveStartKey); listings
// without a page parameter (a user's connections, an org's integrations)
// follow LastEvaluatedKey to the end of a partition that holds a handful of
// items. Reads of the base table are strongly consistent.
//
// DynamoDB throttling that outlasts the SDK's retries is returned wrapped
// in store.ErrThrottled.
//
// The table (keys, attribute definitions, GSIs, TTL attribute) is
// TableSpec(name): template.yaml declares the same, and a test compares
// them. DueShards is part of the stored data: changing it needs every
// indexed connection rewritten.
//
// IAM: the functions need dynamodb:GetItem, PutItem, UpdateItem, DeleteItem,
// Query, TransactWriteItems on the table and dynamodb:Query on its indexes
// (each function only those it uses); RefreshFunction also dynamodb:Scan
// for the re-seal.
package dynamostore
