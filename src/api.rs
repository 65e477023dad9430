//! Boundary functions: one per operation, shared by the CLI and the wasm module.
