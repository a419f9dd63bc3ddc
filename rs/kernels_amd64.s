//go:build !purego

#include "textflag.h"

// Tables at AX: eight 16-byte nibble tables, broadcast to both lanes.
// Y7..Y10: low result byte for input nibbles 0..3; Y11..Y14: high result byte.
// Y15: 0x0f in every byte.
#define LOADTABLES \
	VBROADCASTI128 0(AX), Y7 \
	VBROADCASTI128 16(AX), Y8 \
	VBROADCASTI128 32(AX), Y9 \
	VBROADCASTI128 48(AX), Y10 \
	VBROADCASTI128 64(AX), Y11 \
	VBROADCASTI128 80(AX), Y12 \
	VBROADCASTI128 96(AX), Y13 \
	VBROADCASTI128 112(AX), Y14 \
	MOVQ $0x0f0f0f0f0f0f0f0f, R8 \
	MOVQ R8, X15 \
	VPBROADCASTQ X15, Y15

// MUL: Y0 (low bytes), Y1 (high bytes) of 32 elements -> their product with
// the table's constant, in Y0 and Y1. Clobbers Y2..Y6.
#define MUL \
	VPSRLQ $4, Y0, Y3 \
	VPAND Y15, Y0, Y2 \
	VPAND Y15, Y3, Y3 \
	VPSRLQ $4, Y1, Y5 \
	VPAND Y15, Y1, Y4 \
	VPAND Y15, Y5, Y5 \
	VPSHUFB Y2, Y7, Y0 \
	VPSHUFB Y3, Y8, Y6 \
	VPXOR Y6, Y0, Y0 \
	VPSHUFB Y4, Y9, Y6 \
	VPXOR Y6, Y0, Y0 \
	VPSHUFB Y5, Y10, Y6 \
	VPXOR Y6, Y0, Y0 \
	VPSHUFB Y2, Y11, Y1 \
	VPSHUFB Y3, Y12, Y6 \
	VPXOR Y6, Y1, Y1 \
	VPSHUFB Y4, Y13, Y6 \
	VPXOR Y6, Y1, Y1 \
	VPSHUFB Y5, Y14, Y6 \
	VPXOR Y6, Y1, Y1

// func mulAddAVX2(x, y []byte, t *[8][16]byte): x ^= y·m
TEXT ·mulAddAVX2(SB), NOSPLIT, $0-56
	MOVQ x_base+0(FP), DI
	MOVQ y_base+24(FP), SI
	MOVQ y_len+32(FP), CX
	MOVQ t+48(FP), AX
	LOADTABLES
	SHRQ $6, CX
	JZ   muladd_done

muladd_loop:
	VMOVDQU (SI), Y0
	VMOVDQU 32(SI), Y1
	MUL
	VPXOR   (DI), Y0, Y0
	VPXOR   32(DI), Y1, Y1
	VMOVDQU Y0, (DI)
	VMOVDQU Y1, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	DECQ    CX
	JNZ     muladd_loop

muladd_done:
	VZEROUPPER
	RET

// func mulAVX2(x, y []byte, t *[8][16]byte): x = y·m
TEXT ·mulAVX2(SB), NOSPLIT, $0-56
	MOVQ x_base+0(FP), DI
	MOVQ y_base+24(FP), SI
	MOVQ y_len+32(FP), CX
	MOVQ t+48(FP), AX
	LOADTABLES
	SHRQ $6, CX
	JZ   mul_done

mul_loop:
	VMOVDQU (SI), Y0
	VMOVDQU 32(SI), Y1
	MUL
	VMOVDQU Y0, (DI)
	VMOVDQU Y1, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	DECQ    CX
	JNZ     mul_loop

mul_done:
	VZEROUPPER
	RET

// func fftButterflyAVX2(x, y []byte, t *[8][16]byte): x ^= y·m; y ^= x
TEXT ·fftButterflyAVX2(SB), NOSPLIT, $0-56
	MOVQ x_base+0(FP), DI
	MOVQ y_base+24(FP), SI
	MOVQ y_len+32(FP), CX
	MOVQ t+48(FP), AX
	LOADTABLES
	SHRQ $6, CX
	JZ   fft_done

