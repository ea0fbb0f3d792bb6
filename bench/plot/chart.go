package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
)

// Chart geometry in pixels.
const (
	panelW   = 700
	panelH   = 380
	margin   = 20
	titleH   = 70 // chart title and legend
	axisW    = 80 // left of each panel: y labels
	panelTop = 34 // panel title
	panelBot = 30 // below the bars: server names
)

var (
	white = color.RGBA{255, 255, 255, 255}
	black = color.RGBA{0, 0, 0, 255}
	grey  = color.RGBA{200, 200, 200, 255}
	dark  = color.RGBA{90, 90, 90, 255}
	// palette colours the servers in order; the subject is drawn in the
	// first colour whatever its position.
	palette = []color.RGBA{
		{214, 39, 40, 255},   // red
		{255, 127, 14, 255},  // orange
		{31, 119, 180, 255},  // blue
		{44, 160, 44, 255},   // green
		{148, 103, 189, 255}, // purple
		{140, 86, 75, 255},   // brown
		{127, 127, 127, 255}, // grey
		{23, 190, 207, 255},  // cyan
		{188, 189, 34, 255},  // olive
	}
)

// writeChart draws one panel per scenario, two panels a row, each with a
// bar per server at its median msgs/s and a line from min to max.
func writeChart(w io.Writer, r *results, title string) error {
	cols := min(2, len(r.scenarios))
	rows := (len(r.scenarios) + cols - 1) / cols
	width := margin*2 + cols*panelW
	height := titleH + rows*panelH + margin
	img := image.NewRGBA(image.Rect(0, 0, width, max(height, titleH+margin)))
	fillRect(img, 0, 0, img.Bounds().Dx(), img.Bounds().Dy(), white)

	drawText(img, margin, 12, title, 2, black)
	x := margin
	for i, srv := range r.servers {
		fillRect(img, x, 44, 14, 14, colorOf(i))
		drawText(img, x+20, 44, srv, 2, black)
		x += 20 + textWidth(srv, 2) + 24
	}
	for i, sc := range r.scenarios {
		px := margin + (i%cols)*panelW
		py := titleH + (i/cols)*panelH
		drawPanel(img, r, sc, px, py)
	}
	return png.Encode(w, img)
}

func colorOf(i int) color.RGBA { return palette[i%len(palette)] }

func drawPanel(img *image.RGBA, r *results, sc string, px, py int) {
	drawText(img, px+axisW, py+8, sc+": "+r.describe(sc), 1, black)
	drawText(img, px+axisW, py+20, "MESSAGES PER SECOND, MEDIAN; LINE: MIN-MAX", 1, dark)
	top := py + panelTop
	bottom := py + panelH - panelBot
	left := px + axisW
	right := px + panelW - margin

	var hi float64
	for _, srv := range r.servers {
		if _, m := span(r.values(sc, srv, "msgs_per_s")); m > hi {
			hi = m
		}
	}
	if hi <= 0 || math.IsNaN(hi) {
		drawText(img, left, (top+bottom)/2, "NO DATA", 2, dark)
		return
	}
	step := niceStep(hi / 4)
	scaleMax := math.Ceil(hi*1.08/step) * step
	yOf := func(v float64) int { return bottom - int(v/scaleMax*float64(bottom-top)) }

	for v := 0.0; v <= scaleMax+step/2; v += step {
		y := yOf(v)
		fillRect(img, left, y, right-left, 1, grey)
		label := short(v)
		drawText(img, left-8-textWidth(label, 1), y-3, label, 1, dark)
	}
	fillRect(img, left, top, 1, bottom-top, dark)

	n := len(r.servers)
	slot := (right - left) / n
	barW := slot * 2 / 3
	for i, srv := range r.servers {
		vals := r.values(sc, srv, "msgs_per_s")
		cx := left + slot*i + slot/2
		name := srv
		if textWidth(name, 1) > slot-4 {
			name = name[:max(1, (slot-4)/(glyphW+1))]
		}
		drawText(img, cx-textWidth(name, 1)/2, bottom+8, name, 1, black)
		if len(vals) == 0 {
			drawText(img, cx-textWidth("FAILED", 1)/2, bottom-12, "FAILED", 1, dark)
			continue
		}
		m := median(vals)
		lo, hiv := span(vals)
		y := yOf(m)
		fillRect(img, cx-barW/2, y, barW, bottom-y, colorOf(i))
		fillRect(img, cx, yOf(hiv), 2, max(1, yOf(lo)-yOf(hiv)), black)
		fillRect(img, cx-4, yOf(hiv), 10, 2, black)
		fillRect(img, cx-4, yOf(lo), 10, 2, black)
		label := short(m)
		drawText(img, cx-textWidth(label, 1)/2, min(yOf(hiv), y)-12, label, 1, black)
	}
}

// niceStep rounds v up to 1, 2 or 5 times a power of ten.
func niceStep(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// short writes v as 950, 12.5K or 1.25M.
func short(v float64) string {
	switch {
	case v >= 1e6:
		return trimZero(fmt.Sprintf("%.2f", v/1e6)) + "M"
	case v >= 1e3:
		return trimZero(fmt.Sprintf("%.1f", v/1e3)) + "K"
	}
	return fmt.Sprintf("%.0f", v)
}

func trimZero(s string) string {
	for len(s) > 1 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return s
}
