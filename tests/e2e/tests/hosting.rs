//! The release bundle on a static host: under any sub-path, with only
//! relative URLs and no request beyond its own origin; and the single file
//! `brownout.html`, opened straight from disk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use brownout_e2e::{
    browser, bundle, chromedriver, clock_passes, resource_urls, root, screenshot, serve_under,
    sim_seconds, text_of, wait_for,
};
use fantoccini::Locator;

/// Where a course might put the page on its web site.
const SUB_PATH: &str = "/courses/ds/brownout/";

/// The quoted values after `marker` in `text`: `marker` ends with the
/// opening quote, and the value runs to the same quote.
fn quoted_after(text: &str, marker: &str) -> Vec<String> {
    let quote = marker.chars().last().expect("a marker ending in a quote");
    text.match_indices(marker)
        .map(|(at, _)| {
            let rest = &text[at + marker.len()..];
            rest[..rest.find(quote).expect("a closing quote")].to_string()
        })
        .collect()
}

/// The bundle's glue script, named by the index.html Trunk wrote.
fn glue_name(index: &str) -> String {
    let names = quoted_after(index, "from '");
    assert_eq!(names.len(), 1, "one module import in index.html: {names:?}");
    names[0].trim_start_matches("./").to_string()
}

/// Every URL that index.html and the JS glue name is relative to the
/// page's folder (`./file`), and each names a file of the bundle; the glue
/// builds no URL from a literal that is not relative, and neither file
/// names another host for anything it loads.
#[test]
fn every_url_of_the_bundle_is_relative() {
    let dist = bundle();
    let index = std::fs::read_to_string(dist.join("index.html")).unwrap();

    let mut urls = Vec::new();
    for marker in ["href=\"", "src=\"", "from '", "module_or_path: '"] {
        urls.extend(quoted_after(&index, marker));
    }
    // The stylesheet, the icon, the glue (imported and preloaded) and the
    // wasm (fetched and preloaded).
    assert!(urls.len() >= 6, "too few URLs found in index.html: {urls:?}");
    for url in &urls {
        let name = url.strip_prefix("./").unwrap_or_else(|| panic!("{url} is not ./relative"));
        assert!(!name.contains("//") && !name.contains(':'), "{url} is not a plain file name");
        assert!(dist.join(name).is_file(), "{url} names no file of the bundle");
    }
    assert!(urls.iter().any(|u| u.ends_with(".wasm")), "the wasm URL is among them: {urls:?}");

    let glue = std::fs::read_to_string(dist.join(glue_name(&index))).unwrap();
    // wasm-bindgen's fallback when init is given no URL: relative to the
    // glue itself, so under the same sub-path.
    let literals: Vec<String> = quoted_after(&glue, "new URL('")
        .into_iter()
        .chain(quoted_after(&glue, "fetch('"))
        .chain(quoted_after(&glue, "fetch(\""))
        .collect();
    for url in &literals {
        assert!(
            !url.starts_with('/') && !url.contains("//") && !url.contains(':'),
            "the glue builds the URL {url:?}, which is not relative"
        );
    }
    assert!(!glue.contains("import("), "the glue imports nothing at run time");
    // The one address in the glue is a link to MDN inside a comment; none
    // is loaded.
    for line in glue.lines().filter(|l| l.contains("://")) {
        assert!(line.trim_start().starts_with("//"), "an address outside a comment: {line}");
    }
    for css in urls.iter().filter(|u| u.ends_with(".css")) {
        let text = std::fs::read_to_string(dist.join(css.trim_start_matches("./"))).unwrap();
        assert!(!text.contains("url("), "{css} loads no other file");
    }
}

