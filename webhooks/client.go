package webhooks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bestai/inbox/domain"
)

// Limits of one delivery attempt.
const (
	// Timeout bounds an attempt: connecting, sending and reading the answer.
	Timeout = 10 * time.Second
	// MaxResponseBody is how much of a receiver's answer is read; the rest is ignored.
	MaxResponseBody = 64 << 10
	// MaxRetryAfter caps a receiver's Retry-After: it may slow retries down, not stop them.
	MaxRetryAfter = 24 * time.Hour
)

// ErrPrivateAddress is the refusal to connect to a non-public address.
var ErrPrivateAddress = errors.New("refused to connect to a private, loopback, link-local or otherwise non-public address (INBOX_WEBHOOK_ALLOW_PRIVATE=true allows it)")

// NewClient returns the HTTP client webhooks are sent with. Unless allowPrivate, it refuses
// every non-public address when it connects, after DNS resolution, so a name that resolves
// (or re-resolves) to an internal address is refused too. Redirects are not followed (a
// 3xx counts as a failure) and no proxy is used, so the checked address is the one reached.
func NewClient(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: Timeout, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !domain.PublicAddr(ap.Addr()) {
				return fmt.Errorf("%s: %w", address, ErrPrivateAddress)
			}
			return nil
		}
	}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   Timeout,
		ResponseHeaderTimeout: Timeout,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
	}
	return &http.Client{
		Transport:     transport,
		Timeout:       Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// CheckURL validates an endpoint URL as given by a member: absolute http(s), a host, no
// credentials or fragment, at most maxLen bytes; a literal IP must be public unless
// allowPrivate. Names are checked again at every connection.
func CheckURL(raw string, maxLen int, allowPrivate bool) error {
	if len(raw) > maxLen {
		return fmt.Errorf("at most %d bytes", maxLen)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.Opaque != "" {
		return errors.New("want an absolute http:// or https:// URL such as https://example.com/hooks/inbox")
	}
	if u.User != nil {
		return errors.New("must not contain a user name or password")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return errors.New("must not contain a fragment (#...)")
	}
	if strings.ContainsAny(raw, " \t\r\n") {
		return errors.New("must not contain spaces")
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return errors.New("port must be from 1 to 65535")
		}
	}
	if a, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil && !allowPrivate && !domain.PublicAddr(a) {
		return errors.New("is a private, loopback, link-local or otherwise non-public address (INBOX_WEBHOOK_ALLOW_PRIVATE=true allows it)")
	}
	return nil
}

// Result is the outcome of one attempt.
type Result struct {
	StatusCode int // 0 when no answer came
	Latency    time.Duration
	Err        error         // why no answer came, or the answer was not a 2xx
	RetryAfter time.Duration // the receiver's Retry-After, capped; 0 when absent
}

// OK reports whether the receiver accepted the webhook (2xx).
func (r Result) OK() bool { return r.StatusCode >= 200 && r.StatusCode < 300 }

// Send posts one signed attempt.
func Send(ctx context.Context, c *http.Client, endpoint, id string, ts time.Time, body []byte, signature string) Result {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(string(body)))
	if err != nil {
		return Result{Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "inbox-webhooks/1")
	req.Header.Set(HeaderID, id)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(HeaderSignature, signature)
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return Result{Latency: time.Since(start), Err: err}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxResponseBody))
	_ = resp.Body.Close()
	r := Result{StatusCode: resp.StatusCode, Latency: time.Since(start)}
	if !r.OK() {
		r.Err = fmt.Errorf("the receiver answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			r.Err = fmt.Errorf("the receiver answered %d (redirect to %q): redirects are not followed, use the final URL",
				resp.StatusCode, domain.Clip(resp.Header.Get("Location"), 200))
		}
		r.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return r
}

// retryAfter reads Retry-After as seconds or an HTTP date, capped at MaxRetryAfter.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return max(0, min(d, MaxRetryAfter))
}
