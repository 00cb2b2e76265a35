package main

import (
	"testing"

	"github.com/pumpnet/pumpnet/internal/leaktest"
)

// TestMain fails the run if goroutines outlive the tests: everything a
// test starts must be stopped by it.
func TestMain(m *testing.M) { leaktest.Main(m) }
