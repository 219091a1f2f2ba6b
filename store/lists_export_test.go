package store

// SetSearchPlan forces the text search's choice for a test: narrowMax < 0 always walks,
// walkBudget bounds the walk. The returned func restores the defaults.
func SetSearchPlan(narrowMax float64, walkBudget int) (restore func()) {
	oldMax, oldBudget := searchNarrowMax, searchWalkBudget
	searchNarrowMax, searchWalkBudget = narrowMax, walkBudget
	return func() { searchNarrowMax, searchWalkBudget = oldMax, oldBudget }
}
