// Package faults is the fault suite (`make test-faults`): it runs the real `inbox dev`
// binary as an OS process on loopback, breaks it (kill -9, a stopped Postgres, a model API
// that fails or hangs) under load, and checks afterwards that no accepted change was lost
// or doubled, that the API and the workflows agree, and that every summary ends ready.
// TestProductionProcesses (`make test-prod`) does the same to the production layout:
// `inbox temporal`, two `inbox serve` and two `inbox worker` as separate processes.
// The tests live in the _test.go files; this package has no code of its own.
package faults
