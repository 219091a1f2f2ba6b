package loadgen

import (
	"fmt"
	"net/http"
	"time"
)

// FakeOpenAI answers every chat completion with three sentences, after delay (0: at once).
// A request that ends before the delay gets nothing.
func FakeOpenAI(delay time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"id":"chatcmpl-local","object":"chat.completion","created":%d,"model":"local",
			"choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"The visitor asked about a late order. The assistant explained the delay. The visitor accepted a new delivery date."}}],
			"usage":{"prompt_tokens":10,"completion_tokens":20,"total_tokens":30}}`, time.Now().Unix())
	})
}
