//go:build !linux

package netcode

const readBatchLenForTest = 1
