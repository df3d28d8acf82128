package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute and index names of the table.
const (
	AttrPK     = "PK"
	AttrSK     = "SK"
	AttrGSI1PK = "GSI1PK"
	AttrGSI1SK = "GSI1SK"
	AttrGSI2PK = "GSI2PK"
	AttrGSI2SK = "GSI2SK"
	AttrGSI3PK = "GSI3PK"
	AttrGSI3SK = "GSI3SK"
	AttrGSI4PK = "GSI4PK"
	AttrGSI4SK = "GSI4SK"
	// AttrTTL holds a state's expiry in epoch seconds for DynamoDB's TTL.
	AttrTTL = "ttl"

	// IndexByProvider lists an org's connections to one provider.
	IndexByProvider = "ByProvider"
	// IndexDue is the sparse, write-sharded due-refresh index.
	IndexDue = "DueRefresh"
	// IndexByGrant finds the connections holding tokens of one provider
	// grant (sparse: connections whose account is known).
	IndexByGrant = "ByGrant"
	// IndexOffIndex lists the connections taken off the due-index, by
	// provider and reason (sparse).
	IndexOffIndex = "OffIndex"

	// DueShards is the number of due-index partitions (DUE#0 .. DUE#7).
	DueShards = 8
)

// TableDefinition is the table as CloudFormation's AWS::DynamoDB::Table
// declares it; the yaml tags are the template's property names, so a test
// can decode template.yaml's table into this type and compare. (Encryption,
// point-in-time recovery and tags are the template's own concern.)
type TableDefinition struct {
	TableName               string                 `yaml:"TableName,omitempty"`
	BillingMode             string                 `yaml:"BillingMode"`
	AttributeDefinitions    []AttributeDefinition  `yaml:"AttributeDefinitions"`
	KeySchema               []KeyElement           `yaml:"KeySchema"`
	GlobalSecondaryIndexes  []GlobalSecondaryIndex `yaml:"GlobalSecondaryIndexes"`
	TimeToLiveSpecification TimeToLive             `yaml:"TimeToLiveSpecification"`
	StreamSpecification     StreamSpecification    `yaml:"StreamSpecification"`
}

// StreamSpecification is the table's DynamoDB stream: every change of an
// item, with its image before and after (NEW_AND_OLD_IMAGES). EventsFunction
// reads it and puts the lifecycle events it implies on EventBridge (package
// events).
type StreamSpecification struct {
	StreamViewType string `yaml:"StreamViewType"`
}

// AttributeDefinition declares a key attribute's type (S).
type AttributeDefinition struct {
	AttributeName string `yaml:"AttributeName"`
	AttributeType string `yaml:"AttributeType"`
}

// KeyElement is one element of a key schema (HASH or RANGE).
type KeyElement struct {
	AttributeName string `yaml:"AttributeName"`
	KeyType       string `yaml:"KeyType"`
}

// GlobalSecondaryIndex declares a GSI.
type GlobalSecondaryIndex struct {
	IndexName  string       `yaml:"IndexName"`
	KeySchema  []KeyElement `yaml:"KeySchema"`
	Projection Projection   `yaml:"Projection"`
}

// Projection says which attributes a GSI copies.
type Projection struct {
	ProjectionType   string   `yaml:"ProjectionType"`
	NonKeyAttributes []string `yaml:"NonKeyAttributes,omitempty"`
}

// TimeToLive names the TTL attribute.
type TimeToLive struct {
	AttributeName string `yaml:"AttributeName"`
	Enabled       bool   `yaml:"Enabled"`
}

