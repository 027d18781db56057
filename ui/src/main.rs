//! The `wdb` command line: run, test, compile, debug and profile WebAssembly
//! modules. Everything goes through the engine's public API.

mod batch;
mod cli;
mod dap;
mod gdbremote;
mod link;
mod tui;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Cli::parse_from(cli::platform_form(std::env::args_os().collect()));
    match cli::dispatch(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("wdb: error: {e}");
            ExitCode::from(1)
        }
    }
}
