//! The `pss-fix` binary: parse arguments, run, map the outcome to an exit status.

use std::io;
use std::process::ExitCode;

use clap::Parser;
mod cli;

use cli::run::{run, ExitStatus};
use cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(status) => ExitCode::from(status as u8),
        // A closed pipe (`pss-fix diff | head`) is not an error worth a message.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pss-fix: {e}");
            ExitCode::from(ExitStatus::Error as u8)
        }
    }
}
