//go:build race

package testenv

// Race is true when the tests run under the race detector, which makes everything (the
// in-process Temporal server most of all) several times slower.
const Race = true

// Slowdown stretches the waits that a test does not choose itself, such as a change's wait
// for its workflow: under the race detector a loaded machine takes several times longer.
const Slowdown = 3
