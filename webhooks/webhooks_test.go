package webhooks

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	svix "github.com/svix/svix-webhooks/go"

	"github.com/bestai/inbox/domain"
)

func TestSignMatchesAnIndependentVerifier(t *testing.T) {
	a, b := NewSecret(), NewSecret()
	if !strings.HasPrefix(a, "whsec_") || a == b {
		t.Fatalf("secrets %q %q", a, b)
	}
	body := []byte(`{"type":"message.created","timestamp":"2026-11-28T00:00:00Z","data":{}}`)
	now := time.Now()
	sig, err := Sign("msg_1", now, body, a, b)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(sig)); n != 2 {
		t.Fatalf("signature %q: want two", sig)
	}
	h := http.Header{}
	h.Set(HeaderID, "msg_1")
	h.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	h.Set(HeaderSignature, sig)
	for _, s := range []string{a, b} {
		wh, _ := svix.NewWebhook(s)
		if err := wh.Verify(body, h); err != nil {
			t.Errorf("svix does not verify: %v", err)
		}
	}
	wh, _ := svix.NewWebhook(NewSecret())
	if wh.Verify(body, h) == nil {
		t.Error("another secret verifies")
	}
	h.Set(HeaderID, "msg_2")
	if w, _ := svix.NewWebhook(a); w.Verify(body, h) == nil {
		t.Error("another id verifies")
	}
}

func TestPublicAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"93.184.216.34": true, "2606:2800:220:1:248:1893:25c8:1946": true, "8.8.8.8": true,
		"127.0.0.1": false, "10.0.0.1": false, "172.16.5.4": false, "192.168.1.1": false, "169.254.169.254": false,
		"100.64.0.1": false, "0.0.0.0": false, "255.255.255.255": false, "224.0.0.1": false, "198.18.0.1": false,
		"::1": false, "::": false, "fd00::1": false, "fe80::1": false, "ff02::1": false, "::ffff:127.0.0.1": false,
		"::ffff:10.0.0.1": false, "64:ff9b::a00:1": false, "2002:a00:1::": false,
	} {
		if got := domain.PublicAddr(netip.MustParseAddr(addr)); got != want {
			t.Errorf("PublicAddr(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestCheckURL(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://example.com/hooks": true, "http://example.com:8080/x?y=1": true, "https://93.184.216.34/": true,
		"http://localhost:8080/": true, // a name: checked when connecting
		"ftp://example.com/":     false, "example.com/x": false, "https://": false, "https://u:p@example.com/": false,
		"https://example.com/#frag": false, "http://127.0.0.1/": false, "http://[::1]/": false, "http://10.0.0.1/": false,
		"http://169.254.169.254/": false, "https://example.com:99999/": false, "mailto:a@example.com": false,
	} {
		if err := CheckURL(raw, 2048, false); (err == nil) != ok {
			t.Errorf("CheckURL(%q) = %v, want ok=%v", raw, err, ok)
		}
	}
	if err := CheckURL("http://127.0.0.1:9/", 2048, true); err != nil {
		t.Errorf("allow-private: %v", err)
	}
	if err := CheckURL("https://example.com/"+strings.Repeat("a", 100), 50, false); err == nil {
		t.Error("overlong URL accepted")
	}
}

func TestClientRefusesPrivateAtConnectTime(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) }))
	defer srv.Close()
	url := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	r := Send(context.Background(), NewClient(false), url, "id", time.Now(), []byte("{}"), "v1,x")
	if r.StatusCode != 0 || !errors.Is(r.Err, ErrPrivateAddress) {
		t.Errorf("private target: %+v", r)
	}
	if r := Send(context.Background(), NewClient(true), url, "id", time.Now(), []byte("{}"), "v1,x"); !r.OK() {
		t.Errorf("allow-private: %+v", r)
	}
}

func TestSendDoesNotFollowRedirectsAndCapsTheBody(t *testing.T) {
	var hits int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, "/target", http.StatusTemporaryRedirect)
		case "/big":
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(503)
			_, _ = w.Write(make([]byte, 10<<20))
		default:
			w.WriteHeader(200)
		}
	}))
	defer srv.Close()
	c := NewClient(true)
	r := Send(context.Background(), c, srv.URL+"/redirect", "id", time.Now(), []byte("{}"), "v1,x")
	if r.OK() || r.StatusCode != 307 || hits != 1 || !strings.Contains(r.Err.Error(), "redirect") {
		t.Errorf("redirect: %+v, %d hits", r, hits)
	}
	r = Send(context.Background(), c, srv.URL+"/big", "id", time.Now(), []byte("{}"), "v1,x")
	if r.StatusCode != 503 || r.RetryAfter != 120*time.Second {
		t.Errorf("503: %+v", r)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"": 0, "0": 0, "-5": 0, "30": 30 * time.Second, "999999999": MaxRetryAfter, "soon": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat):       0,
	} {
		if got := retryAfter(v, now); got != want {
			t.Errorf("retryAfter(%q) = %s, want %s", v, got, want)
		}
	}
}
