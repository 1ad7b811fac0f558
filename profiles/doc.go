// Package profiles holds serving-model profiles: the calibrated
// coefficients of the step model (serving.Coefficients) per GPU type, and
// per model where the fit needed it, with a record of what each was fitted
// on and its error. `fleetsim calibrate` writes profile files; scenarios
// name a profile (built-in or a file) per deployment.
//
// A profile file is YAML, decoded strictly:
//
//	kind: Profile
//	name: vllm
//	description: fitted on vLLM measurements
//	entries:
//	  - gpu: h100
//	    model: ""            # empty: every model on this GPU
//	    coefficients: {linearMFU: 0.62, attentionMFU: 0.4, mbu: 0.78, stepOverheadS: 0.0009, seqOverheadS: 2e-05, ...}
//	    fit: {rows: 40, checkRows: 35, fitMedianAPE: 0.05, checkMedianAPE: 0.07, datasets: [argonne]}
//
// Lookup takes the most specific entry: (gpu, model, precision), (gpu,
// model, any), (gpu, any, precision), (gpu, any, any), then the same with
// gpu "*", else serving.DefaultCoefficients.
package profiles
