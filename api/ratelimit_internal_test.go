package api

import "testing"

// The per-conversation limiter keeps at most its bound of buckets, dropping the least
// recently used one; a dropped conversation starts again with a full bucket.
func TestConversationLimiterIsBounded(t *testing.T) {
	l := newLRULimiter(0.001, 1, 2)
	for _, k := range []string{"a", "b"} {
		if ok, _ := l.allow(k); !ok {
			t.Fatalf("%s: first message refused", k)
		}
	}
	if ok, _ := l.allow("a"); ok { // a is now the most recently used
		t.Fatal("a: second message allowed past a burst of 1")
	}
	if ok, _ := l.allow("c"); !ok { // evicts b, the least recently used
		t.Fatal("c: first message refused")
	}
	if len(l.buckets) != 2 || l.order.Len() != 2 {
		t.Fatalf("%d buckets, %d in order; want the bound of 2", len(l.buckets), l.order.Len())
	}
	if _, kept := l.buckets["a"]; !kept {
		t.Fatal("a, recently used, was evicted")
	}
	if ok, _ := l.allow("b"); !ok {
		t.Fatal("b, evicted, did not start again with a full bucket")
	}
}