/// Served under a sub-path, the page starts and runs, every request it
/// makes stays under that sub-path and is answered 200 (no 404), and every
/// resource the browser fetched has the page's origin.
#[tokio::test(flavor = "multi_thread")]
async fn bundle_runs_under_a_sub_path_with_no_404_and_no_other_origin() {
    let host = serve_under(bundle(), SUB_PATH);
    assert!(host.url.ends_with(SUB_PATH), "{}", host.url);
    let driver = chromedriver();
    let client = browser(&driver, 1280, 900).await;
    client.goto(&host.url).await.expect("page opens");
    // A page missing its files never draws: say which ones it missed.
    let drawn = client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("canvas#diagram"))
        .await;
    assert!(drawn.is_ok(), "no diagram; requests not answered 200: {:#?}", host.failures());
    // The clock moving proves the wasm was fetched, compiled and is running.
    clock_passes(&client, 1.0, Duration::from_secs(30)).await;
    // The page may still load something late (the icon): let it.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let requests = host.requests();
    eprintln!("requests: {requests:#?}");
    assert!(host.failures().is_empty(), "requests not answered 200: {:#?}", host.failures());
    for request in &requests {
        assert!(request.path.starts_with(SUB_PATH), "{} is outside {SUB_PATH}", request.path);
    }
    for kind in [".js", ".wasm", ".css"] {
        assert!(
            requests.iter().any(|r| r.path.ends_with(kind)),
            "no {kind} file was served: {requests:#?}"
        );
    }

    let origin: String =
        serde_json::from_value(client.execute("return location.origin;", vec![]).await.unwrap())
            .unwrap();
    assert_eq!(origin, host.url.trim_end_matches(SUB_PATH));
    let resources = resource_urls(&client).await;
    assert!(
        resources.iter().any(|u| u.ends_with(".wasm")),
        "the wasm fetch is among the resources: {resources:?}"
    );
    for url in &resources {
        assert!(url.starts_with(&format!("{origin}/")), "{url} is not from {origin}");
    }
    client.close().await.unwrap();
}

/// The folder of the bundle's files, without brownout.html, copied to a
/// fresh temporary folder; the hook is then run there as Trunk runs it.
fn copy_of_bundle(name: &str, leave_out: &[&str]) -> PathBuf {
    let copy = std::env::temp_dir().join(format!("brownout-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&copy);
    std::fs::create_dir_all(&copy).unwrap();
    for entry in std::fs::read_dir(bundle()).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_str().unwrap().to_string();
        let skipped = file == "brownout.html" || leave_out.iter().any(|s| file.ends_with(s));
        if path.is_file() && !skipped {
            std::fs::copy(&path, copy.join(&file)).unwrap();
        }
    }
    copy
}

fn run_hook(staging: &Path) -> std::process::Output {
    Command::new("python3")
        .arg(root().join("scripts/single-file.py"))
        .env("TRUNK_STAGING_DIR", staging)
        .output()
        .expect("python3 runs")
}

fn contents(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap())
        })
        .collect()
}

/// The hook adds brownout.html and nothing else: every other file of the
/// bundle is byte for byte what it was. Run twice, it writes the same file.
#[test]
fn hook_adds_only_the_single_file_and_the_same_one_each_time() {
    let staging = copy_of_bundle("hook-adds", &[]);
    let before = contents(&staging);
    let output = run_hook(&staging);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let after = contents(&staging);
    let added: Vec<&String> = after.keys().filter(|k| !before.contains_key(*k)).collect();
    assert_eq!(added, ["brownout.html"]);
    for (name, bytes) in &before {
        assert!(after[name] == *bytes, "{name} changed");
    }
    let first = after["brownout.html"].clone();
    assert!(run_hook(&staging).status.success());
    assert!(std::fs::read(staging.join("brownout.html")).unwrap() == first, "not the same file");
    std::fs::remove_dir_all(&staging).unwrap();
}

/// The hook writes the page's Content-Security-Policy into the index.html
/// Trunk wrote (which has none), right after its charset and before
/// anything the policy governs, naming Trunk's loader by its hash; run on a
/// page that has the policy, it leaves the page as it is.
#[test]
fn hook_writes_the_policy_into_index_html() {
    let staging = copy_of_bundle("hook-policy", &[]);
    let built = std::fs::read_to_string(staging.join("index.html")).unwrap();
    let start = built.find("  <meta http-equiv=\"Content-Security-Policy\"").expect("a policy");
    let end = start + built[start..].find('\n').unwrap() + 1;
    let as_trunk_wrote = format!("{}{}", &built[..start], &built[end..]);
    std::fs::write(staging.join("index.html"), &as_trunk_wrote).unwrap();
    let output = run_hook(&staging);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let written = std::fs::read_to_string(staging.join("index.html")).unwrap();
    assert_eq!(written, built, "the hook writes the policy the build has");
    let head = &written[..written.find("<script").unwrap()];
    assert!(head.contains("script-src 'self' 'sha256-"), "the policy comes before the loader");

    // Any other inline script would run under the policy only if it were
    // named in it: the hook refuses to guess.
    let extra = written.replace("</body>", "<script>window.other = 1;</script></body>");
    std::fs::write(staging.join("index.html"), extra).unwrap();
    let output = run_hook(&staging);
    assert!(!output.status.success(), "the hook took a second inline script");
    assert!(String::from_utf8_lossy(&output.stderr).contains("one inline script"));
    std::fs::remove_dir_all(&staging).unwrap();
}

