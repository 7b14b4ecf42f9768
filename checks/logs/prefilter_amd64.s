//go:build !purego

#include "textflag.h"

// func tripleScanAVX2(s []byte, tbl *tripleTable) (pos int, found bool)
//
// Looks for the triples of tbl (see tripleTable: nibble tables, a bit per
// triple) in s in any case, 32 positions at a time: the triple at
// position k is s[k:k+3]. For each of the three bytes of the positions,
// the tables are looked up by the byte's low and high nibble (VPSHUFB)
// and the results ANDed: a bit left is a triple starting there. Returns
// the first position where one starts and true, or, if there is none, the
// number of positions looked at (a multiple of 32; the last ones are left
// to the caller) and false.
TEXT ·tripleScanAVX2(SB), NOSPLIT, $0-41
	MOVQ s_base+0(FP), SI
	MOVQ s_len+8(FP), CX
	MOVQ tbl+24(FP), DI
	XORQ AX, AX
	// Blocks start at AX <= len-34: a block reads s[AX:AX+34].
	SUBQ $34, CX
	JL   none
	VMOVDQU 0(DI), Y8   // low nibbles, byte 0
	VMOVDQU 32(DI), Y9  // high nibbles, byte 0
	VMOVDQU 64(DI), Y10 // byte 1
	VMOVDQU 96(DI), Y11
	VMOVDQU 128(DI), Y12 // byte 2
	VMOVDQU 160(DI), Y13
	VPXOR   Y14, Y14, Y14
	MOVL    $0x0f, BX
	MOVQ    BX, X15
	VPBROADCASTB X15, Y15

loop:
	CMPQ AX, CX
	JG   done
	// Byte 0. A byte above 0x7f looks up 0 in the low table.
	VMOVDQU (SI)(AX*1), Y0
	VPSRLW  $4, Y0, Y1
	VPAND   Y15, Y1, Y1
	VPSHUFB Y0, Y8, Y2
	VPSHUFB Y1, Y9, Y3
	VPAND   Y3, Y2, Y2

	// Byte 1.
	VMOVDQU 1(SI)(AX*1), Y0
	VPSRLW  $4, Y0, Y1
	VPAND   Y15, Y1, Y1
	VPSHUFB Y0, Y10, Y4
	VPSHUFB Y1, Y11, Y3
	VPAND   Y3, Y4, Y4
	VPAND   Y4, Y2, Y2

	// Byte 2.
	VMOVDQU 2(SI)(AX*1), Y0
	VPSRLW  $4, Y0, Y1
	VPAND   Y15, Y1, Y1
	VPSHUFB Y0, Y12, Y4
	VPSHUFB Y1, Y13, Y3
	VPAND   Y3, Y4, Y4
	VPAND   Y4, Y2, Y2

	// A bit of the zero bytes; none left clear: no triple.
	VPCMPEQB  Y14, Y2, Y2
	VPMOVMSKB Y2, BX
	NOTL      BX
	TESTL     BX, BX
	JNZ       found
	ADDQ      $32, AX
	JMP       loop

found:
	BSFL BX, BX
	ADDQ BX, AX
	MOVQ AX, pos+32(FP)
	MOVB $1, found+40(FP)
	VZEROUPPER
	RET

done:
	VZEROUPPER

none:
	MOVQ AX, pos+32(FP)
	MOVB $0, found+40(FP)
	RET
