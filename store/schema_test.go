package store_test

import (
	"context"
	"testing"

	"github.com/bestai/inbox/internal/testenv"
)

// TestNoIndexIsCoveredByAnother: a plain btree index whose key columns (with their order and
// operator classes) begin another index of the same table, and whose included columns that
// index also holds, answers nothing the other cannot, and costs an entry on every insert and
// every update that moves a row (a message's touch of its conversation, a change of state).
// conversations_created_idx was such an index, under conversations_report_idx.
func TestNoIndexIsCoveredByAnother(t *testing.T) {
	t.Parallel()
	s := testenv.NewStore(t)
	var covered []struct {
		Redundant string `bun:"redundant"`
		CoveredBy string `bun:"covered_by"`
	}
	err := s.DB.NewRaw(`
		SELECT a.indexrelid::regclass::text AS redundant, b.indexrelid::regclass::text AS covered_by
		FROM pg_index AS a
		JOIN pg_index AS b ON b.indrelid = a.indrelid AND b.indexrelid <> a.indexrelid
		JOIN pg_class AS ac ON ac.oid = a.indexrelid
		JOIN pg_class AS bc ON bc.oid = b.indexrelid
		JOIN pg_namespace AS n ON n.oid = ac.relnamespace
		WHERE n.nspname = current_schema()
			AND ac.relam = (SELECT oid FROM pg_am WHERE amname = 'btree') AND bc.relam = ac.relam
			AND NOT a.indisunique
			AND a.indpred IS NULL AND b.indpred IS NULL AND a.indexprs IS NULL AND b.indexprs IS NULL
			AND a.indnkeyatts <= b.indnkeyatts
			AND (a.indkey::int2[])[0:a.indnkeyatts-1] = (b.indkey::int2[])[0:a.indnkeyatts-1]
			AND (a.indoption::int2[])[0:a.indnkeyatts-1] = (b.indoption::int2[])[0:a.indnkeyatts-1]
			AND (a.indclass::oid[])[0:a.indnkeyatts-1] = (b.indclass::oid[])[0:a.indnkeyatts-1]
			AND (a.indnatts = a.indnkeyatts OR (a.indkey::int2[])[a.indnkeyatts:] <@ b.indkey::int2[])
		ORDER BY 1, 2`).Scan(context.Background(), &covered)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range covered {
		t.Errorf("index %s is covered by %s: drop it", c.Redundant, c.CoveredBy)
	}
}
