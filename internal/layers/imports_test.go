// Package layers holds the test of the project's import graph: which of our packages may
// import which. It has no code of its own.
package layers_test

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/bestai/inbox/"

// allowed is every package of the module and the packages of the module it may import.
// Data flows one way: HTTP -> api or web -> app -> (workflows -> activities -> store) or
// store. A front door reaches the inbox only through app: it may name domain's types and
// permissions, read config, and stream with live, and nothing else of ours. A new package
// is placed here on purpose, or this test fails. "*" is a composition root or a tool,
// which may wire anything together.
var allowed = map[string][]string{
	"domain":     {},
	"secretbox":  {},
	"migrations": {},
	"summarizer": {},
	"devserver":  {},
	// Holds a process at a named seam for the fault suite; knows nothing of the inbox.
	"internal/faultpoint": {},
	"config":              {"secretbox"},
	"store":               {"domain"},
	"policies":            {"domain"},
	"workflows":           {"domain"},
	"accounts":            {"store"},
	"live":                {"store"},
	"webhooks":            {"domain", "store", "workflows"},
	"activities":          {"domain", "internal/faultpoint", "secretbox", "store", "summarizer", "webhooks", "workflows"},
	"worker":              {"activities", "workflows"},
	"app":                 {"accounts", "activities", "domain", "internal/faultpoint", "policies", "secretbox", "store", "webhooks", "workflows"},

	// Draws SVG charts from labels and numbers (the Reports page's); knows nothing of the inbox.
	"internal/svgchart": {},

	// The front doors.
	"api": {"app", "domain", "config", "live"},
	"web": {"app", "domain", "config", "live", "internal/svgchart"},

	// Composition roots, test harnesses and tools.
	"cmd/inbox":                {"*"},
	"internal/testenv":         {"*"},
	"internal/browser":         {"*"},
	"internal/devproc":         {"*"},
	"internal/loadgen":         {"*"},
	"internal/openaitest":      {"*"},
	"internal/tools/histories": {"*"},
	"internal/tools/latency":   {"*"},
	"internal/tools/lifebench": {"*"},
	"internal/tools/load":      {"*"},
	"internal/tools/pgcheck":   {"*"},
	"bench":                    {"*"},
	"deploy":                   {"*"},
	"faults":                   {"*"},
	"internal/layers":          {},
}

type goPackage struct {
	ImportPath string
	Imports    []string
}

// packages lists the module's packages and their direct imports (not their tests').
func packages(t *testing.T) []goPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports", module+"...")
	out, err := cmd.Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("go list: %v\n%s", err, exit.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var pkgs []goPackage
	for {
		var p goPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

// TestFrontDoorsImportOnlyApp holds every package of the module to the table above.
func TestFrontDoorsImportOnlyApp(t *testing.T) {
	for _, p := range packages(t) {
		name := strings.TrimPrefix(p.ImportPath, module)
		may, ok := allowed[name]
		if !ok {
			t.Errorf("package %s is not in the table of allowed imports: place it there on purpose", name)
			continue
		}
		if slices.Contains(may, "*") {
			continue
		}
		for _, imp := range p.Imports {
			dep, ours := strings.CutPrefix(imp, module)
			if ours && !slices.Contains(may, dep) {
				t.Errorf("%s imports %s, which the table does not allow (it may import %v)", name, dep, may)
			}
		}
	}
}
