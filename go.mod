module github.com/lafite-go/lafite

go 1.26

require github.com/nlpodyssey/gopickle v0.2.0

require gonum.org/v1/gonum v0.17.0
