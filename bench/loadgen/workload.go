package loadgen

import (
	"math/rand/v2"
	"slices"
	"strconv"
)

// MaxDrawsPerLine bounds the Zipf draws spent looking for a SKU not yet in
// the hold; past it the most popular unused SKU is taken, so a hold of
// many lines on a steep distribution still finishes.
const MaxDrawsPerLine = 64

// picker draws the SKUs of successive holds. One per worker: not safe for
// concurrent use.
type picker struct {
	lines  int
	zipf   *rand.Zipf
	picked []int
}

// newPicker seeds a picker from the workload's seed and a stream number,
// so that workers draw independent, reproducible sequences.
func newPicker(w Workload, stream uint64) *picker {
	r := rand.New(rand.NewPCG(w.Seed, stream))
	return &picker{
		lines:  w.LinesPerHold,
		zipf:   rand.NewZipf(r, w.ZipfS, 1, uint64(w.SKUs-1)),
		picked: make([]int, 0, w.LinesPerHold),
	}
}

// next returns the ranks (SKU indexes) of the next hold's lines, all
// distinct. The slice is reused by the following call.
func (p *picker) next() []int {
	p.picked = p.picked[:0]
	for len(p.picked) < p.lines {
		rank := -1
		for range MaxDrawsPerLine {
			r := int(p.zipf.Uint64())
			if !slices.Contains(p.picked, r) {
				rank = r
				break
			}
		}
		for r := 0; rank < 0; r++ {
			if !slices.Contains(p.picked, r) {
				rank = r
			}
		}
		p.picked = append(p.picked, rank)
	}
	return p.picked
}

// appendHoldID appends prefix-n.
func appendHoldID(dst []byte, prefix string, n int64) []byte {
	dst = append(dst, prefix...)
	dst = append(dst, '-')
	return strconv.AppendInt(dst, n, 10)
}

// appendHoldBody appends the JSON body of POST /v1/reservations. Every
// string in it was checked by isToken or built by SKUName, so none needs
// escaping.
func appendHoldBody(dst, holdID []byte, w *Workload, skus []string, ranks []int) []byte {
	dst = append(dst, `{"id":"`...)
	dst = append(dst, holdID...)
	dst = append(dst, `","channel":"`...)
	dst = append(dst, w.Channel...)
	dst = append(dst, `","lines":[`...)
	for i, rank := range ranks {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"sku":"`...)
		dst = append(dst, skus[rank]...)
		dst = append(dst, `","qty":`...)
		dst = strconv.AppendInt(dst, int64(w.QtyPerLine), 10)
		dst = append(dst, '}')
	}
	dst = append(dst, `],"ttl_seconds":`...)
	dst = strconv.AppendInt(dst, int64(w.TTLSeconds), 10)
	return append(dst, '}')
}
