package api

import (
	"container/list"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/bestai/inbox/app"
)

// The ingest limits' defaults, sized for a busy site: a key takes 200 messages a second
// (400 at once), one conversation 5 a second (20 at once), more than any person types.
const (
	DefaultIngestRate              = 200
	DefaultIngestBurst             = 400
	DefaultIngestConversationRate  = 5
	DefaultIngestConversationBurst = 20
)

// maxConversationBuckets bounds the per-conversation limiter's memory: about 200 bytes a
// bucket, so some 20 MB at most. Past it the least recently used bucket is dropped, which
// only forgets a quiet conversation's spent tokens.
const maxConversationBuckets = 100_000

// lruLimiter is a token bucket per key in this process, for the per-conversation limit. It
// stays in memory on purpose: a Postgres row per conversation would add a write per message
// and a table as large as conversations, while the key's limit, which caps what the site can
// cost, is shared through Postgres. Behind a load balancer that spreads one conversation
// over N replicas, a conversation may get up to N times its limit.
type lruLimiter struct {
	mu      sync.Mutex
	rate    rate.Limit
	burst   int
	max     int
	order   *list.List // of *lruBucket, most recently used first
	buckets map[string]*list.Element
}

type lruBucket struct {
	key string
	lim *rate.Limiter
}

func newLRULimiter(perSecond float64, burst, maxBuckets int) *lruLimiter {
	return &lruLimiter{rate: rate.Limit(perSecond), burst: burst, max: maxBuckets, order: list.New(), buckets: map[string]*list.Element{}}
}

// allow takes a token for key, or says how many seconds to wait.
func (l *lruLimiter) allow(key string) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	var b *rate.Limiter
	if e, ok := l.buckets[key]; ok {
		l.order.MoveToFront(e)
		b = e.Value.(*lruBucket).lim
	} else {
		if l.order.Len() >= l.max {
			oldest := l.order.Back()
			l.order.Remove(oldest)
			delete(l.buckets, oldest.Value.(*lruBucket).key)
		}
		b = rate.NewLimiter(l.rate, l.burst)
		l.buckets[key] = l.order.PushFront(&lruBucket{key: key, lim: b})
	}
	if b.AllowN(now, 1) {
		return true, 0
	}
	wait := b.ReserveN(now, 1)
	delay := wait.DelayFrom(now)
	wait.CancelAt(now)
	return false, app.RetryAfterSeconds(delay)
}
