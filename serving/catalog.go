package serving

// GPU is an entry of the GPU catalog. STUB: replaced by the catalog implementation.
type GPU struct{ ID string }

// Model is an entry of the model catalog. STUB.
type Model struct{ ID string }

// LookupGPU finds a GPU by id, ignoring case. STUB.
func LookupGPU(id string) (GPU, bool) { return GPU{}, false }

// LookupModel finds a model by id or alias, ignoring case. STUB.
func LookupModel(id string) (Model, bool) { return Model{}, false }
