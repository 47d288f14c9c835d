// Note: no `windows_subsystem = "windows"`: the same binary is the CLI, and that attribute would detach it from
// the console on Windows. The cost is a console window beside the app when it is started from Explorer.

use clap::Parser;
use complexitynet_app::cli::Cli;
use complexitynet_core::types::DataDir;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.command.is_some() {
        return complexitynet_app::cli::run(cli);
    }
    match complexitynet_app::run(DataDir::resolve(cli.data_dir)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot start the app window: {e}");
            ExitCode::FAILURE
        }
    }
}
