//go:build !purego

package logs

import "golang.org/x/sys/cpu"

func init() {
	if cpu.X86.HasAVX2 {
		tripleScan = func(s []byte) (int, bool) { return tripleScanAVX2(s, triples) }
	}
}

// tripleScanAVX2 is tripleScan with AVX2 (prefilter_amd64.s).
//
//go:noescape
func tripleScanAVX2(s []byte, tbl *tripleTable) (pos int, found bool)
