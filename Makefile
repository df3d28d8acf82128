# Integration administration service.
#
#   make run      local API and web console on 127.0.0.1:3000, Lambda Invoke API on :3001
#                 (FAKE_PROVIDERS=1: fake Microsoft/Google/Salesforce on :3002)
#   make token    USER=u1 ORG=o1 ROLES=org_admin GROUPS=pilot: a local bearer token
#   make test     everything CI runs (.ci/run), fuzzing included (see test-fuzz)
#   make build    the five Lambda bootstraps for linux/arm64, with their sizes
#   make smoke    check a deployed stack: SMOKE_API SMOKE_TOKEN SMOKE_ORG SMOKE_REFRESH_FUNCTION [SMOKE_INVOKE_ENDPOINT SMOKE_RETURN_TO] (README, Deploy)
#   make web      the web console (web/ -> web/dist: npm ci, tsc)
#   make console-deploy STACK=name  upload it to a stack deployed with ConsoleClientId
#   make bench    every benchmark (~6 min, not part of make test) -> bench/results.md
#   sam build     uses the build-<LogicalId> targets below

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
BUILD_DIR ?= build
# Lambda build: provided.al2023 on arm64, no RPC shim, reproducible, stripped.
LAMBDA_ENV   := CGO_ENABLED=0 GOOS=linux GOARCH=arm64
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags "-s -w"

# Logical id -> command directory under functions/.
FUNCTIONS := AdminFunction:admin OAuthFunction:oauth RefreshFunction:refresh DiagnosticsFunction:diagnostics EventsFunction:events

MOTO_VERSION    := 5.2.1
CFN_LINT_VERSION := 1.51.0