fft_loop:
	VMOVDQU (SI), Y0
	VMOVDQU 32(SI), Y1
	MUL
	VPXOR   (DI), Y0, Y0
	VPXOR   32(DI), Y1, Y1
	VMOVDQU Y0, (DI)
	VMOVDQU Y1, 32(DI)
	VPXOR   (SI), Y0, Y0
	VPXOR   32(SI), Y1, Y1
	VMOVDQU Y0, (SI)
	VMOVDQU Y1, 32(SI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	DECQ    CX
	JNZ     fft_loop

fft_done:
	VZEROUPPER
	RET

// func ifftButterflyAVX2(x, y []byte, t *[8][16]byte): y ^= x; x ^= y·m
TEXT ·ifftButterflyAVX2(SB), NOSPLIT, $0-56
	MOVQ x_base+0(FP), DI
	MOVQ y_base+24(FP), SI
	MOVQ y_len+32(FP), CX
	MOVQ t+48(FP), AX
	LOADTABLES
	SHRQ $6, CX
	JZ   ifft_done

ifft_loop:
	VMOVDQU (SI), Y0
	VMOVDQU 32(SI), Y1
	VPXOR   (DI), Y0, Y0
	VPXOR   32(DI), Y1, Y1
	VMOVDQU Y0, (SI)
	VMOVDQU Y1, 32(SI)
	MUL
	VPXOR   (DI), Y0, Y0
	VPXOR   32(DI), Y1, Y1
	VMOVDQU Y0, (DI)
	VMOVDQU Y1, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	DECQ    CX
	JNZ     ifft_loop

ifft_done:
	VZEROUPPER
	RET

// AVX-512 + GFNI kernels. A block is one ZMM (low bytes in the lower 256
// bits). Z8 = [A_ll | A_hh], Z9 = [A_hl | A_lh]; the product of block Z0 is
// affine(Z0, Z8) ^ affine(swap(Z0), Z9). Two blocks per iteration.
#define LOADGF \
	VMOVDQU64 0(AX), Z8 \
	VMOVDQU64 64(AX), Z9

// GFMUL(src, tmp): src = src·m, using tmp.
#define GFMUL(src, tmp) \
	VSHUFI64X2     $0x4e, src, src, tmp \
	VGF2P8AFFINEQB $0, Z8, src, src \
	VGF2P8AFFINEQB $0, Z9, tmp, tmp \
	VPXORQ         tmp, src, src

// func mulAddGFNI(x, y []byte, t *[16]uint64): x ^= y·m
TEXT ·mulAddGFNI(SB), NOSPLIT, $0-56
	MOVQ x_base+0(FP), DI
	MOVQ y_base+24(FP), SI
	MOVQ y_len+32(FP), CX
	MOVQ t+48(FP), AX
	LOADGF
	SHRQ $6, CX

gmuladd_loop2:
	CMPQ CX, $2
	JB   gmuladd_tail
	VMOVDQU64 (SI), Z0
	VMOVDQU64 64(SI), Z1
	GFMUL(Z0, Z2)
	GFMUL(Z1, Z3)
	VPXORQ    (DI), Z0, Z0
	VPXORQ    64(DI), Z1, Z1
	VMOVDQU64 Z0, (DI)
	VMOVDQU64 Z1, 64(DI)
	ADDQ      $128, SI
	ADDQ      $128, DI
	SUBQ      $2, CX
	JMP       gmuladd_loop2

gmuladd_tail:
	TESTQ CX, CX
	JZ    gmuladd_done
	VMOVDQU64 (SI), Z0
	GFMUL(Z0, Z2)
	VPXORQ    (DI), Z0, Z0
	VMOVDQU64 Z0, (DI)

gmuladd_done:
	VZEROUPPER
	RET

// func mulGFNI(x, y []byte, t *[16]uint64): x = y·m
TEXT ·mulGFNI(SB), NOSPLIT, $0-56
	MOVQ x_base+0(FP), DI
	MOVQ y_base+24(FP), SI
	MOVQ y_len+32(FP), CX
	MOVQ t+48(FP), AX
	LOADGF
	SHRQ $6, CX
	JZ   gmul_done

gmul_loop:
	VMOVDQU64 (SI), Z0
	GFMUL(Z0, Z2)
	VMOVDQU64 Z0, (DI)
	ADDQ      $64, SI
	ADDQ      $64, DI
	DECQ      CX
	JNZ       gmul_loop

gmul_done:
	VZEROUPPER
	RET

// func fftButterflyGFNI(x, y []byte, t *[16]uint64): x ^= y·m; y ^= x
TEXT ·fftButterflyGFNI(SB), NOSPLIT, $0-56
	MOVQ x_base+0(FP), DI
	MOVQ y_base+24(FP), SI
	MOVQ y_len+32(FP), CX
	MOVQ t+48(FP), AX
	LOADGF
	SHRQ $6, CX

gfft_loop2:
	CMPQ CX, $2
	JB   gfft_tail
	VMOVDQU64 (SI), Z0
	VMOVDQU64 64(SI), Z1
	VMOVDQA64 Z0, Z4
	VMOVDQA64 Z1, Z5
	GFMUL(Z0, Z2)
	GFMUL(Z1, Z3)
	VPXORQ    (DI), Z0, Z0
	VPXORQ    64(DI), Z1, Z1
	VMOVDQU64 Z0, (DI)
	VMOVDQU64 Z1, 64(DI)
	VPXORQ    Z4, Z0, Z0
	VPXORQ    Z5, Z1, Z1
	VMOVDQU64 Z0, (SI)
	VMOVDQU64 Z1, 64(SI)
	ADDQ      $128, SI
	ADDQ      $128, DI
	SUBQ      $2, CX
	JMP       gfft_loop2

gfft_tail:
	TESTQ CX, CX
	JZ    gfft_done
	VMOVDQU64 (SI), Z0
	VMOVDQA64 Z0, Z4
	GFMUL(Z0, Z2)
	VPXORQ    (DI), Z0, Z0
	VMOVDQU64 Z0, (DI)
	VPXORQ    Z4, Z0, Z0
	VMOVDQU64 Z0, (SI)

gfft_done:
	VZEROUPPER
	RET

// func ifftButterflyGFNI(x, y []byte, t *[16]uint64): y ^= x; x ^= y·m
TEXT ·ifftButterflyGFNI(SB), NOSPLIT, $0-56
	MOVQ x_base+0(FP), DI
	MOVQ y_base+24(FP), SI
	MOVQ y_len+32(FP), CX
	MOVQ t+48(FP), AX
	LOADGF
	SHRQ $6, CX

gifft_loop2:
	CMPQ CX, $2
	JB   gifft_tail
	VMOVDQU64 (DI), Z4
	VMOVDQU64 64(DI), Z5
	VPXORQ    (SI), Z4, Z0
	VPXORQ    64(SI), Z5, Z1
	VMOVDQU64 Z0, (SI)
	VMOVDQU64 Z1, 64(SI)
	GFMUL(Z0, Z2)
	GFMUL(Z1, Z3)
	VPXORQ    Z4, Z0, Z0
	VPXORQ    Z5, Z1, Z1
	VMOVDQU64 Z0, (DI)
	VMOVDQU64 Z1, 64(DI)
	ADDQ      $128, SI
	ADDQ      $128, DI
	SUBQ      $2, CX
	JMP       gifft_loop2

gifft_tail:
	TESTQ CX, CX
	JZ    gifft_done
	VMOVDQU64 (DI), Z4
	VPXORQ    (SI), Z4, Z0
	VMOVDQU64 Z0, (SI)
	GFMUL(Z0, Z2)
	VPXORQ    Z4, Z0, Z0
	VMOVDQU64 Z0, (DI)

gifft_done:
	VZEROUPPER
	RET
