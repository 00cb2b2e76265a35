//go:build linux

package netcode

const readBatchLenForTest = readBatchLen
