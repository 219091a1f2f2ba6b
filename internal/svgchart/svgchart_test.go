package svgchart

import (
	"encoding/xml"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
)

// element is an SVG element as the tests read it back.
type element struct {
	Name  string
	Attrs map[string]string
	Text  string
}

// parse checks that svg is well-formed XML and returns its elements in document order.
func parse(t *testing.T, svg string) []element {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(svg))
	var out []element
	var stack []int
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, svg)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			e := element{Name: tok.Name.Local, Attrs: map[string]string{}}
			for _, a := range tok.Attr {
				e.Attrs[a.Name.Local] = a.Value
			}
			out = append(out, e)
			stack = append(stack, len(out)-1)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				out[stack[len(stack)-1]].Text += string(tok)
			}
		}
	}
	if len(out) == 0 || out[0].Name != "svg" {
		t.Fatalf("no <svg> root: %s", svg)
	}
	return out
}

func byClass(els []element, class string) []element {
	var out []element
	for _, e := range els {
		if e.Attrs["class"] == class {
			out = append(out, e)
		}
	}
	return out
}

func num(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return v
}

func TestBarsAreWellFormedAccessibleAndScaled(t *testing.T) {
	c := Chart{
		ID: "created", Title: `Conversations <created> & "closed"`, Desc: "Per day",
		Kind: Bars, Labels: []string{"Mon", "Tue", "Wed"},
		Series: []Series{{Name: "chat", Values: []float64{10, 5, 0}}},
	}
	els := parse(t, c.SVG())
	root := els[0]
	if root.Attrs["role"] != "img" || root.Attrs["aria-labelledby"] != "created-title created-desc" {
		t.Errorf("root attributes: %v", root.Attrs)
	}
	var title, desc string
	for _, e := range els {
		switch {
		case e.Name == "title" && e.Attrs["id"] == "created-title":
			title = e.Text
		case e.Name == "desc":
			desc = e.Text
		}
	}
	if title != `Conversations <created> & "closed"` || desc != "Per day" {
		t.Errorf("title %q desc %q", title, desc)
	}
	bars := byClass(els, "bar")
	if len(bars) != 2 { // the zero is not drawn
		t.Fatalf("want 2 bars, got %d", len(bars))
	}
	h0, h1 := num(t, bars[0].Attrs["height"]), num(t, bars[1].Attrs["height"])
	if h0 <= 0 || math.Abs(h0-2*h1) > 0.2 {
		t.Errorf("bar heights %v and %v: want the first twice the second", h0, h1)
	}
	// Both bars stand on the same baseline.
	if b0, b1 := num(t, bars[0].Attrs["y"])+h0, num(t, bars[1].Attrs["y"])+h1; math.Abs(b0-b1) > 0.2 {
		t.Errorf("baselines %v and %v differ", b0, b1)
	}
	// The tallest bar reaches the top tick (10 is a round maximum).
	if y := num(t, bars[0].Attrs["y"]); math.Abs(y-top) > 0.2 {
		t.Errorf("tallest bar starts at y=%v, want the plot top %d", y, top)
	}
	if !strings.Contains(c.SVG(), "<title>Mon, chat: 10</title>") {
		t.Errorf("a bar carries no tooltip with its figure: %s", c.SVG())
	}
	if strings.Contains(c.SVG(), Empty) {
		t.Error("a chart with data says it has none")
	}
}

func TestStackedBarsAddUp(t *testing.T) {
	c := Chart{ID: "s", Kind: Stacked, Labels: []string{"a", "b"}, Series: []Series{
		{Name: "chat", Values: []float64{3, 1}}, {Name: "phone", Values: []float64{1, 0}},
	}}
	els := parse(t, c.SVG())
	bars := byClass(els, "bar")
	if len(bars) != 3 {
		t.Fatalf("want 3 bars, got %d", len(bars))
	}
	// Category a: chat (3) under phone (1); phone's bottom is chat's top.
	chat, phone := bars[0], bars[2]
	if math.Abs(num(t, phone.Attrs["y"])+num(t, phone.Attrs["height"])-num(t, chat.Attrs["y"])) > 0.2 {
		t.Errorf("phone does not sit on chat: %v %v", chat.Attrs, phone.Attrs)
	}
	if math.Abs(num(t, chat.Attrs["height"])-3*num(t, phone.Attrs["height"])) > 0.2 {
		t.Errorf("stack heights not 3:1: %v %v", chat.Attrs, phone.Attrs)
	}
	if len(byClass(els, "legend")) != 1 {
		t.Error("two series and no legend")
	}
}

