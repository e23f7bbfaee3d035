//! `cargo run -p xtask -- regen`: regenerates the checked-in generated code (see the library's
//! docs for what goes where). `cargo run -p xtask -- check` lists what is out of date.

use std::process::ExitCode;

fn main() -> ExitCode {
    let command = std::env::args().nth(1);
    let workspace = xtask::workspace();
    let result = match command.as_deref() {
        Some("regen") => xtask::regen(&workspace).map(|n| {
            println!("regen: {n} generated files up to date");
        }),
        Some("check") => xtask::stale(&workspace).and_then(|stale| {
            if stale.is_empty() {
                println!("check: generated code is fresh");
                Ok(())
            } else {
                for path in &stale {
                    println!("stale: {}", path.display());
                }
                Err("generated code is out of date; run `cargo run -p xtask -- regen`".into())
            }
        }),
        _ => {
            eprintln!("usage: cargo run -p xtask -- regen|check");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
