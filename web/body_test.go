package web_test

import (
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/web"
)

// postBody sends body to path as v, with its CSRF token in the header; chunked hides the
// length, as a streaming client would.
func (v *visitor) postBody(path, contentType string, body io.Reader, chunked bool) (int, string) {
	v.t.Helper()
	if chunked {
		body = io.MultiReader(body) // an unknown length: sent chunked
	}
	req, _ := http.NewRequest(http.MethodPost, v.base+path, body)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Origin", v.base)
	req.Header.Set(web.CSRFHeader, v.token)
	resp, err := v.client.Do(req)
	if err != nil {
		v.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// postUpload posts a multipart form with a file part of size bytes. After spillAt bytes it
// waits (up to 2s) for a file to appear in tmp, so a server that spills the part to a
// temporary file is caught while the file is there (it removes it once it has answered);
// spilled says whether one did.
func (v *visitor) postUpload(path string, size, spillAt int, tmp string) (code int, spilled bool) {
	v.t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	done := make(chan bool, 1)
	go func() {
		seen := false
		defer func() { done <- seen }()
		part, err := mw.CreateFormFile("file", "big.bin")
		if err != nil {
			return
		}
		chunk := make([]byte, 64<<10)
		for sent := 0; sent < size; sent += len(chunk) {
			if _, err := part.Write(chunk); err != nil {
				return // the server answered without reading: the client stopped sending
			}
			if sent < spillAt && sent+len(chunk) >= spillAt {
				for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline) && !seen; {
					entries, _ := os.ReadDir(tmp)
					seen = len(entries) > 0
					time.Sleep(10 * time.Millisecond)
				}
			}
		}
		_ = mw.Close()
		_ = pw.Close()
	}()
	code, _ = v.postBody(path, mw.FormDataContentType(), pr, true)
	_ = pr.Close()
	return code, <-done
}

func TestOversizedOrMultipartBodiesAreRefusedUnread(t *testing.T) {
	e := testenv.New(t, testenv.Options{NoWorker: true})
	ws := e.NewWorkspace("Acme")
	e.SetPassword(testenv.OwnerEmail("Acme"), password)
	base := e.Serve("")

	anon := newVisitor(t, base)
	anon.get(web.SignInPath)
	owner := newVisitor(t, base)
	if code, _, _ := owner.signIn(testenv.OwnerEmail("Acme"), password); code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", code)
	}
	settings := web.WorkspacePath(ws.WorkspaceID.String(), web.SectionSettings)
	owner.get(settings)

	// Temporary files go here from now on; the server must write none.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	empty := func(what string) {
		t.Helper()
		if entries, _ := os.ReadDir(tmp); len(entries) > 0 {
			t.Errorf("%s: %d files left in the temporary directory", what, len(entries))
		}
	}

	for _, tc := range []struct {
		name string
		v    *visitor
		path string
	}{
		{"anonymous sign-in", anon, web.SignInPath},
		{"signed-in settings", owner, settings + "/auto-archive"},
		{"unknown page", owner, "/no-such-page"},
	} {
		// 40 MiB is over gin's 32 MiB of multipart memory, so an unbounded parse spills it.
		code, spilled := tc.v.postUpload(tc.path, 40<<20, 33<<20, tmp)
		if code != http.StatusUnsupportedMediaType || spilled {
			t.Errorf("%s: a 40 MiB upload got %d and spilled to disk: %v; want 415 and nothing written", tc.name, code, spilled)
		}
		empty(tc.name + " upload")

		form := url.Values{"email": {"x@example.com"}, "auto_archive_days": {"3"}}.Encode() + "&password=" + strings.Repeat("a", 2<<20)
		for _, chunked := range []bool{false, true} {
			code, page := tc.v.postBody(tc.path, "application/x-www-form-urlencoded", strings.NewReader(form), chunked)
			if code != http.StatusRequestEntityTooLarge || !strings.Contains(page, "over the 1 MiB") {
				t.Errorf("%s: a 2 MiB form (chunked %v) got %d, want 413 saying why:\n%.300s", tc.name, chunked, code, page)
			}
		}
		empty(tc.name + " form")
	}

	// An ordinary form still works.
	if code, _, _ := owner.post(settings+"/auto-archive", url.Values{"auto_archive_days": {"3"}}, true); code >= 400 {
		t.Errorf("a small form: %d", code)
	}
}
