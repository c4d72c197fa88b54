// Package metrics holds evaluation metrics of generated images, computed in
// float64 with gonum.
package metrics
