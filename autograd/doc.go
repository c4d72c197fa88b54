// Package autograd records operations on tensors and differentiates them in
// reverse mode, to any order.
//
// Every differentiable operation returns a *Var whose node remembers its inputs
// and a backward rule. A rule receives the output's gradient as a *Var and
// returns the inputs' gradients built from the same differentiable operations,
// so when Grad is called with createGraph the gradient is itself a recorded
// graph and can be differentiated again (R1 and path-length regularization need
// this). Without createGraph the rules run under NoGrad and record nothing,
// and what a rule allocates besides the gradients it returns (its
// temporaries) goes back to the host buffer pool when it returns
// (tensor.HostScope), as do intermediate gradients once summed.
//
// Accumulation rules:
//   - Grad(outputs, inputs, cotangents, createGraph) returns d(Σ_k <outputs_k,
//     cotangents_k>)/d(inputs); a nil cotangent means ones. Contributions of all
//     paths are summed. An input the outputs do not depend on gets zeros.
//     Grad never touches any Var's Grad field.
//   - Backward() on a Var accumulates into the Grad tensor of every leaf that
//     requires gradients (leaf.Grad += dL/dleaf), as PyTorch does; clear them
//     between steps (nn optimizers do).
//   - GradReleasing is Grad without a graph for the last pass over a forward
//     graph: the forward values allocated since a tensor.BufferMark go back to
//     the buffer pool (outputs, inputs, gradients and the Vars kept stay).
//   - NoGrad scopes, Detach and Const stop recording. The graph is held only by
//     the Vars that reference it: dropping the output frees it.
//
// Graph building is meant for one goroutine at a time (the kernels underneath
// use every core); the grad-mode switch is process-wide.
package autograd
