// Package bench holds the benchmarks that need the whole service: cold
// start and warm latency of each built bootstrap through the Lambda runtime
// emulator, the AWS calls and handler time of every API route, and the
// Secrets Manager cache of a warm container. Package benchmarks of shared/
// (refresh throughput, the due-index at scale, sealing, store operations)
// stay beside their code.
//
// make bench (infra/cmd/bench) runs all of them and writes results.md in
// this directory. They never run in make test: go test runs benchmarks only
// with -bench, and this package has no tests. To run one part by hand:
//
//	go test -run '^$' -bench ColdStart -benchtime 5x ./bench/
//	go test -run '^$' -bench API -benchtime 5x ./bench/
//	go test -run '^$' -bench SecretsCache -benchtime 1x ./bench/
//
// Each iteration of a benchmark here is one sample (a cold start, a fresh
// set of dependencies, a run of requests); the figures reported are medians
// over the samples, so -benchtime Nx sets how many there are. ns/op is not
// reported: an iteration's duration includes setup that is not the figure.
package bench
