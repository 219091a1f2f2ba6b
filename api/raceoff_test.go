//go:build !race

package api_test

// raceOn is true under the race detector: the heaviest tests shrink or skip.
const raceOn = false