# Packages where concurrency matters (stores, leases, the client gate, the
# local server, the end-to-end harness) run with the race detector, and so
# do the refresh suite's tests that run on both stores, on the embedded
# one: their concurrent runs, leases and deadlines drive the refresh
# service's worker pool end to end, where a data race would be. The other
# end-to-end suites, and the rest of the refresh suite, run without it:
# they are bound by moto_server (Python, one request at a time) and the
# detector would triple their Go side; the concurrency they prove (two
# admins saving at once, a callback racing a refresh) is proven by what
# they assert on the stored records, and the code involved runs under
# -race above.
RACE_PKGS  := ./shared/... ./infra/localserver/... ./infra/localtest/... ./infra/fakeprovider/...
# The refresh suite's tests that run on both stores (range backends()).
# (Braces: make would count the program's unbalanced parentheses.)
REFRESH_BOTH = ${shell awk '/^func Test/ { n = $$2; sub(/\(.*/, "", n) } /range backends\(\)/ { print n }' \
	infra/systemtest/refresh/*_test.go | sort -u | paste -sd'|'}
# An empty list would run none of them under -race and skip none.
REFRESH_BOTH_FOUND = test -n "$(REFRESH_BOTH)" || { echo "no refresh test runs on both stores: REFRESH_BOTH found none"; exit 1; }
# The end-to-end suites that mostly wait (on moto_server, on Chromium), run
# beside the race set.
WAITING_PKGS := ./infra/systemtest/refresh ./infra/browsertest
# The rest: every other package, slowest first. REST_EXCL, the packages
# above as one regular expression for grep, is built from their lists, so
# a package added to either is never run twice.
empty     :=
space     := $(empty) $(empty)
REST_EXCL := /($(subst $(space),|,$(strip $(patsubst ./%,%,$(patsubst %/...,%,$(RACE_PKGS) $(WAITING_PKGS))))))(/|$$)
SLOW_PKGS  := ./infra/systemtest ./infra/systemtest/soak ./infra/systemtest/admin
# Test binaries link without DWARF, which halves their link time; stack
# traces do not need it. go test's own vet pass is off: test-static runs
# go vet, every analyzer and not only go test's subset, on every package
# with the same build tags, once.
GOTEST     := $(GO) test -tags moto -count=1 -vet=off -ldflags=-w

.PHONY: help run token smoke build bench test checks fuzz-build fuzz-run test-static test-go test-go-race test-go-waiting test-go-rest test-fuzz lint-template lint-openapi tools web console-deploy screenshots \
	build-AdminFunction build-OAuthFunction build-RefreshFunction build-DiagnosticsFunction build-EventsFunction clean

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))

# ---- SAM (BuildMethod: makefile) --------------------------------------------
# sam build copies the repository (CodeUri: .) and runs these with
# ARTIFACTS_DIR set. Every function is built from the one root go.mod, so a
# change anywhere in shared/ rebuilds all five.
define sam_build
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/$(1)
endef

build-AdminFunction:
	$(call sam_build,admin)
build-OAuthFunction:
	$(call sam_build,oauth)
build-RefreshFunction:
	$(call sam_build,refresh)
build-DiagnosticsFunction:
	$(call sam_build,diagnostics)
build-EventsFunction:
	$(call sam_build,events)

# ---- local ------------------------------------------------------------------
# The four bootstraps, and bench/minimal (the yardstick of their size: the
# same AWS pieces and nothing of the service), with each one's share of it.
build:
	@for f in $(FUNCTIONS) Minimal:../bench/minimal; do \
		id=$${f%%:*}; dir=$${f##*:}; \
		$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o "$(BUILD_DIR)/$$id/bootstrap" ./functions/$$dir; \
	done
	@min=$$(stat -c %s "$(BUILD_DIR)/Minimal/bootstrap"); \
	printf '%-22s %12s %8s %10s\n' function bytes MiB '× minimal'; \
	for f in $(FUNCTIONS) Minimal:; do \
		id=$${f%%:*}; s=$$(stat -c %s "$(BUILD_DIR)/$$id/bootstrap"); \
		awk -v id=$$id -v s=$$s -v m=$$min 'BEGIN { printf "%-22s %12d %8.2f %10.3f\n", id, s, s/1048576, s/m }'; \
	done

# The web console: TypeScript modules compiled by the pinned tsc, plus the
# static files, into web/dist (not committed; the local server serves it
# from disk). npm ci runs again only when the lockfile changes.
web: web/node_modules/.package-lock.json
	cd web && npm run --silent build

web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error

# Uploads the built console to the bucket of a stack deployed with
# ConsoleClientId, with the stack's own config.json (its ConsoleConfig
# output: OIDC sign-in), and invalidates the CloudFront cache.
console-deploy: web
	@test -n "$(STACK)" || { echo "usage: make console-deploy STACK=<stack name>"; exit 1; }
	@out() { aws cloudformation describe-stacks --stack-name "$(STACK)" \
		--query "Stacks[0].Outputs[?OutputKey=='$$1'].OutputValue" --output text; }; \
	bucket=$$(out ConsoleBucketName); \
	if [ -z "$$bucket" ] || [ "$$bucket" = None ]; then echo "$(STACK) hosts no console: deploy it with ConsoleClientId"; exit 1; fi; \
	cfg=$$(mktemp); trap 'rm -f "$$cfg"' EXIT; out ConsoleConfig > "$$cfg"; \
	aws s3 sync web/dist "s3://$$bucket" --delete --exclude config.json; \
	aws s3 cp "$$cfg" "s3://$$bucket/config.json" --content-type application/json; \
	aws cloudfront create-invalidation --distribution-id "$$(out ConsoleDistributionId)" --paths '/*' >/dev/null; \
	echo "console: $$(out ConsoleUrl)"

# Rewrites the README's screenshots (docs/console-*.png) from the browser walk.
screenshots: web
	$(GO) test -count=1 -run TestWalk ./infra/browsertest -update-screenshots

# Flags of the local server, e.g. RUN_ARGS='-schedule-every=30s -log-level=debug'.
RUN_ARGS ?=
run: web
	$(GO) run ./infra/cmd/localserver $(RUN_ARGS)

token:
	@$(GO) run ./infra/cmd/token -user '$(USER)' -org '$(ORG)' -roles '$(ROLES)' -groups '$(GROUPS)'

# The operator's smoke test of a deployed stack (or of make run), configured
# by the SMOKE_* environment variables; exits non-zero on any failure.
smoke:
	$(GO) run ./infra/cmd/smoke

# ---- benchmarks ---------------------------------------------------------------
# Not part of make test. Prints one markdown report and writes it to
# bench/results.md (dated, with the machine and Go version): bootstrap sizes
# (make build), cold start and warm latency through the Lambda runtime
# emulator, AWS calls and handler time per API route, the secret cache,
# refresh throughput, and the micro-benchmarks. Needs moto_server (make
# tools). About 8 minutes on 2 cores; the slowest part, the refresh run over
# 100,000 connections stored on moto_server, takes about 4 of them (allow 10;
# BENCH_ARGS=-scale=false skips it).
BENCH_ARGS ?=
bench: build
	$(GO) run ./infra/cmd/bench -bootstraps $(BUILD_DIR) -out bench/results.md $(BENCH_ARGS)

# ---- tests ------------------------------------------------------------------
# Installs what the suite needs where it is missing (Go modules, the
# emulator, moto_server, cfn-lint); the suite fails, never skips, when one of
# them cannot be had.
tools:
	$(GO) mod download
	$(GO) build -o /dev/null github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie
	@command -v moto_server >/dev/null || pip install 'moto[server]==$(MOTO_VERSION)' || \
		{ echo "moto_server is missing and could not be installed: pip install 'moto[server]==$(MOTO_VERSION)'"; exit 1; }
	@command -v cfn-lint >/dev/null || pip install 'cfn-lint==$(CFN_LINT_VERSION)' || \
		{ echo "cfn-lint is missing and could not be installed: pip install 'cfn-lint==$(CFN_LINT_VERSION)'"; exit 1; }
	@# The local server's test drives Debian's AWS CLI (aws lambda invoke).
	@test -x /usr/bin/aws || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq awscli >/dev/null; } || \
		{ echo "the AWS CLI is missing: apt-get install awscli"; [ "$${CI:-}" != true ]; }
	@# The browser tests (infra/browsertest) drive Debian's Chromium; they fail without it.
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		{ echo "Chromium is missing and could not be installed: apt-get install chromium"; exit 1; }

# Each phase runs to its end even when a part fails, so one run shows every
# failure. The first phase runs the race set beside the suites that mostly
# wait (the refresh suite on moto_server, the browser tests on Chromium),
# the checks (npm, Node, Python and go vet) and the fuzz binaries' build.
# The second runs the other packages, then the fuzzing, which has both
# cores to itself. (Running the fuzzing beside the packages, even niced,
# saved nothing: those phases are bound by the two cores.)
test: tools
	@status=0; \
	$(MAKE) --no-print-directory -k -j3 --output-sync=target test-go-waiting test-go-race checks fuzz-build || status=1; \
	$(MAKE) --no-print-directory -k test-go-rest fuzz-run || status=1; \
	exit $$status

checks: web test-static lint-template lint-openapi

test-static:
	$(GO) vet -tags moto ./...
	@unformatted=$$(gofmt -l $$(find . -name '*.go' -not -path './.git/*' -not -path './.aws-sam/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) mod tidy -diff

lint-template:
	cfn-lint template.yaml

# openapi.yaml through a third-party linter (Redocly CLI, pinned with its
# lockfile in tools/openapi-lint): the OpenAPI 3.1 structure, which the
# project's own reader (infra/apispec) is lenient about, and the
# recommended rules. Any error fails.
lint-openapi: tools/openapi-lint/node_modules/.package-lock.json
	cd tools/openapi-lint && npm run --silent lint

tools/openapi-lint/node_modules/.package-lock.json: tools/openapi-lint/package.json tools/openapi-lint/package-lock.json
	cd tools/openapi-lint && npm ci --no-audit --no-fund --loglevel=error

# All three run even when one fails (make -k), so one run shows every
# failure.
test-go:
	@$(MAKE) --no-print-directory -k test-go-race test-go-waiting test-go-rest

# Both runs even when the first fails.
test-go-race:
	@$(REFRESH_BOTH_FOUND)
	@status=0; \
	echo "$(GOTEST) -race -run '^(...)\$$/^embedded\$$' ./infra/systemtest/refresh"; \
	$(GOTEST) -race -run '^($(REFRESH_BOTH))$$/^embedded$$' ./infra/systemtest/refresh || status=1; \
	echo "$(GOTEST) -race $(RACE_PKGS)"; \
	$(GOTEST) -race $(RACE_PKGS) || status=1; \
	exit $$status

# The browser tests run on the console as built now. The refresh suite's
# tests that run on both stores run here on DynamoDB only: their halves on
# the embedded store run under -race in test-go-race, and once is enough.
test-go-waiting: web
	@$(REFRESH_BOTH_FOUND)
	$(GOTEST) -skip '^($(REFRESH_BOTH))$$/^embedded$$' $(WAITING_PKGS)

# go test runs a package listed twice once, where it is first listed.
# Three at a time (go test's -p counts links as well as test runs): the two
# slowest, the end-to-end suite and the soak test, wait on their
# moto_servers most of the time, and the third slot links and runs the
# other packages beside them. (Alone, this step kept the two cores 86 %
# busy with -p 2 and 97 % with -p 3; -p 4 ran four heavy suites at once
# and took longer.)
test-go-rest:
	$(GOTEST) -p 3 $(SLOW_PKGS) $$($(GO) list ./... | grep -Ev '$(REST_EXCL)')

# Every fuzz target of the module (found by name, so a new one is never
# left out) runs for a fixed number of executions. go test -fuzz takes one
# target per invocation and links the package's instrumented test binary
# each time, so each package's binary is built once (go test -c -fuzz) and
# run once per target, as go test would run it: in the package's directory
# (a failing input goes to its testdata/fuzz/<target>/). go test alone
# (test-go) runs the committed seeds (testdata/fuzz/), so a failing input
# fails test-go too, until fixed.
#
# The walk make test takes starts from those seeds in a fresh fuzz cache,
# as it does on a new machine (CI). A target first re-runs every input of
# its cache as a baseline, and go test's own cache (GOCACHE/fuzz/<import
# path>) keeps every input a run ever found new: with it, the same budgets
# took 59 s on this machine after its earlier runs, against 23 s from the
# seeds, and the time grows with every run. test-fuzz, the hunt, uses go
# test's cache, so that each hunt goes on from where the last one stopped.
#
# Budgets are counts, not durations: with a duration, Go 1.26's fuzz
# coordinator can report its own stop as "context deadline exceeded" and
# fail a target that found nothing (go.dev/issue/75804, fixed in Go 1.27).
# A count never sets that deadline. The end-to-end targets under infra/
# drive a whole handler per input (about 1,000-3,000 a second on 2 cores),
# the unit targets under shared/ are pure functions (15,000-30,000 a
# second), hence two budgets of roughly 2-3 seconds each: make test is a
# regression check that every target still holds on its corpus and a
# short walk from it, not the hunt (below), and the fuzzing was a fifth of
# its time at twice these budgets.
# A new input that widens coverage is minimized before fuzzing goes on, up
# to 60 s each by default: FUZZ_MINIMIZE caps that, so one large input in a
# grown local fuzz cache cannot hold a target for a minute. (The worker ends
# minimization on its own deadline cleanly, unlike the coordinator's
# -fuzztime one; a crasher whose minimization runs out is kept whole.) Not
# lower: a minimization cut short leaves large inputs in the corpus, whose
# mutations then count as new coverage and are minimized in turn. With 1 s,
# FuzzProviderFields took 20-25 s from a clean cache instead of 5-6 s.
# A longer hunt: make test-fuzz FUZZ_SYSTEM=200000x FUZZ_UNIT=2000000x
FUZZ_SYSTEM   ?= 4000x
FUZZ_UNIT     ?= 40000x
FUZZ_MINIMIZE ?= 10s
# Empty: a fresh cache, removed afterwards.
FUZZ_CACHE    ?=
FUZZ_TARGETS = $(shell grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' shared infra | \
	sed -E 's|^(.*)/[^/]*_test\.go:func (Fuzz.*)$$|./\1:\2|' | sort -u)

FUZZ_BIN = $(BUILD_DIR)/fuzz

test-fuzz:
	@$(MAKE) --no-print-directory fuzz-build
	@$(MAKE) --no-print-directory fuzz-run FUZZ_CACHE="$$($(GO) env GOCACHE)/fuzz/$$($(GO) list -m)"

# One instrumented test binary per package with fuzz targets, built afresh
# every time (a stale one would fuzz old code).
fuzz-build:
	@rm -rf $(FUZZ_BIN) && mkdir -p $(FUZZ_BIN); \
	for pkg in $(sort $(foreach t,$(FUZZ_TARGETS),$(firstword $(subst :, ,$(t))))); do \
		echo "go test -c -fuzz . $$pkg"; \
		$(GO) test -c -fuzz . -vet=off -ldflags=-w -o "$(FUZZ_BIN)/$$(echo $${pkg#./} | tr / _).test" $$pkg || exit 1; \
	done

fuzz-run:
	@cache='$(FUZZ_CACHE)'; fresh=; log=$$(mktemp); \
	if [ -z "$$cache" ]; then cache=$$(mktemp -d); fresh=$$cache; fi; \
	trap 'rm -rf "$$log" "$$fresh"' EXIT; \
	for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; bin=$(CURDIR)/$(FUZZ_BIN)/$$(echo $${pkg#./} | tr / _).test; \
		test -x "$$bin" || { echo "$$bin is missing: make fuzz-build"; exit 1; }; \
		case $$pkg in ./infra/*) budget=$(FUZZ_SYSTEM);; *) budget=$(FUZZ_UNIT);; esac; \
		echo "go test -fuzz $$name -fuzztime $$budget $$pkg"; \
		if ! (cd $$pkg && "$$bin" -test.run '^$$' -test.fuzz "^$$name\$$" -test.fuzztime $$budget \
			-test.fuzzminimizetime $(FUZZ_MINIMIZE) -test.fuzzcachedir "$$cache/$${pkg#./}" -test.timeout 10m) >$$log 2>&1; then \
			tail -40 $$log; exit 1; \
		fi; \
		grep -E '^fuzz: elapsed' $$log | tail -1; \
	done

clean:
	rm -rf $(BUILD_DIR) .aws-sam web/dist
