use clap::Parser;

fn main() {
    let cli = msp::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            std::process::exit(msp::error::exit::ERROR);
        }
    };
    let code = match runtime.block_on(msp::cli::run(cli)) {
        Ok(status) => status.code(),
        // `msp ... | head` closing the pipe early is not an error.
        Err(e) if e.is_broken_pipe() => msp::error::exit::OK,
        Err(e) => {
            eprintln!("error: {e}");
            if let Some(hint) = e.hint() {
                eprintln!("hint: {hint}");
            }
            e.exit_code()
        }
    };
    std::process::exit(code);
}
