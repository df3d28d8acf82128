// Package awscount counts aws-sdk-go-v2 API calls per service and
// operation, and the items DynamoDB reads for Query and Scan (Count and
// ScannedCount, summed over pages), for tests and benchmarks:
//
//	var c awscount.Counter
//	cfg := moto.Config(t)
//	c.Attach(&cfg)                  // before creating clients
//	db := dynamodb.NewFromConfig(cfg)
//	...
//	c.Calls("DynamoDB", "Query"), c.Scanned("DynamoDB", "Query")
//
// A call is counted once however many times the SDK retried it; a call
// refused by the SDK's own input validation never reached the service and
// is not counted.
package awscount

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
)

// Counter counts calls. The zero value is ready; it is safe for concurrent
// use.
type Counter struct {
	mu      sync.Mutex
	calls   map[string]int
	scanned map[string]int64
	count   map[string]int64
}

// Attach adds the counting middleware to every client built from cfg
// afterwards.
func (c *Counter) Attach(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, c.Middleware)
}

// Middleware is the APIOptions function that installs the counter on one
// client's stack (dynamodb.WithAPIOptions(c.Middleware) for a single call).
func (c *Counter) Middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("awscount", c.handle), middleware.After)
}

func (c *Counter) handle(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	out, md, err := next.HandleInitialize(ctx, in)
	k := key(awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx))
	var scanned, count int64
	switch r := out.Result.(type) {
	case *dynamodb.QueryOutput:
		scanned, count = int64(r.ScannedCount), int64(r.Count)
	case *dynamodb.ScanOutput:
		scanned, count = int64(r.ScannedCount), int64(r.Count)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls, c.scanned, c.count = map[string]int{}, map[string]int64{}, map[string]int64{}
	}
	c.calls[k]++
	c.scanned[k] += scanned
	c.count[k] += count
	return out, md, err
}

func key(service, op string) string { return service + "." + op }

// Calls returns how many calls of service's operation were made ("DynamoDB",
// "Query"). An empty op counts every operation of the service.
func (c *Counter) Calls(service, op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if op != "" {
		return c.calls[key(service, op)]
	}
	n := 0
	for k, v := range c.calls {
		if strings.HasPrefix(k, service+".") {
			n += v
		}
	}
	return n
}

// Total returns the number of calls of every service.
func (c *Counter) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.calls {
		n += v
	}
	return n
}

// Scanned returns the DynamoDB items read (ScannedCount summed over pages).
func (c *Counter) Scanned(service, op string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.scanned[key(service, op)]
}

// Returned returns the DynamoDB items returned (Count summed over pages).
func (c *Counter) Returned(service, op string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count[key(service, op)]
}

// Reset forgets every count.
func (c *Counter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls, c.scanned, c.count = nil, nil, nil
}

// String lists the counts, one "Service.Operation=n" per call kind, sorted.
func (c *Counter) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(c.calls)) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%d", k, c.calls[k])
	}
	return b.String()
}
