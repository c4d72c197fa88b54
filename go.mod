module github.com/lafite-go/lafite

go 1.26
