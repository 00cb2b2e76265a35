package protect

import "unsafe"

// sealOverlapOK reports whether payload may be sealed into out: either the
// two share no memory, or payload starts exactly at &out[off] (in-place
// sealing). cipher.AEAD panics on any other overlap, and writing the header
// first would corrupt the payload, so Seal refuses it (as crypto/internal/alias
// does for the standard library's ciphers).
func sealOverlapOK(out []byte, off int, payload []byte) bool {
	if len(out) == 0 || len(payload) == 0 {
		return true
	}
	o := uintptr(unsafe.Pointer(unsafe.SliceData(out)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(payload)))
	disjoint := o+uintptr(len(out)-1) < p || p+uintptr(len(payload)-1) < o
	return disjoint || p == o+uintptr(off)
}
