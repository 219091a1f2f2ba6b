// Package devproc waits for an `inbox dev` OS process to be ready, for the tools and tests
// that start real processes (the fault suite, the lifecycle benchmark). It starts nothing
// and kills nothing: the caller owns the process.
package devproc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// Demo is what `inbox dev` keeps in <data dir>/demo.json about its demo workspace.
type Demo struct {
	WorkspaceID string `json:"workspace_id"`
	IngestKey   string `json:"ingest_key"`
	OwnerUserID string `json:"owner_user_id"`
	OwnerToken  string `json:"owner_token"`
}

// WaitReady polls baseURL/readyz until it answers 200 and demo.json under dataDir holds the
// demo owner's token (written just after the API starts listening), and returns that demo.
// It gives up when exited is closed (the process died), ctx ends, or timeout passes: a busy
// machine may take a while to open Temporal's store.
func WaitReady(ctx context.Context, baseURL, dataDir string, exited <-chan struct{}, timeout time.Duration) (Demo, error) {
	deadline := time.Now().Add(timeout)
	hc := &http.Client{Timeout: 5 * time.Second}
	for {
		select {
		case <-exited:
			return Demo{}, errors.New("inbox dev exited")
		case <-ctx.Done():
			return Demo{}, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return Demo{}, fmt.Errorf("not ready within %s", timeout)
		}
		res, err := hc.Get(baseURL + "/readyz")
		if err != nil {
			continue
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			continue
		}
		var demo Demo
		b, err := os.ReadFile(filepath.Join(dataDir, "demo.json"))
		if err != nil || json.Unmarshal(b, &demo) != nil || demo.OwnerToken == "" {
			continue
		}
		return demo, nil
	}
}
