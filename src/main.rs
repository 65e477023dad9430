//! The `invitelink` command-line program.
fn main() {
    println!("invitelink {}", env!("CARGO_PKG_VERSION"));
}
