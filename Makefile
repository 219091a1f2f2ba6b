# The inbox. `make help` lists the targets.
GO          ?= go
PKGS        := ./...
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
BIN         := bin/inbox

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-15s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## build bin/inbox
	$(GO) build -o $(BIN) ./cmd/inbox

.PHONY: run
run: build ## build and start `inbox dev`: embedded Temporal (on Postgres; INBOX_TEMPORAL_STORE=sqlite for a file) + UI, migrations, worker, API, web admin, demo workspace
	./$(BIN) dev

.PHONY: test
test: ## every test, against real Postgres, an in-process Temporal server and headless Chromium (the pages)
	@scripts/ensure-chromium.sh
	@$(GO) build -o bin/pgcheck ./internal/tools/pgcheck && bin/pgcheck
	$(GO) test -count=1 -timeout 40m $(PKGS)

.PHONY: test-race
# Instrumented code is 5 to 10 times slower: at most RACE_PARALLEL tests of a package run
# at once, so on 2 cores a request still answers within its 15 s.
RACE_PARALLEL ?= 3
test-race: ## every test with the race detector (slower)
	@$(GO) build -o bin/pgcheck ./internal/tools/pgcheck && bin/pgcheck
	$(GO) test -race -count=1 -timeout 60m -parallel $(RACE_PARALLEL) $(PKGS)

.PHONY: test-faults
test-faults: ## the fault suite: kill -9, Postgres down, model errors and hangs, on real `inbox dev` processes
	@$(GO) build -o bin/pgcheck ./internal/tools/pgcheck && bin/pgcheck
	$(GO) test -count=1 -v -timeout 20m -parallel 2 ./faults/

.PHONY: test-prod
test-prod: ## the production layout as processes: inbox temporal, migrate, 2x serve, 2x worker; kill -9 under load
	@$(GO) build -o bin/pgcheck ./internal/tools/pgcheck && bin/pgcheck
	$(GO) test -count=1 -v -timeout 10m -run '^TestProductionProcesses$$' ./faults/

.PHONY: fuzz
fuzz: ## fuzz the ingest payload decoder for 60s
	$(GO) test -run '^$$' -fuzz FuzzDecodeIngest -fuzztime 60s ./api/

.PHONY: lint
lint: ## gofmt, go vet, staticcheck and workflowcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "not gofmt-clean:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) run $(STATICCHECK) $(PKGS)
	$(GO) tool workflowcheck ./workflows/...

.PHONY: bench
bench: bench-read bench-lifecycle ## both benchmarks below, one after the other (see BENCHMARKS.md)

.PHONY: bench-read
bench-read: ## seed 1,000,000 conversations and measure list latency, CSV export and the Reports page (see BENCHMARKS.md)
	@$(GO) build -o bin/pgcheck ./internal/tools/pgcheck && bin/pgcheck
	INBOX_BENCH=1 $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./bench/

# Conversations the bulk benchmark closes in one batch.
BULK_N ?= 5000
.PHONY: bench-bulk
bench-bulk: ## seed BULK_N (5000) conversations and time one bulk close of them all, with its progress (in-process Temporal)
	@$(GO) build -o bin/pgcheck ./internal/tools/pgcheck && bin/pgcheck
	INBOX_BENCH_BULK=$(BULK_N) $(GO) test -count=1 -v -run '^TestBulkCloseBench$$' -timeout 30m ./bench/

# Extra flags for the lifecycle benchmark, e.g. LIFEBENCH_FLAGS='-stores postgres -profile-dir bin/prof'.
LIFEBENCH_FLAGS ?=
.PHONY: bench-lifecycle
bench-lifecycle: ## first changes, transitions, Postgres floor, ceiling, ingest, summaries and a bulk close of 5,000 on real `inbox dev` (SQLite and Postgres); report in bin/lifecycle.md
	@$(GO) build -o bin/pgcheck ./internal/tools/pgcheck && bin/pgcheck
	$(GO) build -o $(BIN) ./cmd/inbox
	$(GO) run ./internal/tools/lifebench -bin $(BIN) -bulk 5000 -out bin/lifecycle.md $(LIFEBENCH_FLAGS)

