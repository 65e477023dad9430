//! The project's task runner: `cargo xtask test`, `cargo xtask run`.
fn main() {}
