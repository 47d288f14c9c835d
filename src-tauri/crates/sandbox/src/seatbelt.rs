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
    // `/var`, `/tmp` and `/etc` are symlinks into `/private`: following them needs their metadata.
    for link in ["/var", "/tmp", "/etc", "/private", "/private/var", "/private/tmp", "/private/etc"] {
        if !ancestors.iter().any(|x| x == Path::new(link)) {
            ancestors.push(PathBuf::from(link));
        }
    }
    let mut sb = String::from("(version 1)\n(deny default)\n");
    sb.push_str("(allow process-fork)\n");
    // The interpreter, and other binaries of its install: a python.org framework build may re-exec its app
    // bundle's binary. Nothing else can be exec'd.
    let _ = writeln!(sb, "(allow process-exec (literal {}) (subpath {}))", lit(&exe), lit(&prefix));
    sb.push_str("(allow signal (target same-sandbox))\n(allow process-info* (target same-sandbox))\n");
    // Hardware and OS facts libSystem and Python read at start-up (no host name, no process table).
    sb.push_str("(allow sysctl-read (sysctl-name-prefix \"hw.\")");
    for name in SYSCTLS {
        let _ = write!(sb, " (sysctl-name \"{name}\")");
    }
    sb.push_str(")\n(allow file-read-metadata");
    for a in &ancestors {
        let _ = write!(sb, " (literal {})", lit(a));
    }
    sb.push_str(")\n");
    // Code may be read and mapped executable only from the system and the Python install: not from the work dir.
    let mut roots = String::new();
    for p in &read {
        let _ = write!(roots, " (subpath {})", lit(p));
    }
    let _ = write!(roots, " (literal {})", lit(&exe));
    let _ = writeln!(sb, "(allow file-read* file-map-executable{roots})");
    sb.push_str("(allow file-read* (literal \"/dev/null\") (literal \"/dev/zero\") (literal \"/dev/random\") (literal \"/dev/urandom\") (literal \"/private/etc/localtime\"))\n");
    sb.push_str("(allow file-write-data (literal \"/dev/null\"))\n");
    let _ = writeln!(sb, "(allow file-read* file-write* (subpath {}))", lit(work));
    sb
}

/// sysctls outside `hw.*` that libSystem's start-up and Python's `os`/`platform` modules read.
const SYSCTLS: [&str; 13] = [
    "kern.argmax",
    "kern.maxfilesperproc",
    "kern.maxproc",
    "kern.osproductversion",
    "kern.osrelease",
    "kern.ostype",
    "kern.osvariant_status",
    "kern.osversion",
    "kern.secure_kernel",
    "kern.usrstack64",
    "kern.version",
    "sysctl.proc_cputype",
    "sysctl.proc_translated",
];

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
        // Nothing in the work dir may be mapped as code.
        let exec = p.lines().find(|l| l.contains("file-map-executable")).expect("an exec-map rule");
        assert!(!exec.contains("cn-1"), "{exec}");
        assert_eq!(p.matches("file-map-executable").count(), 1, "{p}");
        assert!(p.contains("(subpath \"/Library/Frameworks/Python.framework/Versions/3.12\")"), "{p}");
        assert!(
            p.contains(
                "(allow process-exec (literal \"/Library/Frameworks/Python.framework/Versions/3.12/bin/python3.12\") \
                 (subpath \"/Library/Frameworks/Python.framework/Versions/3.12\"))"
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
        let reads = p.lines().find(|l| l.starts_with("(allow file-read* file-map-executable")).expect("a read rule");
        assert!(!reads.contains("\"/Users/dev\""), "{reads}");
    }

    #[test]
    fn paths_are_escaped_as_string_literals() {
        let p = profile(&python("/opt/py\"thon"), Path::new("/tmp/a\\b"));
        assert!(p.contains("(subpath \"/opt/py\\\"thon\")"), "{p}");
        assert!(p.contains("(subpath \"/tmp/a\\\\b\")"), "{p}");
    }
}
