//! How WebKitGTK draws the window.
//!
//! On a computer without a GPU (no DRM render node: a virtual machine, a remote desktop, a
//! thin client), WebKit's default renderer draws through Mesa's software OpenGL, whose
//! first frame of each new kind of layer is compiled on the spot: the clerk's first search
//! after the app opened waited 1.2–2.2 s for its results. Without a GPU the page is painted
//! straight into the window instead, without compositing layers: the first search is as quick
//! as the next, and the app with its WebKit processes takes about 110 MB less memory than
//! WebKit's default and 70 MB less than layers painted on the CPU (docs/PERFORMANCE.md). The
//! Desk has no animation or video that layers would make smoother. With a GPU, WebKit's own
//! choice stands. So does anyone's who set one of WebKit's rendering variables themselves.

/// WebKit's variables that choose how it renders; any of them set means someone chose.
const RENDERING_VARIABLES: [&str; 3] = [
    "WEBKIT_SKIA_ENABLE_CPU_RENDERING",
    "WEBKIT_DISABLE_COMPOSITING_MODE",
    "WEBKIT_DISABLE_DMABUF_RENDERER",
];

const NO_COMPOSITING: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

/// Whether to ask WebKit to paint without compositing, given whether there is a render node
/// and what the environment says.
fn wants_no_compositing(render_node: bool, var: impl Fn(&str) -> Option<String>) -> bool {
    !render_node && RENDERING_VARIABLES.iter().all(|v| var(v).is_none())
}

#[cfg(target_os = "linux")]
fn has_render_node() -> bool {
    std::fs::read_dir("/dev/dri").is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
    })
}

/// Chooses before WebKit starts (its processes read the environment when they are made).
/// Call first thing, while the app has no other thread.
pub(crate) fn choose() {
    #[cfg(target_os = "linux")]
    if wants_no_compositing(has_render_node(), |v| std::env::var(v).ok()) {
        std::env::set_var(NO_COMPOSITING, "1");
    }
}

/// For the log: WebKit's rendering variables as they are set, or that none is.
pub(crate) fn describe() -> String {
    let set: Vec<String> = RENDERING_VARIABLES
        .iter()
        .filter_map(|v| std::env::var(v).ok().map(|value| format!("{v}={value}")))
        .collect();
    if set.is_empty() {
        "WebKit's default".to_string()
    } else {
        set.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_compositing_only_without_a_render_node_and_without_a_choice_already_made() {
        let none = |_: &str| None;
        assert!(wants_no_compositing(false, none));
        assert!(!wants_no_compositing(true, none));
        for chosen in RENDERING_VARIABLES {
            let var = |v: &str| (v == chosen).then(|| "0".to_string());
            assert!(!wants_no_compositing(false, var), "{chosen}");
        }
    }
}
