//! The `dvc` binary.

fn main() {
    std::process::exit(dvc_api::cli::main());
}
