// Package charttest reads rendered charts back, for the tests of the
// packages that draw or post them.
package charttest

import (
	"image"
	"image/color"
	"math"
)

// Rows returns the rows of img where at least half of its width is col:
// the horizontal lines drawn in col (threshold lines). A pixel counts when
// its colour is within a small distance of col, for anti-aliasing.
func Rows(img image.Image, col color.NRGBA) []int {
	b := img.Bounds()
	var rows []int
	for y := b.Min.Y; y < b.Max.Y; y++ {
		n := 0
		for x := b.Min.X; x < b.Max.X; x++ {
			if near(img.At(x, y), col) {
				n++
			}
		}
		if n >= b.Dx()/2 {
			rows = append(rows, y)
		}
	}
	return rows
}

func near(c color.Color, want color.NRGBA) bool {
	r, g, b, _ := c.RGBA()
	d := func(x uint32, y uint8) float64 { return math.Abs(float64(x>>8) - float64(y)) }
	return d(r, want.R)+d(g, want.G)+d(b, want.B) < 24
}
