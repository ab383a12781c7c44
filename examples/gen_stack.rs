//! Writes a generated stack, the one the benchmarks use, to try rolecall at
//! scale by hand:
//!
//!     cargo run --release --example gen_stack -- 100000 /tmp/big
//!     cargo run --release -- --account /tmp/big.db emulator configure \
//!         --max-roles 100000 --max-instance-profiles 100000
//!     cargo run --release -- --account /tmp/big.db plan -f /tmp/big
//!
//! (Past 1000 roles or profiles the account's quotas must be raised first:
//! plan refuses a stack that would exceed them.)
//!
//! N roles (each with a managed and an inline policy and tags), N instance
//! profiles (one role each) and N instances (one profile each), in files of
//! 5,000 documents; `gen_stack N DIR 0` leaves the instances out (a stack
//! for an AWS account, where rolecall launches none).

#[path = "../benches/common/mod.rs"]
mod common;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(n), Some(dir)) = (args.next().and_then(|a| a.parse().ok()), args.next()) else {
        eprintln!("usage: gen_stack N DIR [INSTANCES]");
        std::process::exit(1);
    };
    let instances = match args.next() {
        None => n,
        Some(text) => text.parse().unwrap_or_else(|_| {
            eprintln!("gen_stack: INSTANCES must be a count, not {text:?}");
            std::process::exit(1);
        }),
    };
    common::write_stack(std::path::Path::new(&dir), n, n, instances);
    println!("wrote {} resources to {dir}", 2 * n + instances);
}
