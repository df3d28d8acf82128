//go:build moto

// This file runs against moto_server (make test passes -tags moto; see the
// README's Tests): the package's other tests need nothing but Go.

package dynamostore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/sofie/integrations/shared/store"
	"github.com/sofie/integrations/shared/store/awscount"
	"github.com/sofie/integrations/shared/store/dynamostore"
	"github.com/sofie/integrations/shared/store/storetest"
)

// Benchmarks of each adapter operation against moto_server: ns/op is
// moto's speed (not DynamoDB's); calls/op is DynamoDB API calls per
// operation, the figure that carries over to AWS.
//
//	go test -run '^$' -bench . ./shared/store/dynamostore/

type bench struct {
	s     *dynamostore.Store
	calls *awscount.Counter
}

func newBench(b *testing.B) *bench {
	calls := &awscount.Counter{}
	db, name := newTable(b, calls)
	return &bench{s: dynamostore.New(db, name), calls: calls}
}

// run times f over b.N and reports DynamoDB calls and items read per op.
func (x *bench) run(b *testing.B, f func(i int)) {
	b.Helper()
	x.calls.Reset()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		f(i)
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(x.calls.Calls("DynamoDB", ""))/n, "calls/op")
	b.ReportMetric(float64(x.calls.Scanned("DynamoDB", "Query"))/n, "items-read/op")
}

func must(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}

var benchKey = store.ConnKey{OrgID: "org-1", UserID: "user-1", Provider: "microsoft365"}

func BenchmarkGetIntegration(b *testing.B) {
	x := newBench(b)
	_, err := x.s.PutIntegration(b.Context(), storetest.Integration("org-1", "salesforce"), 0)
	must(b, err)
	x.run(b, func(int) {
		_, err := x.s.GetIntegration(b.Context(), "org-1", "salesforce")
		must(b, err)
	})
}

func BenchmarkListIntegrations(b *testing.B) {
	x := newBench(b)
	for _, p := range []string{"google_workspace", "microsoft365", "salesforce"} {
		_, err := x.s.PutIntegration(b.Context(), storetest.Integration("org-1", p), 0)
		must(b, err)
	}
	x.run(b, func(int) {
		_, err := x.s.ListIntegrations(b.Context(), "org-1")
		must(b, err)
	})
}

func BenchmarkPutIntegrationWithAudit(b *testing.B) {
	x := newBench(b)
	in := storetest.Integration("org-1", "salesforce")
	x.run(b, func(i int) {
		e := store.AuditEntry{OrgID: "org-1", ID: fmt.Sprintf("a-%08d", i), At: storetest.T0.Add(time.Duration(i) * time.Millisecond), Actor: "admin-1", Action: "integration.updated"}
		var err error
		in, err = x.s.PutIntegration(b.Context(), in, in.Version, e)
		must(b, err)
	})
}

func BenchmarkAppendAudit(b *testing.B) {
	x := newBench(b)
	x.run(b, func(i int) {
		must(b, x.s.AppendAudit(b.Context(), store.AuditEntry{OrgID: "org-1", ID: fmt.Sprintf("a-%08d", i), At: storetest.T0, Actor: "a", Action: "x"}))
	})
}

func BenchmarkListAuditPage20(b *testing.B) {
	x := newBench(b)
	for i := range 100 {
		must(b, x.s.AppendAudit(b.Context(), store.AuditEntry{OrgID: "org-1", ID: fmt.Sprintf("a-%04d", i), At: storetest.T0.Add(time.Duration(i) * time.Second), Actor: "a", Action: "x"}))
	}
	x.run(b, func(int) {
		page, next, err := x.s.ListAudit(b.Context(), "org-1", store.Page{Limit: 20})
		must(b, err)
		if len(page) != 20 || next == "" {
			b.Fatal("short page")
		}
	})
}

func BenchmarkCreateAndConsumeState(b *testing.B) {
	x := newBench(b)
	x.run(b, func(i int) {
		st := storetest.State(fmt.Sprintf("state-%08d", i))
		must(b, x.s.CreateState(b.Context(), st))
		_, err := x.s.ConsumeState(b.Context(), st.ID, storetest.T0)
		must(b, err)
	})
}

