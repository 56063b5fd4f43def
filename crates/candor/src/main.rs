//! `candor`: the command line. Thin: parses arguments, loads configuration and calls the
//! library crates.

mod cli;
mod contentio;
mod preflight;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = cli::Args::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match rt.block_on(cli::run(args)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
