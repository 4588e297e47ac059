package loadgen

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestPickerZipfSkew(t *testing.T) {
	w := DefaultWorkload()
	w.SKUs = 1000
	const draws = 100_000
	hits := make([]int, w.SKUs)
	p := newPicker(w, 0)
	for range draws {
		for _, rank := range p.next() {
			hits[rank]++
		}
	}
	top := 0
	for rank, n := range hits {
		if n > hits[top] {
			top = rank
		}
	}
	if top != 0 {
		t.Errorf("most hit SKU rank = %d (%d hits), want 0 (%d hits)", top, hits[top], hits[0])
	}
	if !(hits[0] > hits[1] && hits[1] > hits[9] && hits[9] > hits[99]) {
		t.Errorf("hits by rank 0, 1, 9, 99 = %d, %d, %d, %d; want strictly falling",
			hits[0], hits[1], hits[9], hits[99])
	}
	if uniform := draws / w.SKUs; hits[0] < 50*uniform {
		t.Errorf("top SKU got %d hits, want ≥ 50× the uniform share %d", hits[0], uniform)
	}
}

func TestPickerSeededAndDistinct(t *testing.T) {
	w := DefaultWorkload()
	w.SKUs, w.LinesPerHold, w.ZipfS = 5, 5, 3 // every hold must be all five SKUs
	a, b, c := newPicker(w, 7), newPicker(w, 7), newPicker(w, 8)
	var seqA, seqB, seqC [][]int
	for range 100 {
		got := slices.Clone(a.next())
		sorted := slices.Sorted(slices.Values(got))
		if !slices.Equal(sorted, []int{0, 1, 2, 3, 4}) {
			t.Fatalf("hold lines = %v, want a permutation of 0..4", got)
		}
		seqA = append(seqA, got)
		seqB = append(seqB, slices.Clone(b.next()))
		seqC = append(seqC, slices.Clone(c.next()))
	}
	eq := func(x, y [][]int) bool { return slices.EqualFunc(x, y, slices.Equal[[]int]) }
	if !eq(seqA, seqB) {
		t.Error("same seed and stream drew different sequences")
	}
	if eq(seqA, seqC) {
		t.Error("different streams drew the same sequence")
	}
}

func TestAppendHoldBody(t *testing.T) {
	w := DefaultWorkload()
	skus := SKUNames(3)
	body := appendHoldBody(nil, appendHoldID(nil, "run1", 42), &w, skus, []int{2, 0})
	var got holdBody
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("body %s is not JSON: %v", body, err)
	}
	if got.ID != "run1-42" || got.Channel != "site" || got.TTLSeconds != 300 || len(got.Lines) != 2 ||
		got.Lines[0].SKU != "bench-sku-0000002" || got.Lines[1].SKU != "bench-sku-0000000" || got.Lines[1].Qty != 1 {
		t.Errorf("body = %s, decoded %+v", body, got)
	}
}
