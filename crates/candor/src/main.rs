//! `candor`: the command line. Thin: parses arguments, loads configuration and calls the
//! library crates.

mod backup;
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
    let result = rt.block_on(cli::run(args));
    // Tasks still running (a request cut off at shutdown, a blocking job that never ends) must not
    // keep the process alive: the runtime waits for them only this long.
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
