//! The WASI test programs' cases and fixtures, shared by the library's `tests/wasi.rs` and
//! the CLI's `cli/tests/cli.rs` (each includes this file and defines `wasi_dir()`, the
//! path of `tests/wasi/` from its own crate).

use std::path::Path;

use super::wasi_dir;

/// One line of `tests/wasi/cases.txt`.
pub(crate) struct Case {
    pub(crate) name: String,
    pub(crate) fixture: String,
    pub(crate) args: Vec<String>,
}

pub(crate) fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(wasi_dir().join("cases.txt")).expect("cases.txt");
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let mut fields = line.split('|').map(str::to_owned);
            let name = fields.next().expect("name");
            let fixture = fields.next().expect("fixture");
            Case { name, fixture, args: fields.collect() }
        })
        .collect()
}

pub(crate) const ENV: [(&str, &str); 3] = [("GREETING", "hello world"), ("EMPTY", ""), ("TOUR_VAR", "tour")];

/// The fixture of a run (kept in sync with `fixture` in build.sh): `root/data/...`, plus
/// symbolic links leading outside for `hostile`.
pub(crate) fn fixture(root: &Path, kind: &str) {
    std::fs::create_dir_all(root.join("data/sub/deeper")).unwrap();
    std::fs::write(root.join("data/in.txt"), "hello file\nsecond line\n").unwrap();
    std::fs::write(root.join("data/sub/nested.txt"), "nested\n").unwrap();
    if kind == "hostile" {
        #[cfg(unix)]
        {
            use std::os::unix::fs::symlink;
            symlink("/etc", root.join("data/etc_link")).unwrap();
            symlink("chain2", root.join("data/chain1")).unwrap();
            symlink("..", root.join("data/chain2")).unwrap();
            symlink("loop2", root.join("data/loop1")).unwrap();
            symlink("loop1", root.join("data/loop2")).unwrap();
            symlink("victim", root.join("link")).unwrap();
        }
        std::fs::write(root.join("victim"), "secret\n").unwrap();
    }
}

pub(crate) fn expected(name: &str) -> (String, i32) {
    let dir = wasi_dir().join("expected");
    let stdout = std::fs::read_to_string(dir.join(format!("{name}.stdout"))).expect("expected stdout");
    let status = std::fs::read_to_string(dir.join(format!("{name}.status"))).expect("expected status");
    (stdout, status.trim().parse().expect("a status"))
}
