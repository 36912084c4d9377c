//! Embeds `openapi.json` (kept pretty for reading and review) in the Worker without its
//! whitespace: the Worker serves the compact form as a static string.

fn main() {
    println!("cargo:rerun-if-changed=openapi.json");
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let text = std::fs::read_to_string("openapi.json").expect("openapi.json is readable");
    let document: serde_json::Value = serde_json::from_str(&text).expect("openapi.json is JSON");
    std::fs::write(out.join("openapi.json"), document.to_string()).expect("OUT_DIR is writable");
}
