//go:build !purego

#include "textflag.h"

// func tripleScanAVX2(s []byte, tbl *tripleTable) (pos int, found bool)
//
// Looks for the triples of tbl (rows of 32 copies of a byte, three rows a
// triple) in s with every byte ORed with 0x20 (lower case for letters),
// 32 positions at a time: the triple at position k is s[k:k+3]. Returns
// the first position where one starts and true, or, if there is none,
// the number of positions looked at (a multiple of 32; the last ones are
// left to the caller) and false.
TEXT ·tripleScanAVX2(SB), NOSPLIT, $0-41
	MOVQ s_base+0(FP), SI
	MOVQ s_len+8(FP), CX
	MOVQ tbl+24(FP), DI
	XORQ AX, AX
	// Blocks start at AX <= len-34: a block reads s[AX:AX+34].
	SUBQ $34, CX
	JL   none
	MOVL $0x20, BX
	MOVQ BX, X7
	VPBROADCASTB X7, Y7

loop:
	CMPQ AX, CX
	JG   done
	VMOVDQU (SI)(AX*1), Y0
	VMOVDQU 1(SI)(AX*1), Y1
	VMOVDQU 2(SI)(AX*1), Y2
	VPOR    Y7, Y0, Y0
	VPOR    Y7, Y1, Y1
	VPOR    Y7, Y2, Y2

	VPCMPEQB 0(DI), Y0, Y8
	VPCMPEQB 32(DI), Y1, Y3
	VPAND    Y3, Y8, Y8
	VPCMPEQB 64(DI), Y2, Y3
	VPAND    Y3, Y8, Y8

	VPCMPEQB 96(DI), Y0, Y4
	VPCMPEQB 128(DI), Y1, Y3
	VPAND    Y3, Y4, Y4
	VPCMPEQB 160(DI), Y2, Y3
	VPAND    Y3, Y4, Y4
	VPOR     Y4, Y8, Y8

	VPCMPEQB 192(DI), Y0, Y5
	VPCMPEQB 224(DI), Y1, Y3
	VPAND    Y3, Y5, Y5
	VPCMPEQB 256(DI), Y2, Y3
	VPAND    Y3, Y5, Y5
	VPOR     Y5, Y8, Y8

	VPCMPEQB 288(DI), Y0, Y6
	VPCMPEQB 320(DI), Y1, Y3
	VPAND    Y3, Y6, Y6
	VPCMPEQB 352(DI), Y2, Y3
	VPAND    Y3, Y6, Y6
	VPOR     Y6, Y8, Y8

	VPCMPEQB 384(DI), Y0, Y4
	VPCMPEQB 416(DI), Y1, Y3
	VPAND    Y3, Y4, Y4
	VPCMPEQB 448(DI), Y2, Y3
	VPAND    Y3, Y4, Y4
	VPOR     Y4, Y8, Y8

	VPCMPEQB 480(DI), Y0, Y5
	VPCMPEQB 512(DI), Y1, Y3
	VPAND    Y3, Y5, Y5
	VPCMPEQB 544(DI), Y2, Y3
	VPAND    Y3, Y5, Y5
	VPOR     Y5, Y8, Y8

	VPCMPEQB 576(DI), Y0, Y6
	VPCMPEQB 608(DI), Y1, Y3
	VPAND    Y3, Y6, Y6
	VPCMPEQB 640(DI), Y2, Y3
	VPAND    Y3, Y6, Y6
	VPOR     Y6, Y8, Y8

	VPCMPEQB 672(DI), Y0, Y4
	VPCMPEQB 704(DI), Y1, Y3
	VPAND    Y3, Y4, Y4
	VPCMPEQB 736(DI), Y2, Y3
	VPAND    Y3, Y4, Y4
	VPOR     Y4, Y8, Y8

	VPMOVMSKB Y8, BX
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
