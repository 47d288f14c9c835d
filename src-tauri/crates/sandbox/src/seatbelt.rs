//! The Seatbelt (macOS `sandbox-exec`) profile text. Plain string building, compiled on every OS so that its
//! unit tests run in Linux CI too; only `macos.rs` uses it.
#![cfg_attr(not(target_os = "macos"), allow(dead_code))]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::Python;

/// A string literal in the profile language (a Scheme dialect).
fn lit(path: &Path) -> String {
    let s = path.to_string_lossy();
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The Seatbelt profile for one worker.
pub(crate) fn profile(python: &Python, work: &Path) -> String {
    let resolve = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let exe = resolve(&python.exe);
    let prefix = resolve(&python.prefix);
    let mut read: Vec<PathBuf> =
        ["/usr/lib", "/usr/share", "/System", "/private/var/db/dyld", "/private/var/db/timezone"]
            .iter()
            .map(PathBuf::from)
            .collect();
    read.push(prefix.clone());
    // Homebrew's Pythons link against libraries in its Cellar (mpdecimal, openssl…), reached through opt/.
    for brew in ["/opt/homebrew/Cellar", "/opt/homebrew/opt", "/usr/local/Cellar", "/usr/local/opt"] {
        if Path::new(brew).exists() && prefix.starts_with(Path::new(brew).parent().unwrap_or(Path::new("/"))) {
            read.push(PathBuf::from(brew));
        }
    }
    // Path resolution stats every directory above what may be read; allow exactly those, metadata only.
    let mut ancestors: Vec<PathBuf> = Vec::new();
    for p in read.iter().chain([&exe, &work.to_path_buf()]) {
        for a in p.ancestors().skip(1) {
            if !ancestors.iter().any(|x| x == a) {
                ancestors.push(a.to_path_buf());
            }
        }
    }
    let mut sb = String::from("(version 1)\n(deny default)\n");
    sb.push_str("(allow process-fork)\n");
    let _ = writeln!(sb, "(allow process-exec (literal {}))", lit(&exe));
    sb.push_str("(allow signal (target same-sandbox))\n(allow process-info* (target same-sandbox))\n");
    sb.push_str("(allow sysctl-read (sysctl-name \"hw.ncpu\") (sysctl-name \"hw.activecpu\") (sysctl-name \"hw.logicalcpu\") (sysctl-name \"hw.physicalcpu\") (sysctl-name \"hw.pagesize\") (sysctl-name \"hw.memsize\") (sysctl-name \"hw.machine\") (sysctl-name \"hw.optional.arm64\") (sysctl-name \"kern.osrelease\") (sysctl-name \"kern.ostype\") (sysctl-name \"kern.osversion\") (sysctl-name \"kern.version\") (sysctl-name \"kern.argmax\") (sysctl-name \"kern.maxfilesperproc\") (sysctl-name \"kern.usrstack64\") (sysctl-name \"sysctl.proc_cputype\"))\n");
    sb.push_str("(allow file-read-metadata");
    for a in &ancestors {
        let _ = write!(sb, " (literal {})", lit(a));
    }
    sb.push_str(")\n(allow file-read*");
    for p in &read {
        let _ = write!(sb, " (subpath {})", lit(p));
    }
    let _ = write!(sb, " (literal {})", lit(&exe));
    sb.push_str(" (literal \"/dev/null\") (literal \"/dev/zero\") (literal \"/dev/random\") (literal \"/dev/urandom\") (literal \"/private/etc/localtime\"))\n");
    sb.push_str("(allow file-write-data (literal \"/dev/null\"))\n");
    let _ = writeln!(sb, "(allow file-read* file-write* (subpath {}))", lit(work));
    sb
}

#[cfg(test)]
mod tests {
    use super::*;

    fn python(prefix: &str) -> Python {
        Python {
            exe: PathBuf::from(format!("{prefix}/bin/python3.12")),
            prefix: PathBuf::from(prefix),
            version: "3.12.1".into(),
        }
    }

    #[test]
    fn the_profile_denies_by_default_and_grants_no_network() {
        let p = profile(
            &python("/Library/Frameworks/Python.framework/Versions/3.12"),
            Path::new("/private/var/folders/x/T/cn-1"),
        );
        assert!(p.starts_with("(version 1)\n(deny default)\n"), "{p}");
        for banned in ["network", "mach-lookup", "(allow default", "file-write* (subpath \"/\")", "ipc-posix"] {
            assert!(!p.contains(banned), "the profile must not mention {banned:?}:\n{p}");
        }
        assert!(p.contains("(allow file-read* file-write* (subpath \"/private/var/folders/x/T/cn-1\"))"), "{p}");
        assert!(p.contains("(subpath \"/Library/Frameworks/Python.framework/Versions/3.12\")"), "{p}");
        assert!(
            p.contains(
                "(allow process-exec (literal \"/Library/Frameworks/Python.framework/Versions/3.12/bin/python3.12\"))"
            ),
            "{p}"
        );
    }

    #[test]
    fn the_home_directory_gets_metadata_of_its_ancestors_only() {
        // A pyenv Python under the home: its prefix is readable, the home itself only stat-able (path lookup).
        let p = profile(&python("/Users/dev/.pyenv/versions/3.12.1"), Path::new("/private/tmp/cn-2"));
        assert!(p.contains("(subpath \"/Users/dev/.pyenv/versions/3.12.1\")"), "{p}");
        assert!(!p.contains("(subpath \"/Users/dev\")") && !p.contains("(subpath \"/Users\")"), "{p}");
        let meta = p.lines().find(|l| l.starts_with("(allow file-read-metadata")).expect("a metadata rule");
        assert!(meta.contains("(literal \"/Users/dev\")"), "{meta}");
        let reads = p.lines().find(|l| l.starts_with("(allow file-read* (subpath")).expect("a read rule");
        assert!(!reads.contains("\"/Users/dev\""), "{reads}");
    }

    #[test]
    fn paths_are_escaped_as_string_literals() {
        let p = profile(&python("/opt/py\"thon"), Path::new("/tmp/a\\b"));
        assert!(p.contains("(subpath \"/opt/py\\\"thon\")"), "{p}");
        assert!(p.contains("(subpath \"/tmp/a\\\\b\")"), "{p}");
    }
}
