module github.com/pumpnet/pumpnet/examples

go 1.25.0

require github.com/pumpnet/pumpnet v0.0.0-00010101000000-000000000000

replace github.com/pumpnet/pumpnet => ../
