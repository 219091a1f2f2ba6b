// Package svgchart draws small, accessible bar and line charts as SVG text, on the server:
// no JavaScript, no CDN, no external library. A chart carries a <title> and a <desc> (named
// by aria-labelledby), each bar or point a <title> with its figure, and a chart with nothing
// to show says so in words. It knows nothing of the inbox: callers hand it labels and numbers.
package svgchart

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Kind is how a chart draws its series.
type Kind int

const (
	// Bars draws the series side by side in each category.
	Bars Kind = iota
	// Stacked draws the series on top of one another in each category.
	Stacked
	// Lines draws each series as a line through its points; a NaN value is a gap.
	Lines
)

// Series is one named row of figures, one value per label.
type Series struct {
	Name   string
	Values []float64
}

// Chart is what to draw. ID must be unique in the page (it names the title and desc).
type Chart struct {
	ID     string
	Title  string
	Desc   string
	Kind   Kind
	Labels []string
	Series []Series
	// Format writes a value (axis ticks, tooltips); nil writes it as a number.
	Format func(float64) string
	// ZeroIsData: a zero is a measurement (a wait of no time), not the absence of one, so a
	// chart of zeros is drawn rather than called empty. Lines always work so; NaN is no data.
	ZeroIsData bool
	// Width and Height are the viewBox; zero gives 720 by 260.
	Width, Height int
}

// Empty is the text of a chart with nothing to show.
const Empty = "No data in this range"

// Colours of the series in order (readable on white, distinct for common colour blindness).
var palette = []string{"#2563eb", "#f59e0b", "#10b981", "#db2777", "#7c3aed", "#64748b"}

// Colour is the fill of series i, for a legend drawn outside the chart.
func Colour(i int) string { return palette[i%len(palette)] }

// Margins of the plot inside the viewBox.
const (
	left, right, top, bottom = 56, 12, 28, 44
)