func TestLinesScaleAndBreakAtGaps(t *testing.T) {
	c := Chart{ID: "l", Kind: Lines, Labels: []string{"1", "2", "3", "4"}, Series: []Series{
		{Name: "median", Values: []float64{100, 50, math.NaN(), 25}},
	}, Format: func(v float64) string { return Number(v/60) + " min" }}
	els := parse(t, c.SVG())
	pts := byClass(els, "point")
	if len(pts) != 3 {
		t.Fatalf("want 3 points (the gap is not drawn), got %d", len(pts))
	}
	base := float64(260 - bottom)
	d0, d1 := base-num(t, pts[0].Attrs["cy"]), base-num(t, pts[1].Attrs["cy"])
	if math.Abs(d0-2*d1) > 0.2 {
		t.Errorf("point heights %v and %v: want 2:1", d0, d1)
	}
	// The gap splits the line: one polyline for the first two points, none for a lone one.
	if lines := byClass(els, "line"); len(lines) != 1 || strings.Count(lines[0].Attrs["points"], ",") != 2 {
		t.Errorf("lines: %v", lines)
	}
	if !strings.Contains(c.SVG(), "1, median: 1.7 min") {
		t.Errorf("the format is not used in tooltips: %s", c.SVG())
	}
}

func TestEmptyChartSaysSo(t *testing.T) {
	for name, c := range map[string]Chart{
		"no labels": {ID: "e", Title: "Nothing"},
		"all zero":  {ID: "z", Labels: []string{"a", "b"}, Series: []Series{{Name: "x", Values: []float64{0, 0}}}},
		"all gaps":  {ID: "g", Kind: Lines, Labels: []string{"a"}, Series: []Series{{Name: "x", Values: []float64{math.NaN()}}}},
	} {
		els := parse(t, c.SVG())
		if !strings.Contains(c.SVG(), Empty) {
			t.Errorf("%s: no %q in %s", name, Empty, c.SVG())
		}
		if len(byClass(els, "bar"))+len(byClass(els, "point")) != 0 {
			t.Errorf("%s: an empty chart draws marks", name)
		}
	}
}

// A line of measured zeros is data (a wait of no time), drawn on the axis.
func TestLineOfZerosIsDrawn(t *testing.T) {
	c := Chart{ID: "z", Kind: Lines, Labels: []string{"a", "b"}, Series: []Series{{Name: "x", Values: []float64{0, 0}}}}
	els := parse(t, c.SVG())
	if strings.Contains(c.SVG(), Empty) || len(byClass(els, "point")) != 2 {
		t.Errorf("zeros: %s", c.SVG())
	}
	for _, p := range byClass(els, "point") {
		if cy := num(t, p.Attrs["cy"]); math.Abs(cy-float64(260-bottom)) > 0.2 {
			t.Errorf("a zero is drawn at y=%v, not on the axis", cy)
		}
	}
}

// Bars of measured zeros (ZeroIsData) draw an axis, not "No data"; counts of zero do not.
func TestZeroIsData(t *testing.T) {
	c := Chart{ID: "m", Kind: Bars, Labels: []string{"Ann"}, Series: []Series{{Name: "median", Values: []float64{0}}}}
	if !strings.Contains(c.SVG(), Empty) {
		t.Error("a count of zero is not empty")
	}
	c.ZeroIsData = true
	parse(t, c.SVG())
	if strings.Contains(c.SVG(), Empty) || !strings.Contains(c.SVG(), `class="axis"`) {
		t.Errorf("a measured zero is called empty: %s", c.SVG())
	}
}

func TestNiceCeil(t *testing.T) {
	for in, want := range map[float64]float64{1: 1, 3: 5, 7: 10, 11: 20, 240: 250, 0.3: 0.5, 3600: 5000} {
		if got := niceCeil(in); math.Abs(got-want) > 1e-9 {
			t.Errorf("niceCeil(%v) = %v, want %v", in, got, want)
		}
	}
}
