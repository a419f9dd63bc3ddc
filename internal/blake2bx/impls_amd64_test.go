//go:build amd64 && !purego

package blake2bx

func init() {
	if useAVX512 {
		testImpls = append(testImpls, namedImpl{"avx512", func(out [][32]byte, prefix byte, data []byte, size int) {
			if !checkArgs(out, data, size) {
				return
			}
			if size == 0 {
				sumGeneric(out, prefix, data, size)
				return
			}
			sumAVX512(out, prefix, data, size)
		}})
	}
	if useAVX2 {
		testImpls = append(testImpls, namedImpl{"avx2", func(out [][32]byte, prefix byte, data []byte, size int) {
			if !checkArgs(out, data, size) {
				return
			}
			if size == 0 {
				sumGeneric(out, prefix, data, size)
				return
			}
			sumAVX2(out, prefix, data, size)
		}})
	}
}