// SVG renders the chart as an <svg> element.
func (c Chart) SVG() string {
	w, h := c.Width, c.Height
	if w <= 0 {
		w = 720
	}
	if h <= 0 {
		h = 260
	}
	format := c.Format
	if format == nil {
		format = Number
	}
	var b strings.Builder
	id := esc(c.ID)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-title %s-desc">`, w, h, id, id)
	fmt.Fprintf(&b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, id, esc(c.Title), id, esc(c.Desc))

	maxV := c.max()
	if len(c.Labels) == 0 || c.empty() {
		fmt.Fprintf(&b, `<text class="empty" x="%d" y="%d" text-anchor="middle" fill="#64748b">%s</text></svg>`, w/2, h/2, Empty)
		return b.String()
	}
	// Small counts get ticks at whole numbers (0 to 4); a line of measured zeros still has
	// an axis.
	ceil := 4.0
	if maxV > 4 {
		ceil = niceCeil(maxV)
	}
	plotW, plotH := float64(w-left-right), float64(h-top-bottom)
	y := func(v float64) float64 { return float64(top) + plotH - v/ceil*plotH }

	// Axis, grid and ticks: 0, 1/4 .. top.
	b.WriteString(`<g class="axis" font-size="11" fill="#475569">`)
	for i := 0; i <= 4; i++ {
		v := ceil * float64(i) / 4
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%s" y2="%s" stroke="#e2e8f0"/>`, left, w-right, f(y(v)), f(y(v)))
		fmt.Fprintf(&b, `<text x="%d" y="%s" text-anchor="end" dominant-baseline="middle">%s</text>`, left-6, f(y(v)), esc(format(v)))
	}
	n := len(c.Labels)
	slot := plotW / float64(n)
	every := int(math.Ceil(float64(n) / 12)) // at most about 12 labels under the axis
	for i, l := range c.Labels {
		if i%every != 0 {
			continue
		}
		fmt.Fprintf(&b, `<text x="%s" y="%d" text-anchor="middle">%s</text>`, f(float64(left)+slot*(float64(i)+0.5)), h-bottom+16, esc(l))
	}
	b.WriteString(`</g>`)

	switch c.Kind {
	case Lines:
		for si, s := range c.Series {
			fmt.Fprintf(&b, `<g class="series" data-series="%s">`, esc(s.Name))
			var pts []string
			flush := func() {
				if len(pts) > 1 {
					fmt.Fprintf(&b, `<polyline class="line" fill="none" stroke="%s" stroke-width="2" points="%s"/>`, Colour(si), strings.Join(pts, " "))
				}
				pts = pts[:0]
			}
			for i, v := range s.Values {
				if i >= n || math.IsNaN(v) {
					flush()
					continue
				}
				x, yy := float64(left)+slot*(float64(i)+0.5), y(v)
				pts = append(pts, f(x)+","+f(yy))
				fmt.Fprintf(&b, `<circle class="point" cx="%s" cy="%s" r="3" fill="%s"><title>%s, %s: %s</title></circle>`,
					f(x), f(yy), Colour(si), esc(c.Labels[i]), esc(s.Name), esc(format(v)))
			}
			flush()
			b.WriteString(`</g>`)
		}
	default:
		k := len(c.Series)
		inner := slot * 0.8
		barW := inner
		if c.Kind == Bars && k > 0 {
			barW = inner / float64(k)
		}
		base := make([]float64, n)
		for si, s := range c.Series {
			fmt.Fprintf(&b, `<g class="series" data-series="%s" fill="%s">`, esc(s.Name), Colour(si))
			for i, v := range s.Values {
				if i >= n || math.IsNaN(v) || v <= 0 {
					continue
				}
				x := float64(left) + slot*float64(i) + (slot-inner)/2
				lo := 0.0
				if c.Kind == Stacked {
					lo = base[i]
					base[i] += v
				} else {
					x += barW * float64(si)
				}
				y1, y0 := y(lo+v), y(lo)
				fmt.Fprintf(&b, `<rect class="bar" x="%s" y="%s" width="%s" height="%s"><title>%s, %s: %s</title></rect>`,
					f(x), f(y1), f(barW), f(y0-y1), esc(c.Labels[i]), esc(s.Name), esc(format(v)))
			}
			b.WriteString(`</g>`)
		}
	}

	// The legend, top left, when there is more than one series.
	if len(c.Series) > 1 {
		b.WriteString(`<g class="legend" font-size="11" fill="#334155">`)
		x := left
		for si, s := range c.Series {
			fmt.Fprintf(&b, `<rect x="%d" y="8" width="10" height="10" fill="%s"/><text x="%d" y="17">%s</text>`, x, Colour(si), x+14, esc(s.Name))
			x += 24 + 7*len([]rune(s.Name))
		}
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// empty reports whether there is nothing to draw: no bar above zero, or for lines no
// measured point (a measured zero is a point).
func (c Chart) empty() bool {
	for _, s := range c.Series {
		for i, v := range s.Values {
			if i < len(c.Labels) && !math.IsNaN(v) && (v > 0 || c.Kind == Lines || c.ZeroIsData) {
				return false
			}
		}
	}
	return true
}

// max is the largest value the chart must reach: the tallest stack for Stacked.
func (c Chart) max() float64 {
	m := 0.0
	if c.Kind == Stacked {
		for i := range c.Labels {
			sum := 0.0
			for _, s := range c.Series {
				if i < len(s.Values) && !math.IsNaN(s.Values[i]) && s.Values[i] > 0 {
					sum += s.Values[i]
				}
			}
			m = max(m, sum)
		}
		return m
	}
	for _, s := range c.Series {
		for _, v := range s.Values {
			if !math.IsNaN(v) {
				m = max(m, v)
			}
		}
	}
	return m
}

// niceCeil rounds v up to 1, 2, 2.5 or 5 times a power of ten, so ticks at quarters read well.
func niceCeil(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// Number writes v with at most one decimal.
func Number(v float64) string {
	if v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func f(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;")

func esc(s string) string { return escaper.Replace(s) }