// TableSpec is the table this adapter needs, named name ("" leaves the
// name out, as a template that lets CloudFormation name it would).
func TableSpec(name string) TableDefinition {
	s := func(n string) AttributeDefinition { return AttributeDefinition{AttributeName: n, AttributeType: "S"} }
	keys := func(hash, rng string) []KeyElement {
		return []KeyElement{{AttributeName: hash, KeyType: "HASH"}, {AttributeName: rng, KeyType: "RANGE"}}
	}
	return TableDefinition{
		TableName:            name,
		BillingMode:          "PAY_PER_REQUEST",
		AttributeDefinitions: []AttributeDefinition{s(AttrPK), s(AttrSK), s(AttrGSI1PK), s(AttrGSI1SK), s(AttrGSI2PK), s(AttrGSI2SK), s(AttrGSI3PK), s(AttrGSI3SK), s(AttrGSI4PK), s(AttrGSI4SK)},
		KeySchema:            keys(AttrPK, AttrSK),
		GlobalSecondaryIndexes: []GlobalSecondaryIndex{
			{IndexName: IndexByProvider, KeySchema: keys(AttrGSI1PK, AttrGSI1SK), Projection: Projection{ProjectionType: "ALL"}},
			{IndexName: IndexDue, KeySchema: keys(AttrGSI2PK, AttrGSI2SK), Projection: Projection{ProjectionType: "KEYS_ONLY"}},
			{IndexName: IndexByGrant, KeySchema: keys(AttrGSI3PK, AttrGSI3SK), Projection: Projection{ProjectionType: "KEYS_ONLY"}},
			{IndexName: IndexOffIndex, KeySchema: keys(AttrGSI4PK, AttrGSI4SK), Projection: Projection{ProjectionType: "KEYS_ONLY"}},
		},
		TimeToLiveSpecification: TimeToLive{AttributeName: AttrTTL, Enabled: true},
		StreamSpecification:     StreamSpecification{StreamViewType: string(types.StreamViewTypeNewAndOldImages)},
	}
}

// CreateTableInput is the CreateTable request for d.
func (d TableDefinition) CreateTableInput() *dynamodb.CreateTableInput {
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(d.TableName),
		BillingMode: types.BillingMode(d.BillingMode),
	}
	for _, a := range d.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(a.AttributeName), AttributeType: types.ScalarAttributeType(a.AttributeType),
		})
	}
	in.KeySchema = keySchema(d.KeySchema)
	if v := d.StreamSpecification.StreamViewType; v != "" {
		in.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewType(v)}
	}
	for _, g := range d.GlobalSecondaryIndexes {
		p := &types.Projection{ProjectionType: types.ProjectionType(g.Projection.ProjectionType)}
		if len(g.Projection.NonKeyAttributes) > 0 {
			p.NonKeyAttributes = g.Projection.NonKeyAttributes
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName: aws.String(g.IndexName), KeySchema: keySchema(g.KeySchema), Projection: p,
		})
	}
	return in
}

func keySchema(ks []KeyElement) []types.KeySchemaElement {
	var out []types.KeySchemaElement
	for _, k := range ks {
		out = append(out, types.KeySchemaElement{AttributeName: aws.String(k.AttributeName), KeyType: types.KeyType(k.KeyType)})
	}
	return out
}

// CreateTable creates the table named name as TableSpec declares it, waits
// until it is active and turns TTL on. Local runs and tests only: deployed
// tables come from template.yaml.
func CreateTable(ctx context.Context, client *dynamodb.Client, name string) error {
	d := TableSpec(name)
	if _, err := client.CreateTable(ctx, d.CreateTableInput()); err != nil {
		return fmt.Errorf("dynamostore: create table %s: %w", name, err)
	}
	w := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 100 * time.Millisecond })
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 2*time.Minute); err != nil {
		return fmt.Errorf("dynamostore: wait for table %s: %w", name, err)
	}
	if _, err := client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(d.TimeToLiveSpecification.AttributeName), Enabled: aws.Bool(true),
		},
	}); err != nil {
		return fmt.Errorf("dynamostore: enable TTL on %s: %w", name, err)
	}
	return nil
}

// EnsureTable creates the table unless it exists, and turns its stream on
// if a table created before streams has none (local runs).
func EnsureTable(ctx context.Context, client *dynamodb.Client, name string) error {
	out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	var nf *types.ResourceNotFoundException
	switch {
	case err == nil:
		if s := out.Table.StreamSpecification; s != nil && aws.ToBool(s.StreamEnabled) {
			return nil
		}
		if _, err := client.UpdateTable(ctx, &dynamodb.UpdateTableInput{
			TableName: aws.String(name), StreamSpecification: TableSpec(name).CreateTableInput().StreamSpecification,
		}); err != nil {
			return fmt.Errorf("dynamostore: turn on the stream of %s: %w", name, err)
		}
		return nil
	case errors.As(err, &nf):
		err = CreateTable(ctx, client, name)
		var inUse *types.ResourceInUseException
		if errors.As(err, &inUse) { // created meanwhile by another process
			return nil
		}
		return err
	}
	return fmt.Errorf("dynamostore: describe table %s: %w", name, err)
}