func BenchmarkGetConnection(b *testing.B) {
	x := newBench(b)
	_, err := x.s.PutConnection(b.Context(), storetest.Connection(benchKey), 0)
	must(b, err)
	x.run(b, func(int) {
		_, err := x.s.GetConnection(b.Context(), benchKey)
		must(b, err)
	})
}

func BenchmarkPutConnection(b *testing.B) {
	x := newBench(b)
	c, err := x.s.PutConnection(b.Context(), storetest.Connection(benchKey), 0)
	must(b, err)
	x.run(b, func(i int) {
		c.NextRefreshAt = storetest.T0.Add(time.Duration(i) * time.Second)
		c, err = x.s.PutConnection(b.Context(), c, c.Version)
		must(b, err)
	})
}

func BenchmarkListUserConnections(b *testing.B) {
	x := newBench(b)
	for _, p := range []string{"google_workspace", "microsoft365", "salesforce"} {
		_, err := x.s.PutConnection(b.Context(), storetest.Connection(store.ConnKey{OrgID: "org-1", UserID: "user-1", Provider: p}), 0)
		must(b, err)
	}
	x.run(b, func(int) {
		cs, err := x.s.ListUserConnections(b.Context(), "org-1", "user-1")
		must(b, err)
		if len(cs) != 3 {
			b.Fatal(len(cs))
		}
	})
}

func BenchmarkListProviderConnectionsPage20(b *testing.B) {
	x := newBench(b)
	for i := range 50 {
		_, err := x.s.PutConnection(b.Context(), storetest.Connection(store.ConnKey{OrgID: "org-1", UserID: fmt.Sprintf("user-%02d", i), Provider: "salesforce"}), 0)
		must(b, err)
	}
	x.run(b, func(int) {
		cs, _, err := x.s.ListProviderConnections(b.Context(), "org-1", "salesforce", store.Page{Limit: 20})
		must(b, err)
		if len(cs) != 20 {
			b.Fatal(len(cs))
		}
	})
}

func BenchmarkClaimAndCompleteLease(b *testing.B) {
	x := newBench(b)
	c := storetest.Connection(benchKey)
	c.NextRefreshAt = storetest.T0
	_, err := x.s.PutConnection(b.Context(), c, 0)
	must(b, err)
	x.run(b, func(i int) {
		now := storetest.T0.Add(time.Duration(i) * time.Second)
		claimed, err := x.s.ClaimLease(b.Context(), benchKey, "w", now, now.Add(time.Minute))
		must(b, err)
		claimed.NextRefreshAt = now.Add(time.Hour)
		_, err = x.s.CompleteLease(b.Context(), claimed, "w")
		must(b, err)
	})
}

func BenchmarkClaimLeaseHeld(b *testing.B) {
	x := newBench(b)
	_, err := x.s.PutConnection(b.Context(), storetest.Connection(benchKey), 0)
	must(b, err)
	_, err = x.s.ClaimLease(b.Context(), benchKey, "holder", storetest.T0, storetest.T0.Add(time.Hour))
	must(b, err)
	x.run(b, func(int) {
		if _, err := x.s.ClaimLease(b.Context(), benchKey, "other", storetest.T0, storetest.T0.Add(time.Minute)); err == nil {
			b.Fatal("claimed a held lease")
		}
	})
}

// BenchmarkListDue: 40 due among 200 connections, one page of 100.
func BenchmarkListDue(b *testing.B) {
	x := newBench(b)
	for i := range 200 {
		c := storetest.Connection(store.ConnKey{OrgID: "org-1", UserID: fmt.Sprintf("user-%03d", i), Provider: "microsoft365"})
		c.NextRefreshAt = storetest.T0.Add(time.Duration(i-40) * time.Minute)
		if i%2 == 1 && i > 40 {
			c.NextRefreshAt = time.Time{}
		}
		_, err := x.s.PutConnection(b.Context(), c, 0)
		must(b, err)
	}
	x.run(b, func(int) {
		due, next, err := x.s.ListDue(b.Context(), storetest.T0.Add(-time.Nanosecond), store.Page{})
		must(b, err)
		if len(due) != 40 || next != "" {
			b.Fatal(len(due), next)
		}
	})
}

func BenchmarkDeleteConnection(b *testing.B) {
	x := newBench(b)
	x.run(b, func(int) {
		must(b, x.s.DeleteConnection(b.Context(), benchKey))
	})
}
