//! The README's walkthrough: the script that holds its commands runs green against a freshly
//! seeded server, and the README shows those commands word for word.

use crate::on_both_backends;
use crate::support::{Backend, TestApp};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/walkthrough.sh");
const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");

fn the_walkthrough_runs(backend: Backend) {
    let app = TestApp::seeded(backend);
    // The administrator `make run` creates.
    app.admin_token();
    let out = std::process::Command::new("bash")
        .arg(SCRIPT)
        .env("DVC_URL", &app.base)
        .output()
        .expect("bash runs the walkthrough");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the walkthrough failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("walkthrough complete"), "{stdout}");
    // A second run, as a newcomer would make, works too.
    let again = std::process::Command::new("bash").arg(SCRIPT).env("DVC_URL", &app.base).output().unwrap();
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
}

on_both_backends!(the_walkthrough_runs);

/// The blocks of the script between `# walkthrough:<name>` and `# end`.
fn blocks(script: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    for line in script.lines() {
        if let Some(name) = line.strip_prefix("# walkthrough:") {
            current = Some((name.to_string(), Vec::new()));
        } else if line == "# end" {
            let (name, lines) = current.take().expect("a block was open");
            out.push((name, lines.join("\n")));
        } else if let Some((_, lines)) = current.as_mut() {
            lines.push(line);
        }
    }
    out
}

#[test]
fn the_readme_shows_the_walkthrough_as_the_script_runs_it() {
    let script = std::fs::read_to_string(SCRIPT).unwrap();
    let readme = std::fs::read_to_string(README).unwrap();
    let blocks = blocks(&script);
    assert_eq!(
        blocks.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["citizen", "procedure", "dossier", "officer", "tracking"]
    );
    for (name, block) in blocks {
        assert!(
            readme.contains(&block),
            "the README does not show the `{name}` step as scripts/walkthrough.sh runs it"
        );
    }
}
