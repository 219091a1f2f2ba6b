# The inbox. `make help` lists the targets.
GO          ?= go
PKGS        := ./...
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
BIN         := bin/inbox

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## build bin/inbox
	$(GO) build -o $(BIN) ./cmd/inbox

.PHONY: run
run: build ## build and start `inbox dev`: embedded Temporal + UI, migrations, worker, API, demo workspace
	./$(BIN) dev

.PHONY: test
test: ## every test, against real Postgres and an in-process Temporal server
	@$(GO) build -o bin/pgcheck ./internal/tools/pgcheck && bin/pgcheck
	$(GO) test -count=1 -timeout 40m $(PKGS)

.PHONY: test-race
test-race: ## every test with the race detector (slower)
	@$(GO) build -o bin/pgcheck ./internal/tools/pgcheck && bin/pgcheck
	$(GO) test -race -count=1 -timeout 60m $(PKGS)

.PHONY: test-faults
test-faults: ## the fault suite: kill -9, Postgres down, model errors and hangs, on real `inbox dev` processes
	@$(GO) build -o bin/pgcheck ./internal/tools/pgcheck && bin/pgcheck
	$(GO) test -count=1 -v -timeout 20m -parallel 2 ./faults/

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
bench: ## seed 1,000,000 conversations and measure list latency and CSV export (see BENCHMARKS.md)
	@$(GO) build -o bin/pgcheck ./internal/tools/pgcheck && bin/pgcheck
	INBOX_BENCH=1 $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./bench/

.PHONY: clean
clean: ## remove the binary and the dev data directory
	rm -rf bin .data