/// Without the wasm module the hook fails, names the missing file, and
/// writes nothing (Trunk then stops the build with the hook's message).
#[test]
fn hook_names_a_missing_file_and_writes_nothing() {
    let index = std::fs::read_to_string(bundle().join("index.html")).unwrap();
    let wasm = quoted_after(&index, "module_or_path: '")[0].trim_start_matches("./").to_string();
    let staging = copy_of_bundle("hook-missing", &[".wasm"]);
    let output = run_hook(&staging);
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the hook succeeded without {wasm}");
    assert!(message.contains(&wasm) && message.contains("missing"), "message: {message}");
    let files: Vec<String> = contents(&staging).into_keys().collect();
    assert!(!files.iter().any(|f| f.starts_with("brownout.html")), "it wrote {files:?}");

    // Without TRUNK_STAGING_DIR or a folder, it says what it needs.
    let output = Command::new("python3")
        .arg(root().join("scripts/single-file.py"))
        .env_remove("TRUNK_STAGING_DIR")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("TRUNK_STAGING_DIR"));
    std::fs::remove_dir_all(&staging).unwrap();
}

/// `trunk serve` without `--no-autoreload` adds a script to index.html
/// that reloads the page over a WebSocket. The hook leaves it out of
/// brownout.html, which has no server to reload from, and out of the
/// served page's policy: the page runs, its reloads are refused (hence
/// `scripts/serve.sh` turns them off). The staging folder here gets a
/// script shaped like Trunk's, with the address placeholders that
/// `trunk serve` fills in only as it serves index.html.
#[test]
fn hook_leaves_out_trunk_serves_reload_script() {
    let staging = copy_of_bundle("hook-reload", &[]);
    let index = std::fs::read_to_string(staging.join("index.html")).unwrap();
    let reload =
        "<script>\"use strict\";\n(function () {\n  const address = '{{__TRUNK_ADDRESS__}}';\n  \
                  const url = 'ws://' + address + '/.well-known/trunk/ws';\n})();\n</script>";
    let served = index.replace("</body>", &format!("{reload}\n</body>"));
    assert_ne!(served, index, "index.html has a </body>");
    std::fs::write(staging.join("index.html"), &served).unwrap();
    let output = run_hook(&staging);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let single = std::fs::read_to_string(staging.join("brownout.html")).unwrap();
    assert!(!single.contains(".well-known/trunk/ws"), "the reload script is still there");
    assert!(!single.contains("__TRUNK_ADDRESS__"));
    // The served page's policy is the build's: the loader's hash only.
    let policy = |html: &str| html.lines().find(|l| l.contains("http-equiv")).unwrap().to_string();
    let written = std::fs::read_to_string(staging.join("index.html")).unwrap();
    assert_eq!(policy(&written), policy(&index));
    std::fs::remove_dir_all(&staging).unwrap();
}

/// brownout.html opened from disk: the page starts, its simulated clock
/// advances, and it fetched nothing at all (everything is inside it).
#[tokio::test(flavor = "multi_thread")]
async fn single_file_runs_from_disk() {
    let file = bundle().join("brownout.html");
    let size = std::fs::metadata(&file).expect("the hook wrote brownout.html").len();
    eprintln!("{}: {size} bytes ({:.0} KiB)", file.display(), size as f64 / 1024.0);
    let index = std::fs::read_to_string(bundle().join("index.html")).unwrap();
    let glue = std::fs::metadata(bundle().join(glue_name(&index))).unwrap().len();
    assert!(size > glue, "brownout.html ({size} bytes) is smaller than the glue alone ({glue})");

    let driver = chromedriver();
    let client = browser(&driver, 1280, 900).await;
    let url = format!("file://{}", file.display());
    client.goto(&url).await.expect("page opens");
    wait_for(&client, "canvas#diagram").await;
    assert_eq!(text_of(&client, "#loading").await, "", "the loading message is gone");
    let first = sim_seconds(&client).await;
    let later = clock_passes(&client, first + 1.0, Duration::from_secs(30)).await;
    let clock = client.find(Locator::Css("#clock")).await.unwrap().text().await.unwrap();
    assert!(clock.starts_with("t = ") && clock.ends_with(" s"), "the clock reads {clock:?}");
    eprintln!("clock from {first} s to {later} s");

    let protocol: String =
        serde_json::from_value(client.execute("return location.protocol;", vec![]).await.unwrap())
            .unwrap();
    assert_eq!(protocol, "file:");
    let resources = resource_urls(&client).await;
    assert!(resources.is_empty(), "the single file fetched {resources:?}");
    let shot = screenshot(&client, "single-file.png").await;
    eprintln!("screenshot: {}", shot.display());
    client.close().await.unwrap();
}
