// Package bench measures the read side at scale: it seeds a workspace with 1,000,000
// conversations (with their leads and messages) next to two noisy workspaces, then times the
// conversation list through the real HTTP handler and the leads CSV export against psql's
// \copy of the same query. It only has a benchmark, which skips itself unless INBOX_BENCH is
// set, so `go test ./...` never seeds a million rows. Run it with `make bench-read`:
//
//	INBOX_BENCH=1 go test -run '^$' -bench . -benchtime 1x -timeout 60m ./bench/
//
// Figures and how to read them are in BENCHMARKS.md.
package bench
