//! Writes a generated stack, one of those the benchmarks use, to try rolecall
//! at scale by hand:
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
//! profiles (one role each) and N instances (one profile each). The shape is
//! the heavy one by default (`benches/common`: full trust policies, two tags
//! each, 3,000 documents per file; about 69 MB at N = 100,000); `--light`
//! writes the lighter one. `gen_stack N DIR 0` leaves the instances out (a
//! stack for an AWS account, where rolecall launches none).

#[path = "../benches/common/mod.rs"]
mod common;

fn main() {
    let (flags, args): (Vec<String>, Vec<String>) =
        std::env::args().skip(1).partition(|a| a.starts_with("--"));
    let shape = match flags.as_slice() {
        [] => common::Shape::Heavy,
        [flag] if flag == "--light" => common::Shape::Light,
        _ => usage(),
    };
    let mut args = args.into_iter();
    let (Some(n), Some(dir)) = (args.next().and_then(|a| a.parse().ok()), args.next()) else {
        usage()
    };
    let instances = match args.next() {
        None => n,
        Some(text) => text.parse().unwrap_or_else(|_| {
            eprintln!("gen_stack: INSTANCES must be a count, not {text:?}");
            std::process::exit(1);
        }),
    };
    common::write_shaped_stack(std::path::Path::new(&dir), shape, n, n, instances);
    println!(
        "wrote a {} stack of {} resources to {dir}",
        shape.name(),
        2 * n + instances
    );
}

fn usage() -> ! {
    eprintln!("usage: gen_stack [--light] N DIR [INSTANCES]");
    std::process::exit(1);
}