# The idle phase alone (up to about 45 minutes at 10,000 and 100,000: 100,000 first messages
# take 7 to 25 minutes on 2 cores, and creation is capped at 35, each step's settling at 5);
# add it to bench-lifecycle with LIFEBENCH_FLAGS='-idle 10000,100000'.
IDLE_STEPS ?= 10000,100000
IDLE_FLAGS ?= -idle-budget 35m -idle-settle-max 5m
.PHONY: bench-idle
bench-idle: ## RSS, idle CPU and database size per 1,000 open conversations on one `inbox dev` (Temporal on Postgres); report in bin/idle.md
	@$(GO) build -o bin/pgcheck ./internal/tools/pgcheck && bin/pgcheck
	$(GO) build -o $(BIN) ./cmd/inbox
	$(GO) run ./internal/tools/lifebench -bin $(BIN) -stores '' -idle $(IDLE_STEPS) $(IDLE_FLAGS) -out bin/idle.md $(LIFEBENCH_FLAGS)

# Histories for workflows/replay_test.go, taken from a running `inbox dev` (same env:
# TEMPORAL_ADDRESS, INBOX_HTTP_ADDR, INBOX_DATA_DIR). One workflow, or every run of it:
#   make record-history WORKFLOW_ID=conversation/<id> OUT=workflows/testdata/v2-<name>.json [ALL_RUNS=1]
# Every scenario (or some, SCENARIOS=signal,superseded), with `inbox dev` started with
# OPENAI_BASE_URL=http://127.0.0.1:28099/v1 OPENAI_API_KEY=any (the tool serves that model):
#   make record-history SCENARIOS=all PREFIX=v2
# (FAKE_OPENAI=127.0.0.1:<port> serves that model on another port, for OPENAI_BASE_URL to match.)
# The other workflow types' scenarios (webhook-v1-*.json, fanout-v1-*.json), the webhook ones
# with `inbox dev` also started with INBOX_WEBHOOK_ALLOW_PRIVATE=true INBOX_WEBHOOK_RETRY_INITIAL=1s
# INBOX_WEBHOOK_RETRY_MAX=2s (the tool serves the receiver on a loopback port):
#   make record-history SCENARIOS=all WORKFLOW=WebhookDelivery PREFIX=v1
#   make record-history SCENARIOS=all WORKFLOW=AutoArchiveFanOut PREFIX=v1
#   make record-history SCENARIOS=all WORKFLOW=SLAFanOut PREFIX=v2
.PHONY: record-history
record-history: ## record a workflow history for the replay test (usage above the target)
ifdef SCENARIOS
	$(GO) run ./internal/tools/histories scenario -prefix "$(PREFIX)" $(if $(WORKFLOW),-workflow $(WORKFLOW)) $(if $(FAKE_OPENAI),-fake-openai $(FAKE_OPENAI)) $(if $(filter-out all,$(SCENARIOS)),-only $(SCENARIOS))
else
	@test -n "$(WORKFLOW_ID)" -a -n "$(OUT)" || { echo "usage: make record-history WORKFLOW_ID=conversation/<id> OUT=workflows/testdata/<version>-<name>.json [ALL_RUNS=1]"; \
		echo "   or: make record-history SCENARIOS=all PREFIX=<version>"; exit 2; }
	$(GO) run ./internal/tools/histories fetch -workflow-id "$(WORKFLOW_ID)" -out "$(OUT)" $(if $(ALL_RUNS),-all-runs)
endif

.PHONY: clean
clean: ## remove the binary and the dev data directory (the databases stay: README, Temporal on Postgres)
	rm -rf bin .data
